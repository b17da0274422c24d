import { randomBytes, randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { DynamoLeakStore } from "../../lib/store/dynamo-leak-store.js";
import { DynamoReportPartStore } from "../../lib/store/dynamo-report-part-store.js";
import { type Leak, leakIdFor } from "../../lib/store/leak.js";
import { type EmbeddedDynamo, ensureLeakTable } from "../../local/embedded-dynamodb.js";
import { startTestEngine } from "./test-engine.js";

// Test helpers over a real DynamoDB engine in memory (dynalite, or DynamoDB Local as
// TOURNIQUET_TEST_ENGINE says): a fresh leak table per call, and a factory for valid leaks.

export interface TestStore {
  store: DynamoLeakStore;
  /** Mass reports' parts, in the same table. */
  parts: DynamoReportPartStore;
  /** The engine's DynamoDB client, to look at raw items. */
  client: DynamoDBClient;
  tableName: string;
  /** Closes the engine if this call started it; a shared engine is left running. */
  close(): Promise<void>;
}

/**
 * A DynamoLeakStore on a new, uniquely named table. Pass an engine to share one across tests (the
 * caller closes it); without, an engine is started for this store and `close` stops it.
 */
export async function createTestStore(engine?: EmbeddedDynamo): Promise<TestStore> {
  const owned = engine === undefined;
  const dynamo = engine ?? (await startTestEngine());
  const tableName = `leaks-test-${randomUUID()}`;
  try {
    await ensureLeakTable(dynamo.client, tableName);
  } catch (error) {
    if (owned) await dynamo.close();
    throw error;
  }
  return {
    store: new DynamoLeakStore(dynamo.client, tableName),
    parts: new DynamoReportPartStore(dynamo.client, tableName),
    client: dynamo.client,
    tableName,
    close: async () => {
      if (owned) await dynamo.close();
    },
  };
}

/** Runs `fn` with a store on its own engine and table, closing them afterwards whatever happens. */
export async function withLeakStore<T>(fn: (t: TestStore) => Promise<T>): Promise<T> {
  const t = await createTestStore();
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** A random 64-hex fingerprint (the shape of a SHA-256 digest). */
export const randomFingerprint = (): string => randomBytes(32).toString("hex");

/** A valid pending leak; `id` derives from `fingerprint` unless given. */
export function makeLeak(overrides: Partial<Leak> = {}): Leak {
  const fingerprint = overrides.fingerprint ?? randomFingerprint();
  const firstSeen = overrides.firstSeen ?? "2025-03-01T12:00:00.000Z";
  return {
    id: leakIdFor(fingerprint),
    fingerprint,
    tokenType: "tourniquet_sandbox_token",
    preview: "tqs_live_4f8a…",
    issuer: "sandbox",
    status: "pending",
    firstSeen,
    receivedAtMs: Date.parse(firstSeen),
    timeline: [{ at: firstSeen, step: "intake", outcome: "ok", actor: "intake", detail: "report received" }],
    version: 1,
    ...overrides,
  };
}

/**
 * One engine for the calling test file (or describe block): started before its tests, stopped after.
 * Returns a getter; pass its engine to `createTestStore` for a fresh table per test.
 */
export function sharedEngine(): () => EmbeddedDynamo {
  let engine: EmbeddedDynamo | undefined;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });
  return () => {
    if (!engine) throw new Error("the shared engine is not started yet");
    return engine;
  };
}

/** DynamoDB's size limits on index key attributes (the embedded engine does not enforce them). */
const INDEX_KEY_LIMITS: Record<string, number> = { pk: 2048, sk: 1024 };

/**
 * The index key attributes (`gsi1pk` … `gsi4sk`) of a raw item that real DynamoDB would refuse for
 * their size (partition key ≤ 2048 bytes, sort key ≤ 1024), so a test on the embedded engine can tell.
 */
export function oversizedIndexKeys(item: Record<string, unknown>): string[] {
  return Object.entries(item)
    .filter(([name]) => /^gsi\d+(pk|sk)$/.test(name))
    .filter(([name, value]) => {
      const limit = INDEX_KEY_LIMITS[name.endsWith("pk") ? "pk" : "sk"] ?? 0;
      return Buffer.byteLength(String(value)) > limit;
    })
    .map(([name]) => name);
}
