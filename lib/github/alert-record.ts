import { createHash } from "node:crypto";
import type { AlertRef } from "./github-app-client.js";

// A GitHub secret scanning alert as the App path keeps it: recorded durably when its webhook arrives
// (or when the sweep finds it), before any GitHub API call, so an alert is never lost to an outage. The
// worker then fetches its secret and locations (fetch owed), and once the leak is settled resolves it.

/** What a webhook or a listing tells of an alert before its secret is fetched. */
export interface AlertReceipt extends AlertRef {
  secretType: string;
  /** The alert's page on GitHub, when known. */
  htmlUrl?: string | undefined;
  /** The repository's page, e.g. https://github.com/acme/app. */
  repoHtmlUrl: string;
}

export interface AlertRecord extends AlertReceipt {
  id: string;
  /** When the first delivery (or the sweep) reported it: time to revoke counts from here. */
  receivedAtMs: number;
  /** Newest activity (ISO): the sweep finds alerts whose fetch has been owed too long by it. */
  lastActivity: string;
  /** X-GitHub-Delivery ids recorded, newest last (a few: GitHub sends one per action). */
  deliveries: string[];
  /** The worker still has to fetch the secret and its locations (a new alert, or a reopened one). */
  fetchOwed: boolean;
  /** Fetch attempts since the fetch was last owed. */
  attempts: number;
  /** GitHub's rate limit: no call for this alert before (epoch ms). */
  notBefore?: number | undefined;
  /** Why the last fetch failed (never a token). */
  lastError?: string | undefined;
  /**
   * The fetch was given up because the installation was suspended or removed, or the repository left it,
   * not because of the alert: when the sweep lists the alert open again, its fetch is owed again.
   */
  stoppedBy?: AlertStop | undefined;
  fetchedAt?: string | undefined;
  /** The leak its secret became. */
  leakId?: string | undefined;
  version: number;
}

export const ALERT_STOPS = ["installation_deleted", "installation_suspended", "repository_removed"] as const;
export type AlertStop = (typeof ALERT_STOPS)[number];

export const alertIdFor = (ref: AlertRef): string =>
  `al_${createHash("sha256")
    .update(
      `tourniquet-alert:${ref.installationId}:${ref.owner.toLowerCase()}/${ref.repo.toLowerCase()}#${ref.number}`,
    )
    .digest("hex")
    .slice(0, 24)}`;

export const ALERT_ID = /^al_[0-9a-f]{24}$/;

/** `owner/repo#number`, as GitHub names an alert. */
export function describeAlert(ref: Pick<AlertRef, "owner" | "repo" | "number">): string {
  return `${ref.owner}/${ref.repo}#${ref.number}`;
}

/** How a leak knows the alerts that reported it, so it can resolve them once it is settled. */
export interface AlertLink {
  alertId: string;
  installationId: number;
  owner: string;
  repo: string;
  number: number;
  /** Set once Tourniquet resolved the alert in GitHub; never resolved again (a reopening is a sighting). */
  resolved?: { resolution: string; at: string } | undefined;
  /**
   * Set when Tourniquet stopped trying to resolve it (GitHub refused for good, the retries ran out, or no
   * App is configured): the alert stays open in GitHub for a person, and the leak no longer owes it.
   */
  leftOpen?: { outcome: "failed" | "skipped"; reason: string; at: string } | undefined;
}
