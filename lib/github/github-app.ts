import { Webhooks } from "@octokit/webhooks";
import type { TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { appPrivateKey } from "./app-private-key.js";
import type { SecretScanningAlerts } from "./github-app-client.js";
import { lazySecretScanningAlerts } from "./lazy-alerts-client.js";

// The GitHub App as the webhook intake uses it, built from the config's `github_app` section when the
// config is loaded: a bad private key stops the service here, naming the field.

export interface GithubApp {
  /**
   * @octokit/webhooks keyed with the App's webhook secret (and, during a rotation, the previous one):
   * X-Hub-Signature-256 is checked with it.
   */
  webhooks: Pick<Webhooks, "verify">;
  alerts: SecretScanningAlerts;
}

/** The App, or undefined when the config has no `github_app` (the route then answers 404). */
export function githubAppFromConfig(
  config: TourniquetConfig,
  options: { timeoutMs?: number; retryAfterMs?: number } = {},
): GithubApp | undefined {
  const app = config.github_app;
  const secrets = config.githubAppSecrets;
  if (!app) return undefined;
  // A function that does not receive webhooks never resolves the App's secrets (config-secrets.ts).
  if (!secrets) throw new ConfigError("github_app: this function did not resolve the App's secrets");
  // Octokit refuses an empty secret too, but with an error that does not name the field.
  if (!secrets.webhookSecret) throw new ConfigError("github_app.webhook_secret: must not be empty");
  if (secrets.previousWebhookSecret === "")
    throw new ConfigError("github_app.previous_webhook_secret: must not be empty");
  // Checked now, so a bad key stops the service at start; the client itself loads with its first call.
  const privateKey = appPrivateKey(secrets.privateKey);
  return {
    webhooks: webhookVerifier(secrets.webhookSecret, secrets.previousWebhookSecret),
    alerts: lazySecretScanningAlerts(async () => {
      const { GithubAppClient } = await import("./github-app-client.js");
      return new GithubAppClient({
        apiUrl: app.api_url,
        appId: app.app_id,
        privateKey,
        timeoutMs: options.timeoutMs,
        retryAfterMs: options.retryAfterMs,
      });
    }),
  };
}

/**
 * GitHub signs with the one secret the App has. While an operator replaces it, deliveries signed with the
 * old one are still in flight or redelivered, so a signature under either verifies; each comparison is
 * Octokit's, in constant time.
 */
function webhookVerifier(current: string, previous: string | undefined): Pick<Webhooks, "verify"> {
  const hooks = new Webhooks({ secret: current });
  if (!previous) return hooks;
  const before = new Webhooks({ secret: previous });
  return {
    verify: async (payload, signature) =>
      (await hooks.verify(payload, signature)) || (await before.verify(payload, signature)),
  };
}
