import { beforeEach, describe, expect, it } from "vitest";
import { retryLeak } from "../../lib/admin/leak-actions.js";
import { parseConfig } from "../../lib/config.js";
import { AwsError, IssuerError } from "../../lib/errors.js";
import type { Issuer } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import type { LeakMessage, NotificationChannel } from "../../lib/notify/leak-message.js";
import { loadTemplates } from "../../lib/notify/render-leak-message.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { subjectOf } from "../../lib/queue/remediation-queue.js";
import { remediateLeak, type WorkerDeps } from "../../lib/remediation/remediate-leak.js";
import type { Leak } from "../../lib/store/leak.js";
import type { LeakChanges, LeakStore } from "../../lib/store/leak-store.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { recordingLog } from "../helpers/recording-log.js";

// The notify step against the embedded engine: a message is recorded as intended before it is sent and
// as sent after, so a write that conflicts or is lost never sends it twice silently; and a message's id
// follows what it tells, so news (a replacement key) reaches the owner after an admin's retry.

const TOKEN = "acme_live_token_for_notify_tests";
const sealer = new LocalKeySealer(Buffer.alloc(32, 9));
const templates = loadTemplates();

function recordingChannel(): NotificationChannel & { sent: LeakMessage[] } {
  const sent: LeakMessage[] = [];
  return {
    name: "email",
    kind: "email",
    sent,
    async deliver(message) {
      sent.push(message);
      return { duplicate: false, providerMessageId: `m-${sent.length}` };
    },
  };
}

function issuer(rotate: () => Promise<{ replacementKeyId: string }>): Issuer {
  return {
    name: "acme",
    async verify() {
      return { status: "inactive" };
    },
    async revoke({ keyId }) {
      return { keyId, alreadyRevoked: false };
    },
    async rotate({ keyId }) {
      return { keyId, deliveredToOwner: true, ...(await rotate()) };
    },
  };
}

/** The store, with a hook run before each updateLeak (to race it or fail it). */
function hookedStore(store: LeakStore, before: (leak: Leak, changes: LeakChanges) => Promise<void>) {
  const hooked: LeakStore = Object.create(store);
  hooked.updateLeak = async (leak, changes, events) => {
    await before(leak, changes);
    return store.updateLeak(leak, changes, events);
  };
  return hooked;
}

const recordsSent = (changes: LeakChanges) =>
  Object.values(changes.deliveries ?? {}).some((d) => d.status === "sent");

