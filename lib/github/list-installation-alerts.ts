import { GithubAlertsUnavailableError, GithubApiError } from "../errors.js";
import { describeError } from "../log.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import type { Installation, OpenAlertRef, SecretScanningAlerts } from "./github-app-client.js";

// The open secret scanning alerts of one installation, as the sweep lists them: an organisation at
// once where the App may list there, else (GitHub refuses the organisation listing, or the account is a
// user) one repository at a time. The listing is complete only when every place was listed: only then
// may the sweep move the installation's mark. A repository GitHub will not list (secret scanning off)
// holds no alert to find, so it does not make the listing incomplete; an outage does. A rate limit stops
// the installation for this run: its token would be refused for every other repository too.

export interface InstallationListing {
  alerts: OpenAlertRef[];
  complete: boolean;
  /** The calls that failed (never a token); none when only the deadline cut the listing short. */
  failures: string[];
  /** GitHub asked to wait: nothing more is asked as this installation this run. */
  rateLimited: boolean;
}

export interface ListInstallationOptions {
  updatedSince?: Date | undefined;
  /** No repository listing starts after this (epoch ms); those left make the listing incomplete. */
  deadline?: number | undefined;
  now?: () => number;
  /** Repositories listed at once. */
  concurrency?: number;
}

/** GitHub asked to wait (a rate limit, primary or secondary, or a Retry-After). */
const isRateLimit = (error: unknown): boolean =>
  error instanceof GithubApiError && error.transient && error.retryAfterSeconds !== undefined;

export async function listInstallationAlerts(
  app: SecretScanningAlerts,
  installation: Installation,
  options: ListInstallationOptions = {},
): Promise<InstallationListing> {
  const { updatedSince } = options;
  if (installation.account.type === "Organization") {
    try {
      const alerts = await app.listOpenAlerts(
        { installationId: installation.id, org: installation.account.login },
        { updatedSince },
      );
      return { alerts, complete: true, failures: [], rateLimited: false };
    } catch (error) {
      if (!(error instanceof GithubAlertsUnavailableError && error.scope === "organization")) throw error;
      // The App was granted repositories, not the organisation's alerts: one repository at a time.
    }
  }
  return listByRepository(app, installation, options);
}

async function listByRepository(
  app: SecretScanningAlerts,
  installation: Installation,
  options: ListInstallationOptions,
): Promise<InstallationListing> {
  const now = options.now ?? Date.now;
  const repositories = await app.listInstallationRepositories(installation.id);
  const listing: InstallationListing = { alerts: [], complete: true, failures: [], rateLimited: false };
  await mapWithConcurrency(repositories, options.concurrency ?? 4, async ({ owner, repo }) => {
    if (listing.rateLimited) return;
    if (options.deadline !== undefined && now() >= options.deadline) {
      listing.complete = false;
      return;
    }
    try {
      listing.alerts.push(
        ...(await app.listOpenAlerts(
          { installationId: installation.id, owner, repo },
          { updatedSince: options.updatedSince },
        )),
      );
    } catch (error) {
      if (error instanceof GithubAlertsUnavailableError) return; // nothing to list there
      listing.complete = false;
      listing.rateLimited ||= isRateLimit(error);
      listing.failures.push(`${owner}/${repo}: ${describeError(error)}`);
    }
  });
  return listing;
}
