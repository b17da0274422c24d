import { beforeEach, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import type { SlackIdentity } from "../../../lib/issuers/slack/slack-api.js";
import {
  SlackIssuer,
  slackKeyId,
  slackTokenKind,
  slackWebhookBase,
} from "../../../lib/issuers/slack/slack-issuer.js";
import { InMemorySlack } from "../../helpers/in-memory-slack.js";
import { rejection } from "../../helpers/rejection.js";

// The Slack issuer's logic over an in-memory port: each of Slack's `ok: false` answers mapped, the
// token revoked once with itself and re-verified dead, a dead token never revoked, rate limits honoured,
// webhooks checked only on this Slack's host, and no token or webhook secret in any error or evidence.

const USER_TOKEN = "xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef";
const BOT_TOKEN = "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
const GRACE: SlackIdentity = {
  team_id: "T12345678",
  team: "Subarachnoid Workspace",
  user_id: "W12345678",
  user: "grace",
  url: "https://subarachnoid.slack.com/",
};
const BOT: SlackIdentity = {
  team_id: "T12345678",
  team: "Subarachnoid Workspace",
  user_id: "U0BOTUSER",
  user: "deploy",
  bot_id: "B0DEPLOY1",
};
const HOOKS = "https://hooks.slack.com/services/";
const HOOK = `${HOOKS}T12345678/B0HOOK123/s3cr3tPartOfTheW3bh00kUrl`;

let slack: InMemorySlack;
const waits: number[] = [];
const issuer = () =>
  new SlackIssuer({
    name: "slack",
    api: slack,
    webhookBase: slackWebhookBase("https://slack.com/api"),
    retry: { attempts: 3, baseMs: 1, sleep: async (ms) => void waits.push(ms) },
    now: () => Date.parse("2026-11-27T12:00:00Z"),
  });
const verify = (token: string, type = "slack_api_token") => issuer().verify({ token, type });
const revoke = (token: string | undefined, keyId = "T12345678:W12345678", type = "slack_api_token") =>
  issuer().revoke({ keyId, type, leakId: "lk_test", token });

/** Neither token nor the webhook's secret path appears in `value`, however it is serialised. */
function expectNoSecret(value: unknown) {
  const text = value instanceof Error ? `${value.message} ${String(value.cause)}` : JSON.stringify(value);
  for (const secret of [USER_TOKEN, BOT_TOKEN, "s3cr3tPartOfTheW3bh00kUrl"])
    expect(text).not.toContain(secret);
}

beforeEach(() => {
  slack = new InMemorySlack();
  slack.addToken(USER_TOKEN, GRACE);
  slack.addToken(BOT_TOKEN, BOT);
  slack.emails.set("W12345678", "grace@example.com");
  waits.length = 0;
});

describe("SlackIssuer.verify of a token", () => {
  it("a live user token is active: team and user as key id, evidence, and the owner's email from users.info", async () => {
    const v = await verify(USER_TOKEN);
    expect(v).toMatchObject({
      status: "active",
      keyId: "T12345678:W12345678",
      owner: { id: "T12345678:W12345678", email: "grace@example.com", name: "grace" },
      evidence: {
        token_kind: "user token",
        team_id: "T12345678",
        team: "Subarachnoid Workspace",
        user_id: "W12345678",
        url: "https://subarachnoid.slack.com/",
      },
    });
    expect(v.details).toContainEqual({ label: "User", value: "grace (W12345678)" });
    expect(slack.calls).toEqual(["auth.test", "users.info"]);
    expectNoSecret(v);
  });

  it("a live bot token is active with its bot id; no users.info (a bot user has no email)", async () => {
    const v = await verify(BOT_TOKEN);
    expect(v).toMatchObject({
      status: "active",
      keyId: "T12345678:U0BOTUSER:B0DEPLOY1",
      evidence: { token_kind: "bot token", bot_id: "B0DEPLOY1" },
    });
    expect(v.owner?.email).toBeUndefined();
    expect(slack.calls).toEqual(["auth.test"]);
  });

  it("without a bot token, no owner look-up", async () => {
    slack.canLookUpUsers = false;
    const v = await verify(USER_TOKEN);
    expect(v.status).toBe("active");
    expect(v.owner?.email).toBeUndefined();
    expect(slack.count("users.info")).toBe(0);
  });

  it("a failed owner look-up is evidence, never a reason to leave the live token alone", async () => {
    slack.script("users.info", { error: "missing_scope" });
    const v = await verify(USER_TOKEN);
    expect(v.status).toBe("active");
    expect(v.evidence?.owner_lookup).toContain("missing_scope");
  });

  it.each(["invalid_auth", "token_revoked", "account_inactive", "token_expired", "not_authed"])(
    "%s → inactive, and no owner look-up",
    async (code) => {
      slack.script("auth.test", { error: code });
      const v = await verify(USER_TOKEN);
      expect(v).toMatchObject({ status: "inactive", evidence: { slack_error: code } });
      expect(slack.calls).toEqual(["auth.test"]);
    },
  );

  it.each(["ratelimited", "fatal_error", "internal_error", "request_timeout", "service_unavailable"])(
    "%s is transient: retried, and once it clears the token is judged",
    async (code) => {
      slack.script("auth.test", { error: code }, 2);
      const v = await verify(USER_TOKEN);
      expect(v.status).toBe("active");
      expect(slack.count("auth.test")).toBe(3);
    },
  );

  it("a transient answer that never clears fails the call as transient, naming the code", async () => {
    slack.script("auth.test", { error: "internal_error" }, 3);
    const error = await rejection(verify(USER_TOKEN), IssuerError);
    expect(error.transient).toBe(true);
    expect(error.message).toContain("internal_error");
    expectNoSecret(error);
  });

  it.each(["missing_scope", "not_allowed_token_type", "no_permission"])(
    "%s: Slack took the token and refused the call, so it is live (its workspace unknown)",
    async (code) => {
      slack.script("auth.test", { error: code });
      const v = await verify(USER_TOKEN);
      expect(v.status).toBe("active");
      expect(v.keyId).toMatch(/^unidentified:[0-9a-f]{16}$/);
      expect(v.evidence).toMatchObject({ slack_error: code });
      expectNoSecret(v);
    },
  );

  it("an answer it does not know fails permanently rather than guessing", async () => {
    slack.script("auth.test", { error: "something_new" });
    const error = await rejection(verify(USER_TOKEN), IssuerError);
    expect(error.transient).toBe(false);
    expect(error.message).toContain("something_new");
  });

  it("HTTP 429 is retried after the Retry-After Slack asked for", async () => {
    slack.script("auth.test", {
      throws: new IssuerError("Slack auth.test: 429 rate limited", {
        transient: true,
        retryAfterSeconds: 2,
        httpStatus: 429,
      }),
    });
    const v = await verify(USER_TOKEN);
    expect(v.status).toBe("active");
    expect(waits).toEqual([2_000]);
  });

  it("a Retry-After beyond the in-call cap is left to the queue's redelivery, its wait kept", async () => {
    slack.script("auth.test", {
      throws: new IssuerError("Slack auth.test: 429 rate limited", {
        transient: true,
        retryAfterSeconds: 60,
      }),
    });
    const error = await rejection(verify(USER_TOKEN), IssuerError);
    expect(error).toMatchObject({ transient: true, retryAfterSeconds: 60 });
    expect(waits).toEqual([]);
  });

  it("what is not a Slack token is unknown and never sent to Slack", async () => {
    const v = await verify("ghp_notASlackToken0123456789");
    expect(v.status).toBe("unknown");
    expect(slack.calls).toEqual([]);
  });
});

describe("SlackIssuer.revoke", () => {
  it("a live token revokes itself once; verifying it again finds it inactive", async () => {
    expect((await verify(USER_TOKEN)).status).toBe("active");
    const r = await revoke(USER_TOKEN);
    expect(r).toEqual({
      keyId: "T12345678:W12345678",
      alreadyRevoked: false,
      revokedAt: "2026-11-27T12:00:00.000Z",
    });
    expect(slack.count("auth.revoke")).toBe(1);
    expect((await verify(USER_TOKEN)).status).toBe("inactive");
  });

  it("revoking again succeeds as already revoked (Slack answers invalid_auth)", async () => {
    await revoke(USER_TOKEN);
    expect(await revoke(USER_TOKEN)).toMatchObject({ alreadyRevoked: true });
  });

  it.each(["invalid_auth", "token_revoked", "account_inactive"])(
    "%s on revoke → already revoked",
    async (code) => {
      slack.script("auth.revoke", { error: code });
      expect(await revoke(USER_TOKEN)).toMatchObject({ alreadyRevoked: true });
    },
  );

  it("a dead token is never revoked: the worker stops at inactive", async () => {
    slack.tokens.delete(USER_TOKEN);
    expect((await verify(USER_TOKEN)).status).toBe("inactive");
    expect(slack.count("auth.revoke")).toBe(0);
  });

  it("without the token it cannot revoke: a permanent error", async () => {
    const error = await rejection(revoke(undefined), IssuerError);
    expect(error.transient).toBe(false);
    expect(error.message).toContain("only when shown the token itself");
    expect(slack.calls).toEqual([]);
  });

  it("a token Slack will not let revoke itself fails permanently with what to do", async () => {
    slack.script("auth.revoke", { error: "not_allowed_token_type" });
    const error = await rejection(revoke(USER_TOKEN), IssuerError);
    expect(error.transient).toBe(false);
    expect(error.message).toContain("not_allowed_token_type");
    expect(error.message).toContain("Revoke tokens");
    expectNoSecret(error);
  });

  it("a transient refusal is retried, then the token is revoked", async () => {
    slack.script("auth.revoke", { error: "ratelimited" });
    expect(await revoke(USER_TOKEN)).toMatchObject({ alreadyRevoked: false });
    expect(slack.count("auth.revoke")).toBe(2);
  });

  it("Slack's revoked: false (its test mode) is not taken for a revocation", async () => {
    slack.revoke = async () => ({ revoked: false });
    const error = await rejection(revoke(USER_TOKEN), IssuerError);
    expect(error.message).toContain("revoked: false");
  });

  it("an incoming webhook cannot be revoked by API: a permanent error with the steps to delete it", async () => {
    const error = await rejection(
      revoke(HOOK, "T12345678/B0HOOK123", "slack_incoming_webhook_url"),
      IssuerError,
    );
    expect(error.transient).toBe(false);
    expect(error.message).toContain("Incoming Webhooks");
    expectNoSecret(error);
  });
});

describe("SlackIssuer.verify of an incoming webhook URL", () => {
  it("a live hook refuses the empty message with 400 no_text: active, keyed by team and hook, never its secret", async () => {
    slack.webhooks.set(HOOK, { status: 400, code: "no_text" });
    const v = await verify(HOOK, "slack_incoming_webhook_url");
    expect(v).toMatchObject({
      status: "active",
      keyId: "T12345678/B0HOOK123",
      evidence: { team_id: "T12345678", webhook_id: "B0HOOK123", http_status: 400, slack_answer: "no_text" },
    });
    expectNoSecret(v);
  });

  it.each([
    [404, "no_service"],
    [403, "invalid_token"],
    [404, "no_team"],
    [404, "team_disabled"],
  ])("HTTP %i %s → inactive", async (status, code) => {
    slack.webhooks.set(HOOK, { status, code });
    expect((await verify(HOOK, "slack_incoming_webhook_url")).status).toBe("inactive");
  });

  it.each([
    [400, "invalid_payload"],
    [404, "channel_not_found"],
    [410, "channel_is_archived"],
    [403, "action_prohibited"],
  ])("HTTP %i %s: the hook still exists → active", async (status, code) => {
    slack.webhooks.set(HOOK, { status, code });
    expect((await verify(HOOK, "slack_incoming_webhook_url")).status).toBe("active");
  });

  it("429 and 5xx are transient and retried, honouring Retry-After", async () => {
    let n = 0;
    slack.probeWebhook = async () =>
      ++n === 1
        ? { status: 429, code: "rate_limited", retryAfterSeconds: 1 }
        : { status: 400, code: "no_text" };
    expect((await verify(HOOK, "slack_incoming_webhook_url")).status).toBe("active");
    expect(waits).toEqual([1_000]);
  });

  it("an unexpected answer fails permanently without the URL", async () => {
    slack.webhooks.set(HOOK, { status: 418 });
    const error = await rejection(verify(HOOK, "slack_incoming_webhook_url"), IssuerError);
    expect(error.transient).toBe(false);
    expectNoSecret(error);
  });

  it.each([
    "https://hooks.slack.com.evil.example/services/T12345678/B0HOOK123/s3cr3tPartOfTheW3bh00kUrl",
    "https://evil.example/services/T12345678/B0HOOK123/s3cr3tPartOfTheW3bh00kUrl",
    "https://hooks.slack.com/workflows/T12345678/A0FLOW/123/s3cr3t",
    `${HOOK}?next=https://evil.example`,
    "http://hooks.slack.com/services/T12345678/B0HOOK123/s3cr3tPartOfTheW3bh00kUrl",
  ])("a URL off this Slack's webhook base is unknown and never called: %s", async (url) => {
    const v = await verify(url, "slack_incoming_webhook_url");
    expect(v.status).toBe("unknown");
    expect(slack.calls).toEqual([]);
  });
});

describe("helpers", () => {
  it("the webhook base follows the API URL: Slack, GovSlack, a loopback fake", () => {
    expect(slackWebhookBase("https://slack.com/api")).toBe(HOOKS);
    expect(slackWebhookBase("https://slack-gov.com/api/")).toBe("https://hooks.slack-gov.com/services/");
    expect(slackWebhookBase("http://127.0.0.1:3000/sandbox/slack/api")).toBe(
      "http://127.0.0.1:3000/sandbox/slack/services/",
    );
  });

  it("token kinds by prefix, key ids from ids only", () => {
    expect(slackTokenKind("xoxe.xoxb-1-abc")).toBe("rotating bot token");
    expect(slackTokenKind("xoxe-1-abc")).toBe("refresh token");
    expect(slackTokenKind("xapp-1-A0-1-abc")).toBe("app-level token");
    expect(slackTokenKind("xoxa-2-abc")).toBe("workspace access token");
    expect(slackKeyId(GRACE)).toBe("T12345678:W12345678");
    expect(slackKeyId(BOT)).toBe("T12345678:U0BOTUSER:B0DEPLOY1");
  });
});
