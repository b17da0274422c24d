import { generateKeyPairSync } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import { ConfigError } from "../../lib/errors.js";
import { githubAppFromConfig } from "../../lib/github/github-app.js";

// The App built from the config's github_app section: absent without it, and refused at load, naming the
// field, when its key or webhook secret cannot work.

const APP_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs1", format: "pem" })
  .toString();

const config = (env: Record<string, string>, apiUrl = "https://api.github.com") =>
  parseConfig(
    {
      github_app: {
        app_id: 4242,
        private_key: { env: "APP_KEY" },
        webhook_secret: { env: "HOOK_SECRET" },
        api_url: apiUrl,
      },
    },
    env,
  );

describe("githubAppFromConfig", () => {
  it("builds the App's webhook verifier and REST client", async () => {
    const app = githubAppFromConfig(config({ APP_KEY: APP_KEY, HOOK_SECRET: "hook" }));
    expect(app?.alerts).toBeDefined();
    expect(await app?.webhooks.verify("{}", `sha256=${"0".repeat(64)}`)).toBe(false);
  });

  it("is undefined without github_app", () => {
    expect(githubAppFromConfig(parseConfig({}, {}))).toBeUndefined();
  });

  it("refuses a private key that is not an RSA PEM, naming the field", () => {
    expect(() => githubAppFromConfig(config({ APP_KEY: "not a key", HOOK_SECRET: "hook" }))).toThrow(
      /github_app\.private_key/,
    );
  });

  it("refuses an empty webhook secret: no signature could be trusted", () => {
    const loaded = config({ APP_KEY: APP_KEY, HOOK_SECRET: "hook" });
    const empty = { ...loaded, githubAppSecrets: { privateKey: APP_KEY, webhookSecret: "" } };
    expect(() => githubAppFromConfig(empty)).toThrow(ConfigError);
    expect(() => githubAppFromConfig(empty)).toThrow(/github_app\.webhook_secret/);
  });

  it("with previous_webhook_secret, verifies a signature under either secret and no other", async () => {
    const loaded = config({ APP_KEY: APP_KEY, HOOK_SECRET: "new" });
    const rotating = {
      ...loaded,
      githubAppSecrets: { privateKey: APP_KEY, webhookSecret: "new", previousWebhookSecret: "old" },
    };
    const app = githubAppFromConfig(rotating);
    const sign = (secret: string) => new Webhooks({ secret }).sign("{}");
    expect(await app?.webhooks.verify("{}", await sign("new"))).toBe(true);
    expect(await app?.webhooks.verify("{}", await sign("old"))).toBe(true);
    expect(await app?.webhooks.verify("{}", await sign("other"))).toBe(false);
  });

  it("refuses an empty previous webhook secret", () => {
    const loaded = config({ APP_KEY: APP_KEY, HOOK_SECRET: "hook" });
    const empty = {
      ...loaded,
      githubAppSecrets: { privateKey: APP_KEY, webhookSecret: "hook", previousWebhookSecret: "" },
    };
    expect(() => githubAppFromConfig(empty)).toThrow(
      /github_app\.previous_webhook_secret: must not be empty/,
    );
  });
});

describe("githubAppFromConfig in a function that did not resolve the App's secrets", () => {
  it("refuses to build the App instead of answering 404 as if none were configured", () => {
    const raw = {
      github_app: { app_id: 1, private_key: { env: "APP_KEY" }, webhook_secret: { env: "HOOK" } },
    };
    const withoutApp = parseConfig(raw, {}, "config", ["issuers", "channels"]);
    expect(() => githubAppFromConfig(withoutApp)).toThrow(/github_app: this function did not resolve/);
  });
});
