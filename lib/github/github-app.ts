import type { TourniquetConfig } from "../config.js";
import { appPrivateKey } from "./app-jwt.js";
import { GithubAppClient, type SecretScanningAlerts } from "./github-app-client.js";

// The GitHub App as the webhook intake uses it, built from the config's `github_app` section.

export interface GithubApp {
  /** X-Hub-Signature-256 is checked against it. */
  webhookSecret: string;
  alerts: SecretScanningAlerts;
}

/** The App, or undefined when the config has no `github_app` (the route then answers 404). */
export function githubAppFromConfig(
  config: TourniquetConfig,
  options: { fetch?: typeof fetch; now?: () => number; timeoutMs?: number } = {},
): GithubApp | undefined {
  const app = config.github_app;
  const secrets = config.githubAppSecrets;
  if (!app || !secrets) return undefined;
  return {
    webhookSecret: secrets.webhookSecret,
    alerts: new GithubAppClient({
      apiUrl: app.api_url,
      appId: app.app_id,
      privateKey: appPrivateKey(secrets.privateKey),
      fetch: options.fetch,
      now: options.now,
      timeoutMs: options.timeoutMs,
    }),
  };
}
