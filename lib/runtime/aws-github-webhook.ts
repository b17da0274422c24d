import { githubAppFromConfig } from "../github/github-app.js";
import type { GithubWebhookDeps } from "../intake/receive-github-webhook.js";
import type { Log } from "../log.js";
import { derived } from "./aws-config.js";
import type { Env } from "./aws-env.js";
import { awsIntakeDeps } from "./aws-intake.js";
import { awsAlertStore } from "./aws-store.js";
import { FUNCTION_SECRET_GROUPS } from "./function-secrets.js";

// The GitHub App webhook Lambda's wiring: the intake's (config, store, queue, sealer, issuers) plus the
// App built from the config's `github_app`, rebuilt when a refresh replaces the config. The App's
// installation tokens live in its client, so they are reused across invocations of a container. Of the
// secrets, it reads the issuers' and the App's, never the channels'.

export async function awsGithubWebhookDeps(log: Log, env: Env = process.env): Promise<GithubWebhookDeps> {
  const intake = await awsIntakeDeps(log, env, FUNCTION_SECRET_GROUPS.GithubWebhook);
  const app = derived(
    () => intake.config,
    (config) => githubAppFromConfig(config),
  );
  return {
    // Getters, as in the intake: a refreshed config reaches the next invocation.
    get config() {
      return intake.config;
    },
    get issuers() {
      return intake.issuers;
    },
    get githubApp() {
      return app();
    },
    store: intake.store,
    alerts: awsAlertStore(env),
    queue: intake.queue,
    sealer: intake.sealer,
    log,
  };
}
