import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, GithubApiError } from "../../lib/errors.js";
import { appPrivateKey } from "../../lib/github/app-private-key.js";
import { type AlertRef, GithubAppClient } from "../../lib/github/github-app-client.js";
import { FAKE_APP_ID, type FakeGithubApi, startFakeGithubApi } from "../helpers/fake-github-api.js";
import { rejection } from "../helpers/rejection.js";

// The App's REST calls against a loopback GitHub that really checks the App JWT (signed by
// @octokit/auth-app) and installation tokens, and that can fail the way GitHub does.

const SECRET = "tqs_leakedsecret0000000000000000000000";
let gh: FakeGithubApi;
let ref: AlertRef;

beforeAll(async () => {
  gh = await startFakeGithubApi();
  const alert = gh.api.createAlert({
    repository: "acme/app",
    secret: SECRET,
    secret_type: "tourniquet_sandbox_token",
    installation_id: 11,
  });
  ref = { installationId: 11, owner: "acme", repo: "app", number: alert.number };
});
afterAll(() => gh.close());
afterEach(() => gh.api.recover());

const client = (options: { appKey?: string; appId?: string; timeoutMs?: number; apiUrl?: string } = {}) =>
  new GithubAppClient({
    apiUrl: options.apiUrl ?? gh.url,
    appId: options.appId ?? FAKE_APP_ID,
    privateKey: appPrivateKey(options.appKey ?? gh.appPrivateKey),
    timeoutMs: options.timeoutMs ?? 2_000,
    retryAfterMs: 10,
  });

