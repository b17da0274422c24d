import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import { OctokitGithubTokenApi } from "../../../lib/issuers/github/octokit-github-token-api.js";
import { hasValidChecksum } from "../../../local/sandbox/sandbox-github-tokens.js";
import { type FakeGithubApi, startFakeGithubApi } from "../../helpers/fake-github-api.js";

// The Octokit adapter against the local fake GitHub on loopback: GET /user with the token, the
// unauthenticated POST /credentials/revoke, and how each failure becomes an IssuerError.

let github: FakeGithubApi;
let api: OctokitGithubTokenApi;

beforeAll(async () => {
  github = await startFakeGithubApi({ revokeLimitPerHour: 3 });
  api = new OctokitGithubTokenApi({ baseUrl: github.url, timeoutMs: 500 });
});
afterAll(async () => {
  await github?.close();
});
beforeEach(() => {
  github.api.recover();
});

describe("OctokitGithubTokenApi", () => {
  it("reads a live token's user, scopes and rate-limit headers; 401 once it is revoked", async () => {
    const { token, login, id } = github.api.userTokens.issue({ login: "mona" });
    expect(hasValidChecksum(token)).toBe(true);
    await expect(api.user(token)).resolves.toMatchObject({
      kind: "user",
      login,
      id,
      type: "User",
      scopes: "repo, read:org",
    });
    await api.revokeCredentials([token]);
    await expect(api.user(token)).resolves.toEqual({ kind: "bad_credentials" });
    // Unauthenticated, as github.com requires (it answers an authenticated call with 403).
    expect(github.api.userTokens.revokeCalls.at(-1)).toMatchObject({ count: 1, status: 202 });
  });

  it("tells a token behind SAML SSO (403 with X-GitHub-SSO: required)", async () => {
    const { token } = github.api.userTokens.issue({ ssoRequired: true });
    await expect(api.user(token)).resolves.toMatchObject({
      kind: "sso_required",
      sso: expect.stringMatching(/^required; url=/),
    });
  });

  it("maps a rate limit to a transient error with the wait from x-ratelimit-reset, naming no token", async () => {
    const { token } = github.api.userTokens.issue();
    const reset = Math.floor(Date.now() / 1000) + 120;
    github.api.fail({
      status: 403,
      only: "/user",
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    const error = (await api.user(token).catch((e: unknown) => e)) as IssuerError;
    expect(error).toBeInstanceOf(IssuerError);
    expect(error).toMatchObject({ transient: true, httpStatus: 403 });
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(121);
    expect(error.message).not.toContain(token);
  });

  it("maps /credentials/revoke's 422 to a transient error and its per-hour limit to a wait until the reset", async () => {
    const { token } = github.api.userTokens.issue();
    const tooMany = Array.from({ length: 1_001 }, (_, i) => `ghp_${i}`);
    const spammed = (await api.revokeCredentials(tooMany).catch((e: unknown) => e)) as IssuerError;
    expect(spammed).toMatchObject({ transient: true, httpStatus: 422, retryAfterSeconds: 60 });
    // The fake allows 3 calls an hour: the 1st test's call and the 422 count; one more, then 429.
    await api.revokeCredentials([token]);
    const limited = (await api.revokeCredentials([token]).catch((e: unknown) => e)) as IssuerError;
    expect(limited).toMatchObject({ transient: true, httpStatus: 429 });
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(3_600);
    expect(limited.message).not.toContain(token);
  });

  it("gives up on a slow answer after its timeout (transient) and says a 5xx is transient", async () => {
    const { token } = github.api.userTokens.issue();
    github.api.fail({ status: 502, delayMs: 1_000, only: "/user" });
    await expect(api.user(token)).rejects.toMatchObject({
      transient: true,
      message: expect.stringMatching(/no answer within 500 ms/),
    });
    github.api.fail({ status: 503, only: "/user" });
    await expect(api.user(token)).rejects.toMatchObject({ transient: true, httpStatus: 503 });
  });
});