describe("notify step (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let channel: ReturnType<typeof recordingChannel>;

  beforeEach(async () => {
    t = await createTestStore(engine());
    channel = recordingChannel();
  });

  const deps = (store: LeakStore, overrides: Partial<WorkerDeps> = {}): WorkerDeps => ({
    config: parseConfig({ token_types: {}, remediation: { step_attempts: 1, step_backoff_ms: 0 } }, {}),
    store,
    issuers: new IssuerRegistry(new Map([["acme", issuer(async () => ({ replacementKeyId: "key-2" }))]]), {
      acme_api_key: { issuer: "acme" },
    }),
    sealer,
    queue: { send: async () => undefined },
    channels: new Map([["email", channel]]),
    templates,
    log: recordingLog().log,
    workerId: "test-worker",
    ...overrides,
  });

  const revokedLeak = async (overrides: Partial<Leak> = {}) => {
    const leak = makeLeak({
      tokenType: "acme_api_key",
      issuer: "acme",
      status: "revoked",
      mode: "revoke",
      keyId: "key-1",
      owner: { email: "owner@example.test" },
      revokedAt: "2026-03-01T10:00:01.000Z",
      ...overrides,
    });
    await t.store.createLeak(leak);
    return { leak, message: { leakId: leak.id, sealedToken: await sealer.seal(TOKEN, leak.id) } };
  };

  it("does not send a message again when the write recording it conflicts", async () => {
    const { leak, message } = await revokedLeak();
    let raced = false;
    const store = hookedStore(t.store, async (stale, changes) => {
      if (raced || !recordsSent(changes)) return;
      raced = true;
      // Another writer moves the leak on between the send and its record (the lease stays ours).
      const current = await t.store.getLeak(stale.id);
      if (current) await t.store.updateLeak(current, {}, []);
    });

    await remediateLeak(deps(store), { message, receiveCount: 1, maxReceives: 3 });

    expect(raced).toBe(true);
    expect(channel.sent).toHaveLength(1);
    const after = await t.store.getLeak(leak.id);
    expect(after?.notification?.status).toBe("sent");
    expect(Object.values(after?.deliveries ?? {}).map((d) => d.status)).toEqual(["sent"]);
    expect(after?.timeline.filter((e) => e.step === "notify" && e.outcome === "ok")).toHaveLength(1);
  });

  it("records the intent before sending, and a retry after a lost record says the outcome was unknown", async () => {
    const { leak, message } = await revokedLeak();
    let failures = 0;
    const store = hookedStore(t.store, async (_, changes) => {
      if (failures === 0 && recordsSent(changes)) {
        failures++;
        // The send went out, then the write recording it timed out (a Lambda deadline, DynamoDB down).
        throw new AwsError("dynamodb:PutItem timed out", "TimeoutError", undefined, { transient: true });
      }
    });
    const { log, lines } = recordingLog();

    await expect(
      remediateLeak(deps(store, { log }), { message, receiveCount: 1, maxReceives: 3 }),
    ).rejects.toThrow(AwsError);
    const between = await t.store.getLeak(leak.id);
    expect(Object.values(between?.deliveries ?? {}).map((d) => d.status)).toEqual(["sending"]);

    await remediateLeak(deps(store, { log }), { message, receiveCount: 2, maxReceives: 3 });

    expect(channel.sent).toHaveLength(2); // at least once: the second send is known and said
    expect(lines.join("\n")).toContain("sending again a notification whose earlier outcome is unknown");
    const after = await t.store.getLeak(leak.id);
    expect(after?.timeline.find((e) => e.step === "notify" && e.outcome === "ok")).toMatchObject({
      detail: expect.stringContaining("an earlier attempt's outcome was unknown"),
      data: expect.objectContaining({ outcome_was_unknown: true }),
    });
  });

  it("tells the owner of the replacement made when an admin retries a failed rotation", async () => {
    const { leak, message } = await revokedLeak({ mode: "revoke_and_rotate" });
    let rotations = 0;
    const flaky = issuer(async () => {
      rotations++;
      if (rotations === 1) throw new IssuerError("rotate refused: HTTP 403", { transient: false });
      return { replacementKeyId: "key-2" };
    });
    const issuers = new IssuerRegistry(new Map([["acme", flaky]]), { acme_api_key: { issuer: "acme" } });

    await remediateLeak(deps(t.store, { issuers }), { message, receiveCount: 1, maxReceives: 3 });
    expect(await t.store.getLeak(leak.id)).toMatchObject({ status: "revoked", failure: { step: "rotate" } });
    expect(channel.sent).toHaveLength(1);

    const queued: string[] = [];
    await retryLeak(
      { store: t.store, queue: { send: async (m) => void queued.push(...m.map(subjectOf)) } },
      leak.id,
      {
        id: "jwt:https://idp.example.test#admin-1",
        display: "admin@example.test",
        permissions: new Set(["read", "write"]),
      },
    );
    await remediateLeak(deps(t.store, { issuers }), { message, receiveCount: 1, maxReceives: 3 });

    expect(queued).toEqual([leak.id]);
    expect(channel.sent).toHaveLength(2);
    expect(channel.sent[1]?.id).not.toBe(channel.sent[0]?.id);
    expect(channel.sent[1]?.text).toContain("key-2");
    expect((await t.store.getLeak(leak.id))?.replacement?.keyId).toBe("key-2");
  });
});
