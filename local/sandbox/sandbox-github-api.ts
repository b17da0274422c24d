import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, verify } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname } from "node:path";
import * as z from "zod";
import {
  newAlertBody,
  newInstallationBody,
  type SandboxAlert,
  SandboxGithubAlerts,
  type SandboxInstallation,
} from "./sandbox-github-alerts.js";
import { credential, GithubFailure, parse, randomToken, readBody, send } from "./sandbox-github-http.js";
import { SandboxGithubTokens, type SandboxTokenPrefix } from "./sandbox-github-tokens.js";

export type { SandboxAlert, SandboxAlertLocation, SandboxInstallation } from "./sandbox-github-alerts.js";

// A local stand-in for the parts of GitHub's REST API a GitHub App uses to act on secret scanning
// alerts, mounted by the local stack at /sandbox/github/api: its installations and installation tokens
// (the App's RS256 JWT is really checked), and the alerts (sandbox-github-alerts.ts): listed, read with
// the secret and locations, resolved. They live in memory; the sandbox fills them with POST /_alerts and
// POST /_installations, and shows what was done to one at GET /_alerts/{owner}/{repo}/{number}.
// POST /_faults makes the next calls fail, to show a GitHub outage or a rate limit.
// Leaked user tokens (sandbox-github-tokens.ts): GET /user answers for them, and the unauthenticated
// POST /credentials/revoke kills them, within its per-hour limit; the local stack's
// POST /sandbox/github/tokens issues one (seedToken).

export const SANDBOX_GITHUB_API_VERSION = "2022-11-28";
const TOKEN_LIFETIME_MS = 60 * 60_000;
const JWT_MAX_LIFETIME_SECONDS = 10 * 60;
const CLOCK_SKEW_SECONDS = 60;
/** 1,000 tokens of up to ~100 characters, quoted. */
const REVOKE_BODY_LIMIT_BYTES = 1024 * 1024;
const DOCS = "https://docs.github.com/rest";

export interface SandboxGithubFault {
  status: number;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number | undefined;
  /** Answer only after this long (to trip client timeouts); the status is sent after it. */
  delayMs?: number | undefined;
  /** More headers, e.g. GitHub's x-ratelimit-remaining / x-ratelimit-reset. */
  headers?: Record<string, string> | undefined;
  /** Only calls whose path contains this fail (e.g. "/secret-scanning/"); any call otherwise. */
  only?: string | undefined;
  /** GitHub's `message` in the answer, e.g. "You have exceeded a secondary rate limit". */
  message?: string | undefined;
}

const seedTokenBody = z.object({
  login: z
    .string()
    .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/)
    .optional(),
  prefix: z.enum(["ghp", "gho", "ghu"]).optional(),
  sso_required: z.boolean().optional(),
});
const faultBody = z.object({
  status: z.int().min(400).max(599),
  times: z.int().min(1).max(100).default(1),
  retry_after: z.int().min(0).max(3600).optional(),
  delay_ms: z.int().min(0).max(30_000).optional(),
  only: z.string().min(1).max(200).optional(),
  message: z.string().min(1).max(200).optional(),
  headers: z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), z.string().max(200)).optional(),
});

/** The App's key pair for the local stack: generated once per data dir, like the partner signing key. */
export function loadSandboxGithubAppKey(path: string): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  return readFileSync(path, "utf8");
}

export class SandboxGithubApi {
  /** The installations and alerts. */
  readonly state: SandboxGithubAlerts;
  /** Every request received (method and path; never a header or a body). */
  readonly requests: { method: string; path: string; at: number }[] = [];
  /** Users' tokens: GET /user and POST /credentials/revoke. */
  readonly userTokens: SandboxGithubTokens;
  private readonly tokens = new Map<string, { installationId: number; expiresAt: number }>();
  private readonly faults: SandboxGithubFault[] = [];
  private readonly appPublicKey: KeyObject;
  private readonly now: () => number;

  constructor(
    private readonly options: {
      appId: string;
      /** The App's private key PEM (its public half checks the App's JWTs). */
      appPrivateKey: string;
      /** Web address of the fake GitHub, for html_url fields. Default https://github.com. */
      webUrl?: string | undefined;
      now?: (() => number) | undefined;
      /** Unauthenticated POST /credentials/revoke calls allowed per hour. Default 60 (github.com). */
      revokeLimitPerHour?: number | undefined;
      /** How resolving an alert again with the same resolution is answered (sandbox-github-alerts.ts). */
      repeatResolution?: "bad_request" | "ok" | undefined;
    },
  ) {
    this.appPublicKey = createPublicKey(createPrivateKey(options.appPrivateKey.replace(/\\n/g, "\n")));
    this.now = options.now ?? Date.now;
    this.userTokens = new SandboxGithubTokens(this.now, options.revokeLimitPerHour);
    this.state = new SandboxGithubAlerts({
      now: this.now,
      webUrl: this.webUrl,
      apiBase: "https://api.github.com",
      repeatResolution: options.repeatResolution,
    });
  }

