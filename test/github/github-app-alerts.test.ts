import { generateKeyPairSync } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GithubAlertsUnavailableError, GithubApiError } from "../../lib/errors.js";
import { appPrivateKey } from "../../lib/github/app-private-key.js";
import { type AlertResolution, GithubAppClient } from "../../lib/github/github-app-client.js";
import { SandboxGithubApi } from "../../local/sandbox/sandbox-github-api.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";
import { rejection } from "../helpers/rejection.js";

// The sweep's and the loop-closing calls of GithubAppClient (installations, repositories, open alerts,
// resolving) against the fake GitHub on loopback, which pages, checks tokens and JWTs, and fails as
// asked. A server here may bend the fake's requests or answers to show what another GitHub would do.

const APP_ID = "4343";
const DAY = 24 * 60 * 60_000;
const START = Date.UTC(2025, 2, 1);
const secretOf = (i: number) => `tqs_listed_${String(i).padStart(4, "0")}_secret`;

interface Github {
  url: string;
  api: SandboxGithubApi;
  key: string;
  close(): Promise<void>;
}

/** A fake GitHub; `bend` may rewrite the request (its URL) or wrap the answer first. */
async function startGithub(
  options: { repeatResolution?: "ok"; bend?: (req: IncomingMessage, res: ServerResponse) => void } = {},
): Promise<Github> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const key = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const api = new SandboxGithubApi({
    appId: APP_ID,
    appPrivateKey: key,
    repeatResolution: options.repeatResolution,
  });
  const server: LoopbackServer = await serve((req, res) => {
    options.bend?.(req, res);
    void api.handle(req, res, new URL(req.url ?? "/", "http://x").pathname);
  });
  return { url: server.url, api, key, close: () => server.close() };
}

let gh: Github;
beforeAll(async () => {
  gh = await startGithub();
  seed(gh.api);
});
afterAll(() => gh.close());
afterEach(() => gh.api.recover());

/**
 * Installation 1: the organisation acme, 250 open alerts over two repositories, alert i last updated
 * on day i. Installation 2: the organisation solo, whose App has no organisation-level access.
 * Installations 3 to 130: one user each, so the App's installations take two pages.
 */
function seed(api: SandboxGithubApi) {
  api.addInstallation({ id: 1, account: { login: "acme", type: "Organization" } });
  for (let i = 0; i < 250; i++)
    api.createAlert({
      repository: i % 2 ? "acme/app" : "acme/web",
      secret: secretOf(i),
      secret_type: "github_personal_access_token",
      installation_id: 1,
      created_at: new Date(START + i * DAY).toISOString(),
    });
  api.addInstallation({ id: 2, account: { login: "solo", type: "Organization" }, org_alerts: false });
  for (const repo of ["solo/api", "solo/site"])
    api.createAlert({ repository: repo, secret: `tqs_solo_${repo}`, secret_type: "x", installation_id: 2 });
  for (let id = 3; id <= 130; id++)
    api.addInstallation({ id, account: { login: `user-${id}`, type: "User" } });
}

const client = (on: Github = gh, timeoutMs = 2_000) =>
  new GithubAppClient({
    apiUrl: on.url,
    appId: APP_ID,
    privateKey: appPrivateKey(on.key),
    timeoutMs,
    retryAfterMs: 10,
  });

/** The list calls made since `before` (method, path and query). */
const listCalls = (on: Github, before: number) =>
  on.api.requests.slice(before).filter((r) => r.path.endsWith("/alerts") || r.path.endsWith("/repositories"));

