import type { Log } from "../log.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import type { AlertRecord, AlertStop } from "./alert-record.js";
import type { AlertStore } from "./alert-store.js";
import { updateAlertWhile } from "./update-alert-while.js";
import type { InstallationChange } from "./webhook-event.js";

// What an `installation` or `installation_repositories` webhook changes, with no GitHub API call (the
// webhook answers at once; the sweep does the listing):
//   - created, unsuspend, new_permissions_accepted, added: the installation may now show alerts it did
//     not before, so its sweep mark is cleared and the next sweep lists all its open alerts;
//   - deleted, suspend (and removed, for the repositories that left): the fetches still owed there can
//     never succeed, so they are given up, saying why. Should the alert come back into view (unsuspend,
//     the repository added again), the sweep lists it open and owes its fetch again (`stoppedBy`).

export interface InstallationChangeDeps {
  alerts: AlertStore;
  log: Log;
}

export interface InstallationChangeResult {
  /** The sweep mark was cleared. */
  cleared: boolean;
  /** Alerts whose owed fetch was given up. */
  stopped: number;
}

/** Owed alerts read to find the installation's: the owed set is small unless a sweep just filled it. */
const MAX_EXAMINED = 2_000;
const PAGE_SIZE = 100;
/** Conditional writes at once. */
const CONCURRENCY = 8;

export async function applyInstallationChange(
  deps: InstallationChangeDeps,
  change: InstallationChange,
  at: number,
): Promise<InstallationChangeResult> {
  const { action, installationId } = change;
  if (action === "deleted" || action === "suspend" || action === "removed") {
    const stop: AlertStop =
      action === "deleted"
        ? "installation_deleted"
        : action === "suspend"
          ? "installation_suspended"
          : "repository_removed";
    const removed = new Set(change.repositoriesRemoved.map((r) => r.toLowerCase()));
    const stopped = await stopOwedFetches(
      deps,
      (alert) =>
        alert.installationId === installationId &&
        (stop !== "repository_removed" || removed.has(`${alert.owner}/${alert.repo}`.toLowerCase())),
      stop,
      at,
    );
    deps.log.info("github installation change: owed alert fetches given up", {
      installation: installationId,
      action,
      stopped,
    });
    return { cleared: false, stopped };
  }
  await deps.alerts.clearSweepMark(installationId, new Date(at).toISOString());
  deps.log.info("github installation change: its open alerts are listed by the next sweep", {
    installation: installationId,
    action,
  });
  return { cleared: true, stopped: 0 };
}

async function stopOwedFetches(
  deps: InstallationChangeDeps,
  matches: (alert: AlertRecord) => boolean,
  stop: AlertStop,
  at: number,
): Promise<number> {
  const until = new Date(at).toISOString();
  let examined = 0;
  let stopped = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.alerts.listOwedAlerts({ until, limit: PAGE_SIZE, cursor });
    examined += page.items.length;
    const done = await mapWithConcurrency(page.items.filter(matches), CONCURRENCY, (alert) =>
      stopFetch(deps.alerts, alert, stop, at),
    );
    stopped += done.filter(Boolean).length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && examined < MAX_EXAMINED);
  if (cursor) {
    // The rest fail on their own: the worker gives up a fetch GitHub refuses for good.
    deps.log.warn("github installation change: more owed alerts than one request reads", {
      examined,
      stopped,
    });
  }
  return stopped;
}

async function stopFetch(
  alerts: AlertStore,
  alert: AlertRecord,
  stop: AlertStop,
  at: number,
): Promise<boolean> {
  return updateAlertWhile(
    alerts,
    alert,
    (current) => current.fetchOwed,
    (current) => ({
      fetchOwed: false,
      stoppedBy: stop,
      lastError: `given up: ${reason(current, stop)}`,
      notBefore: undefined,
      lastActivity: new Date(at).toISOString(),
    }),
  );
}

function reason(alert: AlertRecord, stop: AlertStop): string {
  switch (stop) {
    case "installation_deleted":
      return `the App was uninstalled (installation ${alert.installationId} deleted)`;
    case "installation_suspended":
      return `installation ${alert.installationId} was suspended`;
    case "repository_removed":
      return `repository ${alert.owner}/${alert.repo} was removed from installation ${alert.installationId}`;
  }
}
