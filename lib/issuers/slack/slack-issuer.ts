import { createHash } from "node:crypto";
import { IssuerError } from "../../errors.js";
import { isLoopbackHost } from "../../http/outbound.js";
import { describeError } from "../../log.js";
import type { RetryPolicy } from "../../util/retry.js";
import type {
  CallOptions,
  Issuer,
  KeyDetail,
  KeyRequest,
  Owner,
  Revocation,
  Verification,
} from "../issuer.js";
import { issuerCall } from "../issuer-call.js";
import { unrevocableType } from "../unrevocable-types.js";
import type { SlackApi, SlackIdentity, WebhookAnswer } from "./slack-api.js";
import { meaningOf } from "./slack-errors.js";

// The Slack issuer. A token (`slack_api_token`: xoxb-, xoxp-, xoxa-, xoxr-, xoxe…, xapp-) is checked
// with auth.test called with the token itself, and revoked with auth.revoke called with the token
// itself (the worker opens it for that call only): Slack offers no admin API that revokes another's
// token by id. The owner's email comes from users.info when a bot token is configured. An incoming
// webhook URL (`slack_incoming_webhook_url`) is checked by POSTing an empty message, which Slack refuses
// without posting; no API deletes a webhook, so revoking one fails with the steps to delete it by hand
// (its policy defaults to notify_only: unrevocable-types.ts).

export const SLACK_TOKEN_TYPE = "slack_api_token";
export const SLACK_WEBHOOK_TYPE = "slack_incoming_webhook_url";

export interface SlackIssuerOptions {
  name: string;
  api: SlackApi;
  /**
   * Where this Slack's incoming webhooks live (`https://hooks.slack.com/services/`): a reported URL
   * anywhere else is never called. Default: derived from the API URL (slackWebhookBase).
   */
  webhookBase: string;
  retry?: RetryPolicy | undefined;
  now?: (() => number) | undefined;
}

/** auth.test is "special" (hundreds a minute), auth.revoke Tier 3: a few quick tries, then the step's retry. */
const SLACK_RETRY: RetryPolicy = { attempts: 3, baseMs: 200, maxDelayMs: 5_000 };

/** What a Slack token looks like; anything else is never sent to Slack. */
const SLACK_TOKEN = /^(?:xox[a-z]|xapp)[-.][A-Za-z0-9._-]{8,}$/;
/** The part of a webhook URL after its base: team, hook id, secret. */
const WEBHOOK_PATH = /^(T[A-Z0-9]{2,20})\/(B[A-Z0-9]{2,20})\/([A-Za-z0-9]{8,64})$/;
/** Webhook answers that mean "no such hook any more" (Slack's incoming webhook errors). */
const DEAD_WEBHOOK_CODES = new Set([
  "invalid_token",
  "no_service",
  "no_service_id",
  "no_team",
  "team_disabled",
  "no_active_hooks",
]);

/**
 * The incoming webhooks' base for a Web API URL: `https://hooks.<api host>/services/` (slack.com →
 * hooks.slack.com, GovSlack's slack-gov.com → hooks.slack-gov.com); for a loopback fake, beside its API:
 * `http://127.0.0.1:PORT/sandbox/slack/api` → `http://127.0.0.1:PORT/sandbox/slack/services/`.
 */
export function slackWebhookBase(apiUrl: string): string {
  const api = new URL(apiUrl);
  if (isLoopbackHost(api.hostname)) {
    const path = api.pathname.replace(/\/+$/, "").replace(/\/api$/, "");
    return `${api.origin}${path}/services/`;
  }
  return `https://hooks.${api.hostname}/services/`;
}

/** What kind of token a prefix says it is (Slack's token types), for the owner and the admin. */
export function slackTokenKind(token: string): string {
  if (token.startsWith("xoxe.xoxb-")) return "rotating bot token";
  if (token.startsWith("xoxe.xoxp-")) return "rotating user token";
  if (token.startsWith("xoxe-")) return "refresh token";
  if (token.startsWith("xoxb-")) return "bot token";
  if (token.startsWith("xoxp-")) return "user token";
  if (token.startsWith("xoxa-")) return "workspace access token";
  if (token.startsWith("xoxr-")) return "workspace refresh token";
  if (token.startsWith("xapp-")) return "app-level token";
  return "token";
}

/** `T…:U…` for a user's token; `T…:U…:B…` for a bot's (its bot user, then its bot id). Never the token. */
export function slackKeyId(identity: SlackIdentity): string {
  return [identity.team_id, identity.user_id, identity.bot_id].filter(Boolean).join(":");
}

export class SlackIssuer implements Issuer {
  readonly name: string;
  private readonly api: SlackApi;
  private readonly webhookBase: string;
  private readonly retry: RetryPolicy;
  private readonly now: () => number;

