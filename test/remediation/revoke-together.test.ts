import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import { BusyError, IssuerError } from "../../lib/errors.js";
import { RevocationBatcher } from "../../lib/issuers/github/revocation-batcher.js";
import type { Issuer, KeyRequest, Revocation, Verification } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { loadTemplates } from "../../lib/notify/render-leak-message.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import type { RemediationMessage, RemediationQueue } from "../../lib/queue/remediation-queue.js";
import { remediateLeak, type WorkerDeps } from "../../lib/remediation/remediate-leak.js";
import type { Leak } from "../../lib/store/leak.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { recordingLog } from "../helpers/recording-log.js";

// A message carrying many leaks of an issuer whose revocation call takes many tokens (GitHub's): the
// worker revokes them in one call, each under its own lease, re-verified and recorded on its own, and
// hands each one's next step to the queue. Against the embedded engine, with the real batcher.

const sealer = new LocalKeySealer(Buffer.alloc(32, 7));
const config = parseConfig(
  {
    issuers: { acme: { kind: "http", url: "https://acme.example", secret: { env: "ACME_SECRET" } } },
    token_types: { acme_api_key: { issuer: "acme", mode: "revoke" } },
    remediation: { step_attempts: 1, step_backoff_ms: 0 },
  },
  { ACME_SECRET: "x" },
);

/** An issuer like GitHub's: its revoke() calls coalesce into one batch call (the real batcher). */
class BatchingIssuer implements Issuer {
  readonly name = "acme";
  readonly revocationBatching = { maxTokens: 1_000 };
  readonly live = new Set<string>();
  readonly calls: string[][] = [];
  failNextCalls = 0;
  private readonly batcher = new RevocationBatcher({
    quietMs: 20,
    maxAttempts: 1,
    send: async (tokens) => {
      this.calls.push([...tokens]);
      if (this.failNextCalls-- > 0)
        throw new IssuerError("acme: 503 Service Unavailable", { transient: true });
      for (const token of tokens) this.live.delete(token);
    },
  });

  async verify({ token }: { token: string }): Promise<Verification> {
    return this.live.has(token)
      ? { status: "active", keyId: `key-${token.slice(-6)}`, owner: { email: "owner@example.test" } }
      : { status: "inactive" };
  }

  async revoke(request: KeyRequest, options?: { signal?: AbortSignal }): Promise<Revocation> {
    await this.batcher.revoke(request.token ?? "", options?.signal);
    return { keyId: request.keyId, alreadyRevoked: false };
  }
}

function recordingQueue(): RemediationQueue & { sent: RemediationMessage[] } {
  const sent: RemediationMessage[] = [];
  return {
    sent,
    async send(messages) {
      sent.push(...(messages as RemediationMessage[]));
    },
  };
}

