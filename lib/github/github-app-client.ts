import { createAppAuth } from "@octokit/auth-app";
import type * as z from "zod";
import { GithubAlertsUnavailableError, GithubApiError } from "../errors.js";
import { outboundUrl } from "../http/outbound.js";
import { describeAlert } from "./alert-record.js";
import { githubApiError } from "./github-api-error.js";
import {
  alertAnswer,
  alertStateAnswer,
  installationRepositoriesAnswer,
  installationsAnswer,
  locationsAnswer,
  orgAlertsAnswer,
  repoAlertsAnswer,
} from "./github-app-answers.js";
import { createGithubOctokit, type GithubOctokit } from "./github-octokit.js";
import { nextPageUrl } from "./github-pages.js";

// The GitHub REST calls the App makes: the secret scanning alert (which, unlike the webhook, carries the
// secret) and its locations, as the installation the webhook names; the open alerts of an organisation
// or a repository and the installations and repositories to look in (the sweep); resolving an alert
// once Tourniquet has acted on it. @octokit/auth-app signs the App's JWT, gets the installation access
// token and keeps it (one fetch for concurrent callers, reused until shortly before GitHub's one-hour
// expiry). Errors say which call and which alert, and never carry a token or the secret.

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

export interface Installation {
  id: number;
  account: { login: string; type: "Organization" | "User" };
  /** A suspended installation gets no token: GitHub answers 403. */
  suspended: boolean;
}

/** Where to list alerts: an organisation as a whole, or one repository. */
export type AlertScope =
  | { installationId: number; org: string }
  | { installationId: number; owner: string; repo: string };

/** An alert as GitHub lists it: where it is and what kind of secret, never the secret itself. */
export interface OpenAlertRef extends AlertRef {
  secretType: string;
  /** ISO 8601: when GitHub last changed the alert (its creation when it never did). */
  updatedAt: string;
  htmlUrl: string | undefined;
}

export interface ListAlertsOptions extends CallOptions {
  /** Only alerts GitHub changed at or after this time: the listing stops at the first older one. */
  updatedSince?: Date | undefined;
}

export interface InstallationRepository {
  owner: string;
  repo: string;
}

/** The resolutions an API client may set (`pattern_edited`, `pattern_deleted` are GitHub's own). */
export const ALERT_RESOLUTIONS = ["revoked", "false_positive", "wont_fix", "used_in_tests"] as const;
export type AlertResolution = (typeof ALERT_RESOLUTIONS)[number];

export interface ResolveAlertOptions extends CallOptions {
  resolution: AlertResolution;
  /** Shown on the alert in GitHub: what Tourniquet did, and the leak id. */
  comment: string;
}

export interface ResolvedAlert {
  number: number;
  resolution: AlertResolution;
  resolvedAt: string | undefined;
  /**
   * GitHub refused the change because the alert was resolved so already (a GitHub that answers a repeat
   * with 200 instead shows it as false): this call changed nothing.
   */
  alreadyResolved: boolean;
}

/** What Tourniquet needs from GitHub as the App; the client below, or a stand-in in tests. */
export interface SecretScanningAlerts {
  getAlert(ref: AlertRef, options?: CallOptions): Promise<SecretScanningAlert>;
  listAlertLocations(ref: AlertRef, options?: CallOptions): Promise<AlertLocation[]>;
  /** The App's installations (as the App, with its JWT), every page. */
  listInstallations(options?: CallOptions): Promise<Installation[]>;
  /** The repositories the installation can see, every page: for listing alerts one repository at a time. */
  listInstallationRepositories(
    installationId: number,
    options?: CallOptions,
  ): Promise<InstallationRepository[]>;
  /**
   * Open alerts, most recently updated first, every page until `updatedSince`. Throws
   * GithubAlertsUnavailableError when GitHub refuses the scope (403/404), so the caller can list the
   * installation's repositories one by one instead (organisation) or skip it (repository).
   */
  listOpenAlerts(scope: AlertScope, options?: ListAlertsOptions): Promise<OpenAlertRef[]>;
  /** Resolves the alert; one already resolved with this resolution is a success. */
  resolveAlert(ref: AlertRef, options: ResolveAlertOptions): Promise<ResolvedAlert>;
}

/** Locations are listed one page deep: 100 places are plenty to tell the owner where to look. */
const LOCATIONS_PER_PAGE = 100;
/** GitHub's largest page. */
const PER_PAGE = 100;

type Answer = { status: number; data: unknown; headers: Record<string, unknown> };
/** A page's call: the route and parameters of the first page, or the next page's URL. */
type PageRequest = (authorization: string, nextUrl: string | undefined) => Promise<Answer>;

export class GithubAppClient implements SecretScanningAlerts {
  private readonly octokit: GithubOctokit;
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly timeoutMs: number;
  private readonly baseUrl: string;