  constructor(options: SlackIssuerOptions) {
    this.name = options.name;
    this.api = options.api;
    this.webhookBase = options.webhookBase.endsWith("/") ? options.webhookBase : `${options.webhookBase}/`;
    this.retry = options.retry ?? SLACK_RETRY;
    this.now = options.now ?? Date.now;
  }

  async verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification> {
    const token = request.token.trim();
    if (/^https?:/i.test(token)) return this.verifyWebhook(token, options);
    if (!SLACK_TOKEN.test(token)) {
      return { status: "unknown", evidence: { reason: "not a Slack token (xoxb-, xoxp-, xoxe…, xapp-…)" } };
    }
    const kind = slackTokenKind(token);
    const answer = await this.call("auth.test", async () => {
      const a = await this.api.authTest(token, options);
      if ("error" in a && meaningOf(a.error) === "transient") throw refusedNow("auth.test", a.error);
      return a;
    });
    if ("identity" in answer) return this.live(answer.identity, kind, options);
    const code = answer.error;
    switch (meaningOf(code)) {
      case "dead":
        return { status: "inactive", evidence: { token_kind: kind, slack_error: code } };
      case "live_refused":
        // Slack took the token, then refused what it may do: it is live, but says nothing of whose it is.
        return {
          status: "active",
          keyId: `unidentified:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`,
          evidence: {
            token_kind: kind,
            slack_error: code,
            reason: `auth.test authenticated the token but answered ${code}: its workspace and user are unknown`,
          },
          details: [{ label: "Slack token", value: `${kind}, workspace unknown (Slack answered ${code})` }],
        };
      default:
        throw new IssuerError(
          `issuer "${this.name}" auth.test: Slack answered ${code}, which says nothing certain about the token`,
          { transient: false },
        );
    }
  }

  /** auth.revoke with the token itself. A token Slack already refuses was revoked before. */
  async revoke(request: KeyRequest, options?: CallOptions): Promise<Revocation> {
    const removal = unrevocableType(request.type);
    if (removal || /^https?:/i.test(request.token ?? "")) {
      throw new IssuerError(
        `issuer "${this.name}" revoke ${request.keyId}: Slack has no API that deletes an incoming webhook; set this type's mode to notify_only and delete it in Slack: ${(removal ?? unrevocableType(SLACK_WEBHOOK_TYPE))?.howToRemove[0]}`,
        { transient: false },
      );
    }
    const token = request.token?.trim();
    if (!token) {
      throw new IssuerError(
        `issuer "${this.name}" revoke ${request.keyId}: Slack revokes a token only when shown the token itself, and none was given`,
        { transient: false },
      );
    }
    const answer = await this.call("auth.revoke", async () => {
      const a = await this.api.revoke(token, options);
      if ("error" in a && meaningOf(a.error) === "transient") throw refusedNow("auth.revoke", a.error);
      return a;
    });
    if ("revoked" in answer) {
      if (!answer.revoked) {
        throw new IssuerError(
          `issuer "${this.name}" auth.revoke of ${request.keyId}: Slack answered ok but revoked: false (the token was not revoked)`,
          { transient: false },
        );
      }
      return { keyId: request.keyId, alreadyRevoked: false, revokedAt: new Date(this.now()).toISOString() };
    }
    const code = answer.error;
    if (meaningOf(code) === "dead") return { keyId: request.keyId, alreadyRevoked: true };
    const advice =
      meaningOf(code) === "live_refused"
        ? `Slack will not let this ${slackTokenKind(token)} revoke itself: a workspace admin or the app's owner must revoke it (app settings at https://api.slack.com/apps → OAuth & Permissions → Revoke tokens, or Basic Information → App-Level Tokens; or remove the app from the workspace)`
        : "an answer Tourniquet does not know for auth.revoke";
    throw new IssuerError(
      `issuer "${this.name}" auth.revoke of ${request.keyId}: Slack answered ${code}: ${advice}`,
      {
        transient: false,
      },
    );
  }

