import { createHash } from "node:crypto";
import type { Owner } from "../issuers/issuer.js";

// The leak record: one per token fingerprint, whatever how often or where the token was reported.

export const LEAK_STATUSES = [
  "pending", // recorded, not yet verified with its issuer
  "active", // verified live: revocation under way
  "revoked", // live key that Tourniquet revoked (re-verified dead)
  "inactive", // already dead when reported: nothing to revoke
  "false_positive", // the issuer does not know the token
  "unroutable", // no issuer handles this token type
  "failed", // remediation gave up; `failure` says where and why
] as const;

export type LeakStatus = (typeof LEAK_STATUSES)[number];

export const isLeakStatus = (value: string): value is LeakStatus =>
  (LEAK_STATUSES as readonly string[]).includes(value);

/** Statuses after which no issuer call is made any more. */
export const SETTLED_STATUSES: ReadonlySet<LeakStatus> = new Set([
  "revoked",
  "inactive",
  "false_positive",
  "unroutable",
  "failed",
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
  firstSeen: string;
  /** Epoch ms when the first report arrived; time to revoke counts from here. */
  receivedAtMs: number;
  verifiedAt?: string | undefined;
  revokedAt?: string | undefined;
  timeToRevokeMs?: number | undefined;
  /** The owner notification step, once done (sent, or skipped for want of a recipient). */
  notification?: NotificationRecord | undefined;
  failure?: { step: string; reason: string; at: string } | undefined;
  lease?: Lease | undefined;
  timeline: TimelineEvent[];
  /** Optimistic concurrency: every write expects the version it read. */
  version: number;
}

export interface NotificationRecord {
  status: "sent" | "no_recipient" | "failed";
  at: string;
  channel?: string | undefined;
  recipient?: string | undefined;
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
