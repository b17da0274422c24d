import { describeError, type Log } from "../log.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import { mapSettledWithConcurrency, mapWithConcurrency } from "../util/concurrency.js";
import { repoPageFrom } from "./alert-locations.js";
import type { AlertReceipt, AlertRecord } from "./alert-record.js";
import type { AlertStore } from "./alert-store.js";
import type { Installation, OpenAlertRef, SecretScanningAlerts } from "./github-app-client.js";
import { listInstallationAlerts } from "./list-installation-alerts.js";
import { requeueOwedAlerts } from "./requeue-owed-alerts.js";
import { updateAlertWhile } from "./update-alert-while.js";

// The sweep's GitHub App job. GitHub does not redeliver a webhook that failed, and some never arrive,
// so each run:
//   1. sends the alerts whose fetch has been owed too long back to the worker (requeue-owed-alerts.ts);
//   2. lists each installation's open alerts (list-installation-alerts.ts), only those GitHub changed
//      since the installation's mark (less an overlap for clock skew; everything the first time or
//      after an installation webhook cleared it), records each alert it does not know, and queues
//      their fetch. The mark moves to when the listing started, and only once that installation's
//      listing and recording are complete: what is missed now is listed again next run.
// One installation's failure (an outage, a rate limit, a refused permission) is reported, and the
// others go on. A run is bounded (installations, alerts recorded, time) so it fits the Lambda; the
// installations listed longest ago go first, so capped runs take turns.

export interface ReconcileAlertsDeps {
  alerts: AlertStore;
  app: { alerts: SecretScanningAlerts };
  queue: RemediationQueue;
  log: Log;
  now?: () => number;
}

export interface ReconcileAlertsOptions {
  /** How long an owed fetch may sit untouched before it is sent again. Default 15 minutes (as leaks'). */
  staleAfterMs?: number;
  /** Owed alerts examined per run. Default 1,000. */
  maxRequeuedPerRun?: number;
  /** New alerts recorded per run; an installation cut short keeps its mark. Default 500. */
  maxRecordedPerRun?: number;
  /** Installations listed per run. Default 100. */
  maxInstallations?: number;
  /** Listed again before the mark, for the skew between GitHub's clock and ours. Default 5 minutes. */
  overlapMs?: number;
  /** No installation or repository listing starts after this long. Default 40 s (the Lambda has 60). */
  budgetMs?: number;
}

export interface ReconcileAlertsResult {
  /** Installations whose alerts were listed this run. */
  installations: number;
  /** Open alerts GitHub listed. */
  listed: number;
  /** Alerts recorded for the first time (their fetch queued). */
  recorded: number;
  /** Known alerts stopped by their installation or repository, listed open again: owed again. */
  resumed: number;
  /** Owed fetches sent to the worker again. */
  requeued: number;
  /** What went wrong, by installation or alert (never a token). */
  failed: { subject: string; reason: string }[];
}

const DEFAULTS = {
  staleAfterMs: 15 * 60_000,
  maxRequeuedPerRun: 1_000,
  maxRecordedPerRun: 500,
  maxInstallations: 100,
  overlapMs: 5 * 60_000,
  budgetMs: 40_000,
};
/** Installations listed at once (each lists its repositories a few at a time). */
const INSTALLATION_CONCURRENCY = 4;
/** Store calls at once. */
const STORE_CONCURRENCY = 8;

interface Run {
  deps: ReconcileAlertsDeps;
  options: typeof DEFAULTS;
  now: () => number;
  deadline: number;
  result: ReconcileAlertsResult;
  /** Recording writes under way (across installations), and those waiting for one to end. */
  writes: { underWay: number; waiting: (() => void)[] };
}

export async function reconcileAlerts(
  deps: ReconcileAlertsDeps,
  options: ReconcileAlertsOptions = {},
): Promise<ReconcileAlertsResult> {
  const resolved = { ...DEFAULTS, ...definedOnly(options) };
  const now = deps.now ?? Date.now;
  const result: ReconcileAlertsResult = {
    installations: 0,
    listed: 0,
    recorded: 0,
    resumed: 0,
    requeued: 0,
    failed: [],
  };
  const run: Run = {
    deps,
    options: resolved,
    now,
    deadline: now() + resolved.budgetMs,
    result,
    writes: { underWay: 0, waiting: [] },
  };

  // Stuck ones first: an alert recorded below is not stale yet, and is queued there.
  try {
    const owed = await requeueOwedAlerts(deps, {
      now: now(),
      staleAfterMs: resolved.staleAfterMs,
      maxPerRun: resolved.maxRequeuedPerRun,
      pageSize: Math.min(100, resolved.maxRequeuedPerRun),
    });
    result.requeued = owed.requeued.length;
    for (const f of owed.failed) result.failed.push({ subject: `alert ${f.alertId}`, reason: f.reason });
    if (owed.requeued.length > 0) deps.log.warn("re-queued stuck GitHub alerts", { alertIds: owed.requeued });
  } catch (error) {
    result.failed.push({ subject: "owed alerts", reason: describeError(error) });
  }

  try {
    await sweepInstallations(run);
  } catch (error) {
    result.failed.push({ subject: "installations", reason: describeError(error) });
  }

  const { failed, ...counts } = result;
  if (failed.length > 0) deps.log.error("GitHub alerts reconcile had failures", { ...counts, failed });
  else deps.log.info("GitHub alerts reconciled", counts);
  return result;
}

