import { ConflictError } from "../errors.js";
import type { Issuer } from "../issuers/issuer.js";
import { describeError, type Log } from "../log.js";
import {
  type RemediationMessage,
  type RemediationQueue,
  togetherMessages,
} from "../queue/remediation-queue.js";
import type { Leak } from "../store/leak.js";
import { awaitsWorker, lastActivity, owedStep } from "../store/leak-lifecycle.js";
import type { LeakStore } from "../store/leak-store.js";

// The scheduled sweep's safety net: a leak that still needs the worker, that no worker holds, and on
// which nothing has happened for a while has lost its message (a send that failed after the leak was
// written, a local queue that restarted, a message expired from the queue). It is sent to the worker
// again. The worker's lease and versioned writes make a duplicate message harmless, so a leak whose
// message is merely slow costs one extra no-op delivery, never a second revocation or notification.
//
// The store indexes only leaks the worker still owes a step (leak-lifecycle.ts), least recently
// active first, so the sweep never reads the settled history. A re-queued leak gets a timeline event,
// which moves it behind every leak not yet looked at: a run capped at `maxPerRun` is resumed by the
// next from where it stopped, and the oldest stuck leak is always the first one found.
//
// Stuck leaks of an issuer whose revocations are made together (GitHub's) that still owe their
// verification or revocation go back together, one message per the issuer's batch, as intake sends them.

export interface ReconcileDeps {
  store: LeakStore;
  queue: RemediationQueue;
  /** Tells which leaks go back together; without it every leak goes alone. */
  issuers?: { forType(tokenType: string): Issuer | undefined } | undefined;
  log: Log;
  now?: () => number;
}

/**
 * How long a leak owed a step may go untouched before the sweep takes it for stuck (the admin
 * overview counts such leaks as stalled).
 */
export const DEFAULT_STALE_AFTER_MS = 15 * 60_000;

export interface ReconcileOptions {
  /**
   * How long a leak must have been untouched before it counts as stuck. Above the queue's visibility
   * timeout, so a message waiting for its redelivery is not doubled needlessly. Default 15 minutes.
   */
  staleAfterMs?: number;
  /** Leaks examined in one sweep, so one run stays within its Lambda timeout. */
  maxPerRun?: number;
  /** Leaks read per query. */
  pageSize?: number;
  /**
   * True for a lease holder known to be gone (the local stack at start: every worker but its own, since
   * the process before it died holding them). Its leases are released rather than waited out.
   */
  leaseHolderGone?: ((holder: string) => boolean) | undefined;
}

export interface ReconcileResult {
  examined: number;
  requeued: string[];
  /** Leaks that could not be re-queued this run, with why; the next run tries them again. */
  failed: { leakId: string; reason: string }[];
}

export async function reconcileLeaks(
  deps: ReconcileDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const now = (deps.now ?? Date.now)();
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const maxPerRun = options.maxPerRun ?? 1_000;
  const pageSize = Math.min(options.pageSize ?? 100, maxPerRun);
  const cutoff = new Date(now - staleAfterMs).toISOString();
  const result: ReconcileResult = { examined: 0, requeued: [], failed: [] };

  let cursor: string | undefined;
  do {
    const page = await deps.store.listOwingWork({
      until: cutoff,
      limit: Math.min(pageSize, maxPerRun - result.examined),
      cursor,
    });
    result.examined += page.items.length;
    // The index is eventually consistent: the leak itself says whether it is still stuck.
    const stuck: Leak[] = [];
    for (const leak of page.items) {
      if (lastActivity(leak) > cutoff) continue;
      if (awaitsWorker(leak, now)) stuck.push(leak);
      else if (owedStep(leak) && leak.lease && options.leaseHolderGone?.(leak.lease.holder)) {
        const released = await releaseLease(deps, leak, now);
        if (released) stuck.push(released);
      }
    }
    for (const { messages, leaks } of sendings(deps, stuck)) {
      try {
        // One group's failure is logged and left for the next run; the others are still re-queued.
        await deps.queue.send(messages);
      } catch (error) {
        for (const leak of leaks) result.failed.push({ leakId: leak.id, reason: describeError(error) });
        continue;
      }
      for (const leak of leaks) {
        await recordRequeue(deps, leak, now).catch((error: unknown) => {
          deps.log.warn("re-queued leak's timeline event not written", {
            leakId: leak.id,
            error: describeError(error),
          });
        });
        result.requeued.push(leak.id);
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && result.examined < maxPerRun);

  if (cursor) deps.log.warn("reconcile stopped at its cap; the next sweep continues", { ...counts(result) });
  if (result.requeued.length > 0) {
    deps.log.warn("re-queued stuck leaks", { count: result.requeued.length, leakIds: result.requeued });
  }
  if (result.failed.length > 0)
    deps.log.error("stuck leaks could not be re-queued", { failed: result.failed });
  return result;
}

const counts = (result: ReconcileResult) => ({
  examined: result.examined,
  requeued: result.requeued.length,
  failed: result.failed.length,
});

/**
 * Stuck leaks by how they go back: each alone, except a batching issuer's leaks still before their
 * revocation, which go together (a message per the issuer's batch).
 */
function sendings(
  deps: ReconcileDeps,
  leaks: readonly Leak[],
): { messages: RemediationMessage[]; leaks: Leak[] }[] {
  const alone: Leak[] = [];
  const together = new Map<Issuer, Leak[]>();
  for (const leak of leaks) {
    const issuer = deps.issuers?.forType(leak.tokenType);
    const step = owedStep(leak);
    if (!issuer?.revocationBatching || (step !== "verify" && step !== "revoke")) alone.push(leak);
    else if (together.has(issuer)) together.get(issuer)?.push(leak);
    else together.set(issuer, [leak]);
  }
  return [
    ...alone.map((leak) => ({
      messages: [{ leakId: leak.id, sealedToken: leak.sealedToken ?? "" }],
      leaks: [leak],
    })),
    ...[...together].map(([issuer, group]) => ({
      messages: togetherMessages(group, issuer.revocationBatching?.maxTokens),
      leaks: group,
    })),
  ];
}

/** Drops a gone worker's lease, on the timeline; undefined when another writer moved the leak meanwhile. */
async function releaseLease(deps: ReconcileDeps, leak: Leak, now: number): Promise<Leak | undefined> {
  try {
    return await deps.store.updateLeak(leak, { lease: undefined }, [
      {
        at: new Date(now).toISOString(),
        step: "reconcile",
        outcome: "ok",
        actor: "sweep",
        detail: `${leak.lease?.step} was left unfinished by a worker that is gone (${leak.lease?.holder}); its lease is released`,
      },
    ]);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    return undefined;
  }
}

/**
 * Records the leak's re-sending on the timeline (sent first, recorded after: the timeline never claims
 * a send that did not happen), conditionally: if a worker moved the leak meanwhile, its own events say
 * so and this one is dropped. The event also restarts the idle clock, so a leak the worker cannot
 * finish is re-sent once per `staleAfterMs`, not on every sweep.
 */
async function recordRequeue(deps: ReconcileDeps, leak: Leak, now: number): Promise<void> {
  try {
    await deps.store.updateLeak(leak, {}, [
      {
        at: new Date(now).toISOString(),
        step: "reconcile",
        outcome: "ok",
        actor: "sweep",
        detail: `no progress since ${lastActivity(leak)} and no worker holds it (status ${leak.status}); sent to the worker again`,
      },
    ]);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