/** The GitHub calls made since `before`, numbers replaced by N. */
const callsSince = (before: number) =>
  gh.api.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/\d+/g, "N")}`);
const TOKEN_CALL = "POST /app/installations/N/access_tokens";
const ALERT_CALL = "GET /repos/acme/app/secret-scanning/alerts/N";

describe("GithubAppClient", () => {
  it("fetches the alert with its secret and the locations, with one installation token", async () => {
    const c = client();
    const before = gh.api.requests.length;
    const [alert, locations] = await Promise.all([c.getAlert(ref), c.listAlertLocations(ref)]);
    expect(alert).toEqual({
      number: ref.number,
      secret: SECRET,
      secretType: "tourniquet_sandbox_token",
      htmlUrl: `https://github.com/acme/app/security/secret-scanning/${ref.number}`,
      state: "open",
    });
    expect(locations).toEqual([expect.objectContaining({ type: "commit" })]);
    expect(callsSince(before).filter((c) => c === TOKEN_CALL)).toHaveLength(1);
    // Later calls reuse the cached token.
    await c.getAlert(ref);
    expect(callsSince(before).filter((c) => c === TOKEN_CALL)).toHaveLength(1);
  });

  it("fetches the installation token once for many concurrent calls", async () => {
    const c = client();
    const before = gh.api.requests.length;
    const alerts = await Promise.all(Array.from({ length: 8 }, () => c.getAlert(ref)));
    expect(new Set(alerts.map((a) => a.secret))).toEqual(new Set([SECRET]));
    expect(callsSince(before).filter((c) => c === TOKEN_CALL)).toHaveLength(1);
  });

  it("does not keep a failed token request: the next call asks again", async () => {
    const c = client();
    gh.api.fail({ status: 403, only: "/access_tokens" });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error.message).toContain("installation token for installation 11: HTTP 403");
    await expect(c.getAlert(ref)).resolves.toMatchObject({ secret: SECRET });
  });

  it("fails permanently (502) when the App JWT is signed with the wrong key, naming the call", async () => {
    const other = await startFakeGithubApi();
    await other.close();
    const error = await rejection(client({ appKey: other.appPrivateKey }).getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: false, httpStatus: 401, status: 502 });
    expect(error.message).toContain("installation token for installation 11: HTTP 401");
  });

  it("sends the App id as the JWT's issuer: another App's id is refused", async () => {
    const error = await rejection(client({ appId: "9999" }).getAlert(ref), GithubApiError);
    expect(error.message).toMatch(/installation token for installation 11: HTTP 401 \(.*Issuer/);
  });

  it("fails permanently on 401, 403 and 404 from GitHub, without a token or the secret in the message", async () => {
    const c = client();
    await c.getAlert(ref); // the installation token is cached: the faults hit the alert call
    for (const status of [401, 403, 404]) {
      // A 401 is tried once more with a fresh token; GitHub refuses that one too.
      gh.api.fail({ status, only: "/secret-scanning/" }, status === 401 ? 2 : 1);
      const error = await rejection(c.getAlert(ref), GithubApiError);
      expect(error).toMatchObject({ transient: false, httpStatus: status, status: 502 });
      expect(error.message).toContain(`alert acme/app#${ref.number}: HTTP ${status}`);
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toMatch(/ghs_|eyJ/); // no installation token, no JWT
      expect(JSON.stringify(error)).not.toMatch(/ghs_|eyJ/);
      gh.api.recover();
    }
  });

  it("answers 404 for an alert of another installation's repository", async () => {
    const error = await rejection(client().getAlert({ ...ref, installationId: 12 }), GithubApiError);
    expect(error).toMatchObject({ transient: false, httpStatus: 404 });
  });

  it("takes a new installation token once when GitHub refuses the cached one", async () => {
    const c = client();
    await c.getAlert(ref);
    const before = gh.api.requests.length;
    gh.api.fail({ status: 401, only: "/secret-scanning/" }, 1);
    await expect(c.getAlert(ref)).resolves.toMatchObject({ secret: SECRET });
    expect(callsSince(before)).toEqual([ALERT_CALL, TOKEN_CALL, ALERT_CALL]);
  });

  it("takes one new token when concurrent calls are refused the same cached one", async () => {
    const c = client();
    await c.getAlert(ref);
    const before = gh.api.requests.length;
    gh.api.fail({ status: 401, only: "/secret-scanning/" }, 3);
    await Promise.all([c.getAlert(ref), c.getAlert(ref), c.listAlertLocations(ref)]);
    expect(callsSince(before).filter((c) => c === TOKEN_CALL)).toHaveLength(1);
  });

  it("treats 429 as transient, reads its Retry-After, and leaves the wait to the caller", async () => {
    const c = client();
    await c.getAlert(ref);
    const before = gh.api.requests.length;
    gh.api.fail({ status: 429, retryAfter: 7 });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true, status: 503, httpStatus: 429, retryAfterSeconds: 7 });
    expect(callsSince(before)).toEqual([ALERT_CALL]);
  });

  it("treats a 403 with x-ratelimit-remaining 0 as a rate limit, waiting until x-ratelimit-reset", async () => {
    const c = client();
    await c.getAlert(ref);
    const reset = Math.floor(Date.now() / 1000) + 30;
    gh.api.fail({
      status: 403,
      message: "API rate limit exceeded for installation ID 11.",
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    const started = Date.now();
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(Date.now() - started).toBeLessThan(1_000); // Octokit did not sleep it out
    expect(error.transient).toBe(true);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(31);
  });

  it("treats a secondary rate limit as transient", async () => {
    const c = client();
    await c.getAlert(ref);
    gh.api.fail({ status: 403, message: "You have exceeded a secondary rate limit", retryAfter: 3 });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true, status: 503, httpStatus: 403, retryAfterSeconds: 3 });
  });

  it("retries a 5xx once inside the call", async () => {
    const c = client();
    await c.getAlert(ref);
    const before = gh.api.requests.length;
    gh.api.fail({ status: 502 });
    await expect(c.listAlertLocations(ref)).resolves.toHaveLength(1);
    expect(callsSince(before)).toHaveLength(2);
  });

  it.each([500, 502, 503])("treats a lasting %i as transient", async (status) => {
    const c = client();
    await c.getAlert(ref);
    gh.api.fail({ status }, 2);
    const error = await rejection(c.listAlertLocations(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true, status: 503, httpStatus: status });
    expect(error.message).toContain(`locations of alert acme/app#${ref.number}: HTTP ${status}`);
  });

  it("gives up on a call GitHub does not answer in time, as transient", async () => {
    const c = client({ timeoutMs: 200 });
    await c.getAlert(ref);
    gh.api.fail({ status: 200, delayMs: 1_000 }, 2);
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true, status: 503 });
    expect(error.message).toContain("no answer within 200 ms");
  });

  it("stops at the caller's signal, even while the installation token is on its way", async () => {
    const c = client({ timeoutMs: 5_000 });
    gh.api.fail({ status: 503, delayMs: 1_000, only: "/access_tokens" });
    const started = Date.now();
    const error = await rejection(c.getAlert(ref, { signal: AbortSignal.timeout(100) }), GithubApiError);
    expect(Date.now() - started).toBeLessThan(600);
    expect(error).toMatchObject({ transient: true, status: 503 });
    expect(error.message).toBe(
      "GitHub API installation token for installation 11: out of time for this delivery",
    );

    await c.getAlert(ref);
    gh.api.fail({ status: 503, delayMs: 1_000, only: "/secret-scanning/" });
    const late = await rejection(c.getAlert(ref, { signal: AbortSignal.timeout(100) }), GithubApiError);
    expect(late.message).toBe(`GitHub API alert acme/app#${ref.number}: out of time for this delivery`);
  });

  it("reports an unreachable GitHub as transient", async () => {
    const down = await startFakeGithubApi();
    await down.close();
    const c = client({ apiUrl: down.url, appKey: down.appPrivateKey });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true });
    expect(error.message).toMatch(/installation token for installation 11: network error \(ECONNREFUSED\)/);
  });

  it("sends GitHub's Accept and API version headers (the fake refuses calls without them)", async () => {
    await expect(client().getAlert(ref)).resolves.toBeDefined();
    const raw = await fetch(`${gh.url}/repos/acme/app/secret-scanning/alerts/${ref.number}`);
    expect(raw.status).toBe(400);
  });

  it("works under a GHES-style base path, with or without a trailing slash", async () => {
    const { serve } = await import("../helpers/loopback-server.js");
    const ghes = await serve((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (!path.startsWith("/api/v3/")) return res.writeHead(404).end();
      void gh.api.handle(req, res, path.slice("/api/v3".length));
    });
    try {
      const c = client({ apiUrl: `${ghes.url}/api/v3/` });
      await expect(c.getAlert(ref)).resolves.toMatchObject({ secret: SECRET });
    } finally {
      await ghes.close();
    }
  });

  it("refuses plain http to anything but loopback", () => {
    expect(() => client({ apiUrl: "http://github.example.com" })).toThrow(ConfigError);
    expect(() => client({ apiUrl: "not a url" })).toThrow(/github_app\.api_url/);
  });
});
