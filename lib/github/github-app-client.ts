import type { KeyObject } from "node:crypto";
import * as z from "zod";
import { ConfigError, GithubApiError } from "../errors.js";
import { fetchFailure, isLoopbackHost, isTransientStatus } from "../http/outbound.js";
import { parseRetryAfter } from "../issuers/http-issuer.js";
import { createAppJwt } from "./app-jwt.js";
import { InstallationTokenCache } from "./installation-tokens.js";

// The GitHub REST calls the App makes: an installation access token (authenticated with the App JWT),
// then the secret scanning alert (which, unlike the webhook, carries the secret) and its locations.
// Errors say which call and which alert, and never carry a token or the secret.

export const GITHUB_API_VERSION = "2022-11-28";
export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

export interface GithubAppClientOptions {
  /** https://api.github.com, a GHES `https://host/api/v3`, or http on loopback (local stack, tests). */
  apiUrl: string;
  appId: string;
  privateKey: KeyObject;
  /** Per call, including reading the answer. Default 3000. */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  now?: (() => number) | undefined;
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
  signal?: AbortSignal | undefined;
}

/** What the webhook intake needs from GitHub; the client below, or a stand-in in tests. */
export interface SecretScanningAlerts {
  getAlert(ref: AlertRef, options?: CallOptions): Promise<SecretScanningAlert>;
  listAlertLocations(ref: AlertRef, options?: CallOptions): Promise<AlertLocation[]>;
}

const tokenResponse = z.object({ token: z.string().min(1), expires_at: z.string().min(1) });
const alertResponse = z.object({
  number: z.int(),
  secret: z.string().nullish(),
  secret_type: z.string().min(1),
  html_url: z.string().nullish(),
  state: z.string().nullish(),
});
const locationsResponse = z.array(
  z.object({ type: z.string().min(1), details: z.record(z.string(), z.unknown()).nullish() }),
);

/** Locations are listed one page deep: 100 places are plenty to tell the owner where to look. */
const LOCATIONS_PER_PAGE = 100;

interface GithubCall<T> {
  what: string;
  method: "GET" | "POST";
  path: string;
  authorization: string;
  schema: z.ZodType<T>;
  signal?: AbortSignal | undefined;
}

export class GithubAppClient implements SecretScanningAlerts {
  readonly tokens: InstallationTokenCache;
  private readonly apiUrl: string;
  private readonly appId: string;
  private readonly privateKey: KeyObject;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(options: GithubAppClientOptions) {
    this.apiUrl = parseApiUrl(options.apiUrl);
    this.appId = options.appId;
    this.privateKey = options.privateKey;
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.tokens = new InstallationTokenCache((id) => this.createInstallationToken(id), { now: this.now });
  }

  /** POST /app/installations/{id}/access_tokens, as the App. */
  async createInstallationToken(installationId: number, options?: CallOptions) {
    const { jwt } = createAppJwt({ appId: this.appId, privateKey: this.privateKey, nowMs: this.now() });
    const answer = await this.call({
      what: `installation token for installation ${installationId}`,
      method: "POST",
      path: `/app/installations/${installationId}/access_tokens`,
      authorization: `Bearer ${jwt}`,
      schema: tokenResponse,
      signal: options?.signal,
    });
    const expiresAt = Date.parse(answer.expires_at);
    if (Number.isNaN(expiresAt))
      throw new GithubApiError(
        `GitHub API installation token for installation ${installationId}: expires_at is not a date`,
        { transient: false },
      );
    return { token: answer.token, expiresAt };
  }

