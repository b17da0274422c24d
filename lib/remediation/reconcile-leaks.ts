import { ConflictError } from "../errors.js";
import type { Log } from "../log.js";
import type { RemediationMessage, RemediationQueue } from "../queue/remediation-queue.js";
import type { Leak, LeakStatus } from "../store/leak.js";
import type { LeakStore } from "../store/leak-store.js";
import { awaitsWorker } from "./verification.js";

// The scheduled sweep's safety net: a leak that still needs the worker, that no worker holds, and on
// which nothing has happened for a while has lost its message (a send that failed after the leak was
// written, a local queue that restarted, a message expired from the queue). It is sent to the worker
// again. The worker's lease and versioned writes make a duplicate message harmless, so a leak whose
// message is merely slow costs one extra no-op delivery, never a second revocation or notification.

/** Statuses in which the worker may still owe the leak a step (see needsRemediation). */
const OPEN_STATUSES: readonly LeakStatus[] = ["pending", "active", "revoked"];

export interface ReconcileDeps {
  store: LeakStore;
  queue: RemediationQueue;
  log: Log;
  now?: () => number;
}

export interface ReconcileOptions {
  /**
   * How long a leak must have been untouched before it counts as stuck. Above the queue's visibility
   * timeout, so a message waiting for its redelivery is not doubled needlessly. Default 15 minutes.
   */
  staleAfterMs?: number;
  /** Leaks examined per status in one sweep, so one run stays within its Lambda timeout. */
  maxPerStatus?: number;
  /** Leaks read per query. */
  pageSize?: number;
}

export interface ReconcileResult {
  examined: number;
  requeued: string[];
}

/** Last time anything happened to the leak: its newest timeline event, else when it was first seen. */
export function lastActivity(leak: Leak): string {
  return leak.timeline.at(-1)?.at ?? leak.firstSeen;
}

export async function reconcileLeaks(
  deps: ReconcileDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const now = (deps.now ?? Date.now)();
  const staleAfterMs = options.staleAfterMs ?? 15 * 60_000;
  const maxPerStatus = options.maxPerStatus ?? 1_000;
  const pageSize = options.pageSize ?? 100;
  const cutoff = new Date(now - staleAfterMs).toISOString();
  const result: ReconcileResult = { examined: 0, requeued: [] };

  for (const status of OPEN_STATUSES) {
    let cursor: string | undefined;
    let seen = 0;
    do {
      // A leak first seen after the cutoff cannot have been idle that long: the index bounds the scan.
      const page = await deps.store.listLeaks({ status, until: cutoff, limit: pageSize, cursor });
      seen += page.items.length;
      const stuck = page.items.filter((leak) => isStuck(leak, now, cutoff));
      if (stuck.length > 0) {
        const messages: RemediationMessage[] = stuck.map((leak) => ({
          leakId: leak.id,
          sealedToken: leak.sealedToken ?? "",
        }));
        // Sent first, recorded after: the timeline never claims a send that did not happen.
        await deps.queue.send(messages);
        for (const leak of stuck) await markRequeued(deps.store, leak, now);
        result.requeued.push(...stuck.map((leak) => leak.id));
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor && seen < maxPerStatus);
    result.examined += seen;
    if (cursor)
      deps.log.warn("reconcile stopped early; the next sweep continues", { status, examined: seen });
  }
  if (result.requeued.length > 0) {
    deps.log.warn("re-queued stuck leaks", { count: result.requeued.length, leakIds: result.requeued });
  }
  return result;
}

function isStuck(leak: Leak, now: number, cutoff: string): boolean {
  return awaitsWorker(leak, now) && lastActivity(leak) <= cutoff;
}

/**
 * Records the re-queue on the leak's timeline, conditionally: if a worker moved the leak meanwhile,
 * its own events say so and this one is dropped. The event also restarts the idle clock, so a leak
 * the worker cannot finish is re-sent once per `staleAfterMs`, not on every sweep.
 */
async function markRequeued(store: LeakStore, leak: Leak, now: number): Promise<void> {
  const at = new Date(now).toISOString();
  try {
    await store.updateLeak(leak, {}, [
      {
        at,
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
