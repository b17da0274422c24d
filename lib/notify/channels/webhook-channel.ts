import { ConfigError, NotificationError } from "../../errors.js";
import { isTransientStatus } from "../../http/outbound.js";
import {
  REQUEST_ID_HEADER,
  SIGNATURE_HEADER,
  signIssuerRequest,
  TIMESTAMP_HEADER,
} from "../../issuers/http-issuer-signature.js";
import type { DeliveryResult, LeakMessage, NotificationChannel } from "../leak-message.js";
import { errorCodeIn, parseChannelUrl, postOnce } from "./http-delivery.js";

// Posts a leak as signed JSON to an operator's endpoint (docs/notification-webhooks.md). The signature
// is the HTTP issuer protocol's; the request id is the message id, identical on every retry, so the
// receiver can drop repeats and answer 409 to say it already has the message.

export interface WebhookChannelOptions {
  name: string;
  /** HTTPS, or HTTP on loopback only. */
  url: string;
  /** Shared HMAC secret. */
  secret: string;
  /** Per delivery, including reading the answer. Default 5000. */
  timeoutMs?: number | undefined;
  /** Clock in milliseconds (signature timestamps, HTTP-date Retry-After). */
  now?: (() => number) | undefined;
}

/** What a receiver may accept as a request id (the signature check rejects anything else as malformed). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Statuses where the same request may succeed later, besides 5xx. */

export class WebhookChannel implements NotificationChannel {
  readonly name: string;
  readonly kind = "webhook";
  private readonly label: string;
  private readonly url: URL;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: WebhookChannelOptions) {
    this.name = options.name;
    this.label = `webhook channel "${options.name}"`;
    this.url = parseChannelUrl(this.label, options.url);
    if (!options.secret) throw new ConfigError(`${this.label}: secret is empty`);
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  async deliver(message: LeakMessage, options?: { signal?: AbortSignal }): Promise<DeliveryResult> {
    if (!REQUEST_ID.test(message.id)) {
      throw new NotificationError(`${this.label}: message id is not a valid request id`, {
        transient: false,
      });
    }
    // Serialized once: the signature covers exactly the bytes sent.
    const body = JSON.stringify(webhookPayload(message));
    const timestamp = Math.floor(this.now() / 1000);
    const answer = await postOnce({
      label: this.label,
      url: this.url,
      body,
      headers: {
        "content-type": "application/json",
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signIssuerRequest(this.secret, timestamp, message.id, body),
        [REQUEST_ID_HEADER]: message.id,
      },
      timeoutMs: this.timeoutMs,
      now: this.now,
      signal: options?.signal,
    });
    const { status } = answer;
    if (status >= 200 && status <= 299) return { duplicate: false };
    if (status === 409) return { duplicate: true };
    const transient = isTransientStatus(status);
    const detail = status >= 300 && status <= 399 ? " (redirect not followed)" : errorCodeIn(answer.body);
    throw new NotificationError(`${this.label}: HTTP ${status}${detail}`, {
      transient,
      retryAfterSeconds: transient ? answer.retryAfterSeconds : undefined,
    });
  }
}

/** The JSON body: the message's facts in snake_case; absent values are null so receivers see every key. */
export function webhookPayload(message: LeakMessage): Record<string, unknown> {
  const f = message.facts;
  return {
    type: "leak.notification",
    id: message.id,
    leak_id: f.leakId,
    recipient: {
      role: message.recipient.role,
      email: message.recipient.email ?? null,
      name: message.recipient.name ?? null,
    },
    subject: message.subject,
    facts: {
      leak_id: f.leakId,
      token_type: f.tokenType,
      preview: f.preview,
      key_id: f.keyId ?? null,
      status: f.status,
      mode: f.mode,
      first_seen: f.firstSeen,
      revoked_at: f.revokedAt ?? null,
      time_to_revoke_ms: f.timeToRevokeMs ?? null,
      sightings: f.sightings.map((s) => ({ url: s.url, source: s.source, first_seen: s.firstSeen })),
      actions: f.actions.map((a) => ({ at: a.at, step: a.step, outcome: a.outcome, detail: a.detail })),
      replacement: f.replacement ? { key_id: f.replacement.keyId, where: f.replacement.where } : null,
      details: f.details,
      next_steps: f.nextSteps,
      admin_url: f.adminUrl ?? null,
    },
  };
}
