import { beforeEach, describe, expect, it } from "vitest";
import { ConflictError, TourniquetError } from "../../lib/errors.js";
import type { Issuer } from "../../lib/issuers/issuer.js";
import type { RemediationMessage, RemediationQueue } from "../../lib/queue/remediation-queue.js";
import { subjectOf } from "../../lib/queue/remediation-queue.js";
import { reconcileLeaks } from "../../lib/remediation/reconcile-leaks.js";
import type { Leak } from "../../lib/store/leak.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { recordingLog } from "../helpers/recording-log.js";

const NOW = Date.parse("2026-11-25T12:00:00.000Z");
const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

function recordingQueue(failWith?: Error): RemediationQueue & { sent: RemediationMessage[] } {
  const sent: RemediationMessage[] = [];
  return {
    sent,
    async send(messages) {
      if (failWith) throw failWith;
      sent.push(...(messages as RemediationMessage[]));
    },
  };
}

/** A leak whose last event happened `idleMinutes` ago. */
function idleLeak(idleMinutes: number, overrides: Partial<Leak> = {}): Leak {
  const at = minutesAgo(idleMinutes);
  return makeLeak({
    firstSeen: minutesAgo(idleMinutes + 1),
    sealedToken: "v1.local.sealed-box",
    timeline: [
      { at: minutesAgo(idleMinutes + 1), step: "intake", outcome: "ok", actor: "intake", detail: "report" },
      { at, step: "verify", outcome: "ok", actor: "worker", detail: "verified" },
    ],
    ...overrides,
  });
}

