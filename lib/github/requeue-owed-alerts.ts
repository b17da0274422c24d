import { ConflictError } from "../errors.js";
import { describeError, type Log } from "../log.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import type { AlertRecord } from "./alert-record.js";
import type { AlertStore } from "./alert-store.js";

// The App path's safety net, as reconcile-leaks.ts is the leaks': an alert whose fetch is still owed
// and on which nothing happened for a while has lost its message (a send that failed after the alert
// was recorded, a local queue that restarted, a message the queue gave up on during a long outage). It is
// sent to the worker again, unless GitHub's rate limit for it (`notBefore`) is still ahead. The worker
// reads the alert first, so a duplicate message is a no-op.
//
// Sent first, touched after (a conditional write; a conflict means a worker moved the alert, and its own
// write says so): the touch restarts the idle clock, so an alert the worker cannot fetch is re-sent once
// per `staleAfterMs`, not on every sweep, and moves behind those not looked at yet.

export interface RequeueOwedDeps {
  alerts: AlertStore;
  queue: RemediationQueue;
  log: Log;
}

export interface RequeueOwedOptions {
  now: number;
  staleAfterMs: number;
  /** Owed alerts examined in one run. */
  maxPerRun: number;
  pageSize: number;
}

export interface RequeueOwedResult {
  examined: number;
  requeued: string[];
  failed: { alertId: string; reason: string }[];
}

export async function requeueOwedAlerts(
  deps: RequeueOwedDeps,
  options: RequeueOwedOptions,
): Promise<RequeueOwedResult> {
  const { now } = options;
  const cutoff = new Date(now - options.staleAfterMs).toISOString();
  const result: RequeueOwedResult = { examined: 0, requeued: [], failed: [] };
  let cursor: string | undefined;
  do {
    const page = await deps.alerts.listOwedAlerts({
      until: cutoff,
      limit: Math.min(options.pageSize, options.maxPerRun - result.examined),
      cursor,
    });
    result.examined += page.items.length;
    // The index is eventually consistent: the alert itself says whether it is still stuck.
    const stuck = page.items.filter((a) => isStuck(a, cutoff, now));
    const sent = stuck.length > 0 && (await send(deps, stuck, result));
    for (const alert of sent ? stuck : []) {
      await touch(deps, alert, now);
      result.requeued.push(alert.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && result.examined < options.maxPerRun);
  return result;
}

const isStuck = (alert: AlertRecord, cutoff: string, now: number) =>
  alert.fetchOwed &&
  alert.lastActivity <= cutoff &&
  !(alert.notBefore !== undefined && alert.notBefore > now);

/** One send for the page's stuck alerts; false (each one failed, left untouched for the next run) when it fails. */
async function send(
  deps: RequeueOwedDeps,
  stuck: AlertRecord[],
  result: RequeueOwedResult,
): Promise<boolean> {
  try {
    await deps.queue.send(stuck.map((a) => ({ alertId: a.id })));
    return true;
  } catch (error) {
    for (const alert of stuck) result.failed.push({ alertId: alert.id, reason: describeError(error) });
    return false;
  }
}

async function touch(deps: RequeueOwedDeps, alert: AlertRecord, now: number): Promise<void> {
  try {
    await deps.alerts.updateAlert(alert, { lastActivity: new Date(now).toISOString() });
  } catch (error) {
    if (error instanceof ConflictError) return;
    // Sent all the same: the next run may send it once more, which the worker shrugs off.
    deps.log.warn("re-queued alert not touched", { alertId: alert.id, error: describeError(error) });
  }
}
