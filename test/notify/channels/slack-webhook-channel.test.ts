import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, NotificationError } from "../../../lib/errors.js";
import {
  SLACK_LIMITS,
  type SlackPayload,
  type SlackText,
  SlackWebhookChannel,
  slackPayload,
} from "../../../lib/notify/channels/slack-webhook-channel.js";
import { FakeSlackWebhook, SLACK_HOOK_PATH } from "../../helpers/fake-slack-webhook.js";
import { makeLeakMessage } from "../../helpers/leak-message.js";
import { rejection } from "../../helpers/rejection.js";

// SlackWebhookChannel against a fake Slack incoming webhook on loopback.

const SECRET_PART = SLACK_HOOK_PATH.split("/").at(-1) as string;
const NOW = Date.parse("2026-01-01T00:00:00Z");
let slack: FakeSlackWebhook;

beforeAll(async () => {
  slack = await FakeSlackWebhook.start();
});
afterAll(() => slack.close());
afterEach(() => {
  slack.requests.length = 0;
});

const channel = (options: { timeoutMs?: number; url?: string } = {}) =>
  new SlackWebhookChannel({
    name: "security-slack",
    webhookUrl: options.url ?? slack.url,
    timeoutMs: options.timeoutMs,
    now: () => NOW,
  });

/** Block Kit's limits for what this channel sends (https://api.slack.com/reference/block-kit/blocks). */
function expectValidBlocks(payload: SlackPayload): void {
  expect(payload.text.length).toBeGreaterThan(0);
  expect(payload.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of payload.blocks) {
    if (block.type === "header") {
      expect(block.text.type).toBe("plain_text");
      expect(block.text.text.length).toBeLessThanOrEqual(150);
    } else if (block.type === "section") {
      expect(block.text || block.fields).toBeTruthy();
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
      expect((block.fields ?? []).length).toBeLessThanOrEqual(10);
    } else if (block.type === "context") {
      expect(block.elements.length).toBeLessThanOrEqual(10);
    } else {
      throw new Error(`unexpected block type ${(block as Block).type}`);
    }
  }
}

/** Any block, for reading fields in assertions. */
type Block = { type: string; text?: SlackText; fields?: SlackText[]; elements?: SlackText[] };

function sectionText(payload: SlackPayload, index: number): string {
  return (payload.blocks[index] as Block).text?.text ?? "";
}

const failure = (promise: Promise<unknown>) => rejection(promise, NotificationError);