  private async live(identity: SlackIdentity, kind: string, options?: CallOptions): Promise<Verification> {
    const keyId = slackKeyId(identity);
    // The person behind a user token; a bot user has no email (its app's owners are not in users.info).
    let email: string | undefined;
    let lookup: string | undefined;
    if (identity.user_id && !identity.bot_id && this.api.canLookUpUsers) {
      const userId = identity.user_id;
      try {
        email = await this.call("users.info", () => this.api.userEmail(userId, options));
        if (!email) lookup = "users.info: the user's profile shows no email";
      } catch (error) {
        // Evidence only: a failed look-up is never a reason to leave a live token alone.
        lookup = describeError(error);
      }
    }
    const owner: Owner | undefined = identity.user_id
      ? { id: `${identity.team_id}:${identity.user_id}`, email, name: identity.user }
      : undefined;
    return {
      status: "active",
      keyId,
      owner,
      evidence: {
        token_kind: kind,
        team_id: identity.team_id,
        team: identity.team,
        user_id: identity.user_id,
        user: identity.user,
        bot_id: identity.bot_id,
        url: identity.url,
        enterprise_id: identity.enterprise_id,
        is_enterprise_install: identity.is_enterprise_install,
        app_id: identity.app_id,
        app_name: identity.app_name,
        expires_in: identity.expires_in,
        ...(lookup ? { owner_lookup: lookup } : {}),
      },
      details: tokenDetails(identity, kind),
    };
  }

  private async verifyWebhook(raw: string, options?: CallOptions): Promise<Verification> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { status: "unknown", evidence: { reason: "not a URL" } };
    }
    const rest = url.href.startsWith(this.webhookBase) ? url.href.slice(this.webhookBase.length) : undefined;
    const parts = rest === undefined || url.search || url.hash ? undefined : WEBHOOK_PATH.exec(rest);
    if (!parts) {
      // Never called: a URL elsewhere could be anyone's endpoint.
      return {
        status: "unknown",
        evidence: { reason: `not an incoming webhook URL of this Slack (${this.webhookBase}T…/B…/…)` },
      };
    }
    const [, teamId, hookId] = parts as unknown as [string, string, string];
    const keyId = `${teamId}/${hookId}`;
    const answer = await this.call("incoming webhook check", async () => {
      const a = await this.api.probeWebhook(url, options);
      if (a.status === 429 || a.status >= 500) {
        throw new IssuerError(
          `Slack incoming webhook ${keyId}: HTTP ${a.status}${a.code ? ` ${a.code}` : ""}`,
          {
            transient: true,
            httpStatus: a.status,
            retryAfterSeconds: a.retryAfterSeconds,
          },
        );
      }
      return a;
    });
    const evidence = {
      team_id: teamId,
      webhook_id: hookId,
      http_status: answer.status,
      slack_answer: answer.code,
    };
    const status = webhookStatus(answer);
    if (!status) {
      throw new IssuerError(
        `issuer "${this.name}" incoming webhook check of ${keyId}: unexpected answer HTTP ${answer.status}${answer.code ? ` ${answer.code}` : ""}`,
        { transient: false, httpStatus: answer.status },
      );
    }
    return {
      status,
      keyId,
      evidence,
      details:
        status === "active"
          ? [
              { label: "Slack workspace", value: teamId },
              { label: "Incoming webhook", value: `${hookId} (it still accepts messages)` },
            ]
          : undefined,
    };
  }

  private call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return issuerCall(this.name, op, fn, this.retry);
  }
}

/** Slack's `ok: false` that a later call may not get (rate limit, internal error, migration). */
const refusedNow = (method: string, code: string) =>
  new IssuerError(`Slack ${method}: ${code}, try again later`, { transient: true });

/** A live hook refuses the empty message (400) or, oddly, takes it; a dead one is refused (403/404). */
function webhookStatus(answer: WebhookAnswer): Verification["status"] | undefined {
  if (answer.status >= 200 && answer.status < 300) return "active";
  if (answer.code && DEAD_WEBHOOK_CODES.has(answer.code)) return "inactive";
  // The hook was found and its payload or channel judged: it still exists.
  if (answer.status === 400) return "active";
  if (answer.code && ["channel_not_found", "channel_is_archived", "action_prohibited"].includes(answer.code))
    return "active";
  if (answer.status === 403 || answer.status === 404 || answer.status === 410) return "inactive";
  return undefined;
}

function tokenDetails(identity: SlackIdentity, kind: string): KeyDetail[] {
  const named = (name: string | undefined, id: string | undefined) =>
    name && id ? `${name} (${id})` : (name ?? id);
  const lines: (KeyDetail | undefined)[] = [
    { label: "Slack token", value: kind },
    { label: "Workspace", value: named(identity.team, identity.team_id) ?? identity.team_id },
    identity.url ? { label: "Workspace URL", value: identity.url } : undefined,
    identity.user_id
      ? { label: identity.bot_id ? "Bot user" : "User", value: named(identity.user, identity.user_id) ?? "" }
      : undefined,
    identity.bot_id ? { label: "Bot", value: identity.bot_id } : undefined,
    identity.app_id ? { label: "App", value: named(identity.app_name, identity.app_id) ?? "" } : undefined,
    identity.enterprise_id ? { label: "Enterprise", value: identity.enterprise_id } : undefined,
  ];
  return lines.filter((l): l is KeyDetail => l !== undefined);
}
