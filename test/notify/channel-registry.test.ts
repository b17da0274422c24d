import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import { ConfigError } from "../../lib/errors.js";
import { createChannels } from "../../lib/notify/channel-registry.js";

// The channels the config names, built only where their secrets were resolved (the worker).

const raw = {
  defaults: { channels: ["slack"] },
  notifications: { channels: { slack: { kind: "slack", webhook_url: { env: "SLACK_URL" } } } },
};

describe("createChannels", () => {
  it("builds each channel with its secret", () => {
    const config = parseConfig(raw, { SLACK_URL: "https://hooks.slack.example/x" });
    expect([...createChannels(config, { outboxDir: "/tmp/outbox" }).keys()]).toEqual(["slack"]);
  });

  it("refuses, naming the channel, when this function did not resolve channel secrets", () => {
    const config = parseConfig(raw, {}, "config", ["issuers"]);
    expect(() => createChannels(config, { outboxDir: "/tmp/outbox" })).toThrow(
      new ConfigError("notifications.channels.slack: this function did not resolve the channel's secret"),
    );
  });
});
