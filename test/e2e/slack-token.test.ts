import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { DEMO_SLACK_OWNER, type SandboxSlack } from "../../local/sandbox/sandbox-slack.js";
import { simulate } from "../../local/simulate.js";
import { ADMIN_TOKEN, readJson, startTestStack, type TestStack } from "../helpers/test-stack.js";

// Slack tokens end to end on the local stack: the Slack issuer (Slack's SDK against the stack's fake
// Slack at /sandbox/slack) checks a leaked token with auth.test, revokes it once with auth.revoke called
// with the token itself (opened from the queue message for that call only), proves it dead, and tells
// the owner found through users.info. A leaked incoming webhook URL is checked without posting and left
// to its owner (notify_only by default), who is told how to delete it. Neither secret is kept or said.

const FILE = "https://github.com/acme/app/blob/1a2b3c/.env";

let t: TestStack;
let slack: SandboxSlack;

beforeAll(async () => {
  t = await startTestStack({ queueConcurrency: 8 });
  slack = t.stack.slack;
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  slack.recover();
});

const report = (token: string, type = "slack_api_token", url = FILE) =>
  t.report([{ token, type, url, source: "commit" }]);

describe("a leaked Slack token", () => {
  it("reported ten times at once is revoked once with itself, re-verified dead, and its owner told", async () => {
    const issued = slack.issueToken("user", { email: "ada@acme.example", name: "ada" });
    const revokesBefore = slack.callsOf("auth.revoke").length;

    const answers = await Promise.all(Array.from({ length: 10 }, () => report(issued.token)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    await t.stack.queue.drain();

    expect(slack.callsOf("auth.revoke").slice(revokesBefore)).toEqual([
      { method: "auth.revoke", status: 200, ok: true, subject: `${issued.teamId}:${issued.userId}` },
    ]);
    expect(slack.token(issued.token)?.revoked).toBe(true);
    const leak = await t.leakByFingerprint(fingerprintToken(issued.token));
    const keyId = `${issued.teamId}:${issued.userId}`;
    expect(leak).toMatchObject({ status: "revoked", key_id: keyId, owner: { email: "ada@acme.example" } });
    expect(leak?.sightings[0]?.reports).toBe(10);
    expect(leak?.timeline.map((e) => e.step)).toEqual(
      expect.arrayContaining(["verify", "revoke", "re-verify", "notify"]),
    );
    expect(leak?.timeline.find((e) => e.step === "re-verify")?.detail).toContain("inactive");
    expect(leak?.deliveries.map((d) => d.recipient)).toContain("owner ada@acme.example");
    const detail = await readJson(await t.admin(`/v1/admin/leaks/${leak?.id}`));
    expect(detail.evidence).toMatchObject({
      token_kind: "user token",
      team_id: issued.teamId,
      user_id: issued.userId,
      team: "Acme Workspace",
    });

    const written = await t.everythingWritten([leak?.id ?? ""]);
    expect(written).toContain(keyId);
    expect(written).not.toContain(issued.token);
    expect(written).not.toContain(slack.botToken);
    expect(JSON.stringify(slack.calls)).not.toContain(issued.token);
  });

  it("already dead: inactive, and auth.revoke is never called", async () => {
    const issued = slack.issueToken("bot");
    const record = slack.token(issued.token);
    if (record) record.revoked = true;
    const revokesBefore = slack.callsOf("auth.revoke").length;
    await report(issued.token, "slack_api_token", "https://gist.example/dead");
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(fingerprintToken(issued.token)))?.status).toBe("inactive");
    expect(slack.callsOf("auth.revoke").length).toBe(revokesBefore);
  });

  it("rides out Slack's rate limit (HTTP 429 with Retry-After) and still revokes once", async () => {
    const issued = slack.issueToken("bot");
    slack.fail("auth.revoke", { status: 429, retryAfter: "1" });
    await report(issued.token, "slack_api_token", "https://gist.example/ratelimited");
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(issued.token));
    expect(leak?.status).toBe("revoked");
    const revokes = slack.callsOf("auth.revoke").filter((c) => c.subject?.endsWith(issued.userId));
    expect(revokes.map((c) => c.status)).toEqual([429, 200]);
    // A bot user has no email: the owner is named by its ids (config `owners` may map them to a team).
    expect(leak).toMatchObject({ owner: { id: `${issued.teamId}:${issued.userId}`, name: "deploy-bot" } });
    expect(JSON.stringify((leak as { owner?: unknown } | undefined)?.owner)).not.toContain("@");
  });

  it("a token Slack will not let revoke itself fails the step with what to do, naming no token", async () => {
    const issued = slack.issueToken("user");
    slack.fail("auth.revoke", { error: "not_allowed_token_type" });
    await report(issued.token, "slack_api_token", "https://gist.example/refused");
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(issued.token));
    expect(leak).toMatchObject({ status: "failed", failure: { step: "revoke" } });
    expect(leak?.failure?.reason).toContain("not_allowed_token_type");
    expect(slack.token(issued.token)?.revoked).toBe(false);
    expect(await t.everythingWritten([leak?.id ?? ""])).not.toContain(issued.token);
  });
});

