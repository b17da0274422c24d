import type { LeakStatus } from "../store/leak.js";

// The notification channels' port. A LeakMessage is rendered once from the leak (templates for text
// and HTML, structured facts for Slack and webhooks) and handed to each channel; none of it ever holds
// the token.

export interface LeakFacts {
  leakId: string;
  tokenType: string;
  /** Redacted, e.g. `tqs_…9f2a`. */
  preview: string;
  keyId?: string | undefined;
  status: LeakStatus;
  /** The policy mode applied: revoke, revoke_and_rotate, notify_only, dry_run. */
  mode: string;
  firstSeen: string;
  revokedAt?: string | undefined;
  timeToRevokeMs?: number | undefined;
  sightings: { url: string; source: string; firstSeen: string }[];
  /** What Tourniquet did, in order. */
  actions: { at: string; step: string; outcome: string; detail: string }[];
  /** Where the owner gets the replacement key, when one was made (never the secret itself). */
  replacement?: { keyId: string; where: string } | undefined;
  /** What the issuer tells about the key (account, usage…), a line each. */
  details: { label: string; value: string }[];
  nextSteps: string[];
  /** Link to the leak in the admin history. */
  adminUrl?: string | undefined;
}

export interface Recipient {
  role: "owner" | "security_contact";
  email?: string | undefined;
  name?: string | undefined;
}

export interface LeakMessage {
  /** Deterministic per leak, channel and recipient: receivers and the outbox use it to drop repeats. */
  id: string;
  recipient: Recipient;
  subject: string;
  text: string;
  html: string;
  facts: LeakFacts;
}

export interface DeliveryResult {
  /** True when the channel knows it already delivered this message id and sent nothing now. */
  duplicate: boolean;
  /** The provider's id for the message (SES MessageId, SMTP message id…), for the timeline. */
  providerMessageId?: string | undefined;
}

export interface NotificationChannel {
  /** The channel's name in the config (e.g. "email", "security-slack"). */
  readonly name: string;
  readonly kind: "email" | "slack" | "webhook";
  deliver(message: LeakMessage, options?: { signal?: AbortSignal }): Promise<DeliveryResult>;
}
