// The Slack port: what the Slack issuer needs of Slack. The adapter (slack-web-api.ts) speaks Slack's
// Web API through Slack's own SDK (@slack/web-api); the webhook probe (slack-webhook-probe.ts) POSTs to
// an incoming webhook URL; the issuer (slack-issuer.ts) holds the logic and is table-tested over an
// in-memory adapter.
//
// Slack answers a refused call with HTTP 200 `{"ok": false, "error": "<code>"}`: auth.test and
// auth.revoke return that code as data (`{ error }`) so that one table in the issuer (slack-errors.ts)
// says what each means. Adapters throw IssuerError only where no Slack answer says anything about the
// token: HTTP 429 (transient, with Retry-After), other non-200 statuses, timeouts, network errors, or an
// answer that repeats the token. Never a token, a webhook URL or Slack's raw body in a message.

/** Each call's time limit when the config sets none. */
export const DEFAULT_SLACK_TIMEOUT_MS = 5_000;

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** auth.test's answer for a live token (its fields as Slack names them, documented and SDK-typed). */
export interface SlackIdentity {
  team_id: string;
  team?: string | undefined;
  user_id?: string | undefined;
  user?: string | undefined;
  bot_id?: string | undefined;
  url?: string | undefined;
  enterprise_id?: string | undefined;
  is_enterprise_install?: boolean | undefined;
  app_id?: string | undefined;
  app_name?: string | undefined;
  /** Seconds until a rotating token (xoxe.…) expires. */
  expires_in?: number | undefined;
}

/** A Slack error code (`invalid_auth`), already checked to be a short code and nothing else. */
export interface SlackRefusal {
  error: string;
}

export type AuthTestAnswer = { identity: SlackIdentity } | SlackRefusal;

/** auth.revoke: `revoked` is Slack's own boolean (false in its test mode). */
export type RevokeAnswer = { revoked: boolean } | SlackRefusal;

/** An incoming webhook's answer: its HTTP status and its plain-text body's code, if it is one. */
export interface WebhookAnswer {
  status: number;
  /** `no_text`, `invalid_token`…: the body when it is a short code, else undefined. */
  code?: string | undefined;
  retryAfterSeconds?: number | undefined;
}

export interface SlackApi {
  /** auth.test called with `token` itself. */
  authTest(token: string, options?: CallOptions): Promise<AuthTestAnswer>;
  /** auth.revoke called with `token` itself: the token revokes itself. */
  revoke(token: string, options?: CallOptions): Promise<RevokeAnswer>;
  /** True when a bot token is configured, so `userEmail` can be asked. */
  readonly canLookUpUsers: boolean;
  /**
   * users.info of `userId` with the configured bot token: the user's `profile.email`, undefined when the
   * profile has none (bot users). Throws IssuerError for any refusal (`missing_scope`, `user_not_found`).
   */
  userEmail(userId: string, options?: CallOptions): Promise<string | undefined>;
  /** POSTs an empty message to an incoming webhook URL: Slack refuses it without posting anything. */
  probeWebhook(url: URL, options?: CallOptions): Promise<WebhookAnswer>;
}

/** What a Slack error code looks like; anything else in `error` is not repeated anywhere. */
export const SLACK_ERROR_CODE = /^[a-z][a-z0-9_.]{0,63}$/;

/** The code, when `value` is one; else `unreadable_answer`. */
export const slackErrorCode = (value: unknown): string =>
  typeof value === "string" && SLACK_ERROR_CODE.test(value) ? value : "unreadable_answer";