  constructor(options: GithubAppClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.baseUrl = parseApiUrl(options.apiUrl);
    this.octokit = createGithubOctokit({
      baseUrl: this.baseUrl,
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

  async listInstallations(options?: CallOptions): Promise<Installation[]> {
    const installations = await this.paginate(
      "installations of the App",
      installationsAnswer,
      options,
      (call) => this.asApp(options, call),
      (authorization, url) =>
        this.octokit.request(url ?? "GET /app/installations", {
          ...(url ? {} : { per_page: PER_PAGE }),
          headers: { authorization },
          request: { signal: options?.signal },
        }),
    );
    // An enterprise installation (an account with no login) has no organisation or repository alerts.
    return installations.flatMap((i) => {
      const type = i.account?.type ?? i.target_type;
      const login = i.account?.login;
      if (!login || (type !== "Organization" && type !== "User")) return [];
      return [{ id: i.id, account: { login, type }, suspended: Boolean(i.suspended_at) }];
    });
  }

  async listInstallationRepositories(
    installationId: number,
    options?: CallOptions,
  ): Promise<InstallationRepository[]> {
    const repositories = await this.paginate(
      `repositories of installation ${installationId}`,
      installationRepositoriesAnswer,
      options,
      (call) => this.asInstallation({ installationId }, options, (authorization) => call(authorization)),
      (authorization, url) =>
        this.octokit.request(url ?? "GET /installation/repositories", {
          ...(url ? {} : { per_page: PER_PAGE }),
          headers: { authorization },
          request: { signal: options?.signal },
        }),
    );
    return repositories.map((r) => ({ owner: r.owner.login, repo: r.name }));
  }

  async listOpenAlerts(scope: AlertScope, options?: ListAlertsOptions): Promise<OpenAlertRef[]> {
    const since = options?.updatedSince?.getTime();
    const org = "org" in scope;
    const what = org
      ? `open alerts of organization ${scope.org}`
      : `open alerts of ${scope.owner}/${scope.repo}`;
    // Most recently updated first, so the listing can stop at `updatedSince`. Cursor paging (an empty
    // `after` asks for it) keeps its place when an alert is resolved meanwhile; page numbers would shift
    // and skip one. `hide_secret`: the list is only where to look, so the secrets need not travel.
    const query = {
      state: "open",
      sort: "updated",
      direction: "desc",
      per_page: PER_PAGE,
      after: "",
    } as const;
    const request: PageRequest = (authorization, url) => {
      const common = { headers: { authorization }, request: { signal: options?.signal } };
      if (url) return this.octokit.request(url, common);
      return "org" in scope
        ? this.octokit.request("GET /orgs/{org}/secret-scanning/alerts", {
            org: scope.org,
            ...query,
            hide_secret: true,
            ...common,
          })
        : this.octokit.request("GET /repos/{owner}/{repo}/secret-scanning/alerts", {
            owner: scope.owner,
            repo: scope.repo,
            ...query,
            hide_secret: true,
            ...common,
          });
    };
    const seen = new Set<string>();
    const alerts: OpenAlertRef[] = [];
    const keep = (ref: OpenAlertRef): boolean => {
      if (since !== undefined && !(Date.parse(ref.updatedAt) >= since)) return false;
      const key = `${ref.owner}/${ref.repo}#${ref.number}`.toLowerCase();
      // Paging by number may show an alert twice when others move between pages meanwhile.
      if (!seen.has(key)) alerts.push(ref);
      seen.add(key);
      return true;
    };
    const unavailable = (error: unknown) =>
      error instanceof GithubApiError &&
      !error.transient &&
      (error.httpStatus === 403 || error.httpStatus === 404)
        ? new GithubAlertsUnavailableError(error.message, org ? "organization" : "repository", {
            httpStatus: error.httpStatus,
            cause: error,
          })
        : error;
    const authorize = async <T>(call: (authorization: string) => Promise<T>) => {
      // Only the list call's own 403/404 mean "not here": a refused installation token is not that.
      return this.asInstallation(scope, options, async (authorization) => {
        try {
          return await call(authorization);
        } catch (error) {
          throw unavailable(error);
        }
      });
    };
    const toRef = (a: z.infer<typeof repoAlertsAnswer>[number], owner: string, repo: string) => ({
      installationId: scope.installationId,
      owner,
      repo,
      number: a.number,
      secretType: a.secret_type,
      updatedAt: a.updated_at ?? a.created_at,
      htmlUrl: a.html_url ?? undefined,
    });
    if ("org" in scope)
      await this.paginate(what, orgAlertsAnswer, options, authorize, request, (page) =>
        page.every((a) => keep(toRef(a, a.repository.owner.login, a.repository.name))),
      );
    else
      await this.paginate(what, repoAlertsAnswer, options, authorize, request, (page) =>
        page.every((a) => keep(toRef(a, scope.owner, scope.repo))),
      );
    return alerts;
  }

  async resolveAlert(ref: AlertRef, options: ResolveAlertOptions): Promise<ResolvedAlert> {
    const what = `resolving alert ${describeAlert(ref)}`;
    const route = "/repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}";
    const common = (authorization: string) => ({
      owner: ref.owner,
      repo: ref.repo,
      alert_number: ref.number,
      headers: { authorization },
      request: { signal: options.signal },
    });
    try {
      const alert = await this.asInstallation(ref, options, (authorization) =>
        this.call(what, alertStateAnswer, options, () =>
          this.octokit.request(`PATCH ${route}`, {
            ...common(authorization),
            state: "resolved",
            resolution: options.resolution,
            resolution_comment: options.comment,
          }),
        ),
      );
      if (alert.state !== "resolved" || alert.resolution !== options.resolution)
        throw new GithubApiError(`GitHub API ${what}: the alert did not end resolved as asked`, {
          transient: false,
        });
      return {
        number: alert.number,
        resolution: options.resolution,
        resolvedAt: alert.resolved_at ?? undefined,
        alreadyResolved: false,
      };
    } catch (error) {
      // GitHub refuses to "change" a resolution to itself (400, "the resolution was not changed"), and
      // may answer 422: the alert as it stands says whether the work is done.
      if (!(error instanceof GithubApiError) || error.transient) throw error;
      if (error.httpStatus !== 400 && error.httpStatus !== 422) throw error;
      const alert = await this.asInstallation(ref, options, (authorization) =>
        this.call(`alert ${describeAlert(ref)}`, alertStateAnswer, options, () =>
          this.octokit.request(`GET ${route}`, { ...common(authorization), hide_secret: true }),
        ),
      );
      if (alert.state !== "resolved" || alert.resolution !== options.resolution) throw error;
      return {
        number: alert.number,
        resolution: options.resolution,
        resolvedAt: alert.resolved_at ?? undefined,
        alreadyResolved: true,
      };
    }
  }

  /**
   * Every page of a list, following the Link header's "next" (page numbers or cursors alike), each page
   * checked, authorised and named like any call. `onPage` returns false to stop there.
   */
  private async paginate<T>(
    what: string,
    schema: z.ZodType<T[]>,
    options: CallOptions | undefined,
    authorize: (
      call: (authorization: string) => Promise<{ items: T[]; next: string | undefined }>,
    ) => Promise<{
      items: T[];
      next: string | undefined;
    }>,
    request: PageRequest,
    onPage: (items: T[]) => boolean = () => true,
  ): Promise<T[]> {
    const all: T[] = [];
    const visited = new Set<string>();
    let url: string | undefined;
    for (let page = 1; ; page++) {
      const label = page === 1 ? what : `${what} (page ${page})`;
      const { items, next } = await authorize(async (authorization) => {
        const answer = await this.callWithHeaders(label, schema, options, () => request(authorization, url));
        return { items: answer.data, next: nextPageUrl(answer.headers.link, this.baseUrl, label) };
      });
      all.push(...items);
      if (!onPage(items) || !next) return all;
      // A server that links a page to itself would keep the sweep going forever.
      if (visited.has(next))
        throw new GithubApiError(`GitHub API ${label}: the next page's link repeats an earlier one`, {
          transient: false,
        });
      visited.add(next);
      url = next;
    }
  }

  /** Runs a call as the App itself, with a JWT auth-app signs (no network: nothing to wait for). */
  private async asApp<T>(options: CallOptions | undefined, call: (authorization: string) => Promise<T>) {
    if (options?.signal?.aborted)
      throw githubApiError("App JWT", options.signal.reason, {
        timeoutMs: this.timeoutMs,
        caller: options.signal,
      });
    const { token } = await this.auth({ type: "app" });
    return call(`bearer ${token}`);
  }

  /**
   * Runs a call with the installation's token. A 401 means GitHub no longer takes the cached token
   * (revoked, App reinstalled): the call is tried once more with a new one. (auth-app's own request hook
   * only retries a 401 within 5 s of a token's creation, sleeping up to 6 s, which a webhook cannot
   * afford, and never replaces an older token; so the token is asked for here.)
   */
  private async asInstallation<T>(
    ref: { installationId: number },
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
    return (
      await this.callWithHeaders(what, schema, options, async () => ({ headers: {}, ...(await send()) }))
    ).data;
  }

  /** The checked answer and its headers (a list's Link); a failure as a GithubApiError naming `what`. */
  private async callWithHeaders<T>(
    what: string,
    schema: z.ZodType<T>,
    options: CallOptions | undefined,
    send: () => Promise<Answer>,
  ): Promise<{ data: T; headers: Record<string, unknown> }> {
    let answer: Answer;
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
    return { data: parsed.data, headers: answer.headers };
  }
}

/** Kept here for callers of the client; defined with the alert record (no Octokit in its imports). */
export { describeAlert };

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
