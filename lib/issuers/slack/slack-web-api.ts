import {
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebClient,
  type WebClientOptions,
} from "@slack/web-api";
import { IssuerError } from "../../errors.js";
import { fetchFailure, isTransientStatus, parseRetryAfter } from "../../http/outbound.js";
import { readCapped } from "../../http/read-capped.js";
import { echoesToken } from "../echoes-token.js";
import {
  type AuthTestAnswer,
  type CallOptions,
  DEFAULT_SLACK_TIMEOUT_MS,
  type RevokeAnswer,
  type SlackApi,
  type SlackIdentity,
  slackErrorCode,
  type WebhookAnswer,
} from "./slack-api.js";
import { TRANSIENT_ERRORS } from "./slack-errors.js";
import { probeWebhook } from "./slack-webhook-probe.js";

// The Slack port over Slack's own SDK (@slack/web-api's WebClient). One client per call, holding the
// token of that call only (sent as `Authorization: Bearer`, never in a URL), with:
// - `slackApiUrl` from the issuer's `api_url` (GovSlack, loopback fakes); absolute URLs refused;
// - no SDK retries (`retries: 0`) and `rejectRateLimitedCalls`: the SDK's default is ten retries over
//   about thirty minutes and a 429 pauses its whole queue for the Retry-After, which would outlive the
//   intake's time box and the worker's step; the issuer retries transient failures itself
//   (retryTransient), honouring Retry-After up to its cap, like every other issuer;
// - our own time limit and the caller's signal on every fetch, and the answer read up to a cap;
// - a silent logger: the SDK's own logs are not Tourniquet's (and say nothing we need).
// The SDK's error texts are never repeated (they may quote URLs or bodies): messages are built from
// the method, the HTTP status and Slack's error code.

/** Slack's answers to these methods are a few hundred bytes. */
const MAX_ANSWER_BYTES = 256 * 1024;

export interface SlackWebApiOptions {
  /** Slack's Web API base, e.g. https://slack.com/api. */
  apiUrl: string;
  /** A bot token with users:read and users:read.email, for users.info; absent: no owner look-up. */
  botToken?: string | undefined;
  timeoutMs?: number | undefined;
  /** The fetch the SDK uses (tests); default: the global fetch. */
  fetch?: typeof fetch | undefined;
  now?: (() => number) | undefined;
}

const SILENT: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/** What the last HTTP answer of one call was, seen below the SDK. */
interface Seen {
  status?: number;
  retryAfter?: string | null;
}

export class SlackWebApi implements SlackApi {
  readonly canLookUpUsers: boolean;
  private readonly apiUrl: string;
  private readonly botToken: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;

