import { signedDeliveryRoute } from "../lib/http/signed-delivery-route.js";
import { type IntakeMetrics, noIntakeMetrics } from "../lib/intake/intake-metrics.js";
import { type GithubWebhookDeps, receiveGithubWebhook } from "../lib/intake/receive-github-webhook.js";
import type { Log } from "../lib/log.js";
import { awsGithubWebhookDeps } from "../lib/runtime/aws-github-webhook.js";
import { createLogger } from "../lib/runtime/logger.js";
import { createIntakeMetrics } from "../lib/runtime/metrics.js";
import { once } from "../lib/util/concurrency.js";

/** POST /v1/github/webhooks — the GitHub App's webhooks (secret_scanning_alert, ping). */
export function createGithubWebhookHandler(
  deps: () => Promise<GithubWebhookDeps>,
  log: Log,
  metrics: IntakeMetrics = noIntakeMetrics,
) {
  return signedDeliveryRoute({ deps, log, metrics, receive: receiveGithubWebhook });
}

const log = createLogger();
export const handler = createGithubWebhookHandler(
  once(() => awsGithubWebhookDeps(log)),
  log,
  createIntakeMetrics(),
);