  async getAlert(ref: AlertRef, options?: CallOptions): Promise<SecretScanningAlert> {
    const alert = await this.asInstallation(ref, options, (authorization) =>
      this.call({
        what: `alert ${describeAlert(ref)}`,
        method: "GET",
        path: `${alertPath(ref)}`,
        authorization,
        schema: alertResponse,
        signal: options?.signal,
      }),
    );
    if (!alert.secret)
      throw new GithubApiError(`GitHub API alert ${describeAlert(ref)}: the answer carries no secret`, {
        transient: false,
      });
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
      this.call({
        what: `locations of alert ${describeAlert(ref)}`,
        method: "GET",
        path: `${alertPath(ref)}/locations?per_page=${LOCATIONS_PER_PAGE}`,
        authorization,
        schema: locationsResponse,
        signal: options?.signal,
      }),
    );
    return locations.map((l) => ({ type: l.type, details: l.details ?? {} }));
  }

  /**
   * Runs a call with the installation's token. A 401 means GitHub no longer takes the cached token
   * (revoked, App reinstalled): it is dropped and the call tried once more with a new one.
   */
  private async asInstallation<T>(
    ref: AlertRef,
    options: CallOptions | undefined,
    call: (authorization: string) => Promise<T>,
  ): Promise<T> {
    const token = await this.tokens.get(ref.installationId);
    try {
      return await call(`Bearer ${token}`);
    } catch (error) {
      if (!(error instanceof GithubApiError) || error.httpStatus !== 401 || options?.signal?.aborted)
        throw error;
      this.tokens.invalidate(ref.installationId, token);
      return call(`Bearer ${await this.tokens.get(ref.installationId)}`);
    }
  }

  private async call<T>(request: GithubCall<T>): Promise<T> {
    const fail = (what: string, extra: ConstructorParameters<typeof GithubApiError>[1]) =>
      new GithubApiError(`GitHub API ${request.what}: ${what}`, extra);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    let response: Response;
    let raw: string;
    try {
      response = await this.fetch(`${this.apiUrl}${request.path}`, {
        method: request.method,
        headers: {
          accept: "application/vnd.github+json",
          "x-github-api-version": GITHUB_API_VERSION,
          authorization: request.authorization,
          "user-agent": "tourniquet",
        },
        signal,
        // A redirect would carry the Authorization header wherever Location points.
        redirect: "manual",
      });
      raw = await response.text();
    } catch (error) {
      const what = fetchFailure(
        error,
        { timeout, timeoutMs: this.timeoutMs, caller: request.signal },
        "out of time for this delivery",
      );
      throw fail(what, { transient: true, cause: error });
    }

    const status = response.status;
    if (status < 200 || status > 299) {
      const limited = rateLimited(response, this.now());
      const transient = isTransientStatus(status) || limited.limited;
      throw fail(`HTTP ${status}${githubMessage(raw)}`, {
        transient,
        httpStatus: status,
        retryAfterSeconds: transient ? limited.retryAfterSeconds : undefined,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw fail(`HTTP ${status}: answer is not JSON`, { transient: false, httpStatus: status });
    }
    const parsed = request.schema.safeParse(json);
    if (!parsed.success) {
      // Field names only: the values may include the secret.
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".") || "(body)"))].join(", ");
      throw fail(`HTTP ${status}: unexpected answer (${fields})`, { transient: false, httpStatus: status });
    }
    return parsed.data;
  }
}

export function describeAlert(ref: Pick<AlertRef, "owner" | "repo" | "number">): string {
  return `${ref.owner}/${ref.repo}#${ref.number}`;
}

const alertPath = (ref: AlertRef) =>
  `/repos/${encodeURIComponent(ref.owner)}/${encodeURIComponent(ref.repo)}/secret-scanning/alerts/${ref.number}`;

/**
 * GitHub's rate limits: 429, or 403 with `x-ratelimit-remaining: 0` (primary) or a Retry-After
 * (secondary). The wait comes from Retry-After, else from `x-ratelimit-reset` (epoch seconds).
 */
function rateLimited(response: Response, nowMs: number): { limited: boolean; retryAfterSeconds?: number } {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"), nowMs);
  const remaining = response.headers.get("x-ratelimit-remaining");
  const reset = Number(response.headers.get("x-ratelimit-reset"));
  const fromReset =
    remaining === "0" && Number.isFinite(reset) && reset > 0
      ? Math.max(0, Math.ceil(reset - nowMs / 1000))
      : undefined;
  const retryAfterSeconds = retryAfter ?? fromReset;
  const limited =
    response.status === 429 || (response.status === 403 && (remaining === "0" || retryAfter !== undefined));
  return retryAfterSeconds === undefined ? { limited } : { limited, retryAfterSeconds };
}

/** GitHub's own `message` ("Bad credentials", "Resource not accessible by integration"), kept short. */
function githubMessage(raw: string): string {
  try {
    const message = (JSON.parse(raw) as { message?: unknown }).message;
    if (typeof message !== "string") return "";
    const clean = message.replace(/[^\x20-\x7e]/g, "").slice(0, 120);
    return clean ? ` (${clean})` : "";
  } catch {
    return "";
  }
}

function parseApiUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("github_app.api_url: not a URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname)))
    throw new ConfigError("github_app.api_url: must use https (http is allowed on loopback only)");
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}
