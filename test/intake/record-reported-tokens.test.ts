import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import {
  EMBEDDED_SIGHTINGS,
  groupReportedTokens,
  type RecordDeps,
  recordReportedTokens,
} from "../../lib/intake/record-reported-tokens.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { silentLog } from "../../lib/log.js";
import type { LeakStore } from "../../lib/store/leak-store.js";
import { createTestStore, sharedEngine, type TestStore } from "../helpers/dynamo.js";

// Recording reported tokens against the embedded engine: how many writes a token costs, and that every
// place it was seen survives, whichever write carried it.

const TOKEN = "tqs_abcdefghijklmnopqrstuvwxyz0123FFFFFF";
const TYPE = "unrouted_token_type";

/** The store, counting the writes the intake makes. */
function countingStore(store: LeakStore) {
  const writes = { createLeak: 0, recordSighting: 0 };
  const counted: LeakStore = Object.create(store);
  counted.createLeak = (leak) => {
    writes.createLeak++;
    return store.createLeak(leak);
  };
  counted.recordSighting = (...args) => {
    writes.recordSighting++;
    return store.recordSighting(...args);
  };
  return { counted, writes };
}

describe("recordReportedTokens (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;

  beforeEach(async () => {
    t = await createTestStore(engine());
  });

  const record = (store: LeakStore, places: string[], receivedAt = Date.parse("2026-01-02T03:04:05Z")) => {
    const deps: RecordDeps = {
      // No issuer for the type: the leak is recorded unroutable, nothing is sealed or verified.
      config: parseConfig({}, {}),
      store,
      queue: { send: async () => {} },
      sealer: {
        seal: async () => "sealed",
        open: async () => TOKEN,
      },
      issuers: IssuerRegistry.fromConfig(parseConfig({}, {})),
      log: silentLog,
    };
    const tokens = groupReportedTokens(
      places.map((url) => ({ token: TOKEN, type: TYPE, url, source: "commit" })),
    );
    return recordReportedTokens(deps, tokens, {
      receivedAt,
      verifyDeadline: receivedAt,
      reporter: "test",
      source: "partner_report",
    });
  };

  it("writes a new token's leak and its sightings in one write", async () => {
    const { counted, writes } = countingStore(t.store);
    const [recorded] = await record(counted, [
      "https://github.com/o/r/blob/a/.env",
      "https://github.com/o/r/blob/b/.env",
    ]);
    expect(writes).toEqual({ createLeak: 1, recordSighting: 0 });
    const details = await t.store.getLeakDetails(recorded?.leak.id ?? "");
    expect(details?.sightings).toEqual([
      expect.objectContaining({ url: "https://github.com/o/r/blob/a/.env", source: "commit", reports: 1 }),
      expect.objectContaining({ url: "https://github.com/o/r/blob/b/.env", source: "commit", reports: 1 }),
    ]);
  });

  it("records the places of a repeated report as sightings, merged with the first report's", async () => {
    const [first] = await record(
      t.store,
      ["https://github.com/o/r/blob/a/.env"],
      Date.parse("2026-01-02T03:04:05Z"),
    );
    const { counted, writes } = countingStore(t.store);
    await record(
      counted,
      ["https://github.com/o/r/blob/a/.env", "https://gist.github.com/x/1"],
      Date.parse("2026-01-03T00:00:00Z"),
    );
    // Known already: no create attempt, only the sightings.
    expect(writes).toEqual({ createLeak: 0, recordSighting: 2 });
    const details = await t.store.getLeakDetails(first?.leak.id ?? "");
    expect(details?.sightings).toEqual([
      {
        url: "https://github.com/o/r/blob/a/.env",
        source: "commit",
        firstSeen: "2026-01-02T03:04:05.000Z",
        lastSeen: "2026-01-03T00:00:00.000Z",
        reports: 2,
      },
      {
        url: "https://gist.github.com/x/1",
        source: "commit",
        firstSeen: "2026-01-03T00:00:00.000Z",
        lastSeen: "2026-01-03T00:00:00.000Z",
        reports: 1,
      },
    ]);
  });

  it("writes the places beyond what a leak's item carries as sightings of their own, losing none", async () => {
    const places = Array.from(
      { length: EMBEDDED_SIGHTINGS + 5 },
      (_, i) => `https://github.com/o/r/blob/${i}/.env`,
    );
    const { counted, writes } = countingStore(t.store);
    const [recorded] = await record(counted, places);
    expect(writes).toEqual({ createLeak: 1, recordSighting: 5 });
    const details = await t.store.getLeakDetails(recorded?.leak.id ?? "");
    expect(details?.sightings.map((s) => s.url).sort()).toEqual([...places].sort());
    expect(details?.sightings.every((s) => s.reports === 1)).toBe(true);
  });

  it("keeps the first report's sightings when the worker rewrites the leak", async () => {
    const [recorded] = await record(t.store, ["https://github.com/o/r/blob/a/.env"]);
    const leak = await t.store.getLeak(recorded?.leak.id ?? "");
    if (!leak) throw new Error("leak not recorded");
    await t.store.updateLeak(leak, { status: "dismissed" }, []);
    const details = await t.store.getLeakDetails(leak.id);
    expect(details?.leak.status).toBe("dismissed");
    expect(details?.sightings.map((s) => s.url)).toEqual(["https://github.com/o/r/blob/a/.env"]);
  });
});
