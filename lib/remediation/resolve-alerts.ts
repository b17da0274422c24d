import { ConflictError } from "../errors.js";
import type { AlertLink } from "../github/alert-record.js";
import { describeAlert } from "../github/alert-record.js";
import { describeError } from "../log.js";
import type { Leak, TimelineEvent } from "../store/leak.js";
import { type AlertResolutionOwed, alertResolutionOwed, unresolvedAlerts } from "../store/leak-lifecycle.js";
import type { LeakChanges } from "../store/leak-store.js";
import { isTransient } from "../util/retry.js";
import { alertComment } from "./alert-comment.js";
import { ACTOR, isoNow, type Run, takeLease, withRetries } from "./worker-run.js";

// Closing the loop in GitHub: once a leak is settled the right way (alertResolutionOwed in
// leak-lifecycle.ts), each GitHub App alert that reported its token is resolved, with a comment saying
// what Tourniquet did and naming the leak. Under the leak's lease, one alert at a time, each outcome
// written as soon as it is known: a redelivery never PATCHes an alert already recorded resolved (and
// GitHub's answer to a repeat counts as done anyway). A transient failure goes back to the worker's
// retry (remediate-leak.ts recordFailure, which leaves the alerts open once the retries run out); one
// alert GitHub refuses for good is left open alone, and the others are still resolved.

const STEP = "resolve_alerts";
/** Writes of one alert's outcome lost to other writers (an alert linked meanwhile) before giving up. */
const WRITE_RACES = 5;

export async function resolveAlerts(deps: Run, leak: Leak): Promise<void> {
  const resolution = alertResolutionOwed(leak);
  if (!resolution) return; // owedStep names the step only for a leak that has one
  let current = await takeLease(deps, leak, STEP);
  const app = deps.githubApp;
  if (!app) {
    // Not a failure of the leak: this deployment has no App to speak to GitHub with.
    const at = isoNow(deps);
    const links = unresolvedAlerts(current);
    await deps.store.updateLeak(
      current,
      {
        alerts: leaveAlertsOpen(current.alerts, {
          outcome: "skipped",
          reason: "no GitHub App configured",
          at,
        }),
        lease: undefined,
      },
      [
        {
          at,
          step: STEP,
          outcome: "skipped",
          actor: ACTOR,
          detail: `no GitHub App is configured (github_app): ${links.map(describeAlert).join(", ")} left open in GitHub`,
          data: { alerts: links.map(alertData) },
        },
      ],
    );
    return;
  }
  const comment = alertComment(current, resolution);
  const links = unresolvedAlerts(current);
  for (const [index, link] of links.entries()) {
    const last = index === links.length - 1;
    let alreadyResolved: boolean;
    try {
      const answer = await withRetries(deps, (signal) =>
        app.alerts.resolveAlert(link, { resolution, comment, signal }),
      );
      alreadyResolved = answer.alreadyResolved;
    } catch (error) {
      if (isTransient(error)) throw error;
      // GitHub refuses this alert for good (gone, no write access): no retry helps; the rest go on.
      current = await leaveOpen(deps, current, link, last, resolution, describeError(error));
      continue;
    }
    const at = isoNow(deps);
    current = await recordOutcome(
      deps,
      current,
      link,
      last,
      { resolved: { resolution, at } },
      {
        at,
        step: "resolve_alert",
        outcome: "ok",
        actor: ACTOR,
        detail: alreadyResolved
          ? `GitHub alert ${describeAlert(link)} was already resolved as ${resolution}`
          : `resolved GitHub alert ${describeAlert(link)} as ${resolution}`,
        data: { ...alertData(link), resolution, already_resolved: alreadyResolved },
      },
    );
  }
  // No link left to write (resolved meanwhile): the lease still goes.
  if (links.length === 0) await deps.store.updateLeak(current, { lease: undefined }, []);
}

/** One alert GitHub will not resolve: recorded left open, with why, for a person to see. */
async function leaveOpen(
  deps: Run,
  leak: Leak,
  link: AlertLink,
  last: boolean,
  resolution: AlertResolutionOwed,
  reason: string,
): Promise<Leak> {
  const at = isoNow(deps);
  deps.log.error("GitHub alert not resolved; left open", {
    leakId: leak.id,
    alert: describeAlert(link),
    reason,
  });
  return recordOutcome(
    deps,
    leak,
    link,
    last,
    { leftOpen: { outcome: "failed", reason, at } },
    {
      at,
      step: "resolve_alert",
      outcome: "failed",
      actor: ACTOR,
      detail: `GitHub alert ${describeAlert(link)} not resolved, left open: ${reason}`,
      data: { ...alertData(link), resolution, already_resolved: false },
    },
  );
}

/**
 * The links with every unresolved one left open: the alerts stay for a person in GitHub, and the leak
 * no longer owes them (a link already resolved or left open keeps what it says).
 */
export function leaveAlertsOpen(
  links: AlertLink[] | undefined,
  leftOpen: NonNullable<AlertLink["leftOpen"]>,
): AlertLink[] | undefined {
  return links?.map((link) => (link.resolved || link.leftOpen ? link : { ...link, leftOpen }));
}

/**
 * Writes one alert's outcome and its event at once. Another writer may have moved the leak meanwhile
 * (intake linking another alert): the outcome is applied again to the leak as it now is. The last
 * alert's write releases this delivery's lease.
 */
async function recordOutcome(
  deps: Run,
  leak: Leak,
  link: AlertLink,
  last: boolean,
  outcome: Pick<AlertLink, "resolved" | "leftOpen">,
  event: TimelineEvent,
): Promise<Leak> {
  let current = leak;
  for (let race = 0; ; race++) {
    const changes: LeakChanges = {
      alerts: current.alerts?.map((l) => (l.alertId === link.alertId ? { ...l, ...outcome } : l)),
    };
    if (last && current.lease?.holder === deps.holder) changes.lease = undefined;
    try {
      return await deps.store.updateLeak(current, changes, [event]);
    } catch (error) {
      if (!(error instanceof ConflictError) || race >= WRITE_RACES) throw error;
      const fresh = await deps.store.getLeak(leak.id);
      if (!fresh) throw error;
      current = fresh;
    }
  }
}

const alertData = (link: AlertLink) => ({ repository: `${link.owner}/${link.repo}`, number: link.number });
