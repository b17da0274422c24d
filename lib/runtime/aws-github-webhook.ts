import { githubAppFromConfig } from "../github/github-app.js";
import type { GithubWebhookDeps } from "../intake/receive-github-webhook.js";
import type { Log } from "../log.js";
import { awsConfig, derived } from "./aws-config.js";
import type { Env } from "./aws-env.js";
import { awsQueue } from "./aws-queue.js";
import { awsAlertStore } from "./aws-store.js";
import { FUNCTION_SECRET_GROUPS } from "./function-secrets.js";

// The GitHub App webhook Lambda's wiring: the config, the App built from its `github_app` (rebuilt when
// a refresh replaces the config), the alert store and the queue. It records alerts and queues their
// fetch, never calling GitHub or an issuer, so it holds no issuer secret, no token key and no SDK client
// it does not use; of the secrets it reads the App's only.

export async function awsGithubWebhookDeps(log: Log, env: Env = process.env): Promise<GithubWebhookDeps> {
  const config = await awsConfig(log, env, FUNCTION_SECRET_GROUPS.GithubWebhook, (current) =>
    githubAppFromConfig(current),
  );
  const app = derived(config, (current) => githubAppFromConfig(current));
  return {
    // Getters: a refreshed config reaches the next invocation.
    get config() {
      return config();
    },
    get githubApp() {
      return app();
    },
    alerts: awsAlertStore(env),
    queue: awsQueue(env),
    log,
  };
}