  constructor(options: SlackWebApiOptions) {
    this.apiUrl = options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`;
    this.botToken = options.botToken;
    this.canLookUpUsers = Boolean(options.botToken);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS;
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async authTest(token: string, options?: CallOptions): Promise<AuthTestAnswer> {
    const answer = await this.call("auth.test", token, {}, options);
    if ("error" in answer) return answer;
    const r = answer.result;
    if (typeof r.team_id !== "string" || r.team_id === "") {
      throw new IssuerError("Slack auth.test: the answer lacks team_id", { transient: false });
    }
    const text = (key: string) =>
      typeof r[key] === "string" && r[key] !== "" ? (r[key] as string) : undefined;
    const identity: SlackIdentity = {
      team_id: r.team_id,
      team: text("team"),
      user_id: text("user_id"),
      user: text("user"),
      bot_id: text("bot_id"),
      url: text("url"),
      enterprise_id: text("enterprise_id"),
      is_enterprise_install:
        typeof r.is_enterprise_install === "boolean" ? r.is_enterprise_install : undefined,
      app_id: text("app_id"),
      app_name: text("app_name"),
      expires_in: typeof r.expires_in === "number" ? r.expires_in : undefined,
    };
    return { identity };
  }

  async revoke(token: string, options?: CallOptions): Promise<RevokeAnswer> {
    const answer = await this.call("auth.revoke", token, {}, options);
    if ("error" in answer) return answer;
    return { revoked: answer.result.revoked === true };
  }

  async userEmail(userId: string, options?: CallOptions): Promise<string | undefined> {
    if (!this.botToken)
      throw new IssuerError("Slack users.info: no bot_token configured", { transient: false });
    const answer = await this.call("users.info", this.botToken, { user: userId }, options);
    if ("error" in answer) {
      const hint =
        answer.error === "missing_scope"
          ? " (the bot token needs the users:read and users:read.email scopes)"
          : "";
      throw new IssuerError(`Slack users.info of ${userId}: ${answer.error}${hint}`, {
        transient: TRANSIENT_ERRORS.has(answer.error),
      });
    }
    const user = answer.result.user as { profile?: { email?: unknown } } | undefined;
    const email = user?.profile?.email;
    return typeof email === "string" && email.includes("@") ? email : undefined;
  }

  probeWebhook(url: URL, options?: CallOptions): Promise<WebhookAnswer> {
    return probeWebhook(url, { timeoutMs: this.timeoutMs, now: this.now }, options);
  }

  /** One Web API call with `token`: Slack's answer, its refusal code, or an IssuerError. */
  private async call(
    method: string,
    token: string,
    args: Record<string, unknown>,
    options: CallOptions | undefined,
  ): Promise<{ result: Record<string, unknown> } | { error: string }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options?.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const seen: Seen = {};
    const client = new WebClient(token, this.clientOptions(signal, seen));
    try {
      const result = (await client.apiCall(method, args)) as unknown as Record<string, unknown>;
      // An answer that repeats the token, even escaped, would carry it into evidence, the store and logs.
      if (echoesToken(JSON.stringify(result), result, token)) {
        throw new IssuerError(`Slack ${method}: the answer contains the token`, { transient: false });
      }
      return { result };
    } catch (error) {
      if (error instanceof IssuerError) throw error;
      if (error instanceof WebAPIPlatformError) return { error: slackErrorCode(error.data.error) };
      throw this.failure(method, error, seen, { timeout, caller: options?.signal });
    }
  }

  private failure(
    method: string,
    error: unknown,
    seen: Seen,
    signals: { timeout: AbortSignal; caller?: AbortSignal | undefined },
  ): IssuerError {
    const where = `Slack ${method}`;
    if (error instanceof WebAPIRateLimitedError || seen.status === 429) {
      // The SDK reads Retry-After as whole seconds only; an HTTP-date is read here.
      const retryAfterSeconds =
        parseRetryAfter(seen.retryAfter ?? null, this.now()) ??
        (error instanceof WebAPIRateLimitedError ? error.retryAfter : undefined);
      return new IssuerError(
        `${where}: 429 rate limited${retryAfterSeconds === undefined ? "" : `, retry after ${retryAfterSeconds} s`}`,
        {
          transient: true,
          retryAfterSeconds,
          httpStatus: 429,
        },
      );
    }
    const status = error instanceof WebAPIHTTPError ? error.statusCode : undefined;
    if (status !== undefined) {
      return new IssuerError(`${where}: HTTP ${status}`, {
        transient: isTransientStatus(status),
        httpStatus: status,
      });
    }
    const why = fetchFailure(error, {
      timeout: signals.timeout,
      timeoutMs: this.timeoutMs,
      caller: signals.caller,
    });
    return new IssuerError(`${where}: ${why}`, { transient: true });
  }

  private clientOptions(signal: AbortSignal, seen: Seen): WebClientOptions {
    return {
      slackApiUrl: this.apiUrl,
      allowAbsoluteUrls: false,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      maxRequestConcurrency: 1,
      logger: SILENT,
      // Our own signal instead of the SDK's `timeout`: the caller's deadline counts too.
      fetch: async (url, init) => {
        const response = await this.fetchFn(url, { ...init, signal });
        seen.status = response.status;
        seen.retryAfter = response.headers.get("retry-after");
        const { text } = await readCapped(response, MAX_ANSWER_BYTES);
        const empty = response.status === 204 || response.status === 205 || response.status === 304;
        return new Response(empty ? null : text, { status: response.status, headers: response.headers });
      },
    };
  }
}
