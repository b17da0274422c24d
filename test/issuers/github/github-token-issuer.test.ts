import { describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import type { GithubTokenApi, UserLookup } from "../../../lib/issuers/github/github-token-api.js";
import { GithubTokenIssuer } from "../../../lib/issuers/github/github-token-issuer.js";

// The GitHub tokens issuer over an in-memory port: what each GET /user answer means, and revocation
// through the batcher (concurrent revokes, one call).

const PAT = "ghp_0123456789abcdefghijABCDEFGHIJ0123ab";
const FINE = `github_pat_11ABCDEFG0123456789abc_${"x".repeat(59)}`;

class InMemoryGithub implements GithubTokenApi {
  answers = new Map<string, UserLookup | IssuerError>();
  userCalls = 0;
  revokeCalls: string[][] = [];
  async user(token: string): Promise<UserLookup> {
    this.userCalls++;
    const answer = this.answers.get(token) ?? { kind: "bad_credentials" };
    if (answer instanceof IssuerError) {
      this.answers.delete(token);
      throw answer;
    }
    return answer;
  }
  async revokeCredentials(credentials: readonly string[]): Promise<void> {
    this.revokeCalls.push([...credentials]);
    for (const token of credentials) this.answers.set(token, { kind: "bad_credentials" });
  }
}

const octocat: UserLookup = {
  kind: "user",
  login: "octocat",
  id: 583231,
  type: "User",
  name: "The Octocat",
  email: "octocat@github.example",
  scopes: "repo, user",
};

function setup() {
  const api = new InMemoryGithub();
  const issuer = new GithubTokenIssuer({
    name: "github",
    api,
    retry: { attempts: 3, baseMs: 1, maxDelayMs: 50 },
    batch: { quietMs: 5, maxWaitMs: 50 },
  });
  return { api, issuer };
}

describe("GithubTokenIssuer.verify", () => {
  it("reads a live token's user: active, key id from login and id, owner and evidence, never the token", async () => {
    const { api, issuer } = setup();
    api.answers.set(PAT, { ...octocat, sso: "partial-results; organizations=21955855" });
    const verification = await issuer.verify({ token: PAT, type: "github_personal_access_token" });
    expect(verification).toMatchObject({
      status: "active",
      keyId: expect.stringMatching(/^github:octocat#583231:ghp:[0-9a-f]{8}$/),
      owner: { id: "octocat", email: "octocat@github.example", name: "The Octocat" },
      evidence: {
        login: "octocat",
        id: 583231,
        type: "User",
        token_kind: "ghp",
        scopes: "repo, user",
        sso: "partial-results; organizations=21955855",
      },
    });
    expect(JSON.stringify(verification)).not.toContain(PAT);
  });

  it("calls a 401 inactive", async () => {
    const { issuer } = setup();
    await expect(issuer.verify({ token: PAT, type: "github_personal_access_token" })).resolves.toMatchObject({
      status: "inactive",
    });
  });

  it("calls a token held back by SAML SSO still active, and says so", async () => {
    const { api, issuer } = setup();
    api.answers.set(FINE, {
      kind: "sso_required",
      sso: "required; url=https://github.com/orgs/acme/sso?x=1",
    });
    const verification = await issuer.verify({ token: FINE, type: "github_personal_access_token" });
    expect(verification.status).toBe("active");
    expect(verification.keyId).toMatch(/^github:unknown-user:github_pat:[0-9a-f]{8}$/);
    expect(JSON.stringify(verification.evidence)).toMatch(/SAML SSO/);
  });

  it("retries a short rate limit, and hands a long one back with its wait", async () => {
    const { api, issuer } = setup();
    api.answers.set(
      PAT,
      new IssuerError("GitHub GET /user: HTTP 403, rate limited", { transient: true, retryAfterSeconds: 0 }),
    );
    await expect(issuer.verify({ token: PAT, type: "t" })).resolves.toMatchObject({ status: "inactive" });
    expect(api.userCalls).toBe(2);
    api.answers.set(
      PAT,
      new IssuerError("GitHub GET /user: HTTP 429, rate limited", {
        transient: true,
        retryAfterSeconds: 900,
      }),
    );
    await expect(issuer.verify({ token: PAT, type: "t" })).rejects.toMatchObject({
      transient: true,
      retryAfterSeconds: 900,
    });
  });

  it("does not claim to verify tokens GET /user cannot tell about (installation and refresh tokens)", async () => {
    const { api, issuer } = setup();
    for (const token of [`ghs_${"a".repeat(36)}`, `ghr_${"b".repeat(76)}`]) {
      const error = await issuer.verify({ token, type: "t" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IssuerError);
      expect((error as IssuerError).transient).toBe(false);
      expect((error as IssuerError).message).not.toContain(token);
    }
    expect(api.userCalls).toBe(0);
    await expect(issuer.verify({ token: "not-a-github-token", type: "t" })).resolves.toMatchObject({
      status: "unknown",
    });
  });

  it("refuses an answer that repeats the token", async () => {
    const { api, issuer } = setup();
    api.answers.set(PAT, { ...octocat, name: `leaked ${PAT}` });
    await expect(issuer.verify({ token: PAT, type: "t" })).rejects.toBeInstanceOf(IssuerError);
  });
});

describe("GithubTokenIssuer.revoke", () => {
  const request = (token: string | undefined, i = 0) => ({
    keyId: `github:octocat#1:ghp:${i}`,
    type: "t",
    leakId: `lk_${i}`,
    token,
  });

  it("revokes concurrent tokens with one POST /credentials/revoke; re-verification then sees 401", async () => {
    const { api, issuer } = setup();
    const list = Array.from({ length: 25 }, (_, i) => `ghp_${String(i).padStart(36, "0")}`);
    for (const token of list) api.answers.set(token, octocat);
    const revocations = await Promise.all(list.map((token, i) => issuer.revoke(request(token, i))));
    expect(api.revokeCalls).toEqual([list]);
    expect(revocations.map((r) => r.keyId)).toEqual(list.map((_, i) => `github:octocat#1:ghp:${i}`));
    await expect(issuer.verify({ token: list[3] as string, type: "t" })).resolves.toMatchObject({
      status: "inactive",
    });
  });

  it("needs the token itself, and a kind /credentials/revoke takes", async () => {
    const { api, issuer } = setup();
    await expect(issuer.revoke(request(undefined))).rejects.toMatchObject({ transient: false });
    const ghs = `ghs_${"c".repeat(36)}`;
    const error = await issuer.revoke(request(ghs)).catch((e: unknown) => e);
    expect(error).toMatchObject({ transient: false });
    expect((error as Error).message).not.toContain(ghs);
    expect(api.revokeCalls).toEqual([]);
  });
});
