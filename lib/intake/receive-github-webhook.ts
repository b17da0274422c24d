import { BadRequestError, GithubApiError, NotConfiguredError } from "../errors.js";
import { locationUrl } from "../github/alert-locations.js";
import type { GithubApp } from "../github/github-app.js";
import { type AlertRef, describeAlert } from "../github/github-app-client.js";
import { type AlertEvent, parseWebhookEvent } from "../github/webhook-event.js";
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from "../github/webhook-signature.js";
import { checkJsonRequest } from "../http/json-request.js";
import type { SignedDelivery } from "../http/signed-delivery-route.js";
import { describeError } from "../log.js";
import type { FeedbackLabel } from "../remediation/verification.js";
import { TOKEN_TYPE_MAX_BYTES } from "../store/field-limits.js";
import { retryTransient } from "../util/retry.js";
import { utf8Bytes } from "../util/utf8.js";
import { groupReportedTokens, type RecordDeps, recordReportedTokens } from "./record-reported-tokens.js";

// POST /v1/github/webhooks: a GitHub App's webhook deliveries. A secret_scanning_alert names an alert,
// not the secret; the App fetches the secret and its locations from GitHub's REST API with its
// installation token, then the secret goes through the same intake as a partner report: one leak per
// fingerprint (a token reported by both paths is one leak), a sighting per location, inline
// verification, the sealed token queued. GitHub waits 10 s for the answer and does not redeliver a
// failed delivery by itself, so failures are logged with the delivery id for an operator to redeliver.

export interface GithubWebhookDeps extends RecordDeps {
  /** Undefined when the config has no `github_app`: the route answers 404. */
  githubApp: GithubApp | undefined;
}

export type GithubWebhookRequest = SignedDelivery;

export interface WebhookLeak {
  token_hash: string;
  token_type: string;
  label?: FeedbackLabel;
}

export type GithubWebhookAnswer =
  | { status: 200; body: { ok: true } }
  | { status: 202; body: { ignored: string } }
  | {
      status: 200;
      body: {
        delivery: string;
        alert: { repository: string; number: number; html_url: string };
        leaks: WebhookLeak[];
      };
    };

/** Fetching the alert and its locations, retries included, ends this long after the delivery arrived. */
export const ALERT_FETCH_BUDGET_MS = 5_000;
/** Inline verification ends by then too, whatever the config's budget: GitHub gives up at 10 s. */
export const WEBHOOK_VERIFY_BY_MS = 8_000;
/**
 * Around each call, whose Octokit already retries a 5xx or a timeout once: this policy also takes a rate
 * limit with a short Retry-After (Octokit is told not to wait limits out), all within the budget above.
 */
const FETCH_RETRY = { attempts: 3, baseMs: 200, maxDelayMs: 2_000 };
const MAX_SECRET_LENGTH = 4_096;

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

  const { alert } = parsed;
  const ref: AlertRef = {
    installationId: alert.installationId,
    owner: alert.owner,
    repo: alert.repo,
    number: alert.number,
  };
  deps.log.info("github secret scanning alert received", {
    delivery,
    action: parsed.action,
    alert: describeAlert(ref),
    installation: alert.installationId,
    secretType: alert.secretType,
  });
  const found = await fetchAlert(deps, app, ref, delivery, receivedAt);
  if (found.secret.length > MAX_SECRET_LENGTH)
    throw new GithubApiError(
      `GitHub API alert ${describeAlert(ref)}: the secret is longer than ${MAX_SECRET_LENGTH} characters; not recorded`,
      { transient: false },
    );

  const type = found.secretType || alert.secretType;
  if (utf8Bytes(type) > TOKEN_TYPE_MAX_BYTES)
    throw new GithubApiError(
      `GitHub API alert ${describeAlert(ref)}: the secret type is longer than ${TOKEN_TYPE_MAX_BYTES} bytes; not recorded`,
      { transient: false },
    );

  const alertPage =
    found.htmlUrl ?? alert.htmlUrl ?? `${alert.repoHtmlUrl}/security/secret-scanning/${alert.number}`;
  const sightings = sightingsOf(alert, found.locations, alertPage);
  const tokens = groupReportedTokens(sightings.map((s) => ({ token: found.secret, type, ...s })));
  const recorded = await recordReportedTokens(deps, tokens, {
    receivedAt,
    verifyDeadline: Math.min(now() + intake.inline_verify_budget_ms, receivedAt + WEBHOOK_VERIFY_BY_MS),
    reporter: `GitHub App alert ${describeAlert(ref)}`,
    source: "app_alert",
  });
  deps.log.info("github secret scanning alert recorded", {
    delivery,
    alert: describeAlert(ref),
    leaks: recorded.map((r) => ({ leakId: r.leak.id, status: r.leak.status })),
    sightings: sightings.length,
  });
  return {
    status: 200,
    body: {
      delivery,
      alert: { repository: alert.fullName, number: alert.number, html_url: alertPage },
      leaks: recorded.map(({ fingerprint, type, label }) => ({
        token_hash: fingerprint,
        token_type: type,
        ...(label ? { label } : {}),
      })),
    },
  };
}

/**
 * The alert (with its secret) and its locations, retried briefly inside the delivery. Nothing is
 * written before both are in hand, so a failure leaves no trace but the log line naming the delivery.
 */
async function fetchAlert(
  deps: GithubWebhookDeps,
  app: GithubApp,
  ref: AlertRef,
  delivery: string,
  receivedAt: number,
) {
  const deadline = receivedAt + ALERT_FETCH_BUDGET_MS;
  const now = deps.now ?? Date.now;
  const timeLeft = () => AbortSignal.timeout(Math.max(1, deadline - now()));
  const policy = {
    ...FETCH_RETRY,
    deadline,
    onRetry: (error: unknown, attempt: number, delayMs: number) =>
      deps.log.info("github api call failed; retrying", {
        delivery,
        alert: describeAlert(ref),
        attempt,
        delayMs,
        error: describeError(error),
      }),
  };
  try {
    const [alert, locations] = await Promise.all([
      retryTransient(() => app.alerts.getAlert(ref, { signal: timeLeft() }), policy),
      retryTransient(() => app.alerts.listAlertLocations(ref, { signal: timeLeft() }), policy),
    ]);
    return { ...alert, locations };
  } catch (error) {
    if (!(error instanceof GithubApiError)) throw error;
    deps.log.warn("github secret scanning alert not fetched; nothing recorded", {
      delivery,
      alert: describeAlert(ref),
      transient: error.transient,
      error: describeError(error),
    });
    // GitHub does not redeliver a failed delivery by itself: the answer says which one to redeliver.
    const advice = error.transient
      ? `; redeliver ${delivery} once GitHub answers again`
      : `; check the App's installation and its "Secret scanning alerts" permission, then redeliver ${delivery}`;
    throw new GithubApiError(`${error.message}${advice}`, {
      transient: error.transient,
      httpStatus: error.httpStatus,
      cause: error,
    });
  }
}

/** One sighting per distinct place; the alert's own page when GitHub lists none. */
function sightingsOf(
  alert: AlertEvent,
  locations: { type: string; details: Record<string, unknown> }[],
  alertPage: string,
) {
  const source = `github_app:${alert.fullName.toLowerCase()}`;
  const urls = new Set(locations.map((l) => locationUrl(l, alert.repoHtmlUrl, alertPage)));
  if (urls.size === 0) urls.add(alertPage);
  return [...urls].map((url) => ({ url, source }));
}
