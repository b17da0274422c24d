import { ConflictError, GithubApiError, NotConfiguredError } from "../errors.js";
import { locationUrl } from "../github/alert-locations.js";
import type { AlertLink, AlertRecord } from "../github/alert-record.js";
import { describeAlert } from "../github/alert-record.js";
import type { AlertStore } from "../github/alert-store.js";
import { updateAlertWhile } from "../github/update-alert-while.js";
import { describeError } from "../log.js";
import type { AlertFetchMessage, Delivery } from "../queue/remediation-queue.js";
import type { WorkerDeps } from "../remediation/worker-run.js";
import { withRetries } from "../remediation/worker-run.js";
import { TOKEN_TYPE_MAX_BYTES } from "../store/field-limits.js";
import type { Leak } from "../store/leak.js";
import { owedStep } from "../store/leak-lifecycle.js";
import { isTransient } from "../util/retry.js";
import { utf8Bytes } from "../util/utf8.js";
import { groupReportedTokens, recordReportedTokens } from "./record-reported-tokens.js";

// The worker's half of a GitHub App alert: the webhook (or the sweep) recorded the alert and queued
// this; here the secret and its locations are fetched with the installation token and go through the
// same intake as a partner report (sealed at once, one leak per fingerprint, a sighting per place).
//
// GitHub outages and rate limits: each attempt retries briefly (the config's step retries, Octokit's
// own); a failure records the attempt on the alert, with GitHub's reset time when it named one, and the
// message comes again (the queue's backoff). No call is made for the alert before that reset. Once the
// queue gives up, the alert still owes its fetch, and the sweep sends it again: nothing is lost.

const MAX_SECRET_LENGTH = 4_096;
/** Conflicting writes to a leak's alert links before giving up (the next delivery links it). */
const LINK_RACES = 5;

export async function fetchReportedAlert(
  deps: WorkerDeps,
  delivery: Delivery<AlertFetchMessage>,
): Promise<void> {
  const { githubApp: app, alerts } = deps;
  if (!app || !alerts) {
    throw new NotConfiguredError(
      "a GitHub App alert was queued but this worker has no github_app configured",
    );
  }
  const record = await alerts.getAlert(delivery.message.alertId);
  if (!record) {
    deps.log.warn("queued GitHub alert is not recorded; nothing to fetch", {
      alertId: delivery.message.alertId,
    });
    return;
  }
  if (!record.fetchOwed) return; // fetched by an earlier or concurrent delivery

  const now = deps.now ?? Date.now;
  // GitHub's rate limit is the installation's: no call for any of its alerts before the reset.
  const notBefore = Math.max(record.notBefore ?? 0, installationBlockedUntil.get(record.installationId) ?? 0);
  if (notBefore > now()) {
    const seconds = Math.ceil((notBefore - now()) / 1_000);
    throw new GithubApiError(
      `GitHub API alert ${describeAlert(record)}: rate limited; not called again for ${seconds} s`,
      { transient: true, retryAfterSeconds: seconds },
    );
  }

  let found: Awaited<ReturnType<typeof fetchAlert>>;
  try {
    found = await fetchAlert(deps, app, record);
  } catch (error) {
    if (!isTransient(error)) {
      // GitHub refused for good (the alert is gone, the App lost access): retrying cannot help.
      await giveUp(alerts, record, error, now());
      deps.log.error("GitHub alert cannot be fetched; given up", {
        alertId: record.id,
        alert: describeAlert(record),
        error: describeError(error),
      });
      return;
    }
    await recordAttempt(alerts, record, error, now()).catch((e: unknown) => {
      if (!(e instanceof ConflictError)) throw e;
    });
    deps.log.warn("GitHub alert not fetched; it will be tried again", {
      alertId: record.id,
      alert: describeAlert(record),
      attempt: record.attempts + 1,
      receiveCount: delivery.receiveCount,
      error: describeError(error),
    });
    throw error;
  }

  const tokens = groupReportedTokens(
    found.sightings.map((s) => ({ token: found.secret, type: found.type, ...s })),
  );
  const recorded = await recordReportedTokens({ ...deps, metrics: undefined }, tokens, {
    receivedAt: record.receivedAtMs,
    // Verified here while there is time (one queue hop less before the revocation); else by the worker.
    verifyDeadline: Math.min(
      now() + deps.config.intake.inline_verify_budget_ms,
      deps.deadline?.() ?? Infinity,
    ),
    reporter: `GitHub App alert ${describeAlert(record)}`,
    source: "app_alert",
  });
  for (const { leak } of recorded) await linkAlert(deps, leak.id, record);
  await settleFetch(alerts, record, recorded[0]?.leak.id, now());
  deps.log.info("GitHub alert fetched and recorded", {
    alertId: record.id,
    alert: describeAlert(record),
    leaks: recorded.map((r) => ({ leakId: r.leak.id, status: r.leak.status })),
    sightings: found.sightings.length,
  });
}

