import { createAppAuth } from "@octokit/auth-app";
import * as z from "zod";
import { GithubApiError } from "../errors.js";
import { outboundUrl } from "../http/outbound.js";
import { githubApiError } from "./github-api-error.js";
import { createGithubOctokit, type GithubOctokit } from "./github-octokit.js";

// The GitHub REST calls the App makes: the secret scanning alert (which, unlike the webhook, carries the
// secret) and its locations, as the installation the webhook names. @octokit/auth-app signs the App's
// JWT, gets the installation access token and keeps it (one fetch for concurrent callers, reused until
// shortly before GitHub's one-hour expiry). Errors say which call and which alert, and never carry a
// token or the secret.

export interface GithubAppClientOptions {
  /** https://api.github.com, a GHES `https://host/api/v3`, or http on loopback (local stack, tests). */
  apiUrl: string;
  /** The App's numeric id or its client id (Iv23…): the `iss` of its JWTs. */
  appId: string;
  /** PKCS#8 PEM, as appPrivateKey() returns it. */
  privateKey: string;
  /** Per attempt, including reading the answer. Default 3000. */
  timeoutMs?: number | undefined;
  /** Before the one quick retry of a 5xx, a timeout or a network failure. Default 250. */
  retryAfterMs?: number | undefined;
}

export interface AlertRef {
  installationId: number;
  owner: string;
  repo: string;
  number: number;
}

export interface SecretScanningAlert {
  number: number;
  /** The leaked secret itself: kept in memory only, never logged or stored. */
  secret: string;
  secretType: string;
  htmlUrl: string | undefined;
  state: string | undefined;
}

export interface AlertLocation {
  type: string;
  details: Record<string, unknown>;
}

export interface CallOptions {
  /** The caller's deadline: the call, its installation token included, gives up when it fires. */
  signal?: AbortSignal | undefined;
}

/** What the webhook intake needs from GitHub; the client below, or a stand-in in tests. */
export interface SecretScanningAlerts {
  getAlert(ref: AlertRef, options?: CallOptions): Promise<SecretScanningAlert>;
  listAlertLocations(ref: AlertRef, options?: CallOptions): Promise<AlertLocation[]>;
}

// GitHub's answers are checked for the fields used: a GHES version or a proxy may answer otherwise.
const alertAnswer = z.object({
  number: z.int(),
  secret: z.string().nullish(),
  secret_type: z.string().min(1),
  html_url: z.string().nullish(),
  state: z.string().nullish(),
});
const locationsAnswer = z.array(
  z.object({ type: z.string().min(1), details: z.record(z.string(), z.unknown()).nullish() }),
);

/** Locations are listed one page deep: 100 places are plenty to tell the owner where to look. */
const LOCATIONS_PER_PAGE = 100;

export class GithubAppClient implements SecretScanningAlerts {
  private readonly octokit: GithubOctokit;
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly timeoutMs: number;

  constructor(options: GithubAppClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.octokit = createGithubOctokit({
      baseUrl: parseApiUrl(options.apiUrl),
      timeoutMs: this.timeoutMs,
      retryAfterMs: options.retryAfterMs,
    });
    this.auth = createAppAuth({
      // A numeric App id goes out as a number, a client id (Iv23…) as a string, as GitHub shows them.
      appId: /^\d+$/.test(options.appId) ? Number(options.appId) : options.appId,
      privateKey: options.privateKey,
      // The token requests go through the same Octokit: base URL, headers, timeouts and retries.
      request: this.octokit.request,
    });
  }

  async getAlert(ref: AlertRef, options?: CallOptions): Promise<SecretScanningAlert> {
    const what = `alert ${describeAlert(ref)}`;
    const alert = await this.asInstallation(ref, options, (authorization) =>
      this.call(what, alertAnswer, options, () =>
        this.octokit.request("GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}", {
          owner: ref.owner,
          repo: ref.repo,
          alert_number: ref.number,
          headers: { authorization },
          request: { signal: options?.signal },
        }),
      ),
    );
    if (!alert.secret)
      throw new GithubApiError(`GitHub API ${what}: the answer carries no secret`, { transient: false });
    return {
      number: alert.number,
      secret: alert.secret,
      secretType: alert.secret_type,
      htmlUrl: alert.html_url ?? undefined,
      state: alert.state ?? undefined,
    };
  }