  get alerts(): SandboxAlert[] {
    return this.state.alerts;
  }

  /** POST /sandbox/github/tokens `{login?, prefix?, sso_required?}` → `{token, login, id}` (for simulate). */
  async seedToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== "POST") throw new GithubFailure(405, "Method Not Allowed");
      const input = parse(await readBody(req), seedTokenBody);
      const issued = this.userTokens.issue({
        login: input.login,
        prefix: input.prefix as SandboxTokenPrefix | undefined,
        ssoRequired: input.sso_required,
      });
      send(res, 201, issued);
    } catch (error) {
      if (error instanceof GithubFailure) return send(res, error.status, { message: error.message });
      send(res, 500, { message: "internal error" });
    }
  }

  private get webUrl(): string {
    return this.options.webUrl ?? "https://github.com";
  }

  createAlert(input: z.input<typeof newAlertBody>): SandboxAlert {
    return this.state.createAlert(input);
  }

  addInstallation(input: z.input<typeof newInstallationBody>): SandboxInstallation {
    return this.state.addInstallation(input);
  }

  /** The next `times` GitHub calls fail with `fault`. */
  fail(fault: SandboxGithubFault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  recover(): void {
    this.faults.length = 0;
  }

  /** The webhook payload GitHub would send for this alert (`secret_scanning_alert`): no secret in it. */
  webhookPayload(alert: SandboxAlert, action = "created") {
    const [owner = "", name = ""] = alert.repository.split("/");
    return {
      action,
      // The REST shape without the secret (webhooks never carry it) and without `state`.
      alert: { ...this.state.alertFields(alert), push_protection_bypassed: false },
      repository: {
        id: 1,
        name,
        full_name: alert.repository,
        private: false,
        html_url: `${this.webUrl}/${alert.repository}`,
        owner: { login: owner, id: 1, type: "Organization" },
      },
      installation: { id: alert.installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" },
      sender: { login: "github", id: 9919, type: "Organization" },
    };
  }

  /** `path` is what follows /sandbox/github/api, e.g. `/app/installations/1/access_tokens`. */
  async handle(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    const path = rawPath.split("?")[0] ?? "";
    const method = req.method ?? "GET";
    try {
      if (path.startsWith("/_")) return await this.sandboxCall(req, res, method, path);
      this.requests.push({ method, path, at: this.now() });
      const at = this.faults.findIndex((f) => f.only === undefined || path.includes(f.only));
      const fault = at < 0 ? undefined : this.faults.splice(at, 1)[0];
      if (fault) {
        if (path === "/credentials/revoke")
          this.userTokens.revokeCalls.push({ at: this.now(), count: 0, status: fault.status });
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        const headers: Record<string, string> = { ...fault.headers };
        if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
        throw new GithubFailure(fault.status, fault.message ?? "Injected sandbox fault", headers);
      }
      if (req.headers["x-github-api-version"] !== SANDBOX_GITHUB_API_VERSION)
        throw new GithubFailure(400, "Unsupported or missing X-GitHub-Api-Version");
      if (!String(req.headers.accept ?? "").includes("application/vnd.github+json"))
        throw new GithubFailure(415, "Accept must include application/vnd.github+json");

      if (method === "GET" && path === "/user") return this.user(req, res);
      if (method === "POST" && path === "/credentials/revoke") return await this.revokeCredentials(req, res);
      const tokenPath = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
      if (method === "POST" && tokenPath) return this.installationToken(req, res, Number(tokenPath[1]));
      if (method === "GET" && path === "/app/installations") {
        this.checkAppJwt(credential(req, "bearer"));
        return this.state.listInstallations(req, res, this.options.appId);
      }
      return await this.alertCall(req, res, method, path);
    } catch (error) {
      if (error instanceof GithubFailure) {
        for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
        return send(res, error.status, {
          message: error.message,
          documentation_url: DOCS,
          ...(error.errors ? { errors: error.errors } : {}),
          ...(error.status === 401 ? { status: "401" } : {}),
        });
      }
      return send(res, 500, { message: "internal error" });
    }
  }

  /** The calls made as an installation: its repositories and its alerts. */
  private async alertCall(req: IncomingMessage, res: ServerResponse, method: string, path: string) {
    const installationId = this.installationOf(req);
    if (method === "GET" && path === "/installation/repositories")
      return this.state.installationRepositories(req, res, installationId);
    const orgList = /^\/orgs\/([^/]+)\/secret-scanning\/alerts$/.exec(path);
    if (method === "GET" && orgList)
      return this.state.listOrgAlerts(req, res, installationId, orgList[1] ?? "");
    const repoList = /^\/repos\/([^/]+)\/([^/]+)\/secret-scanning\/alerts$/.exec(path);
    if (method === "GET" && repoList)
      return this.state.listRepoAlerts(req, res, installationId, `${repoList[1]}/${repoList[2]}`);
    const alertPath = /^\/repos\/([^/]+)\/([^/]+)\/secret-scanning\/alerts\/(\d+)(\/locations)?$/.exec(path);
    if (alertPath && (method === "GET" || (method === "PATCH" && !alertPath[4]))) {
      const [, owner, repo, number, locations] = alertPath;
      const alert = this.state.authorized(installationId, `${owner}/${repo}`, Number(number));
      if (method === "PATCH") return await this.state.update(req, res, alert);
      if (locations) return send(res, 200, alert.locations);
      const hide = new URL(req.url ?? "/", "http://x").searchParams.get("hide_secret") === "true";
      return send(res, 200, this.state.alertJson(alert, hide));
    }
    throw new GithubFailure(404, "Not Found");
  }

  private async sandboxCall(req: IncomingMessage, res: ServerResponse, method: string, path: string) {
    if (method === "POST" && path === "/_alerts") {
      const input = parse(await readBody(req), newAlertBody);
      const alert = this.createAlert(input);
      // The secret is not echoed: the caller has it.
      return send(res, 201, {
        number: alert.number,
        repository: alert.repository,
        installation_id: alert.installationId,
        secret_type: alert.secretType,
        html_url: this.state.alertPage(alert),
        webhook_payload: this.webhookPayload(alert),
      });
    }
    const inspected = /^\/_alerts\/([^/]+)\/([^/]+)\/(\d+)$/.exec(path);
    if (method === "GET" && inspected) {
      const alert = this.state.find(`${inspected[1]}/${inspected[2]}`, Number(inspected[3]));
      if (!alert) throw new GithubFailure(404, "Not Found");
      return send(res, 200, this.state.inspect(alert));
    }
    if (method === "POST" && path === "/_installations") {
      const installation = this.addInstallation(parse(await readBody(req), newInstallationBody));
      return send(res, 201, {
        id: installation.id,
        account: installation.account,
        org_alerts: installation.orgAlerts,
        repositories: installation.repositories,
      });
    }
    if (method === "POST" && path === "/_faults") {
      const fault = parse(await readBody(req), faultBody);
      this.fail(
        {
          status: fault.status,
          retryAfter: fault.retry_after,
          delayMs: fault.delay_ms,
          only: fault.only,
          message: fault.message,
          headers: fault.headers,
        },
        fault.times,
      );
      return send(res, 204, undefined);
    }
    if (method === "DELETE" && path === "/_faults") {
      this.recover();
      return send(res, 204, undefined);
    }
    throw new GithubFailure(404, "Not Found");
  }

  /** GET /user with a user's token: its user; 401 once revoked; 403 when behind SAML SSO. */
  private user(req: IncomingMessage, res: ServerResponse): void {
    const token = credential(req, "token", "bearer");
    const state = token ? this.userTokens.live(token) : undefined;
    if (!state) throw new GithubFailure(401, "Bad credentials");
    const reset = String(Math.floor(this.now() / 1000) + 3600);
    const limits = {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": reset,
    };
    if (state.ssoRequired) {
      throw new GithubFailure(
        403,
        "Resource protected by organization SAML enforcement. You must grant your personal token access to this organization.",
        {
          ...limits,
          "x-github-sso": `required; url=${this.webUrl}/orgs/acme/sso?authorization_request=${randomToken(20)}`,
        },
      );
    }
    for (const [name, value] of Object.entries(limits)) res.setHeader(name, value);
    res.setHeader("x-oauth-scopes", state.scopes);
    send(res, 200, {
      login: state.login,
      id: state.id,
      node_id: Buffer.from(`04:User${state.id}`).toString("base64"),
      type: "User",
      site_admin: false,
      name: `Octo ${state.login}`,
      email: `${state.login}@users.example.test`,
      html_url: `${this.webUrl}/${state.login}`,
    });
  }

  /**
   * POST /credentials/revoke, unauthenticated: 202 `{}`; 403 when authenticated (github.com); 422 for
   * a body that is not 1 to 1,000 strings; 429 with the rate-limit headers past the hour's limit.
   */
  private async revokeCredentials(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const calls = this.userTokens.revokeCalls;
    const window = this.userTokens.revokeWindow();
    const limitHeaders = (remaining: number) => ({
      "x-ratelimit-limit": String(this.userTokens.revokeLimitPerHour),
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-used": String(this.userTokens.revokeLimitPerHour - remaining),
      "x-ratelimit-reset": String(window.reset),
    });
    if (window.remaining === 0) {
      calls.push({ at: this.now(), count: 0, status: 429 });
      throw new GithubFailure(429, "API rate limit exceeded for credentials revocation.", limitHeaders(0));
    }
    let count = 0;
    try {
      if (req.headers.authorization) throw new GithubFailure(403, "Must not be authenticated");
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, REVOKE_BODY_LIMIT_BYTES)) || "null");
      } catch (error) {
        if (error instanceof GithubFailure) throw error;
        throw new GithubFailure(400, "Problems parsing JSON");
      }
      const credentials = (body as { credentials?: unknown } | null)?.credentials;
      if (!Array.isArray(credentials) || credentials.some((c) => typeof c !== "string"))
        throw new GithubFailure(422, "Invalid request.", {}, ["credentials must be an array of strings"]);
      count = credentials.length;
      if (count < 1 || count > 1000)
        throw new GithubFailure(422, "Invalid request.", {}, ["credentials must hold 1 to 1000 items"]);
      this.userTokens.revoke(credentials as string[]);
      calls.push({ at: this.now(), count, status: 202 });
      for (const [name, value] of Object.entries(limitHeaders(window.remaining - 1)))
        res.setHeader(name, value);
      send(res, 202, {});
    } catch (error) {
      if (error instanceof GithubFailure) {
        calls.push({ at: this.now(), count, status: error.status });
        Object.assign(error.headers, limitHeaders(window.remaining - 1));
      }
      throw error;
    }
  }

  private installationToken(req: IncomingMessage, res: ServerResponse, installationId: number): void {
    this.checkAppJwt(credential(req, "bearer"));
    if (this.state.installations.get(installationId)?.suspended)
      throw new GithubFailure(403, "This installation has been suspended");
    const token = `ghs_${randomToken(36)}`;
    const expiresAt = this.now() + TOKEN_LIFETIME_MS;
    this.tokens.set(token, { installationId, expiresAt });
    send(res, 201, {
      token,
      expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
      permissions: { secret_scanning_alerts: "write", metadata: "read" },
      repository_selection: "all",
    });
  }

  /** As GitHub does: RS256 by the App's key, `iss` the App, `exp` in the future and ≤ 10 min after `iat`. */
  private checkAppJwt(jwt: string | undefined): void {
    const parts = jwt?.split(".") ?? [];
    if (parts.length !== 3) throw new GithubFailure(401, "A JSON web token could not be decoded");
    const [head = "", body = "", signature = ""] = parts;
    let header: { alg?: unknown };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(head, "base64url").toString("utf8"));
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      throw new GithubFailure(401, "A JSON web token could not be decoded");
    }
    const signed = verify(
      "sha256",
      Buffer.from(`${head}.${body}`),
      this.appPublicKey,
      Buffer.from(signature, "base64url"),
    );
    if (header.alg !== "RS256" || !signed)
      throw new GithubFailure(401, "A JSON web token could not be decoded");
    if (String(claims.iss) !== this.options.appId)
      throw new GithubFailure(401, "'Issuer' claim ('iss') does not match this App");
    const now = Math.floor(this.now() / 1000);
    const { iat, exp } = claims;
    if (typeof iat !== "number" || typeof exp !== "number")
      throw new GithubFailure(401, "'Issued at' and 'Expiration time' claims are required");
    if (iat > now + CLOCK_SKEW_SECONDS)
      throw new GithubFailure(401, "'Issued at' claim ('iat') must be in the past");
    if (exp <= now) throw new GithubFailure(401, "'Expiration time' claim ('exp') must be in the future");
    if (exp - iat > JWT_MAX_LIFETIME_SECONDS || exp > now + JWT_MAX_LIFETIME_SECONDS)
      throw new GithubFailure(401, "'Expiration time' claim ('exp') is too far in the future");
  }

  /** The installation an installation token stands for; 401 for none, an unknown or an expired one. */
  private installationOf(req: IncomingMessage): number {
    const token = credential(req, "bearer", "token");
    const grant = token ? this.tokens.get(token) : undefined;
    if (!grant || grant.expiresAt <= this.now()) throw new GithubFailure(401, "Bad credentials");
    return grant.installationId;
  }
}
