import { TourniquetError } from "../errors.js";
import type { AlertStore } from "../github/alert-store.js";
import type { GithubApp } from "../github/github-app.js";
import type { PartnerKeySetDocument } from "../github/partner-key-set.js";
import {
  type ReconcileAlertsOptions,
  type ReconcileAlertsResult,
  reconcileAlerts,
} from "../github/reconcile-alerts.js";
import type { SavedPartnerKeysStore } from "../github/saved-partner-keys.js";
import type { ReportPartStore } from "../intake/report-part-store.js";
import { requeueOwedParts } from "../intake/requeue-owed-parts.js";
import type { Issuer } from "../issuers/issuer.js";
import { describeError, type Log } from "../log.js";
import {
  DEFAULT_STALE_AFTER_MS,
  type ReconcileDeps,
  type ReconcileOptions,
  reconcileLeaks,
} from "../remediation/reconcile-leaks.js";
import { recordUsageAfterRevoke } from "./usage-after-revoke.js";

// The scheduled sweep (EventBridge, every few minutes; locally a timer): the periodic work nothing
// else triggers. Every job runs every time, and a failure of one does not skip the others.
//   - partner keys: fetch GitHub's key set and save it, so a cold intake survives a key-endpoint outage;
//   - reconcile: send leaks whose queue message was lost back to the worker (reconcile-leaks.ts);
//   - report parts: re-send a mass report's parts whose message was lost (intake/requeue-owed-parts.ts);
//   - GitHub App alerts (where the App is configured): re-send owed alert fetches, and ingest the open
//     alerts no webhook brought (github/reconcile-alerts.ts);
//   - issuers (where given): refresh their caches (Azure's key fingerprints) and record, an hour after
//     each revocation, how the key's account was used since (usage-after-revoke.ts).

export interface SweepDeps extends ReconcileDeps {
  /** GitHub's partner key set, fetched and checked; none where no key endpoint is configured. */
  fetchPartnerKeys?: (() => Promise<PartnerKeySetDocument>) | undefined;
  savedPartnerKeys?: SavedPartnerKeysStore | undefined;
  /** The configured issuers; without them the issuer job is skipped. */
  issuers?: { forType(tokenType: string): Issuer | undefined; all(): Issuer[] } | undefined;
  /** The GitHub App and its alert records; without both the App job is skipped. */
  githubApp?: Pick<GithubApp, "alerts"> | undefined;
  alerts?: AlertStore | undefined;
  /** Mass reports' parts; without them the parts job is skipped. */
  parts?: ReportPartStore | undefined;
  log: Log;
}

export interface SweepOptions extends ReconcileOptions {
  /** The App job's bounds; its `staleAfterMs` is the leaks' unless given here. */
  githubAlerts?: ReconcileAlertsOptions | undefined;
}

export interface SweepResult {
  partnerKeys: { saved: boolean; keys?: number; fetchedAt?: string };
  reconcile: { examined: number; requeued: number; failed: number };
  issuers?: { refreshed: number; usageRecorded: number; usageFailed: number };
  githubAlerts?: Omit<ReconcileAlertsResult, "failed"> & { failed: number };
  reportParts?: { examined: number; requeued: number; failed: number };
}

