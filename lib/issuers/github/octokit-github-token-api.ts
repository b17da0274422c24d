import { Octokit } from "@octokit/core";
import { IssuerError } from "../../errors.js";
import { githubMessageOf, githubRateLimit } from "../../github/github-answer.js";
import type { CallOptions, GithubTokenApi, UserLookup } from "./github-token-api.js";
import { type GithubAnswer, githubTokenError } from "./github-token-errors.js";

// The GitHub tokens port over @octokit/core alone: no retry or throttling plugin, because the issuer
// retries (verify) and the revocation batcher waits out rate limits for a whole batch (revoke). Each
// call has its own timeout. GET /user carries the leaked token as `Authorization: token …`;
// POST /credentials/revoke carries no Authorization header at all (github.com answers an authenticated
// call with 403).

export const GITHUB_API_VERSION = "2022-11-28";

export interface OctokitGithubTokenApiOptions {
  /** https://api.github.com, a GHES `https://HOST/api/v3`, or a loopback fake; no trailing slash. */
  baseUrl: string;
  timeoutMs: number;
  /** Another fetch (tests). */
  fetch?: typeof fetch | undefined;
  now?: (() => number) | undefined;
}

interface RequestErrorShape extends Error {
  status: number;
  response?: GithubAnswer;
}

const isRequestError = (error: unknown): error is RequestErrorShape =>
  error instanceof Error &&
  error.name === "HttpError" &&
  typeof (error as { status?: unknown }).status === "number";

export class OctokitGithubTokenApi implements GithubTokenApi {
  private readonly octokit: Octokit;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: OctokitGithubTokenApiOptions) {
    this.timeoutMs = options.timeoutMs;
    this.now = options.now ?? Date.now;
    this.octokit = new Octokit({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      userAgent: "tourniquet",
      ...(options.fetch ? { request: { fetch: options.fetch } } : {}),
    });
    this.octokit.hook.before("request", (request) => {
      request.headers.accept = "application/vnd.github+json";
      request.headers["x-github-api-version"] = GITHUB_API_VERSION;
    });
  }

  async user(token: string, options?: CallOptions): Promise<UserLookup> {
    const answer = await this.call("GET /user", options, (signal) =>
      this.octokit.request("GET /user", {
        headers: { authorization: `token ${token}` },
        request: { signal },
      }),
    );
    const header = (name: string) => {
      const value = answer.headers[name];
      return value === undefined || value === "" ? undefined : String(value);
    };
    if (answer.status === 401) return { kind: "bad_credentials" };
    // A rate limit's 403 says nothing about the token: a failure to retry after the reset.
    if (githubRateLimit(answer, this.now()).limited) throw this.failure("GET /user", answer);
    if (answer.status === 403) {
      const sso = header("x-github-sso");
      if (sso && /^required\b/i.test(sso)) return { kind: "sso_required", sso };
      return { kind: "forbidden", message: (githubMessageOf(answer.data) ?? "").slice(0, 200) };
    }
    if (answer.status !== 200) throw this.failure("GET /user", answer);
    const body = (answer.data ?? {}) as Record<string, unknown>;
    if (typeof body.login !== "string" || typeof body.id !== "number") {
      throw new IssuerError("GitHub GET /user: 200 without a login and id", { transient: false });
    }
    const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
    return {
      kind: "user",
      login: body.login,
      id: body.id,
      type: text(body.type),
      name: text(body.name),
      email: text(body.email),
      scopes:
        answer.headers["x-oauth-scopes"] === undefined ? undefined : String(answer.headers["x-oauth-scopes"]),
      sso: header("x-github-sso"),
      expiresAt: header("github-authentication-token-expiration"),
    };
  }

  async revokeCredentials(credentials: readonly string[], options?: CallOptions): Promise<void> {
    const call = `POST /credentials/revoke (${credentials.length} tokens)`;
    const answer = await this.call(call, options, (signal) =>
      this.octokit.request("POST /credentials/revoke", {
        credentials: [...credentials],
        request: { signal },
      }),
    );
    if (answer.status !== 202) throw this.failure(call, answer);
  }

  /**
   * One call with its timeout: the HTTP answer whatever its status (Octokit throws on ≥ 400), or an
   * IssuerError when there was none. A 401/403 of GET /user is an answer, not a failure.
   */
  private async call(
    what: string,
    options: CallOptions | undefined,
    send: (signal: AbortSignal) => Promise<{ status: number; headers: object; data: unknown }>,
  ): Promise<GithubAnswer> {
    const caller = options?.signal;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
    try {
      const response = await send(signal);
      return {
        status: response.status,
        headers: response.headers as GithubAnswer["headers"],
        data: response.data,
      };
    } catch (error) {
      if (isRequestError(error) && error.response && !signal.aborted) {
        const { status, headers, data } = error.response;
        return { status, headers, data };
      }
      throw githubTokenError(undefined, isRequestError(error) ? error.cause : error, {
        call: what,
        timeoutMs: this.timeoutMs,
        timedOut: timeout.aborted,
        callerAborted: caller?.aborted === true,
        now: this.now,
      });
    }
  }

  private failure(call: string, answer: GithubAnswer): IssuerError {
    return githubTokenError(answer, undefined, {
      call,
      timeoutMs: this.timeoutMs,
      timedOut: false,
      callerAborted: false,
      now: this.now,
    });
  }
}