describe("revoking together (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let issuer: BatchingIssuer;
  let queue: ReturnType<typeof recordingQueue>;

  beforeEach(async () => {
    t = await createTestStore(engine());
    issuer = new BatchingIssuer();
    queue = recordingQueue();
  });

  const deps = (overrides: Partial<WorkerDeps> = {}): WorkerDeps => ({
    config,
    store: t.store,
    issuers: new IssuerRegistry(new Map([["acme", issuer]]), config.token_types),
    sealer,
    queue,
    channels: new Map(),
    templates: loadTemplates(),
    log: recordingLog().log,
    workerId: "test-worker",
    ...overrides,
  });

  /** `n` leaks of live tokens, verified active (as intake leaves them), or pending when asked. */
  async function seed(n: number, overrides: (i: number) => Partial<Leak> = () => ({})) {
    const leaks: { leak: Leak; token: string }[] = [];
    for (let i = 0; i < n; i++) {
      const token = `acme_live_${String(i).padStart(6, "0")}`;
      issuer.live.add(token);
      const base = makeLeak({
        tokenType: "acme_api_key",
        issuer: "acme",
        status: "active",
        keyId: `key-${token.slice(-6)}`,
        owner: { email: "owner@example.test" },
        firstSeen: new Date().toISOString(),
        ...overrides(i),
      });
      const leak = { ...base, sealedToken: await sealer.seal(token, base.id), receivedAtMs: Date.now() };
      await t.store.createLeak(leak);
      leaks.push({ leak, token });
    }
    return leaks;
  }

  const messageOf = (leaks: { leak: Leak }[]): RemediationMessage => {
    const [first, ...rest] = leaks;
    return {
      leakId: first?.leak.id ?? "",
      sealedToken: first?.leak.sealedToken ?? "",
      together: rest.map(({ leak }) => leak.id),
    };
  };
  const revokeEvents = (leak: Leak | undefined) =>
    leak?.timeline.filter((e) => e.step === "revoke" && e.outcome === "ok") ?? [];

  it("revokes every leak of the message in one call, re-verifies each, and queues each one's next step", async () => {
    const leaks = await seed(300);

    await remediateLeak(deps(), { message: messageOf(leaks), receiveCount: 1, maxReceives: 3 });

    expect(issuer.calls).toHaveLength(1);
    expect(issuer.calls[0]?.sort()).toEqual(leaks.map((l) => l.token).sort());
    const after = await t.store.getLeaks(leaks.map((l) => l.leak.id));
    for (const { leak } of leaks) {
      const current = after.get(leak.id);
      expect(current?.status).toBe("revoked");
      expect(current?.lease).toBeUndefined();
      expect(revokeEvents(current)).toHaveLength(1);
      expect(current?.timeline.some((e) => e.step === "re-verify" && e.outcome === "ok")).toBe(true);
    }
    // Each leak's notification goes on as a message of its own (no token inside: it is revoked).
    expect(queue.sent.map((m) => m.leakId).sort()).toEqual(leaks.map((l) => l.leak.id).sort());
    expect(queue.sent.every((m) => !m.together)).toBe(true);
  });

  it("verifies the leaks still pending first: the live ones revoked in the one call, a dead one not at all", async () => {
    const leaks = await seed(40, () => ({ status: "pending", keyId: undefined }));
    const dead = leaks.slice(0, 10);
    for (const { token } of dead) issuer.live.delete(token);

    await remediateLeak(deps(), { message: messageOf(leaks), receiveCount: 1, maxReceives: 3 });

    expect(issuer.calls).toEqual([expect.arrayContaining(leaks.slice(10).map((l) => l.token))]);
    expect(issuer.calls[0]).toHaveLength(30);
    const after = await t.store.getLeaks(leaks.map((l) => l.leak.id));
    expect(dead.map(({ leak }) => after.get(leak.id)?.status)).toEqual(dead.map(() => "inactive"));
    expect(leaks.slice(10).every(({ leak }) => after.get(leak.id)?.status === "revoked")).toBe(true);
  });

  it("records a failed call on every leak, releases them, comes again, and then revokes them in one call", async () => {
    const leaks = await seed(50);
    issuer.failNextCalls = 1;
    const message = messageOf(leaks);

    await expect(remediateLeak(deps(), { message, receiveCount: 1, maxReceives: 3 })).rejects.toThrow(
      BusyError,
    );
    const failed = await t.store.getLeaks(leaks.map((l) => l.leak.id));
    for (const { leak } of leaks) {
      const current = failed.get(leak.id);
      expect(current?.status).toBe("active");
      expect(current?.lease).toBeUndefined();
      expect(current?.timeline.at(-1)).toMatchObject({ step: "revoke", outcome: "retrying" });
    }
    expect(queue.sent).toEqual([]);

    await remediateLeak(deps(), { message, receiveCount: 2, maxReceives: 3 });

    expect(issuer.calls).toHaveLength(2);
    expect(issuer.calls[1]).toHaveLength(50);
    const after = await t.store.getLeaks(leaks.map((l) => l.leak.id));
    expect(leaks.every(({ leak }) => after.get(leak.id)?.status === "revoked")).toBe(true);
  });

  it("fails each leak for good on the last delivery, and the message is done", async () => {
    const leaks = await seed(5);
    issuer.failNextCalls = 1;

    await remediateLeak(deps(), { message: messageOf(leaks), receiveCount: 3, maxReceives: 3 });

    const after = await t.store.getLeaks(leaks.map((l) => l.leak.id));
    for (const { leak } of leaks) {
      expect(after.get(leak.id)?.status).toBe("failed");
      expect(after.get(leak.id)?.failure?.step).toBe("revoke");
    }
  });

  it("revokes each token once when the same message is delivered twice at once", async () => {
    const leaks = await seed(100);
    const message = messageOf(leaks);

    const outcomes = await Promise.allSettled([
      remediateLeak(deps({ workerId: "w1" }), { message, receiveCount: 1, maxReceives: 3 }),
      remediateLeak(deps({ workerId: "w2" }), { message, receiveCount: 1, maxReceives: 3 }),
    ]);

    expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : "ok"))).toEqual(["ok", "ok"]);
    const sent = issuer.calls.flat();
    expect(sent.sort()).toEqual(leaks.map((l) => l.token).sort());
    const after = await t.store.getLeaks(leaks.map((l) => l.leak.id));
    expect(leaks.every(({ leak }) => revokeEvents(after.get(leak.id)).length === 1)).toBe(true);
  });

  it("leaves a leak another delivery holds to that delivery", async () => {
    const leaks = await seed(3);
    const held = leaks[1]?.leak as Leak;
    await t.store.updateLeak(
      held,
      {
        lease: { step: "revoke", holder: "other-worker", until: Date.now() + 60_000 },
      },
      [],
    );

    await remediateLeak(deps(), { message: messageOf(leaks), receiveCount: 1, maxReceives: 3 });

    expect(issuer.calls).toEqual([expect.not.arrayContaining([leaks[1]?.token])]);
    expect(issuer.calls[0]).toHaveLength(2);
    expect((await t.store.getLeak(held.id))?.status).toBe("active");
  });

  it("sends the leaks it has no time left for back to the queue together, untouched", async () => {
    const leaks = await seed(4, () => ({ status: "pending", keyId: undefined }));

    await remediateLeak(deps({ deadline: () => Date.now() - 1 }), {
      message: messageOf(leaks),
      receiveCount: 1,
      maxReceives: 3,
    });

    expect(issuer.calls).toEqual([]);
    expect(queue.sent).toEqual([messageOf(leaks)]);
    const after = await t.store.getLeaks(leaks.map((l) => l.leak.id));
    expect(leaks.every(({ leak }) => after.get(leak.id)?.version === leak.version)).toBe(true);
  });

  it("opens each token from its leak's own sealed copy, and never puts one in a message", async () => {
    const leaks = await seed(3);

    await remediateLeak(deps(), { message: messageOf(leaks), receiveCount: 1, maxReceives: 3 });

    const text = JSON.stringify(queue.sent);
    for (const { token } of leaks) expect(text).not.toContain(token);
    expect(issuer.calls[0]).toHaveLength(3);
  });
});
