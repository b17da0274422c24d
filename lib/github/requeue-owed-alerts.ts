import type { Log } from "../log.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import { type OwedKind, type RequeueOwedOptions, requeueOwed } from "../schedule/requeue-owed.js";
import type { AlertRecord } from "./alert-record.js";
import type { AlertStore } from "./alert-store.js";

// The App path's safety net, as reconcile-leaks.ts is the leaks' (schedule/requeue-owed.ts): an alert
// whose fetch is still owed and on which nothing happened for a while is sent to the worker again,
// unless GitHub's rate limit for it (`notBefore`) is still ahead.

export interface RequeueOwedDeps {
  alerts: AlertStore;
  queue: RemediationQueue;
  log: Log;
}

export interface RequeueOwedAlertsResult {
  examined: number;
  requeued: string[];
  failed: { alertId: string; reason: string }[];
}

export async function requeueOwedAlerts(
  deps: RequeueOwedDeps,
  options: RequeueOwedOptions,
): Promise<RequeueOwedAlertsResult> {
  const kind: OwedKind<AlertRecord> = {
    name: "alert",
    list: (query) => deps.alerts.listOwedAlerts(query),
    isStuck: (alert, cutoff, now) =>
      alert.fetchOwed &&
      alert.lastActivity <= cutoff &&
      !(alert.notBefore !== undefined && alert.notBefore > now),
    message: (alert) => ({ alertId: alert.id }),
    touch: (alert, lastActivity) => deps.alerts.updateAlert(alert, { lastActivity }),
  };
  const result = await requeueOwed(deps, kind, options);
  return { ...result, failed: result.failed.map(({ id, reason }) => ({ alertId: id, reason })) };
}