describe("a leaked Slack incoming webhook URL", () => {
  it("is checked without posting, left live by its default notify_only policy, and its owner told how to delete it", async () => {
    const hook = slack.addWebhook();
    await report(hook.url, "slack_incoming_webhook_url");
    await t.stack.queue.drain();

    const leak = await t.leakByFingerprint(fingerprintToken(hook.url));
    expect(leak).toMatchObject({
      status: "notified",
      mode: "notify_only",
      key_id: `${hook.teamId}/${hook.hookId}`,
    });
    expect(slack.hook(hook.url)).toMatchObject({ state: "live", posts: 0 });
    expect(slack.callsOf("webhook").at(-1)).toMatchObject({ status: 400, error: "no_text" });
    expect(slack.callsOf("auth.revoke").filter((c) => c.subject?.includes(hook.hookId))).toEqual([]);

    const outbox = join(t.stack.dataDir, "outbox");
    const messages = readdirSync(outbox)
      .filter((f) => f.startsWith(leak?.id ?? "?"))
      .map((f) => readFileSync(join(outbox, f), "utf8"));
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) expect(message).toContain("Incoming Webhooks");

    const written = await t.everythingWritten([leak?.id ?? ""]);
    expect(written).toContain(hook.hookId);
    expect(written).not.toContain(hook.url);
    expect(written).not.toContain(hook.url.split("/").at(-1));
  });

  it("a removed webhook is inactive and nobody is asked to act", async () => {
    const hook = slack.addWebhook();
    const removed = slack.hook(hook.url);
    if (removed) removed.state = "removed";
    await report(hook.url, "slack_incoming_webhook_url", "https://gist.example/hook");
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(fingerprintToken(hook.url)))?.status).toBe("inactive");
  });

  it("a URL on another host is never called", async () => {
    const calls = slack.calls.length;
    const elsewhere =
      "https://hooks.slack.com.evil.example/services/T0AAAAAAAA/B0BBBBBBBB/abcdefghijklmnopqrstuvwx";
    await report(elsewhere, "slack_incoming_webhook_url", "https://gist.example/elsewhere");
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(fingerprintToken(elsewhere)))?.status).toBe("false_positive");
    expect(slack.calls.length).toBe(calls);
  });
});

describe("tourniquet simulate with Slack types", () => {
  const run = async (type: string) => {
    const lines: string[] = [];
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      type,
      out: (line) => lines.push(line),
      timeoutMs: 30_000,
    });
    return { leak, output: lines.join("\n") };
  };

  it("slack_api_token: a demo user's token from the fake Slack, revoked, its owner told", async () => {
    const { leak, output } = await run("slack_api_token");
    expect(leak.status).toBe("revoked");
    expect(output).toMatch(/issued Slack user token \(xoxp-…\w{4}\) of U\w+ <grace@acme.example>/);
    expect(output).toMatch(new RegExp(`notify\\s+ok\\s+owner ${DEMO_SLACK_OWNER} notified via email`));
    expect(output).not.toMatch(/xoxp-\d/);
  });

  it("slack_incoming_webhook_url: a demo webhook, left live and its steps told", async () => {
    const { leak, output } = await run("slack_incoming_webhook_url");
    expect(leak.status).toBe("notified");
    expect(output).toMatch(/issued Slack incoming webhook T\w+\/B\w+ of workspace Acme Workspace/);
    expect(output).not.toContain("/services/");
  });

  it("the seed route refuses an unknown kind", async () => {
    const answer = await fetch(`${t.stack.url}/sandbox/slack/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "admin" }),
    });
    expect(answer.status).toBe(400);
  });
});
