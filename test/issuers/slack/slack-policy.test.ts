import { describe, expect, it } from "vitest";
import { parseConfig, policyFor } from "../../../lib/config.js";
import { ConfigError } from "../../../lib/errors.js";
import { IssuerRegistry } from "../../../lib/issuers/issuer-registry.js";
import { unrevocableType } from "../../../lib/issuers/unrevocable-types.js";
import { nextSteps } from "../../../lib/notify/leak-facts.js";
import { makeLeak } from "../../helpers/dynamo.js";
import { InMemorySlack } from "../../helpers/in-memory-slack.js";

// A Slack incoming webhook cannot be revoked by any API: its policy defaults to notify_only (unless the
// operator's default does nothing at all), a revoke mode for it is refused at load, and its owner's next
// steps say how to delete it. The registry builds `slack` issuers from the config.

const slackConfig = (tokenTypes: Record<string, unknown>, defaults: Record<string, unknown> = {}) =>
  parseConfig(
    {
      issuers: { slack: { kind: "slack", bot_token: { env: "SLACK_BOT" } } },
      token_types: tokenTypes,
      defaults,
    },
    { SLACK_BOT: "xoxb-configured" },
  );

describe("the policy of a type no API can revoke", () => {
  it("defaults to notify_only where the default mode would revoke; other types keep the default", () => {
    const config = slackConfig({
      slack_incoming_webhook_url: { issuer: "slack" },
      slack_api_token: { issuer: "slack" },
    });
    expect(policyFor(config, "slack_incoming_webhook_url").mode).toBe("notify_only");
    expect(policyFor(config, "SLACK_INCOMING_WEBHOOK_URL").mode).toBe("notify_only");
    expect(policyFor(config, "slack_api_token").mode).toBe("revoke");
  });

  it("keeps a default of dry_run, and an explicit mode that does not revoke", () => {
    expect(
      policyFor(
        slackConfig({ slack_incoming_webhook_url: { issuer: "slack" } }, { mode: "dry_run" }),
        "slack_incoming_webhook_url",
      ).mode,
    ).toBe("dry_run");
    expect(
      policyFor(
        slackConfig({ slack_incoming_webhook_url: { issuer: "slack", mode: "dry_run" } }),
        "slack_incoming_webhook_url",
      ).mode,
    ).toBe("dry_run");
  });

  it.each(["revoke", "revoke_and_rotate"])("refuses mode %s for it at load, saying why", (mode) => {
    expect(() => slackConfig({ slack_incoming_webhook_url: { issuer: "slack", mode } })).toThrow(ConfigError);
    expect(() => slackConfig({ slack_incoming_webhook_url: { issuer: "slack", mode } })).toThrow(
      /Slack offers no API to revoke it/,
    );
  });

  it("the owner of a live webhook left alone is told how to delete it, first", () => {
    const steps = nextSteps({
      leak: makeLeak({ status: "notified", tokenType: "slack_incoming_webhook_url" }),
      sightings: [],
    });
    expect(steps[0]).toContain("Delete this incoming webhook in Slack");
    expect(steps[0]).toContain("Incoming Webhooks");
    expect(steps.join(" ")).not.toContain("Rotate this key now");
    // Another type keeps the usual steps.
    expect(
      nextSteps({ leak: makeLeak({ status: "notified", tokenType: "slack_api_token" }), sightings: [] })[0],
    ).toContain("Rotate this key now");
    expect(unrevocableType("slack_api_token")).toBeUndefined();
    expect(unrevocableType("constructor")).toBeUndefined();
  });
});

describe("IssuerRegistry with a slack issuer", () => {
  it("builds it over the port the factory gives, with the resolved bot token, for both Slack types", async () => {
    const config = slackConfig({
      slack_incoming_webhook_url: { issuer: "slack" },
      slack_api_token: { issuer: "slack" },
    });
    const slack = new InMemorySlack();
    const seen: (string | undefined)[] = [];
    const registry = IssuerRegistry.fromConfig(config, {
      slackApi: (settings, botToken) => {
        seen.push(settings.api_url, botToken);
        return slack;
      },
    });
    expect(seen).toEqual(["https://slack.com/api", "xoxb-configured"]);
    const issuer = registry.forType("slack_incoming_webhook_url");
    expect(issuer?.name).toBe("slack");
    expect(registry.forType("slack_api_token")).toBe(issuer);
    // The webhook base follows api_url: hooks.slack.com is called, another host is not.
    const hook = "https://hooks.slack.com/services/T12345678/B12345678/abcdefghijklmnopqrstuvwx";
    slack.webhooks.set(hook, { status: 400, code: "no_text" });
    expect((await issuer?.verify({ token: hook, type: "slack_incoming_webhook_url" }))?.status).toBe(
      "active",
    );
  });

  it("builds it without secrets resolved: no bot token, no owner look-up", () => {
    const config = { ...slackConfig({ slack_api_token: { issuer: "slack" } }), secrets: {} };
    const tokens: (string | undefined)[] = [];
    IssuerRegistry.fromConfig(config, {
      slackApi: (_settings, botToken) => {
        tokens.push(botToken);
        return new InMemorySlack();
      },
    });
    expect(tokens).toEqual([undefined]);
    // And with Slack's SDK adapter by default, which loads nothing until called.
    expect(IssuerRegistry.fromConfig(config).forType("slack_api_token")?.name).toBe("slack");
  });
});