async function sweepInstallations(run: Run): Promise<void> {
  const { deps, options } = run;
  const all = await deps.app.alerts.listInstallations();
  // A suspended installation gets no token: nothing can be listed until it is unsuspended.
  const active = all.filter((i) => !i.suspended);
  const marked = await mapWithConcurrency(active, STORE_CONCURRENCY, async (installation) => ({
    installation,
    mark: await deps.alerts.getSweepMark(installation.id),
  }));
  // Never listed (or cleared) first, then the longest ago: runs capped below the count take turns.
  marked.sort((a, b) => (a.mark ?? "").localeCompare(b.mark ?? ""));
  const chosen = marked.slice(0, options.maxInstallations);
  let deferred = marked.length - chosen.length;
  await mapWithConcurrency(chosen, INSTALLATION_CONCURRENCY, async ({ installation, mark }) => {
    if (run.now() >= run.deadline || run.result.recorded >= options.maxRecordedPerRun) {
      deferred++;
      return;
    }
    run.result.installations++;
    try {
      await sweepInstallation(run, installation, mark);
    } catch (error) {
      run.result.failed.push({ subject: subjectOf(installation), reason: describeError(error) });
    }
  });
  if (deferred > 0) deps.log.warn("GitHub installations left for the next sweep", { deferred });
}

async function sweepInstallation(run: Run, installation: Installation, mark: string | undefined) {
  const { deps, options } = run;
  const started = run.now();
  const updatedSince = mark === undefined ? undefined : new Date(Date.parse(mark) - options.overlapMs);
  const listing = await listInstallationAlerts(deps.app.alerts, installation, {
    updatedSince,
    deadline: run.deadline,
    now: run.now,
  });
  run.result.listed += listing.alerts.length;
  if (listing.failures.length > 0) {
    const more = listing.failures.length > 1 ? ` (and ${listing.failures.length - 1} more)` : "";
    run.result.failed.push({ subject: subjectOf(installation), reason: `${listing.failures[0]}${more}` });
  }

  const ingested = await ingest(run, listing.alerts);
  if (ingested.failures.length > 0) {
    const more = ingested.failures.length > 1 ? ` (and ${ingested.failures.length - 1} more)` : "";
    run.result.failed.push({
      subject: subjectOf(installation),
      reason: `recording alerts: ${describeError(ingested.failures[0])}${more}`,
    });
  }
  if (ingested.queue.length > 0) {
    try {
      await deps.queue.send(ingested.queue.map((alertId) => ({ alertId })));
    } catch (error) {
      // Recorded and owed all the same: the first part of a later run sends them.
      run.result.failed.push({
        subject: subjectOf(installation),
        reason: `${ingested.queue.length} alerts recorded but not queued: ${describeError(error)}`,
      });
    }
  }
  if (listing.complete && ingested.complete) {
    await deps.alerts.setSweepMark(installation.id, new Date(started).toISOString());
  }
}

/** Records the alerts not known yet and resumes stopped ones, within the run's cap: ids to queue. */
async function ingest(
  run: Run,
  listed: readonly OpenAlertRef[],
): Promise<{ queue: string[]; complete: boolean; failures: unknown[] }> {
  const { deps, options, result } = run;
  const queue: string[] = [];
  let complete = true;
  // A write under way holds a place under the cap until it is known to be new; a known alert's place
  // goes to the next one, so known alerts never crowd new ones out, and the cap is never passed.
  const { writes } = run;
  const outcomes = await mapSettledWithConcurrency(listed, STORE_CONCURRENCY, async (ref) => {
    while (result.recorded + writes.underWay >= options.maxRecordedPerRun) {
      if (writes.underWay === 0) {
        complete = false;
        return;
      }
      await new Promise<void>((resolve) => writes.waiting.push(resolve));
    }
    writes.underWay++;
    try {
      const { alert, duplicate } = await deps.alerts.recordAlert(receiptOf(ref), { at: run.now() });
      if (!duplicate) {
        result.recorded++;
        queue.push(alert.id);
      } else if (await resume(deps.alerts, alert, run.now())) {
        result.resumed++;
        queue.push(alert.id);
      }
    } finally {
      writes.underWay--;
      for (const wake of writes.waiting.splice(0)) wake();
    }
  });
  const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
  return { queue, complete: complete && failures.length === 0, failures };
}

/** A known alert the installation stopped, which GitHub lists open again: its fetch is owed again. */
async function resume(alerts: AlertStore, alert: AlertRecord, at: number): Promise<boolean> {
  return updateAlertWhile(
    alerts,
    alert,
    (current) => !current.fetchOwed && current.stoppedBy !== undefined,
    () => ({
      fetchOwed: true,
      attempts: 0,
      stoppedBy: undefined,
      lastError: undefined,
      notBefore: undefined,
      lastActivity: new Date(at).toISOString(),
    }),
  );
}

function receiptOf(ref: OpenAlertRef): AlertReceipt {
  return {
    installationId: ref.installationId,
    owner: ref.owner,
    repo: ref.repo,
    number: ref.number,
    secretType: ref.secretType,
    htmlUrl: ref.htmlUrl,
    repoHtmlUrl: repoPageFrom(ref.htmlUrl, `${ref.owner}/${ref.repo}`),
  };
}

const subjectOf = (installation: Installation) =>
  `installation ${installation.id} (${installation.account.login})`;

/** `{ ...defaults, ...options }` without an explicit undefined erasing a default. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
