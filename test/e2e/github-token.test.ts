import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { leakIdFor } from "../../lib/store/leak.js";
import type { SandboxGithubApi } from "../../local/sandbox/sandbox-github-api.js";
import { startTestStack, type TestStack } from "../helpers/test-stack.js";

// Leaked GitHub tokens, end to end on the local stack: GitHub's partner report → GET /user on the
// stack's fake GitHub (live, its user) → the unauthenticated POST /credentials/revoke → GET /user 401 →
// the owner told. The tokens pending revocation together go in one call: a report of 1,000 costs one.

const FILE = "https://github.com/acme/app/blob/1a2b3c/.env";
const TYPE = "github_personal_access_token";

let t: TestStack;
let github: SandboxGithubApi;

beforeAll(async () => {
  t = await startTestStack();
  github = t.stack.githubApi;
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  github.recover();
});

const match = (token: string, url = FILE) => ({ token, type: TYPE, url, source: "commit" });
const leakIdOf = (token: string) => leakIdFor(fingerprintToken(token));
const revokeCalls = () => github.userTokens.revokeCalls.length;

describe("leaked GitHub tokens", () => {
  it("revokes a report's 1,000 live tokens in one /credentials/revoke call, each re-verified dead", async () => {
    // A stack of its own, lighter on the embedded engine (one channel), so the suite's other stacks keep pace.
    const t = await startTestStack({
      configOverrides: {
        token_types: { [TYPE]: { issuer: "github", channels: ["email"] } },
      },
    });
    const github = t.stack.githubApi;
    try {
      await revokesThousand(t, github);
    } finally {
      await t.close();
    }
  }, 300_000);

  async function revokesThousand(t: TestStack, github: SandboxGithubApi) {
    const revokeCalls = () => github.userTokens.revokeCalls.length;
    const tokens = Array.from(
      { length: 1_000 },
      (_, i) => github.userTokens.issue({ login: `dev-${i % 50}` }).token,
    );
    const from = revokeCalls();

    const answer = await t.report(tokens.map((token) => match(token)));
    expect(answer.status).toBe(200);
    await t.stack.queue.drain();

    // Intake verifies what its time box allows and queues the leaks it recorded in one message; the
    // worker verifies the rest and revokes them all at once. On a machine too loaded for the intake to
    // record all 1,000 within its budget, the rest come from a report part: a second call.
    const calls = github.userTokens.revokeCalls.slice(from);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls.every((call) => call.status === 202)).toBe(true);
    expect(calls.reduce((sum, call) => sum + call.count, 0)).toBe(1_000);
    expect(tokens.every((token) => github.userTokens.isRevoked(token))).toBe(true);
    const leaks = (await t.tableItems("LEAK#")).filter((item) => item.sk?.S === "LEAK");
    const ids = new Set(tokens.map((token) => `LEAK#${leakIdOf(token)}`));
    const statuses = leaks.filter((item) => ids.has(item.pk?.S ?? "")).map((item) => item.status?.S);
    expect(statuses).toEqual(Array(1_000).fill("revoked"));

    // A few of them in full: verified, revoked, re-verified dead, the owner told.
    for (const token of [tokens[0], tokens[499], tokens[999]] as string[]) {
      const leak = await t.leakByFingerprint(fingerprintToken(token));
      expect(leak?.status).toBe("revoked");
      expect(leak?.key_id).toMatch(/^github:dev-\d+#\d+:ghp:[0-9a-f]{8}$/);
      const steps = leak?.timeline.map((e) => `${e.step}:${e.outcome}`) ?? [];
      expect(steps).toEqual(expect.arrayContaining(["verify:ok", "revoke:ok", "re-verify:ok", "notify:ok"]));
      expect(leak?.timeline.find((e) => e.step === "re-verify")?.detail).toContain("inactive");
      expect(leak?.deliveries.map((d) => d.recipient)).toContain(
        `owner ${leak?.key_id?.match(/^github:([^#]+)#/)?.[1]}@users.example.test`,
      );
    }
  }

  it("revokes a token reported ten times at once once", async () => {
    const { token, login } = github.userTokens.issue({ login: "mona" });
    const from = revokeCalls();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.report([match(token, `${FILE}#L${i}`)])),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    await t.stack.queue.drain();

    expect(github.userTokens.revokeCalls.slice(from)).toEqual([
      expect.objectContaining({ count: 1, status: 202 }),
    ]);
    const leak = await t.leakByFingerprint(fingerprintToken(token));
    expect(leak).toMatchObject({ status: "revoked", notification: { status: "sent" } });
    expect(leak?.timeline.filter((e) => e.step === "revoke")).toHaveLength(1);
    expect(leak?.sightings).toHaveLength(10);

    const written = await t.everythingWritten([leak?.id ?? ""]);
    expect(written).toContain(login);
    expect(written).not.toContain(token);
  });

  it("waits for GitHub's asynchronous revocation to take effect before recording the token revoked", async () => {
    const { token } = github.userTokens.issue();
    github.userTokens.revocationDelayMs = 700; // 202 Accepted, and GET /user still 200 for 0.7 s
    try {
      expect((await t.report([match(token)])).status).toBe(200);
      await t.stack.queue.drain();
    } finally {
      github.userTokens.revocationDelayMs = 0;
    }
    const leak = await t.leakByFingerprint(fingerprintToken(token));
    expect(leak?.status).toBe("revoked");
    expect(leak?.timeline.filter((e) => e.step === "revoke").map((e) => e.outcome)).toEqual(["ok"]);
    expect(leak?.timeline.find((e) => e.step === "re-verify")?.detail).toContain("inactive");
  });

  it("records a dead token as inactive and revokes nothing", async () => {
    const { token } = github.userTokens.issue();
    github.userTokens.revoke([token]);
    const from = revokeCalls();
    expect((await t.report([match(token)])).status).toBe(200);
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(fingerprintToken(token)))?.status).toBe("inactive");
    expect(revokeCalls()).toBe(from);
  });

  it("waits out /credentials/revoke's rate limit and revokes every token after it", async () => {
    const tokens = Array.from({ length: 3 }, () => github.userTokens.issue().token);
    const from = revokeCalls();
    github.fail({ status: 429, only: "/credentials/revoke", headers: { "retry-after": "1" } });
    const started = Date.now();
    expect((await t.report(tokens.map((token) => match(token)))).status).toBe(200);
    await t.stack.queue.drain();
    const calls = github.userTokens.revokeCalls.slice(from);
    // Nothing is sent again before the Retry-After has passed; then every token goes.
    expect(calls[0]?.status).toBe(429);
    expect(calls.slice(1).map((c) => c.status)).toEqual(Array(calls.length - 1).fill(202));
    expect(calls.slice(1).reduce((n, c) => n + c.count, 0)).toBe(3);
    for (const call of calls.slice(1)) {
      expect(call.at).toBeGreaterThanOrEqual((calls[0]?.at ?? started) + 1_000);
    }
    for (const token of tokens) {
      expect((await t.leakByFingerprint(fingerprintToken(token)))?.status).toBe("revoked");
    }
  });

  it("keeps every token out of the store, logs, queue and outbox", async () => {
    const tokens = Array.from({ length: 5 }, () => github.userTokens.issue().token);
    expect((await t.report(tokens.map((token) => match(token)))).status).toBe(200);
    await t.stack.queue.drain();
    const ids = await Promise.all(
      tokens.map(async (token) => (await t.leakByFingerprint(fingerprintToken(token)))?.id ?? ""),
    );
    const written = await t.everythingWritten(ids);
    for (const token of tokens) expect(written).not.toContain(token);
    expect(JSON.stringify(github.requests)).not.toContain(tokens[0]);
  });
});
