import { generateKeyPairSync } from "node:crypto";
import { createAppAuth } from "@octokit/auth-app";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SandboxGithubApi } from "../../../local/sandbox/sandbox-github-api.js";
import { type LoopbackServer, serve } from "../../helpers/loopback-server.js";

// The fake GitHub's secret scanning endpoints, spoken to as raw HTTP: the shapes, filters, paging,
// authentication and validation GitHub documents, which the App's client (test/github) relies on.

const APP_ID = "777";
const HEADERS = { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" };
let api: SandboxGithubApi;
let server: LoopbackServer;
let appJwt: string;
const tokens = new Map<number, string>();

beforeAll(async () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  api = new SandboxGithubApi({ appId: APP_ID, appPrivateKey: pem });
  server = await serve((req, res) => void api.handle(req, res, new URL(req.url ?? "/", "http://x").pathname));
  appJwt = (await createAppAuth({ appId: Number(APP_ID), privateKey: pem })({ type: "app" })).token;

  api.addInstallation({
    id: 1,
    account: { login: "acme", type: "Organization" },
    repositories: ["acme/empty"],
  });
  api.addInstallation({ id: 2, account: { login: "solo", type: "Organization" }, org_alerts: false });
  for (let i = 0; i < 5; i++) {
    api.createAlert({
      repository: i < 3 ? "acme/app" : "acme/web",
      secret: `tqs_value_${i}`,
      secret_type: i === 4 ? "slack_api_token" : "github_personal_access_token",
      installation_id: 1,
      created_at: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
    });
  }
  api.createAlert({ repository: "solo/app", secret: "solo-secret", secret_type: "x", installation_id: 2 });
});
afterAll(() => server.close());
afterEach(() => api.recover());

async function installationToken(id: number): Promise<string> {
  const known = tokens.get(id);
  if (known) return known;
  const res = await call("POST", `/app/installations/${id}/access_tokens`, { auth: `Bearer ${appJwt}` });
  const token = ((await res.json()) as { token: string }).token;
  tokens.set(id, token);
  return token;
}

async function call(method: string, path: string, options: { auth?: string; body?: unknown } = {}) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { ...HEADERS, ...(options.auth ? { authorization: options.auth } : {}) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

const asInstallation = async (id: number, method: string, path: string, body?: unknown) =>
  call(method, path, { auth: `token ${await installationToken(id)}`, body });

/** The `rel` → URL pairs of a Link header. */
function links(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (res.headers.get("link") ?? "").matchAll(/<([^>]+)>; rel="(\w+)"/g))
    out[m[2] as string] = m[1] as string;
  return out;
}

describe("installations and their repositories", () => {
  it("lists installations to the App's JWT only, paged with Link headers", async () => {
    expect((await call("GET", "/app/installations")).status).toBe(401);
    expect((await asInstallation(1, "GET", "/app/installations")).status).toBe(401);
    const first = await call("GET", "/app/installations?per_page=1", { auth: `Bearer ${appJwt}` });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual([
      expect.objectContaining({
        id: 1,
        account: expect.objectContaining({ login: "acme", type: "Organization" }),
        target_type: "Organization",
        permissions: { secret_scanning_alerts: "write", metadata: "read" },
        suspended_at: null,
      }),
    ]);
    const next = links(first).next as string;
    expect(links(first).last).toContain("page=2");
    const second = await fetch(next, { headers: { ...HEADERS, authorization: `Bearer ${appJwt}` } });
    expect(((await second.json()) as { id: number }[]).map((i) => i.id)).toEqual([2]);
    expect(links(second).next).toBeUndefined();
  });

  it("lists an installation's repositories to its token only", async () => {
    expect((await call("GET", "/installation/repositories", { auth: `Bearer ${appJwt}` })).status).toBe(401);
    const res = await asInstallation(1, "GET", "/installation/repositories");
    const body = (await res.json()) as { total_count: number; repositories: { full_name: string }[] };
    expect(body.total_count).toBe(3);
    expect(body.repositories.map((r) => r.full_name)).toEqual(["acme/app", "acme/empty", "acme/web"]);
    expect(body.repositories[0]).toMatchObject({ name: "app", owner: { login: "acme" } });
  });
});

