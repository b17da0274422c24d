import { createHash } from "node:crypto";
import type { AlertLink } from "../github/alert-record.js";
import type { KeyDetail, Owner } from "../issuers/issuer.js";

// The leak record: one per token fingerprint, whatever how often or where the token was reported.

// The statuses live in a module of their own, free of Node's modules, so the browser console shares them.
import { LEAK_STATUSES, type LeakStatus } from "./leak-statuses.js";

export { LEAK_STATUSES, type LeakStatus };

/** Statuses after which no issuer call is made any more. */
export const SETTLED_STATUSES: ReadonlySet<LeakStatus> = new Set([
  "revoked",
  "inactive",
  "false_positive",
  "unroutable",
  "failed",
  "notified",
  "dry_run",
  "allowlisted",
  "paired",
  "dismissed",
]);

/**
 * Statuses after which nothing can need the token again, so its sealed copy is dropped from the
 * store. Failed and notify-only leaks keep it for an administrator's retry; unroutable and
 * false-positive leaks for a later verification (a new issuer, a repeated report, an admin's retry).
 */
export const CLOSED_STATUSES: ReadonlySet<LeakStatus> = new Set([
  "revoked",
  "inactive",
  "allowlisted",
  "paired",
  "dismissed",
]);

export type TimelineOutcome = "ok" | "failed" | "retrying" | "skipped";

export interface TimelineEvent {
  at: string;
  step: string;
  outcome: TimelineOutcome;
  /** Who acted: "intake", "worker", or an admin identity. */
  actor: string;
  detail: string;
  data?: Record<string, unknown>;
}

/** A side effect one worker is carrying out; others wait until it ends or expires. */
export interface Lease {
  step: string;
  holder: string;
  until: number;
}

export interface Leak {
  id: string;
  fingerprint: string;
  tokenType: string;
  preview: string;
  issuer: string | null;
  status: LeakStatus;
  keyId?: string | undefined;
  owner?: Owner | undefined;
  evidence?: Record<string, unknown> | undefined;
  /** The issuer's evidence in a few lines for the owner's message. */
  keyDetails?: KeyDetail[] | undefined;
  firstSeen: string;
  /** Epoch ms when the first report arrived; time to revoke counts from here. */
  receivedAtMs: number;
  verifiedAt?: string | undefined;
  revokedAt?: string | undefined;
  timeToRevokeMs?: number | undefined;
  /** The policy mode applied, fixed when the leak was verified so a config change cannot flip it mid-way. */
  mode?: string | undefined;
  /** The replacement key made by revoke_and_rotate, and where its owner gets it (never the secret). */
  replacement?:
    | { keyId: string; deliveredBy: "issuer" | "secret_store"; where: string; at: string }
    | undefined;
  /** Each notification delivery by message id, so a retried step never sends one twice. */
  deliveries?: Record<string, DeliveryRecord> | undefined;
  /** The notification step, once done (sent, or skipped for want of a recipient). */
  notification?: NotificationRecord | undefined;
  /** The token sealed for the queue (never plaintext), kept until the leak closes (CLOSED_STATUSES). */
  sealedToken?: string | undefined;
  /**
   * The other half of a key pair reported with this token (lib/intake/pair-reported-tokens.ts): on an
   * AWS secret access key, its access key id's leak; on the key id, its secret's.
   */
  pairedWith?: { leakId: string; tokenType: string } | undefined;
  /** The GitHub App alerts that reported the token, resolved in GitHub once the leak is settled. */
  alerts?: AlertLink[] | undefined;
  /**
   * The policy's resolve_false_positive_alerts, fixed when the issuer answered that it does not know
   * the token (like `mode`, so a config change cannot flip it mid-way); absent otherwise.
   */
  resolveFalsePositiveAlerts?: boolean | undefined;
  dismissal?: { reason: string; note?: string | undefined; by: string; at: string } | undefined;
  failure?: { step: string; reason: string; at: string } | undefined;
  lease?: Lease | undefined;
  /**
   * The sightings of the report that created the leak, written with it (a new leak costs one write);
   * later sightings are items of their own. getLeakDetails merges the two by url and source.
   */
  firstSightings?: Sighting[] | undefined;
  timeline: TimelineEvent[];
  /** Optimistic concurrency: every write expects the version it read. */
  version: number;
}

export interface DeliveryRecord {
  channel: string;
  recipient: string;
  /** `sending`: recorded before the channel was called; still `sending` later means the outcome is unknown. */
  status: "sending" | "sent" | "failed";
  at: string;
  providerMessageId?: string | undefined;
  reason?: string | undefined;
}

export interface NotificationRecord {
  status: "sent" | "no_recipient" | "failed";
  at: string;
}

export interface Sighting {
  url: string;
  source: string;
  firstSeen: string;
  lastSeen: string;
  reports: number;
}

export interface LeakDetails {
  leak: Leak;
  sightings: Sighting[];
}

/** The leak id derives from the fingerprint, so creating a leak and deduplicating it is one write. */
export function leakIdFor(fingerprint: string): string {
  return `lk_${createHash("sha256").update(`tourniquet-leak:${fingerprint}`).digest("hex").slice(0, 24)}`;
}

/**
 * Sightings of one leak merged by url and source: the earliest first seen, the latest last seen, the
 * reports added up. Oldest first.
 */
export function mergeSightings(...lists: Sighting[][]): Sighting[] {
  const byPlace = new Map<string, Sighting>();
  for (const sighting of lists.flat()) {
    const key = JSON.stringify([sighting.url, sighting.source]);
    const seen = byPlace.get(key);
    byPlace.set(
      key,
      seen
        ? {
            ...seen,
            // ISO-8601 UTC times: string order is time order.
            firstSeen: [seen.firstSeen, sighting.firstSeen].sort()[0] as string,
            lastSeen: [seen.lastSeen, sighting.lastSeen].sort()[1] as string,
            reports: seen.reports + sighting.reports,
          }
        : { ...sighting },
    );
  }
  return [...byPlace.values()].sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
}
