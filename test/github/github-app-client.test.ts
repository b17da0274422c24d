import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, GithubApiError } from "../../lib/errors.js";
import { appPrivateKey } from "../../lib/github/app-jwt.js";
import { type AlertRef, GithubAppClient } from "../../lib/github/github-app-client.js";
import { FAKE_APP_ID, type FakeGithubApi, startFakeGithubApi } from "../helpers/fake-github-api.js";
import { rejection } from "../helpers/rejection.js";

// The App's REST calls against a loopback GitHub that really checks the App JWT and installation
// tokens, and that can fail the way GitHub does.

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

const client = (options: { appKey?: string; appId?: string; timeoutMs?: number } = {}) =>
  new GithubAppClient({
    apiUrl: gh.url,
    appId: options.appId ?? FAKE_APP_ID,
    privateKey: appPrivateKey(options.appKey ?? gh.appPrivateKey),
    timeoutMs: options.timeoutMs ?? 2_000,
  });

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
    const calls = gh.api.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(calls.filter((c) => c.includes("access_tokens"))).toEqual([
      "POST /app/installations/11/access_tokens",
    ]);
    // Later calls reuse the cached token.
    await c.getAlert(ref);
    expect(gh.api.requests.slice(before).filter((r) => r.path.includes("access_tokens"))).toHaveLength(1);
  });

  it("fails permanently (502) when the App JWT is signed with the wrong key, naming the call", async () => {
    const other = (await startFakeGithubApi()).appPrivateKey;
    const error = await rejection(client({ appKey: other }).getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: false, httpStatus: 401, status: 502 });
    expect(error.message).toContain("installation token for installation 11: HTTP 401");
  });

  it("fails permanently on 401, 403 and 404 from GitHub, without the secret in the message", async () => {
    const c = client();
    await c.getAlert(ref); // the installation token is cached: the faults hit the alert call
    for (const status of [401, 403, 404]) {
      // A 401 is tried once more with a fresh token; GitHub refuses that one too.
      gh.api.fail({ status, only: "/secret-scanning/" }, status === 401 ? 2 : 1);
      const error = await rejection(c.getAlert(ref), GithubApiError);
      expect(error).toMatchObject({ transient: false, httpStatus: status, status: 502 });
      expect(error.message).toContain(`alert acme/app#${ref.number}: HTTP ${status}`);
      expect(error.message).not.toContain(SECRET);
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
    gh.api.fail({ status: 401 }, 1);
    await expect(c.getAlert(ref)).resolves.toMatchObject({ secret: SECRET });
    expect(gh.api.requests.slice(before).map((r) => r.method + r.path.replace(/\d+/g, "N"))).toEqual([
      "GET/repos/acme/app/secret-scanning/alerts/N",
      "POST/app/installations/N/access_tokens",
      "GET/repos/acme/app/secret-scanning/alerts/N",
    ]);
  });

  it("treats 429 as transient and reads its Retry-After", async () => {
    const c = client();
    await c.getAlert(ref);
    gh.api.fail({ status: 429, retryAfter: 7 });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true, status: 503, httpStatus: 429, retryAfterSeconds: 7 });
  });

  it("treats a 403 with x-ratelimit-remaining 0 as a rate limit, waiting until x-ratelimit-reset", async () => {
    const c = client();
    await c.getAlert(ref);
    const reset = Math.floor(Date.now() / 1000) + 30;
    gh.api.fail({
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error.transient).toBe(true);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(31);
  });

  it.each([500, 502, 503])("treats %i as transient", async (status) => {
    const c = client();
    await c.getAlert(ref);
    gh.api.fail({ status });
    const error = await rejection(c.listAlertLocations(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true, status: 503, httpStatus: status });
    expect(error.message).toContain(`locations of alert acme/app#${ref.number}: HTTP ${status}`);
  });

  it("gives up on a call GitHub does not answer in time, as transient", async () => {
    const c = client({ timeoutMs: 200 });
    await c.getAlert(ref);
    gh.api.fail({ status: 200, delayMs: 1_000 });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true, status: 503 });
    expect(error.message).toContain("no answer within 200 ms");
  });

  it("reports an unreachable GitHub as transient", async () => {
    const down = await startFakeGithubApi();
    await down.close();
    const c = new GithubAppClient({
      apiUrl: down.url,
      appId: FAKE_APP_ID,
      privateKey: appPrivateKey(down.appPrivateKey),
    });
    const error = await rejection(c.getAlert(ref), GithubApiError);
    expect(error).toMatchObject({ transient: true });
    expect(error.message).toMatch(/network error/);
  });

  it("sends GitHub's Accept and API version headers (the fake refuses calls without them)", async () => {
    const c = client();
    await expect(c.getAlert(ref)).resolves.toBeDefined();
    // A client that left them out is refused by the fake: proven by calling it raw.
    const raw = await fetch(`${gh.url}/repos/acme/app/secret-scanning/alerts/${ref.number}`);
    expect(raw.status).toBe(400);
  });

  it("refuses plain http to anything but loopback", () => {
    expect(
      () =>
        new GithubAppClient({
          apiUrl: "http://github.example.com",
          appId: "1",
          privateKey: appPrivateKey(gh.appPrivateKey),
        }),
    ).toThrow(ConfigError);
  });
});
