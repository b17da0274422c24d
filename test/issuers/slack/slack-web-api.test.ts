import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import { lazySlackApi } from "../../../lib/issuers/slack/lazy-slack-api.js";
import { SlackWebApi } from "../../../lib/issuers/slack/slack-web-api.js";
import { SandboxSlack } from "../../../local/sandbox/sandbox-slack.js";
import { type LoopbackServer, serve } from "../../helpers/loopback-server.js";
import { rejection } from "../../helpers/rejection.js";

// The Slack port through Slack's own SDK (@slack/web-api) against the loopback fake of Slack's Web API
// and incoming webhooks: each method's answer, `ok: false` codes as data, HTTP 429 with Retry-After,
// other statuses, timeouts and aborts, answers that echo the token, and no token in any error.

let server: LoopbackServer;
let slack: SandboxSlack;
let api: SlackWebApi;
/** Every token the fake issued in these tests, and the webhooks' URLs. */
const secrets = new Set<string>();
const errors: IssuerError[] = [];

async function failure(call: Promise<unknown>): Promise<IssuerError> {
  const error = await rejection(call, IssuerError);
  errors.push(error);
  return error;
}

const adapter = (options: Partial<ConstructorParameters<typeof SlackWebApi>[0]> = {}) =>
  new SlackWebApi({ apiUrl: slack.apiUrl, botToken: slack.botToken, timeoutMs: 2_000, ...options });

function userToken(options: { email?: string } = {}) {
  const issued = slack.issueToken("user", options);
  secrets.add(issued.token);
  return issued;
}

beforeAll(async () => {
  slack = new SandboxSlack({ publicUrl: "http://127.0.0.1:1" });
  server = await serve((req, res) => {
    void slack.handle(req, res, new URL(req.url ?? "/", "http://x").pathname);
  });
  slack.setPublicUrl(server.url);
  secrets.add(slack.botToken);
  api = adapter();
});
afterEach(() => slack.recover());
afterAll(async () => {
  await server.close();
  // No error said any token, or any webhook's URL.
  const said = errors.map((e) => `${e.message} ${String(e.cause ?? "")}`).join("\n");
  expect(errors.length).toBeGreaterThan(5);
  for (const secret of secrets) expect(said).not.toContain(secret);
});

describe("auth.test", () => {
  it("answers the live token's identity, the token sent as a bearer token", async () => {
    const issued = userToken();
    const answer = await api.authTest(issued.token);
    expect(answer).toEqual({
      identity: expect.objectContaining({
        team_id: issued.teamId,
        team: "Acme Workspace",
        user_id: issued.userId,
        user: "grace",
        url: "https://acme-demo.slack.com/",
        is_enterprise_install: false,
      }),
    });
    expect(slack.calls.at(-1)).toEqual({
      method: "auth.test",
      status: 200,
      ok: true,
      subject: `${issued.teamId}:${issued.userId}`,
    });
  });

  it("a bot token's identity carries its bot id", async () => {
    const bot = slack.issueToken("bot");
    secrets.add(bot.token);
    const answer = await api.authTest(bot.token);
    expect(answer).toMatchObject({ identity: { bot_id: bot.botId, user_id: bot.userId } });
  });

  it("Slack's refusals are data: invalid_auth, account_inactive", async () => {
    expect(await api.authTest("xoxp-0000000000-0000000000-0000000000-unknown")).toEqual({
      error: "invalid_auth",
    });
    const bot = slack.issueToken("bot");
    secrets.add(bot.token);
    slack.deactivateUser(bot.token);
    expect(await api.authTest(bot.token)).toEqual({ error: "account_inactive" });
  });

  it("a scripted ok:false code comes back as it is", async () => {
    slack.fail("auth.test", { error: "internal_error" });
    expect(await api.authTest(userToken().token)).toEqual({ error: "internal_error" });
  });

  it("HTTP 429 is a transient error carrying Retry-After, and the SDK does not retry it", async () => {
    const token = userToken().token;
    slack.fail("auth.test", { status: 429, retryAfter: "7" });
    const before = slack.callsOf("auth.test").length;
    const error = await failure(api.authTest(token));
    expect(error).toMatchObject({ transient: true, retryAfterSeconds: 7, httpStatus: 429 });
    expect(slack.callsOf("auth.test").length - before).toBe(1);
  });

  it("a Retry-After given as an HTTP-date is read too", async () => {
    const now = Date.parse("2026-11-27T12:00:00Z");
    const custom = adapter({ now: () => now });
    slack.fail("auth.test", { status: 429, retryAfter: new Date(now + 30_000).toUTCString() });
    const error = await failure(custom.authTest(userToken().token));
    expect(error).toMatchObject({ transient: true, retryAfterSeconds: 30 });
  });

  it.each([
    [503, true],
    [502, true],
    [404, false],
  ])("HTTP %i → transient %s", async (status, transient) => {
    slack.fail("auth.test", { status });
    const error = await failure(api.authTest(userToken().token));
    expect(error).toMatchObject({ transient, httpStatus: status });
  });

  it("no answer within the time limit is transient", async () => {
    slack.fail("auth.test", { delayMs: 600 });
    const error = await failure(adapter({ timeoutMs: 150 }).authTest(userToken().token));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("no answer within 150 ms");
  });

  it("the caller's signal aborts the call", async () => {
    slack.fail("auth.test", { delayMs: 600 });
    const error = await failure(api.authTest(userToken().token, { signal: AbortSignal.timeout(50) }));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("aborted by caller");
  });

  it("a refused connection is a transient network error", async () => {
    const closed = await serve(() => undefined);
    await closed.close();
    const error = await failure(adapter({ apiUrl: `${closed.url}/api` }).authTest(userToken().token));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("network error");
  });

  it("an answer that repeats the token is refused, the token unsaid", async () => {
    const token = userToken().token;
    const echo = adapter({
      fetch: async () =>
        new Response(JSON.stringify({ ok: true, team_id: "T1", user_id: "U1", user: token }), {
          status: 200,
          headers: { "content-type": "application/json" },
        }),
    });
    const error = await failure(echo.authTest(token));
    expect(error.transient).toBe(false);
    expect(error.message).toContain("contains the token");
  });

  it("a body that is not JSON is an unreadable answer, never repeated", async () => {
    const token = userToken().token;
    const html = adapter({
      fetch: async () =>
        new Response(`<html>${token}</html>`, { status: 200, headers: { "content-type": "text/html" } }),
    });
    expect(await html.authTest(token)).toEqual({ error: "unreadable_answer" });
  });
});