  async listAlertLocations(ref: AlertRef, options?: CallOptions): Promise<AlertLocation[]> {
    const locations = await this.asInstallation(ref, options, (authorization) =>
      this.call(`locations of alert ${describeAlert(ref)}`, locationsAnswer, options, () =>
        this.octokit.request("GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}/locations", {
          owner: ref.owner,
          repo: ref.repo,
          alert_number: ref.number,
          per_page: LOCATIONS_PER_PAGE,
          headers: { authorization },
          request: { signal: options?.signal },
        }),
      ),
    );
    return locations.map((l) => ({ type: l.type, details: l.details ?? {} }));
  }

  /**
   * Runs a call with the installation's token. A 401 means GitHub no longer takes the cached token
   * (revoked, App reinstalled): the call is tried once more with a new one. (auth-app's own request hook
   * only retries a 401 within 5 s of a token's creation, sleeping up to 6 s, which a webhook cannot
   * afford, and never replaces an older token; so the token is asked for here.)
   */
  private async asInstallation<T>(
    ref: AlertRef,
    options: CallOptions | undefined,
    call: (authorization: string) => Promise<T>,
  ): Promise<T> {
    const token = await this.installationToken(ref.installationId, options);
    try {
      return await call(`token ${token}`);
    } catch (error) {
      if (!(error instanceof GithubApiError) || error.httpStatus !== 401 || options?.signal?.aborted)
        throw error;
      return call(`token ${await this.installationToken(ref.installationId, options, token)}`);
    }
  }

  /** The installation's token from auth-app's cache, or a new one when `refused` is the cached one. */
  private async installationToken(
    installationId: number,
    options: CallOptions | undefined,
    refused?: string,
  ): Promise<string> {
    const signal = options?.signal;
    try {
      // auth-app's token request cannot take the caller's signal: the caller stops waiting for it instead
      // (it still ends within its own timeout, and fills the cache for the next call).
      let auth = await untilAborted(this.auth({ type: "installation", installationId }), signal);
      // Another call may have replaced the refused token already; only the refused one is fetched anew.
      if (auth.token === refused)
        auth = await untilAborted(this.auth({ type: "installation", installationId, refresh: true }), signal);
      return auth.token;
    } catch (error) {
      throw githubApiError(`installation token for installation ${installationId}`, error, {
        timeoutMs: this.timeoutMs,
        caller: signal,
      });
    }
  }

  private async call<T>(
    what: string,
    schema: z.ZodType<T>,
    options: CallOptions | undefined,
    send: () => Promise<{ status: number; data: unknown }>,
  ): Promise<T> {
    let answer: { status: number; data: unknown };
    try {
      answer = await send();
    } catch (error) {
      throw githubApiError(what, error, { timeoutMs: this.timeoutMs, caller: options?.signal });
    }
    const fail = (detail: string) =>
      new GithubApiError(`GitHub API ${what}: HTTP ${answer.status}: ${detail}`, {
        transient: false,
        httpStatus: answer.status,
      });
    // Octokit hands over a body it could not read as JSON as it is: a string or bytes.
    if (typeof answer.data !== "object" || answer.data === null || answer.data instanceof ArrayBuffer)
      throw fail("answer is not JSON");
    const parsed = schema.safeParse(answer.data);
    if (!parsed.success) {
      // Field names only: the values may include the secret.
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".") || "(body)"))].join(", ");
      throw fail(`unexpected answer (${fields})`);
    }
    return parsed.data;
  }
}

export function describeAlert(ref: Pick<AlertRef, "owner" | "repo" | "number">): string {
  return `${ref.owner}/${ref.repo}#${ref.number}`;
}

/** `promise`, or the signal's reason once the signal fires first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

function parseApiUrl(value: string): string {
  const url = outboundUrl("github_app.api_url", value);
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}