describe("reconcileLeaks (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;

  beforeEach(async () => {
    t = await createTestStore(engine());
  });

  const seed = async (...leaks: Leak[]) => {
    for (const leak of leaks) await t.store.createLeak(leak);
    return leaks;
  };

  it("re-queues a leak idle past the threshold that no worker holds, with its sealed token", async () => {
    const [stuck] = await seed(idleLeak(30, { status: "active" }));
    const queue = recordingQueue();
    const { log, lines } = recordingLog();

    const result = await reconcileLeaks({ store: t.store, queue, log, now: () => NOW });

    expect(result.requeued).toEqual([stuck?.id]);
    expect(queue.sent).toEqual([{ leakId: stuck?.id, sealedToken: "v1.local.sealed-box" }]);
    const after = await t.store.getLeak(stuck?.id ?? "");
    expect(after?.timeline.at(-1)).toMatchObject({ step: "reconcile", actor: "sweep", outcome: "ok" });
    expect(after?.timeline.at(-1)?.detail).toContain(minutesAgo(30));
    expect(after?.status).toBe("active");
    expect(lines.join("\n")).toContain("re-queued stuck leaks");
  });

  it("leaves alone leaks a worker holds, leaks with recent activity, and leaks with nothing left to do", async () => {
    await seed(
      idleLeak(30, { lease: { step: "revoke", holder: "w1", until: NOW + 60_000 } }),
      idleLeak(5),
      idleLeak(30, { status: "revoked", notification: { status: "sent", at: minutesAgo(30) } }),
      idleLeak(30, {
        status: "failed",
        failure: { step: "revoke", reason: "403", at: minutesAgo(30) },
        notification: { status: "sent", at: minutesAgo(30) },
      }),
      idleLeak(30, { status: "dismissed" }),
      idleLeak(30, { status: "false_positive" }),
    );
    const queue = recordingQueue();

    const result = await reconcileLeaks({ store: t.store, queue, log: recordingLog().log, now: () => NOW });

    expect(result.requeued).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it("re-queues an expired lease, and a revoked or failed leak whose owner was never told", async () => {
    const [expired, untold, failedUntold] = await seed(
      idleLeak(30, { status: "active", lease: { step: "revoke", holder: "w1", until: NOW - 1 } }),
      idleLeak(30, { status: "revoked" }),
      idleLeak(30, { status: "failed", failure: { step: "revoke", reason: "403", at: minutesAgo(30) } }),
    );
    const queue = recordingQueue();

    const result = await reconcileLeaks({ store: t.store, queue, log: recordingLog().log, now: () => NOW });

    expect(result.requeued.sort()).toEqual([expired?.id, untold?.id, failedUntold?.id].sort());
  });

  it("releases and re-queues a live lease whose holder is gone, and waits out the others", async () => {
    const [orphaned, held] = await seed(
      idleLeak(30, {
        status: "revoked",
        lease: { step: "notify", holder: "local:1:old:x", until: NOW + 60_000 },
      }),
      idleLeak(30, {
        status: "active",
        lease: { step: "revoke", holder: "local:2:new:y", until: NOW + 60_000 },
      }),
    );
    const queue = recordingQueue();

    const result = await reconcileLeaks(
      { store: t.store, queue, log: recordingLog().log, now: () => NOW },
      { leaseHolderGone: (holder) => holder.startsWith("local:1:") },
    );

    expect(result.requeued).toEqual([orphaned?.id]);
    const after = await t.store.getLeak(orphaned?.id ?? "");
    expect(after?.lease).toBeUndefined();
    expect(after?.timeline.slice(-2).map((e) => e.detail)).toEqual([
      expect.stringMatching(/^notify was left unfinished by a worker that is gone \(local:1:old:x\)/),
      expect.stringMatching(/sent to the worker again$/),
    ]);
    expect((await t.store.getLeak(held?.id ?? ""))?.lease?.holder).toBe("local:2:new:y");
  });

  it("never reads settled leaks: a history of revoked, told leaks costs the sweep nothing", async () => {
    await seed(
      ...Array.from({ length: 6 }, () =>
        idleLeak(30, { status: "revoked", notification: { status: "sent", at: minutesAgo(30) } }),
      ),
      idleLeak(30, { status: "inactive" }),
    );

    const result = await reconcileLeaks({
      store: t.store,
      queue: recordingQueue(),
      log: recordingLog().log,
      now: () => NOW,
    });

    expect(result.examined).toBe(0);
  });

  it("finds the oldest stuck leaks first, and later runs resume past the ones already re-sent", async () => {
    // Newer leaks outnumber the cap: a sweep that started from the newest would never reach the old one.
    const [oldest] = await seed(idleLeak(600));
    const newer = await seed(...Array.from({ length: 4 }, (_, i) => idleLeak(30 + i)));
    const deps = { store: t.store, queue: recordingQueue(), log: recordingLog().log, now: () => NOW };

    const first = await reconcileLeaks(deps, { maxPerRun: 2, pageSize: 1 });
    const second = await reconcileLeaks(deps, { maxPerRun: 2, pageSize: 1 });
    const third = await reconcileLeaks(deps, { maxPerRun: 2, pageSize: 1 });

    expect(first.requeued[0]).toBe(oldest?.id);
    expect(first.requeued).toEqual([oldest?.id, newer[3]?.id]);
    expect([...first.requeued, ...second.requeued, ...third.requeued].sort()).toEqual(
      [oldest, ...newer].map((l) => l?.id).sort(),
    );
    expect(third.requeued).toHaveLength(1);
  });

  it("sends a batching issuer's stuck leaks before their revocation together, the rest alone", async () => {
    const github = { name: "github", revocationBatching: { maxTokens: 2 } } as Issuer;
    const other = { name: "sandbox" } as Issuer;
    const issuers = { forType: (type: string) => (type === "github_personal_access_token" ? github : other) };
    const gh = (overrides: Partial<Leak>) =>
      idleLeak(30, { tokenType: "github_personal_access_token", issuer: "github", ...overrides });
    const due = await seed(gh({ status: "active" }), gh({ status: "pending" }), gh({ status: "active" }));
    const [toldLater] = await seed(gh({ status: "revoked" }));
    const [alone] = await seed(idleLeak(30, { status: "active" }));
    const queue = recordingQueue();

    const result = await reconcileLeaks({
      store: t.store,
      queue,
      issuers,
      log: recordingLog().log,
      now: () => NOW,
    });

    expect(result.requeued).toHaveLength(5);
    const groups = queue.sent.filter((m) => m.together);
    expect(groups).toHaveLength(1); // three leaks, two a message: one together, one alone
    const togetherIds = queue.sent
      .filter((m) => due.some((l) => l.id === m.leakId))
      .flatMap((m) => [m.leakId, ...(m.together ?? [])]);
    expect(togetherIds.sort()).toEqual(due.map((l) => l.id).sort());
    // A revoked leak owing its message, and another issuer's leak, go alone.
    // (a revoked leak's sealed token is gone from the store: its notification needs none)
    expect(queue.sent).toContainEqual({ leakId: toldLater?.id, sealedToken: "" });
    expect(queue.sent).toContainEqual({ leakId: alone?.id, sealedToken: "v1.local.sealed-box" });
    for (const leak of due) {
      expect((await t.store.getLeak(leak.id))?.timeline.at(-1)).toMatchObject({ step: "reconcile" });
    }
  });

  it("goes on when one leak cannot be re-queued, and reports it", async () => {
    const [bad, good] = await seed(idleLeak(40), idleLeak(30));
    const sent: string[] = [];
    const queue: RemediationQueue = {
      async send(messages) {
        if (messages.some((m) => subjectOf(m) === bad?.id)) throw new TourniquetError("queue refused");
        sent.push(...messages.map(subjectOf));
      },
    };
    const { log, lines } = recordingLog();

    const result = await reconcileLeaks({ store: t.store, queue, log, now: () => NOW });

    expect(result.requeued).toEqual([good?.id]);
    expect(result.failed).toEqual([{ leakId: bad?.id, reason: expect.stringContaining("queue refused") }]);
    expect(sent).toEqual([good?.id]);
    expect(lines.join("\n")).toContain("could not be re-queued");
  });

  it("sends a stuck leak once per threshold, not on every sweep", async () => {
    await seed(idleLeak(30));
    const queue = recordingQueue();
    const deps = { store: t.store, queue, log: recordingLog().log };

    await reconcileLeaks({ ...deps, now: () => NOW });
    await reconcileLeaks({ ...deps, now: () => NOW + 5 * 60_000 });
    expect(queue.sent).toHaveLength(1);

    await reconcileLeaks({ ...deps, now: () => NOW + 16 * 60_000 });
    expect(queue.sent).toHaveLength(2);
  });

  it("records nothing when the queue refuses the message, so the next sweep tries again", async () => {
    const [stuck] = await seed(idleLeak(30));
    const queue = recordingQueue(new TourniquetError("1 of 1 remediation messages could not be queued"));

    const result = await reconcileLeaks({ store: t.store, queue, log: recordingLog().log, now: () => NOW });

    expect(result.failed[0]?.reason).toContain("could not be queued");
    const after = await t.store.getLeak(stuck?.id ?? "");
    expect(after?.timeline.map((e) => e.step)).not.toContain("reconcile");
    expect(after?.version).toBe(stuck?.version);
  });

  it("lets a worker that moved the leak meanwhile keep its write", async () => {
    const [stuck] = await seed(idleLeak(30));
    const queue = recordingQueue();
    let conflicts = 0;
    const racingStore = {
      ...t.store,
      listOwingWork: t.store.listOwingWork.bind(t.store),
      updateLeak: async () => {
        conflicts++;
        throw new ConflictError("leak changed");
      },
    } as unknown as typeof t.store;

    const result = await reconcileLeaks({
      store: racingStore,
      queue,
      log: recordingLog().log,
      now: () => NOW,
    });

    expect(conflicts).toBe(1);
    expect(result.requeued).toEqual([stuck?.id]);
  });

  it("pages through many stuck leaks, and stops at the per-run cap with a warning", async () => {
    const leaks = await seed(...Array.from({ length: 5 }, () => idleLeak(30)));
    const queue = recordingQueue();
    const all = await reconcileLeaks(
      { store: t.store, queue, log: recordingLog().log, now: () => NOW },
      { pageSize: 2 },
    );
    expect(all.requeued.sort()).toEqual(leaks.map((l) => l.id).sort());

    const { log, lines } = recordingLog();
    const capped = await reconcileLeaks(
      { store: t.store, queue: recordingQueue(), log, now: () => NOW + 60 * 60_000 },
      { pageSize: 2, maxPerRun: 2 },
    );
    expect(capped.requeued).toHaveLength(2);
    expect(lines.join("\n")).toContain("reconcile stopped at its cap");
  });
});