describe("auth.revoke", () => {
  it("revokes the token with itself; then Slack refuses it, and a second revoke answers invalid_auth", async () => {
    const token = userToken().token;
    expect(await api.revoke(token)).toEqual({ revoked: true });
    expect(slack.token(token)?.revoked).toBe(true);
    expect(await api.authTest(token)).toEqual({ error: "invalid_auth" });
    expect(await api.revoke(token)).toEqual({ error: "invalid_auth" });
  });

  it("the fake's test mode (test=1) revokes nothing and says revoked: false", async () => {
    const token = userToken().token;
    const answer = await fetch(`${slack.apiUrl}/auth.revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, test: "1" }),
    });
    expect(await answer.json()).toEqual({ ok: true, revoked: false });
    expect(slack.token(token)?.revoked).toBe(false);
    expect(slack.calls.at(-1)).toMatchObject({ method: "auth.revoke", test: true });
  });
});

describe("users.info with the bot token", () => {
  it("answers the user's email", async () => {
    const issued = userToken({ email: "ada@acme.example" });
    expect(await api.userEmail(issued.userId)).toBe("ada@acme.example");
  });

  it("a bot token without users:read is refused permanently, naming the scopes it needs", async () => {
    const weak = slack.issueToken("bot", { scopes: ["chat:write"] });
    secrets.add(weak.token);
    const error = await failure(adapter({ botToken: weak.token }).userEmail(userToken().userId));
    expect(error.transient).toBe(false);
    expect(error.message).toContain("missing_scope");
    expect(error.message).toContain("users:read.email");
  });

  it("without users:read.email the profile shows no email", async () => {
    const noEmail = slack.issueToken("bot", { scopes: ["users:read"] });
    secrets.add(noEmail.token);
    expect(await adapter({ botToken: noEmail.token }).userEmail(userToken().userId)).toBeUndefined();
  });

  it("an unknown user is a permanent error", async () => {
    const error = await failure(api.userEmail("U0NOBODY00"));
    expect(error.message).toContain("user_not_found");
  });
});

describe("incoming webhooks", () => {
  it("a live hook refuses the empty message with 400 no_text and posts nothing", async () => {
    const hook = slack.addWebhook();
    secrets.add(hook.url);
    expect(await api.probeWebhook(new URL(hook.url))).toEqual({ status: 400, code: "no_text" });
    expect(slack.hook(hook.url)?.posts).toBe(0);
  });

  it("a removed hook answers 404 no_service, a disabled one 403 invalid_token", async () => {
    const removed = slack.addWebhook();
    const disabled = slack.addWebhook();
    secrets.add(removed.url).add(disabled.url);
    const r = slack.hook(removed.url);
    const d = slack.hook(disabled.url);
    if (r) r.state = "removed";
    if (d) d.state = "disabled";
    expect(await api.probeWebhook(new URL(removed.url))).toMatchObject({ status: 404, code: "no_service" });
    expect(await api.probeWebhook(new URL(disabled.url))).toMatchObject({
      status: 403,
      code: "invalid_token",
    });
  });

  it("a rate-limited hook says when to come back", async () => {
    const hook = slack.addWebhook();
    secrets.add(hook.url);
    slack.fail("webhook", { status: 429, retryAfter: "3" });
    expect(await api.probeWebhook(new URL(hook.url))).toMatchObject({ status: 429, retryAfterSeconds: 3 });
  });

  it("no answer in time is a transient error without the URL", async () => {
    const hook = slack.addWebhook();
    secrets.add(hook.url);
    slack.fail("webhook", { delayMs: 600 });
    const error = await failure(adapter({ timeoutMs: 150 }).probeWebhook(new URL(hook.url)));
    expect(error.transient).toBe(true);
  });
});

describe("lazySlackApi", () => {
  it("loads the SDK adapter on the first Web API call and answers through it", async () => {
    const lazy = lazySlackApi({ apiUrl: slack.apiUrl, botToken: slack.botToken, timeoutMs: 2_000 });
    expect(lazy.canLookUpUsers).toBe(true);
    const issued = userToken();
    expect(await lazy.authTest(issued.token)).toMatchObject({ identity: { user_id: issued.userId } });
    expect(await lazy.userEmail(issued.userId)).toBe("grace@acme.example");
  });
});