export async function runSweep(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepResult> {
  const now = deps.now ?? Date.now;
  const [keys, reconcile, issuers, githubAlerts, parts] = await Promise.allSettled([
    refreshSavedKeys(deps, now),
    reconcileLeaks({ ...deps, now }, options),
    issuerJobs(deps, now),
    githubAlertsJob(deps, now, options),
    reportPartsJob(deps, now, options),
  ]);
  const failures = [
    ...(keys.status === "rejected" ? [`partner keys: ${describeError(keys.reason)}`] : []),
    ...(issuers.status === "rejected" ? [`issuers: ${describeError(issuers.reason)}`] : []),
    ...(issuers.status === "fulfilled" ? issuers.value.failures : []),
    ...(reconcile.status === "rejected" ? [`reconcile: ${describeError(reconcile.reason)}`] : []),
    ...(reconcile.status === "fulfilled" && reconcile.value.failed.length > 0
      ? [
          `reconcile: ${reconcile.value.failed.length} stuck leaks could not be re-queued (${reconcile.value.failed[0]?.reason})`,
        ]
      : []),
    ...(githubAlerts.status === "rejected" ? [`github alerts: ${describeError(githubAlerts.reason)}`] : []),
    ...(githubAlerts.status === "fulfilled" && githubAlerts.value?.failed.length
      ? [
          `github alerts: ${githubAlerts.value.failed.length} failures (${githubAlerts.value.failed[0]?.subject}: ${githubAlerts.value.failed[0]?.reason})`,
        ]
      : []),
    ...(parts.status === "rejected" ? [`report parts: ${describeError(parts.reason)}`] : []),
    ...(parts.status === "fulfilled" && parts.value?.failed.length
      ? [
          `report parts: ${parts.value.failed.length} could not be re-queued (${parts.value.failed[0]?.reason})`,
        ]
      : []),
  ];
  if (failures.length > 0) {
    deps.log.error("sweep failed", { failures });
    // Thrown, so the function's error metric (and its alarm) sees it.
    throw new TourniquetError(`sweep failed: ${failures.join("; ")}`);
  }
  const result: SweepResult = {
    partnerKeys: keys.status === "fulfilled" ? keys.value : { saved: false },
    reconcile:
      reconcile.status === "fulfilled"
        ? {
            examined: reconcile.value.examined,
            requeued: reconcile.value.requeued.length,
            failed: reconcile.value.failed.length,
          }
        : { examined: 0, requeued: 0, failed: 0 },
    ...(issuers.status === "fulfilled" && issuers.value.result ? { issuers: issuers.value.result } : {}),
    ...(githubAlerts.status === "fulfilled" && githubAlerts.value
      ? { githubAlerts: { ...githubAlerts.value, failed: githubAlerts.value.failed.length } }
      : {}),
    ...(parts.status === "fulfilled" && parts.value
      ? {
          reportParts: {
            examined: parts.value.examined,
            requeued: parts.value.requeued.length,
            failed: parts.value.failed.length,
          },
        }
      : {}),
  };
  deps.log.info("sweep done", { ...result });
  return result;
}

async function githubAlertsJob(
  deps: SweepDeps,
  now: () => number,
  options: SweepOptions,
): Promise<ReconcileAlertsResult | undefined> {
  if (!deps.githubApp || !deps.alerts) return undefined;
  return reconcileAlerts(
    { alerts: deps.alerts, app: deps.githubApp, queue: deps.queue, log: deps.log, now },
    { staleAfterMs: options.staleAfterMs, ...options.githubAlerts },
  );
}

async function reportPartsJob(deps: SweepDeps, now: () => number, options: SweepOptions) {
  if (!deps.parts) return undefined;
  const owed = await requeueOwedParts(
    { parts: deps.parts, queue: deps.queue, log: deps.log },
    {
      now: now(),
      staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
      maxPerRun: 1_000,
      pageSize: 100,
    },
  );
  if (owed.requeued.length > 0)
    deps.log.warn("re-queued report parts whose message was lost", { partIds: owed.requeued });
  return owed;
}

async function refreshSavedKeys(deps: SweepDeps, now: () => number): Promise<SweepResult["partnerKeys"]> {
  if (!deps.fetchPartnerKeys || !deps.savedPartnerKeys) return { saved: false };
  const document = await deps.fetchPartnerKeys();
  const fetchedAt = new Date(now()).toISOString();
  await deps.savedPartnerKeys.save({ document, fetchedAt });
  return { saved: true, keys: document.public_keys.length, fetchedAt };
}

async function issuerJobs(
  deps: SweepDeps,
  now: () => number,
): Promise<{ result?: SweepResult["issuers"]; failures: string[] }> {
  if (!deps.issuers) return { failures: [] };
  const failures: string[] = [];
  let refreshed = 0;
  for (const issuer of deps.issuers.all()) {
    if (!issuer.refresh) continue;
    try {
      await issuer.refresh();
      refreshed++;
    } catch (error) {
      failures.push(`issuer ${issuer.name} refresh: ${describeError(error)}`);
    }
  }
  const usage = await recordUsageAfterRevoke({ store: deps.store, issuers: deps.issuers, now });
  if (usage.failed.length > 0) {
    failures.push(`usage after revoke: ${usage.failed.length} leaks (${usage.failed[0]?.reason})`);
  }
  return {
    result: { refreshed, usageRecorded: usage.recorded, usageFailed: usage.failed.length },
    failures,
  };
}
