import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import type { Issuer } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import type { LeakMessage, NotificationChannel } from "../../lib/notify/leak-message.js";
import { loadTemplates } from "../../lib/notify/render-leak-message.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { remediateLeak, type WorkerDeps } from "../../lib/remediation/remediate-leak.js";
import type { Leak } from "../../lib/store/leak.js";
import type { LeakStore } from "../../lib/store/leak-store.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { recordingLog } from "../helpers/recording-log.js";

// What one remediation costs the store (the worker's throughput is bound by it): no leak read back after
// the worker's own write, and a notification's writes carrying each other's records, while every intent
// is still written before its send and every outcome after it.

const TOKEN = "acme_live_token_for_round_trip_tests";
const sealer = new LocalKeySealer(Buffer.alloc(32, 7));

function channel(name: string, kind: "email" | "slack", log: string[]): NotificationChannel {
  return {
    name,
    kind,
    async deliver(message: LeakMessage) {
      log.push(`send ${name}`);
      return { duplicate: false, providerMessageId: `${name}-${message.id}` };
    },
  };
}

const issuer = (log: string[]): Issuer => ({
  name: "acme",
  async verify() {
    log.push("verify");
    return { status: log.includes("revoke") ? "inactive" : "active", keyId: "key-1" };
  },
  async revoke({ keyId }) {
    log.push("revoke");
    return { keyId, alreadyRevoked: false };
  },
});

/** The store, counting its calls and noting each write's deliveries in `log`. */
function countingStore(store: LeakStore, log: string[]) {
  const counts = { getLeak: 0, updateLeak: 0 };
  const counted: LeakStore = Object.create(store);
  counted.getLeak = (id) => {
    counts.getLeak++;
    return store.getLeak(id);
  };
  counted.updateLeak = (leak, changes, events) => {
    counts.updateLeak++;
    const states = Object.values(changes.deliveries ?? {}).map((d) => `${d.channel}:${d.status}`);
    log.push(
      `write ${states.join(",")}${changes.lease ? " +lease" : ""}${changes.notification ? " +told" : ""}`,
    );
    return store.updateLeak(leak, changes, events);
  };
  return { store: counted, counts };
}

describe("remediation's store round trips (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  beforeEach(async () => {
    t = await createTestStore(engine());
  });

  const deps = (store: LeakStore, log: string[]): WorkerDeps => ({
    config: parseConfig(
      {
        token_types: {},
        remediation: { step_attempts: 1, step_backoff_ms: 0 },
        defaults: { channels: ["email", "slack"] },
        notifications: {
          channels: { email: { kind: "outbox" }, slack: { kind: "outbox", format: "slack" } },
        },
      },
      {},
    ),
    store,
    issuers: new IssuerRegistry(new Map([["acme", issuer(log)]]), {
      acme_api_key: { issuer: "acme" },
    }),
    sealer,
    queue: { send: async () => undefined },
    channels: new Map([
      ["email", channel("email", "email", log)],
      ["slack", channel("slack", "slack", log)],
    ]),
    templates: loadTemplates(),
    log: recordingLog().log,
    workerId: "test-worker",
  });

  const activeLeak = async (): Promise<Leak> => {
    const leak = makeLeak({
      tokenType: "acme_api_key",
      issuer: "acme",
      status: "active",
      mode: "revoke",
      keyId: "key-1",
      owner: { email: "owner@example.test" },
    });
    await t.store.createLeak(leak);
    return leak;
  };

  it("reads the leak once per delivery and notifies two channels in three writes, each intent before its send", async () => {
    const leak = await activeLeak();
    const log: string[] = [];
    const { store, counts } = countingStore(t.store, log);
    const message = { leakId: leak.id, sealedToken: await sealer.seal(TOKEN, leak.id) };

    await remediateLeak(deps(store, log), { message, receiveCount: 1, maxReceives: 3 });

    expect(counts.getLeak).toBe(1);
    expect(log).toEqual([
      "write  +lease", // the revocation's lease
      "revoke",
      "verify",
      "write ", // recorded revoked
      "write email:sending +lease",
      "send email",
      "write email:sent,slack:sending",
      "send slack",
      "write email:sent,slack:sent +told",
    ]);
    const after = await t.store.getLeak(leak.id);
    expect(after).toMatchObject({ status: "revoked", notification: { status: "sent" } });
    expect(after?.lease).toBeUndefined();
    expect(Object.values(after?.deliveries ?? {}).map((d) => d.status)).toEqual(["sent", "sent"]);
    expect(after?.timeline.filter((e) => e.step === "notify" && e.outcome === "ok")).toHaveLength(2);
  });

  it("a redelivery of the settled leak sends nothing again and writes nothing", async () => {
    const leak = await activeLeak();
    const log: string[] = [];
    const message = { leakId: leak.id, sealedToken: await sealer.seal(TOKEN, leak.id) };
    await remediateLeak(deps(t.store, log), { message, receiveCount: 1, maxReceives: 3 });
    const again: string[] = [];
    const { store, counts } = countingStore(t.store, again);

    await remediateLeak(deps(store, again), { message, receiveCount: 1, maxReceives: 3 });

    expect(again).toEqual([]);
    expect(counts).toEqual({ getLeak: 1, updateLeak: 0 });
  });

  it("with revokeFirst, hands the leak's next steps to the queue once its key is revoked", async () => {
    const leak = await activeLeak();
    const log: string[] = [];
    const sent: unknown[] = [];
    const message = { leakId: leak.id, sealedToken: await sealer.seal(TOKEN, leak.id) };
    const worker = {
      ...deps(t.store, log),
      revokeFirst: true,
      queue: { send: async (messages: readonly unknown[]) => void sent.push(...messages) },
    };

    await remediateLeak(worker, { message, receiveCount: 1, maxReceives: 3 });

    expect(log).toEqual(["revoke", "verify"]);
    expect(sent).toEqual([message]);
    const revoked = await t.store.getLeak(leak.id);
    expect(revoked?.status).toBe("revoked");
    expect(revoked?.notification).toBeUndefined();

    await remediateLeak(worker, { message, receiveCount: 1, maxReceives: 3 });

    expect(log).toEqual(["revoke", "verify", "send email", "send slack"]);
    expect(sent).toHaveLength(1);
    expect((await t.store.getLeak(leak.id))?.notification?.status).toBe("sent");
  });
});