describe("listing open alerts", () => {
  it("lists an organisation's open alerts over several pages, newest first, with no secret", async () => {
    const before = gh.api.requests.length;
    const alerts = await client().listOpenAlerts({ installationId: 1, org: "acme" });
    expect(alerts).toHaveLength(250);
    expect(listCalls(gh, before)).toHaveLength(3);
    expect(alerts[0]).toEqual({
      installationId: 1,
      owner: "acme",
      repo: "app",
      number: 125,
      secretType: "github_personal_access_token",
      updatedAt: new Date(START + 249 * DAY).toISOString().replace(".000", ""),
      htmlUrl: "https://github.com/acme/app/security/secret-scanning/125",
    });
    const times = alerts.map((a) => Date.parse(a.updatedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(alerts.map((a) => `${a.repo}#${a.number}`)).size).toBe(250);
    expect(JSON.stringify(alerts)).not.toContain("tqs_listed_");
  });

  it("stops at updatedSince: only newer alerts, and no page past the first older one", async () => {
    const before = gh.api.requests.length;
    const since = new Date(START + 200 * DAY);
    const alerts = await client().listOpenAlerts({ installationId: 1, org: "acme" }, { updatedSince: since });
    expect(alerts).toHaveLength(50); // days 200 to 249
    expect(alerts.every((a) => Date.parse(a.updatedAt) >= since.getTime())).toBe(true);
    expect(listCalls(gh, before)).toHaveLength(1);

    const older = await client().listOpenAlerts(
      { installationId: 1, org: "acme" },
      { updatedSince: new Date(START + 120 * DAY) },
    );
    expect(older).toHaveLength(130);
  });

  it("lists one repository's alerts", async () => {
    const alerts = await client().listOpenAlerts({ installationId: 1, owner: "acme", repo: "web" });
    expect(alerts).toHaveLength(125);
    expect(alerts.every((a) => a.owner === "acme" && a.repo === "web")).toBe(true);
  });

  it("leaves resolved alerts out", async () => {
    const own = await startGithub();
    try {
      seed(own.api);
      const c = client(own);
      const ref = { installationId: 1, owner: "acme", repo: "web", number: 3 };
      await c.resolveAlert(ref, { resolution: "wont_fix", comment: "test" });
      const alerts = await c.listOpenAlerts({ installationId: 1, owner: "acme", repo: "web" });
      expect(alerts.map((a) => a.number)).not.toContain(3);
      expect(alerts).toHaveLength(124);
    } finally {
      await own.close();
    }
  });

  it("signals an organisation it may not list (403), then lists its repositories one by one", async () => {
    const c = client();
    const error = await rejection(
      c.listOpenAlerts({ installationId: 2, org: "solo" }),
      GithubAlertsUnavailableError,
    );
    expect(error).toMatchObject({ scope: "organization", httpStatus: 403, transient: false });
    expect(error).toBeInstanceOf(GithubApiError);
    expect(error.message).toContain("open alerts of organization solo: HTTP 403 (Resource not accessible");

    const repositories = await c.listInstallationRepositories(2);
    expect(repositories).toEqual([
      { owner: "solo", repo: "api" },
      { owner: "solo", repo: "site" },
    ]);
    const alerts = (
      await Promise.all(repositories.map((r) => c.listOpenAlerts({ installationId: 2, ...r })))
    ).flat();
    expect(alerts.map((a) => `${a.owner}/${a.repo}#${a.number}`)).toEqual(["solo/api#1", "solo/site#1"]);
  });

  it("signals a repository it may not list (404) as unavailable too", async () => {
    const error = await rejection(
      client().listOpenAlerts({ installationId: 2, owner: "acme", repo: "web" }),
      GithubAlertsUnavailableError,
    );
    expect(error).toMatchObject({ scope: "repository", httpStatus: 404 });
  });

  it("does not take a refused installation token, or a rate limit, for an unavailable organisation", async () => {
    const c = client();
    gh.api.fail({ status: 403, only: "/access_tokens" });
    const token = await rejection(c.listOpenAlerts({ installationId: 1, org: "acme" }), GithubApiError);
    expect(token).not.toBeInstanceOf(GithubAlertsUnavailableError);

    const reset = Math.floor(Date.now() / 1000) + 40;
    gh.api.fail({
      status: 403,
      only: "/orgs/",
      message: "API rate limit exceeded for installation ID 1.",
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    const limited = await rejection(c.listOpenAlerts({ installationId: 1, org: "acme" }), GithubApiError);
    expect(limited).not.toBeInstanceOf(GithubAlertsUnavailableError);
    expect(limited.transient).toBe(true);
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(39);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(41);
  });

  it("reads a 429's Retry-After and a secondary rate limit on a later page, naming the page", async () => {
    const c = client();
    // The first page passes; the second is refused.
    let calls = 0;
    const bent = await startGithub({
      bend: (req) => {
        if (req.url?.includes("/secret-scanning/alerts") && ++calls === 2)
          bent.api.fail({ status: 429, retryAfter: 12, only: "/secret-scanning/alerts" });
      },
    });
    try {
      seed(bent.api);
      const error = await rejection(
        client(bent).listOpenAlerts({ installationId: 1, org: "acme" }),
        GithubApiError,
      );
      expect(error).toMatchObject({ transient: true, httpStatus: 429, retryAfterSeconds: 12 });
      expect(error.message).toContain("open alerts of organization acme (page 2): HTTP 429");
    } finally {
      await bent.close();
    }

    gh.api.fail({ status: 403, message: "You have exceeded a secondary rate limit", retryAfter: 5 });
    const secondary = await rejection(c.listOpenAlerts({ installationId: 1, org: "acme" }), GithubApiError);
    expect(secondary).toMatchObject({ transient: true, httpStatus: 403, retryAfterSeconds: 5 });
    expect(secondary).not.toBeInstanceOf(GithubAlertsUnavailableError);
  });

  it("retries a 5xx once inside the listing; a lasting one is transient", async () => {
    const c = client();
    await c.listInstallationRepositories(1);
    gh.api.fail({ status: 502, only: "/secret-scanning/alerts" });
    await expect(c.listOpenAlerts({ installationId: 1, org: "acme" })).resolves.toHaveLength(250);
    gh.api.fail({ status: 503, only: "/secret-scanning/alerts" }, 2);
    const error = await rejection(c.listOpenAlerts({ installationId: 1, org: "acme" }), GithubApiError);
    expect(error).toMatchObject({ transient: true, httpStatus: 503 });
  });

  it("takes a new installation token when GitHub refuses the cached one between pages", async () => {
    const c = client();
    await c.listInstallationRepositories(1);
    let calls = 0;
    const bent = await startGithub({
      bend: (req) => {
        if (req.url?.includes("/secret-scanning/alerts") && ++calls === 2)
          bent.api.fail({ status: 401, only: "/secret-scanning/alerts" });
      },
    });
    try {
      seed(bent.api);
      await expect(client(bent).listOpenAlerts({ installationId: 1, org: "acme" })).resolves.toHaveLength(
        250,
      );
      expect(bent.api.requests.filter((r) => r.path.endsWith("/access_tokens"))).toHaveLength(2);
    } finally {
      await bent.close();
    }
  });

  it("drops the secret even from a GitHub that sends it (one that ignores hide_secret)", async () => {
    let stripped = 0;
    const bent = await startGithub({
      bend: (req) => {
        const url = req.url ?? "";
        req.url = url.replace(/hide_secret=true&?/, "");
        if (req.url !== url) stripped++;
      },
    });
    try {
      seed(bent.api);
      const before = bent.api.requests.length;
      const alerts = await client(bent).listOpenAlerts({ installationId: 1, org: "acme" });
      expect(alerts).toHaveLength(250);
      // The first page's; the Link headers carry the bent query on to the others.
      expect(stripped).toBe(1);
      expect(bent.api.requests.length - before).toBe(4); // the token and three pages
      expect(JSON.stringify(alerts)).not.toContain("tqs_listed_");
      expect(Object.keys(alerts[0] ?? {}).sort()).toEqual(
        ["htmlUrl", "installationId", "number", "owner", "repo", "secretType", "updatedAt"].sort(),
      );
    } finally {
      await bent.close();
    }
  });

  it("follows numbered pages from a GitHub that does not page by cursor", async () => {
    const pages: string[] = [];
    const bent = await startGithub({
      bend: (req) => {
        if (!req.url?.includes("/secret-scanning/alerts")) return;
        req.url = req.url.replace(/([?&])after=[^&]*&?/, "$1");
        pages.push(new URL(req.url, "http://x").searchParams.get("page") ?? "1");
      },
    });
    try {
      seed(bent.api);
      const alerts = await client(bent).listOpenAlerts({ installationId: 1, org: "acme" });
      expect(alerts).toHaveLength(250);
      expect(pages).toEqual(["1", "2", "3"]);
    } finally {
      await bent.close();
    }
  });

  it("refuses a next page on another address (the token would go there)", async () => {
    const bent = await startGithub({
      bend: (_req, res) => {
        const setHeader = res.setHeader.bind(res);
        res.setHeader = (name, value) =>
          setHeader(
            name,
            name === "link"
              ? String(value).replace(/http:\/\/127\.0\.0\.1:\d+/g, "http://evil.example")
              : value,
          );
      },
    });
    try {
      seed(bent.api);
      const error = await rejection(
        client(bent).listOpenAlerts({ installationId: 1, org: "acme" }),
        GithubApiError,
      );
      expect(error.transient).toBe(false);
      expect(error.message).toContain("next page's link is not on the API's address");
    } finally {
      await bent.close();
    }
  });
});

describe("installations and their repositories", () => {
  it("lists every installation as the App (its JWT, no installation token), over two pages", async () => {
    const before = gh.api.requests.length;
    const installations = await client().listInstallations();
    expect(installations).toHaveLength(130);
    expect(installations[0]).toEqual({
      id: 1,
      account: { login: "acme", type: "Organization" },
      suspended: false,
    });
    expect(installations.at(-1)).toEqual({
      id: 130,
      account: { login: "user-130", type: "User" },
      suspended: false,
    });
    const calls = gh.api.requests.slice(before).map((r) => r.path);
    expect(calls).toEqual(["/app/installations", "/app/installations"]);
  });

  it("fails permanently, naming the call, when GitHub refuses the App's JWT", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const c = new GithubAppClient({
      apiUrl: gh.url,
      appId: APP_ID,
      privateKey: appPrivateKey(other.export({ type: "pkcs1", format: "pem" }).toString()),
    });
    const error = await rejection(c.listInstallations(), GithubApiError);
    expect(error).toMatchObject({ transient: false, httpStatus: 401 });
    expect(error.message).toContain("installations of the App: HTTP 401");
    expect(error.message).not.toMatch(/eyJ/);
  });

  it("lists an installation's repositories over several pages", async () => {
    const repositories = Array.from({ length: 120 }, (_, i) => `many/r${String(i).padStart(3, "0")}`);
    gh.api.addInstallation({ id: 500, account: { login: "many" }, repositories });
    const before = gh.api.requests.length;
    const listed = await client().listInstallationRepositories(500);
    expect(listed.map((r) => `${r.owner}/${r.repo}`)).toEqual(repositories);
    expect(listCalls(gh, before)).toHaveLength(2);
  });
});

describe("resolving an alert", () => {
  const ref = { installationId: 1, owner: "acme", repo: "app", number: 7 };
  const comment = "Tourniquet revoked this token (leak lk_123) and notified its owner.";

  it("resolves it with the resolution and comment, then takes a repeat as done", async () => {
    const c = client();
    const first = await c.resolveAlert(ref, { resolution: "revoked", comment });
    expect(first).toEqual({
      number: 7,
      resolution: "revoked",
      resolvedAt: expect.stringMatching(/Z$/),
      alreadyResolved: false,
    });
    expect(gh.api.state.inspect(gh.api.state.find("acme/app", 7) as never)).toMatchObject({
      state: "resolved",
      resolution: "revoked",
      resolution_comment: comment,
      resolved_by: "tourniquet[bot]",
    });
    // GitHub answers 400 to an unchanged resolution: the alert as it stands says it is done.
    const again = await c.resolveAlert(ref, { resolution: "revoked", comment });
    expect(again).toMatchObject({ alreadyResolved: true, resolvedAt: first.resolvedAt });
  });

  it("takes a GitHub that answers 200 to the repeat as done too", async () => {
    const lenient = await startGithub({ repeatResolution: "ok" });
    try {
      seed(lenient.api);
      const c = client(lenient);
      await c.resolveAlert(ref, { resolution: "revoked", comment });
      await expect(c.resolveAlert(ref, { resolution: "revoked", comment })).resolves.toMatchObject({
        resolution: "revoked",
      });
      expect(lenient.api.state.find("acme/app", 7)?.resolution).toBe("revoked");
    } finally {
      await lenient.close();
    }
  });

  it("fails permanently (422) for a resolution GitHub does not take, changing nothing", async () => {
    const other = { ...ref, number: 8 };
    const error = await rejection(
      client().resolveAlert(other, { resolution: "pattern_edited" as AlertResolution, comment }),
      GithubApiError,
    );
    expect(error).toMatchObject({ transient: false, httpStatus: 422 });
    expect(error.message).toContain("resolving alert acme/app#8: HTTP 422");
    expect(gh.api.state.find("acme/app", 8)?.state).toBe("open");
  });

  it("does not take an alert resolved otherwise for done when the resolution is refused", async () => {
    const c = client();
    const other = { ...ref, number: 9 };
    await c.resolveAlert(other, { resolution: "false_positive", comment: "not ours" });
    gh.api.fail({ status: 400, only: "/secret-scanning/alerts/9" });
    const error = await rejection(c.resolveAlert(other, { resolution: "revoked", comment }), GithubApiError);
    expect(error).toMatchObject({ httpStatus: 400, transient: false });
  });

  it("reads a rate limit off the PATCH, and retries a 5xx once", async () => {
    const c = client();
    const other = { ...ref, number: 11 };
    gh.api.fail({ status: 429, retryAfter: 30, only: "/secret-scanning/alerts/11" });
    const error = await rejection(c.resolveAlert(other, { resolution: "revoked", comment }), GithubApiError);
    expect(error).toMatchObject({ transient: true, retryAfterSeconds: 30 });
    expect(error.message).not.toMatch(/tqs_listed_|ghs_|eyJ/);

    gh.api.fail({ status: 502, only: "/secret-scanning/alerts/11" });
    await expect(c.resolveAlert(other, { resolution: "revoked", comment })).resolves.toMatchObject({
      alreadyResolved: false,
    });
  });

  it("keeps the secret out of what it returns, though GitHub's PATCH answer carries it", async () => {
    const other = { ...ref, number: 12 };
    const resolved = await client().resolveAlert(other, { resolution: "used_in_tests", comment });
    expect(JSON.stringify(resolved)).not.toContain("tqs_listed_");
  });
});