describe("alert listings", () => {
  it("lists an organisation's alerts with their repository, newest first, with the secret unless hidden", async () => {
    const res = await asInstallation(1, "GET", "/orgs/acme/secret-scanning/alerts?state=open");
    const alerts = (await res.json()) as Record<string, unknown>[];
    expect(alerts.map((a) => (a.repository as { full_name: string }).full_name)).toEqual([
      "acme/web",
      "acme/web",
      "acme/app",
      "acme/app",
      "acme/app",
    ]);
    expect(alerts[0]).toMatchObject({ state: "open", secret: "tqs_value_4", secret_type: "slack_api_token" });
    const hidden = await asInstallation(1, "GET", "/orgs/acme/secret-scanning/alerts?hide_secret=true");
    expect(JSON.stringify(await hidden.json())).not.toContain("tqs_value_");
  });

  it("filters by secret type and sorts ascending when asked", async () => {
    const res = await asInstallation(
      1,
      "GET",
      "/repos/acme/app/secret-scanning/alerts?secret_type=github_personal_access_token&direction=asc",
    );
    expect(((await res.json()) as { number: number }[]).map((a) => a.number)).toEqual([1, 2, 3]);
  });

  it("pages by number with rel=next and rel=last", async () => {
    const first = await asInstallation(1, "GET", "/orgs/acme/secret-scanning/alerts?per_page=2");
    expect(await first.json()).toHaveLength(2);
    expect(links(first).next).toMatch(/[?&]page=2(&|$)/);
    expect(links(first).last).toMatch(/[?&]page=3(&|$)/);
    expect(links(first).next).toContain("per_page=2");
  });

  it("pages by cursor from an empty `after`, and an alert resolved meanwhile shifts nothing", async () => {
    const first = await asInstallation(
      1,
      "GET",
      "/orgs/acme/secret-scanning/alerts?per_page=2&state=open&after=",
    );
    const page1 = (await first.json()) as { number: number; repository: { full_name: string } }[];
    const next = links(first).next as string;
    expect(next).toMatch(/after=[A-Za-z0-9_-]+/);
    expect(links(first).last).toBeUndefined();
    // The first listed alert is resolved before the next page is read.
    const gone = page1[0] as { number: number; repository: { full_name: string } };
    await asInstallation(
      1,
      "PATCH",
      `/repos/${gone.repository.full_name}/secret-scanning/alerts/${gone.number}`,
      {
        state: "resolved",
        resolution: "wont_fix",
      },
    );
    const token = await installationToken(1);
    const second = await fetch(next, { headers: { ...HEADERS, authorization: `token ${token}` } });
    const page2 = (await second.json()) as { number: number; repository: { full_name: string } }[];
    expect(page2).toHaveLength(2);
    expect(page2.map((a) => `${a.repository.full_name}#${a.number}`)).toEqual(["acme/app#3", "acme/app#2"]);
    // Put it back for the other tests.
    await asInstallation(
      1,
      "PATCH",
      `/repos/${gone.repository.full_name}/secret-scanning/alerts/${gone.number}`,
      {
        state: "open",
      },
    );
  });

  it("refuses an organisation listing without organisation access (403), and another organisation (404)", async () => {
    const res = await asInstallation(2, "GET", "/orgs/solo/secret-scanning/alerts");
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ message: "Resource not accessible by integration" });
    expect((await asInstallation(2, "GET", "/repos/solo/app/secret-scanning/alerts")).status).toBe(200);
    expect((await asInstallation(1, "GET", "/orgs/solo/secret-scanning/alerts")).status).toBe(404);
    expect((await asInstallation(1, "GET", "/repos/solo/app/secret-scanning/alerts")).status).toBe(404);
  });

  it("answers 422 for an unknown state, sort or cursor", async () => {
    for (const query of ["state=closed", "sort=name", "after=not-a-cursor"])
      expect((await asInstallation(1, "GET", `/repos/acme/app/secret-scanning/alerts?${query}`)).status).toBe(
        422,
      );
  });

  it("applies /_faults to the listings, with the headers and message asked for", async () => {
    const fault = await call("POST", "/_faults", {
      body: {
        status: 403,
        only: "/secret-scanning/alerts",
        message: "You have exceeded a secondary rate limit",
        headers: { "x-ratelimit-remaining": "0" },
        retry_after: 9,
      },
    });
    expect(fault.status).toBe(204);
    // The fault waits for a call it matches.
    expect((await asInstallation(1, "GET", "/installation/repositories")).status).toBe(200);
    const res = await asInstallation(1, "GET", "/orgs/acme/secret-scanning/alerts");
    expect(res.status).toBe(403);
    expect(res.headers.get("retry-after")).toBe("9");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(await res.json()).toMatchObject({ message: "You have exceeded a secondary rate limit" });
  });
});