/**
 * The alert (with its secret), then its locations, each call retried as any worker step (a short
 * Retry-After is waited out there). One after the other, so a rate limit stops the second call.
 */
async function fetchAlert(deps: WorkerDeps, app: NonNullable<WorkerDeps["githubApp"]>, record: AlertRecord) {
  const alert = await withRetries(deps, (signal) => app.alerts.getAlert(record, { signal }));
  const locations = await withRetries(deps, (signal) => app.alerts.listAlertLocations(record, { signal }));
  if (alert.secret.length > MAX_SECRET_LENGTH)
    throw new GithubApiError(
      `GitHub API alert ${describeAlert(record)}: the secret is longer than ${MAX_SECRET_LENGTH} characters; not recorded`,
      { transient: false },
    );
  const type = alert.secretType || record.secretType;
  if (utf8Bytes(type) > TOKEN_TYPE_MAX_BYTES)
    throw new GithubApiError(
      `GitHub API alert ${describeAlert(record)}: the secret type is longer than ${TOKEN_TYPE_MAX_BYTES} bytes; not recorded`,
      { transient: false },
    );
  const alertPage =
    alert.htmlUrl ?? record.htmlUrl ?? `${record.repoHtmlUrl}/security/secret-scanning/${record.number}`;
  const source = `github_app:${record.owner}/${record.repo}`.toLowerCase();
  const urls = new Set(locations.map((l) => locationUrl(l, record.repoHtmlUrl, alertPage)));
  if (urls.size === 0) urls.add(alertPage);
  return { secret: alert.secret, type, sightings: [...urls].map((url) => ({ url, source })) };
}

/** Per installation, in this process: GitHub's rate-limit reset (epoch ms) after a limit was met. */
const installationBlockedUntil = new Map<number, number>();

/** A failed fetch: counted, why, and GitHub's reset when it named one (no call before it). */
async function recordAttempt(alerts: AlertStore, record: AlertRecord, error: unknown, at: number) {
  const retryAfterSeconds = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retryAfterSeconds) {
    const until = at + retryAfterSeconds * 1_000;
    installationBlockedUntil.set(
      record.installationId,
      Math.max(until, installationBlockedUntil.get(record.installationId) ?? 0),
    );
  }
  await alerts.updateAlert(record, {
    attempts: record.attempts + 1,
    lastError: describeError(error),
    notBefore: retryAfterSeconds ? at + retryAfterSeconds * 1_000 : undefined,
    lastActivity: new Date(at).toISOString(),
  });
}

/** An alert that can never be fetched: no longer owed, with why, for an operator. */
async function giveUp(alerts: AlertStore, record: AlertRecord, error: unknown, at: number) {
  await alerts
    .updateAlert(record, {
      fetchOwed: false,
      attempts: record.attempts + 1,
      lastError: `given up: ${describeError(error)}`,
      lastActivity: new Date(at).toISOString(),
    })
    .catch((e: unknown) => {
      if (!(e instanceof ConflictError)) throw e; // moved on meanwhile: its own outcome stands
    });
}

/** The fetch done; a concurrent delivery that settled it first is as good. */
async function settleFetch(alerts: AlertStore, record: AlertRecord, leakId: string | undefined, at: number) {
  await updateAlertWhile(
    alerts,
    record,
    (current) => current.fetchOwed,
    (current) => ({
      fetchOwed: false,
      fetchedAt: new Date(at).toISOString(),
      leakId: leakId ?? current.leakId,
      attempts: 0,
      lastError: undefined,
      notBefore: undefined,
      lastActivity: new Date(at).toISOString(),
    }),
  );
}

/**
 * The leak learns the alert that reported it, so it resolves the alert once settled. A leak settled
 * already (revoked before this alert came) now owes that resolution: it goes back to the worker.
 */
async function linkAlert(deps: WorkerDeps, leakId: string, record: AlertRecord): Promise<void> {
  for (let race = 0; race < LINK_RACES; race++) {
    const leak = await deps.store.getLeak(leakId);
    if (!leak || leak.alerts?.some((link) => link.alertId === record.id)) return;
    const link: AlertLink = {
      alertId: record.id,
      installationId: record.installationId,
      owner: record.owner,
      repo: record.repo,
      number: record.number,
    };
    let linked: Leak;
    try {
      linked = await deps.store.updateLeak(leak, { alerts: [...(leak.alerts ?? []), link] }, []);
    } catch (error) {
      if (error instanceof ConflictError) continue;
      throw error;
    }
    if (owedStep(linked) !== undefined && !linked.lease) {
      await deps.queue.send([{ leakId: linked.id, sealedToken: linked.sealedToken ?? "" }]);
    }
    return;
  }
  throw new ConflictError(`leak ${leakId} kept changing while alert ${record.id} was linked to it`);
}