describe("SlackWebhookChannel", () => {
  it("posts one readable Block Kit message to the webhook", async () => {
    const message = makeLeakMessage();
    const result = await channel().deliver(message);

    expect(result).toEqual({ duplicate: false });
    expect(slack.requests).toHaveLength(1);
    const request = slack.requests[0];
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(SLACK_HOOK_PATH);
    expect(request?.headers["content-type"]).toMatch(/^application\/json/);

    const payload = slack.lastPayload();
    expectValidBlocks(payload);
    const [header, facts, sightings, actions, next, context, history] = payload.blocks as Block[];
    expect(header).toEqual({ type: "header", text: { type: "plain_text", text: message.subject } });
    expect(facts?.fields?.map((f) => f.text)).toEqual([
      "*Type*\ntourniquet_sandbox_token",
      "*Preview*\n`tqs_…9f2a`",
      "*Key id*\n`key_9c65e584417efae7f813f62d`",
      "*Status*\nrevoked",
      "*Time to revoke*\n216 ms",
    ]);
    expect(sightings?.text?.text).toBe(
      "*Where it was found* (1)\n" +
        "• <https://github.com/example/demo/blob/main/.env|https://github.com/example/demo/blob/main/.env> (github, first seen 2026-01-01T00:00:00.000Z)",
    );
    expect(actions?.text?.text).toContain("verify: ok — issuer reports the key live");
    expect(actions?.text?.text).toContain("revoke: ok — issuer sandbox revoked the key");
    expect(next?.text?.text).toContain("1. Create a new key and update every application");
    expect(next?.text?.text).toContain("2. Remove the key from the places listed above");
    expect(context?.type).toBe("context");
    expect(context?.elements?.[0]?.text).toContain("`lk_6897aab7941b3bbd1d62e960`");
    expect(history?.text?.text).toContain(
      "<https://tourniquet.example.test/admin/leaks/lk_6897aab7941b3bbd1d62e960|Open this leak in Tourniquet>",
    );
    expect(payload.text).toContain(message.subject);
  });

  it("lists at most ten sightings, then says how many more", async () => {
    const sightings = Array.from({ length: 13 }, (_, i) => ({
      url: `https://github.com/example/repo${i}/blob/main/.env`,
      source: "github",
      firstSeen: "2026-01-01T00:00:00.000Z",
    }));
    const text = sectionText(slackPayload(makeLeakMessage({ facts: { sightings } })), 2);
    expect(text).toContain("*Where it was found* (13)");
    expect(text).toContain("repo9/blob");
    expect(text).not.toContain("repo10/blob");
    expect(text.endsWith("+3 more")).toBe(true);
  });

  it("keeps every block within Slack's limits however large the leak", () => {
    const long = "x".repeat(5000);
    const payload = slackPayload(
      makeLeakMessage({
        subject: `Your key leaked ${long}`,
        facts: {
          tokenType: long,
          keyId: long,
          sightings: Array.from({ length: 200 }, () => ({
            url: `https://e.test/${long}`,
            source: long,
            firstSeen: long,
          })),
          actions: Array.from({ length: 500 }, () => ({
            at: long,
            step: "revoke",
            outcome: "ok",
            detail: "&".repeat(400),
          })),
          nextSteps: Array.from({ length: 100 }, () => long),
        },
      }),
    );
    expectValidBlocks(payload);
    const actions = sectionText(payload, 3);
    // Cut between lines, never inside an entity.
    expect(actions).toMatch(/…and \d+ more$/);
    expect(actions).not.toMatch(/&(?!amp;|lt;|gt;)/);
  });

  it("escapes &, < and > in user-controlled text so nothing becomes a mention or a link", () => {
    const payload = slackPayload(
      makeLeakMessage({
        subject: "Leak <!channel> & co",
        facts: {
          tokenType: "<!channel>",
          sightings: [
            { url: "javascript:alert(1)", source: "<@U123>", firstSeen: "now" },
            { url: "https://e.test/a|b?q=1&r=<x>", source: "github", firstSeen: "now" },
          ],
          actions: [{ at: "t", step: "revoke", outcome: "ok", detail: "<https://evil.test|click me>" }],
          nextSteps: ["Rotate <now> & then relax"],
        },
      }),
    );
    const body = JSON.stringify(payload.blocks.slice(1));
    expect(body).not.toContain("<!channel>");
    expect(body).not.toContain("<@U123>");
    expect(body).not.toContain("<https://evil.test");
    expect(body).not.toContain("<javascript:");
    expect(body).toContain("&lt;!channel&gt;");
    expect(body).toContain("Rotate &lt;now&gt; &amp; then relax");
    expect(body).toContain("<https://e.test/a%7Cb?q=1&amp;r=%3Cx%3E|");
    expect(payload.text).toBe("Leak &lt;!channel&gt; &amp; co: &lt;!channel&gt; key tqs_…9f2a is revoked");
  });

  it("leaves the history link out when there is no admin URL", () => {
    const payload = slackPayload(makeLeakMessage({ facts: { adminUrl: undefined } }));
    expect(JSON.stringify(payload)).not.toContain("Open this leak");
  });

  describe("maps Slack's answers", () => {
    it.each([
      [400, "invalid_payload"],
      [400, "user_not_found"],
      [400, "channel_not_found"],
      [403, "action_prohibited"],
      [404, "no_service"],
      [404, "no_team"],
      [410, "channel_is_archived"],
    ])("HTTP %i %s is permanent", async (status, body) => {
      slack.answer(status, body);
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe(`slack channel "security-slack": HTTP ${status} ${body}`);
      expect(error.transient).toBe(false);
      expect(error.retryAfterSeconds).toBeUndefined();
    });

    it("429 is transient and carries Retry-After", async () => {
      slack.answer(429, "rate_limited", { "retry-after": "30" });
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe('slack channel "security-slack": HTTP 429 rate_limited');
      expect(error.transient).toBe(true);
      expect(error.retryAfterSeconds).toBe(30);
    });

    it.each([500, 502, 503])("HTTP %i is transient", async (status) => {
      slack.answer(status, "service_unavailable", { "retry-after": "Thu, 01 Jan 2026 00:01:00 GMT" });
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.transient).toBe(true);
      expect(error.retryAfterSeconds).toBe(60);
    });

    it("does not follow a redirect", async () => {
      slack.answer(302, "", { location: `${slack.url}/elsewhere` });
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe('slack channel "security-slack": HTTP 302 (redirect not followed)');
      expect(error.transient).toBe(false);
      expect(slack.requests).toHaveLength(1);
    });

    it("keeps an unexpected error body out of the message", async () => {
      slack.answer(400, "<html>Some proxy page with stuff</html>");
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe('slack channel "security-slack": HTTP 400');
    });
  });

  it("gives up after timeoutMs with a transient error", async () => {
    slack.hang();
    const started = Date.now();
    const error = await failure(channel({ timeoutMs: 200 }).deliver(makeLeakMessage()));
    expect(error.message).toBe('slack channel "security-slack": no answer within 200 ms');
    expect(error.transient).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("stops when the caller aborts", async () => {
    slack.hang();
    const error = await failure(channel().deliver(makeLeakMessage(), { signal: AbortSignal.timeout(100) }));
    expect(error.message).toBe('slack channel "security-slack": aborted by caller');
    expect(error.transient).toBe(true);
  });

  it("treats a network failure as transient", async () => {
    const gone = await FakeSlackWebhook.start();
    const url = gone.url;
    await gone.close();
    const error = await failure(channel({ url }).deliver(makeLeakMessage()));
    expect(error.message).toMatch(/^slack channel "security-slack": network error/);
    expect(error.transient).toBe(true);
  });

  it("never puts the webhook URL in an error", async () => {
    const gone = await FakeSlackWebhook.start();
    const goneUrl = gone.url;
    await gone.close();
    slack.answer(404, "no_service").answer(429, "rate_limited").hang();
    const errors = [
      await failure(channel().deliver(makeLeakMessage())),
      await failure(channel().deliver(makeLeakMessage())),
      await failure(channel({ timeoutMs: 100 }).deliver(makeLeakMessage())),
      await failure(channel({ url: goneUrl }).deliver(makeLeakMessage())),
    ];
    for (const error of errors) {
      expect(inspect(error, { depth: 10 })).not.toContain(SECRET_PART);
      expect(JSON.stringify(error)).not.toContain(SECRET_PART);
    }
    const config = (() => {
      try {
        new SlackWebhookChannel({
          name: "s",
          webhookUrl: `http://hooks.example.test/services/${SECRET_PART}`,
        });
      } catch (e) {
        return e;
      }
    })();
    expect(config).toBeInstanceOf(ConfigError);
    expect(inspect(config)).not.toContain(SECRET_PART);
  });

  it("refuses plain http except on loopback", () => {
    expect(
      () => new SlackWebhookChannel({ name: "s", webhookUrl: "http://hooks.slack.com/services/x" }),
    ).toThrow('slack channel "s": URL: must use https (http is allowed on loopback only)');
    expect(() => new SlackWebhookChannel({ name: "s", webhookUrl: "not a url" })).toThrow(ConfigError);
    expect(
      new SlackWebhookChannel({ name: "s", webhookUrl: "https://hooks.slack.com/services/x" }).kind,
    ).toBe("slack");
  });

  it("shows what the issuer tells about the key, as text", () => {
    const message = makeLeakMessage({
      facts: { details: [{ label: "Account", value: "contoso-openai <b>*bold*</b>" }] },
    });
    const text = JSON.stringify(slackPayload(message));
    expect(text).toContain("*About the key*");
    expect(text).toContain("Account: contoso-openai &lt;b&gt;");
  });
});