describe("updating an alert", () => {
  const path = "/repos/acme/web/secret-scanning/alerts/1";

  it("validates the body: state required, resolution from GitHub's list and required to resolve", async () => {
    for (const body of [
      {},
      { state: "closed" },
      { state: "resolved" },
      { state: "resolved", resolution: "pattern_edited" },
      { state: "resolved", resolution: "revoked", resolution_comment: 5 },
      { state: "open", resolution: "revoked" },
    ])
      expect((await asInstallation(1, "PATCH", path, body)).status, JSON.stringify(body)).toBe(422);
    expect(
      (await asInstallation(2, "PATCH", path, { state: "resolved", resolution: "revoked" })).status,
    ).toBe(404);
    expect((await call("PATCH", path, { body: { state: "resolved", resolution: "revoked" } })).status).toBe(
      401,
    );
  });

  it("resolves, shows the resolution in later reads and at /_alerts, and refuses an unchanged one with 400", async () => {
    const body = {
      state: "resolved",
      resolution: "revoked",
      resolution_comment: "Revoked by Tourniquet (leak L1)",
    };
    const res = await asInstallation(1, "PATCH", path, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      number: 1,
      state: "resolved",
      resolution: "revoked",
      resolution_comment: body.resolution_comment,
      resolved_by: { login: "tourniquet[bot]", type: "Bot" },
      resolved_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const read = (await (await asInstallation(1, "GET", path)).json()) as Record<string, unknown>;
    expect(read).toMatchObject({ state: "resolved", resolution: "revoked" });
    expect(read.updated_at).toBe(read.resolved_at);

    const again = await asInstallation(1, "PATCH", path, body);
    expect(again.status).toBe(400);

    const inspected = await call("GET", "/_alerts/acme/web/1");
    const view = await inspected.json();
    expect(view).toMatchObject({
      state: "resolved",
      resolution: "revoked",
      resolution_comment: body.resolution_comment,
      resolved_by: "tourniquet[bot]",
    });
    expect(JSON.stringify(view)).not.toContain("tqs_value_3");
    expect((await call("GET", "/_alerts/acme/web/99")).status).toBe(404);

    // Reopened, it is open again with no resolution.
    await asInstallation(1, "PATCH", path, { state: "open" });
    expect(await (await call("GET", "/_alerts/acme/web/1")).json()).toMatchObject({
      state: "open",
      resolution: null,
      resolved_at: null,
    });
  });

  it("adds installations and alerts through the sandbox routes", async () => {
    const added = await call("POST", "/_installations", {
      body: {
        id: 9,
        account: { login: "octo", type: "User" },
        org_alerts: false,
        repositories: ["octo/dots"],
      },
    });
    expect(added.status).toBe(201);
    expect(api.state.installations.get(9)).toMatchObject({ account: { login: "octo", type: "User" } });
    expect((await call("POST", "/_installations", { body: { id: 0, account: { login: "x" } } })).status).toBe(
      422,
    );
    const alert = await call("POST", "/_alerts", {
      body: { repository: "octo/dots", secret: "s", secret_type: "x", installation_id: 9 },
    });
    expect(alert.status).toBe(201);
    const listed = await asInstallation(9, "GET", "/repos/octo/dots/secret-scanning/alerts");
    expect(await listed.json()).toHaveLength(1);
  });
});
