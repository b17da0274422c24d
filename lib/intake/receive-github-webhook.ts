import type { TourniquetConfig } from "../config.js";
import { BadRequestError, NotConfiguredError } from "../errors.js";
import { describeAlert } from "../github/alert-record.js";
import type { AlertStore } from "../github/alert-store.js";
import { applyInstallationChange } from "../github/apply-installation-change.js";
import type { GithubApp } from "../github/github-app.js";
import type { AlertRef } from "../github/github-app-client.js";
import { parseWebhookEvent } from "../github/webhook-event.js";
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from "../github/webhook-signature.js";
import { checkJsonRequest } from "../http/json-request.js";
import type { SignedDelivery } from "../http/signed-delivery-route.js";
import { describeError, type Log } from "../log.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import type { IntakeMetrics } from "./intake-metrics.js";

// POST /v1/github/webhooks: a GitHub App's webhook deliveries. A secret_scanning_alert names an alert,
// not the secret. GitHub does not redeliver a failed delivery by itself, so the alert is recorded
// durably (with the delivery id: a redelivery is a no-op) and its fetch queued, and the answer is 202 at
// once, with no GitHub API call on the request path. The worker fetches the secret and its locations
// with the installation token, retrying outages and rate limits (intake/fetch-reported-alert.ts); the
// sweep sends alerts whose fetch stays owed, and lists open alerts the webhooks never brought.

export interface GithubWebhookDeps {
  config: TourniquetConfig;
  /** Undefined when the config has no `github_app`: the route answers 404. */
  githubApp: GithubApp | undefined;
  /** Where each alert is recorded before its fetch is queued. */
  alerts: AlertStore;
  queue: RemediationQueue;
  log: Log;
  now?: (() => number) | undefined;
  /** Counts each alert recorded (the handler publishes them). */
  metrics?: Pick<IntakeMetrics, "reported"> | undefined;
}

export type GithubWebhookRequest = SignedDelivery;

export type GithubWebhookAnswer =
  | { status: 200; body: { ok: true } }
  | { status: 202; body: { ignored: string } }
  | { status: 202; body: { installation: number; action: string } }
  | {
      status: 202;
      body: {
        delivery: string;
        alert: { repository: string; number: number; html_url: string };
        /** Queued for the worker's fetch; `duplicate` when this delivery was recorded before. */
        queued?: true;
        duplicate?: true;
      };
    };

const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;

export async function receiveGithubWebhook(
  deps: GithubWebhookDeps,
  request: GithubWebhookRequest,
): Promise<GithubWebhookAnswer> {
  const app = deps.githubApp;
  if (!app) throw new NotConfiguredError("GitHub App webhooks are not configured (github_app in the config)");
  const now = deps.now ?? Date.now;
  const receivedAt = now();
  const { intake } = deps.config;

  checkJsonRequest(request.body, request.header("content-type"), {
    maxBytes: intake.max_body_bytes,
    contentTypeRequired: true,
    hint: " (set the App's webhook content type to JSON)",
  });
  const event = request.header("x-github-event");
  const delivery = request.header("x-github-delivery");
  if (!event) throw new BadRequestError("missing X-GitHub-Event header");
  if (!delivery) throw new BadRequestError("missing X-GitHub-Delivery header");
  if (!DELIVERY_ID.test(delivery)) throw new BadRequestError("malformed X-GitHub-Delivery header");
  await verifyWebhookSignature({
    webhooks: app.webhooks,
    signature: request.header(WEBHOOK_SIGNATURE_HEADER),
    body: request.body,
  });

  const parsed = parseWebhookEvent(event, request.body);
  if (parsed.kind === "ping") {
    deps.log.info("github webhook ping", { delivery });
    return { status: 200, body: { ok: true } };
  }
  if (parsed.kind === "ignored") {
    deps.log.info("github webhook ignored", { delivery, event: parsed.name });
    return { status: 202, body: { ignored: parsed.name } };
  }
  if (parsed.kind === "installation") {
    // Store writes only: the sweep lists the installation's alerts (github/apply-installation-change.ts).
    const { installationId, action } = parsed.change;
    deps.log.info("github installation webhook", {
      delivery,
      event: parsed.name,
      installation: installationId,
    });
    await applyInstallationChange({ alerts: deps.alerts, log: deps.log }, parsed.change, receivedAt);
    return { status: 202, body: { installation: installationId, action } };
  }

  const { alert } = parsed;
  const ref: AlertRef = {
    installationId: alert.installationId,
    owner: alert.owner,
    repo: alert.repo,
    number: alert.number,
  };
  // Durable before anything else, and no GitHub call here: the worker fetches the secret, so GitHub's
  // API being down loses nothing, and a redelivery of the same delivery is a no-op.
  const { alert: record, duplicate } = await deps.alerts.recordAlert(
    { ...ref, secretType: alert.secretType, htmlUrl: alert.htmlUrl, repoHtmlUrl: alert.repoHtmlUrl },
    { delivery, at: receivedAt },
  );
  deps.log.info("github secret scanning alert recorded", {
    delivery,
    action: parsed.action,
    alert: describeAlert(ref),
    alertId: record.id,
    installation: alert.installationId,
    secretType: alert.secretType,
    duplicate,
  });
  const alertPage = alert.htmlUrl ?? `${alert.repoHtmlUrl}/security/secret-scanning/${alert.number}`;
  const answer = { repository: alert.fullName, number: alert.number, html_url: alertPage };
  if (duplicate) return { status: 202, body: { delivery, alert: answer, duplicate: true } };
  // Counted as received here; its tokens are reported by the worker that fetches them.
  deps.metrics?.reported([], "app_alert");
  if (record.fetchOwed) {
    await deps.queue.send([{ alertId: record.id }]).catch((error: unknown) => {
      // Recorded: the sweep sends an alert whose fetch stays owed, so the delivery is still accepted.
      deps.log.warn("github alert recorded but not queued; the sweep will send it", {
        delivery,
        alertId: record.id,
        error: describeError(error),
      });
    });
  }
  return { status: 202, body: { delivery, alert: answer, queued: true } };
}
