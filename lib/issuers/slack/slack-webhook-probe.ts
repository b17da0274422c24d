import { IssuerError } from "../../errors.js";
import { fetchFailure, parseRetryAfter } from "../../http/outbound.js";
import { type Post, post as realPost } from "../../http/post.js";
import type { CallOptions, WebhookAnswer } from "./slack-api.js";

// Checks an incoming webhook URL without posting anything: an empty message (`{"text": ""}`) is refused
// by a live hook with 400 `no_text` (or `invalid_payload`), and by a dead one with 403 `invalid_token` or
// 404 `no_service` / `no_team` (plain-text bodies; Slack's incoming webhook errors). Over Node's own
// http client (lib/http/post.ts): no SDK is needed, so a webhook check never loads Slack's SDK. The URL
// is the secret: it never appears in a message; the body is read only as far as a short code.

/** Slack's answers are a word; anything longer is not a code and is not kept. */
const MAX_BODY_BYTES = 4 * 1024;
const CODE = /^[a-z][a-z0-9_]{0,63}$/;

export interface WebhookProbeOptions {
  timeoutMs: number;
  post?: Post | undefined;
  now?: (() => number) | undefined;
}

export async function probeWebhook(
  url: URL,
  settings: WebhookProbeOptions,
  options?: CallOptions,
): Promise<WebhookAnswer> {
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  const signal = options?.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const answer = await (settings.post ?? realPost)(url, {
      headers: { "content-type": "application/json", "user-agent": "tourniquet" },
      body: JSON.stringify({ text: "" }),
      signal,
      maxResponseBytes: MAX_BODY_BYTES,
    });
    const text = answer.text.trim();
    return {
      status: answer.status,
      code: CODE.test(text) ? text : undefined,
      retryAfterSeconds: parseRetryAfter(answer.header("retry-after") ?? null, (settings.now ?? Date.now)()),
    };
  } catch (error) {
    const why = fetchFailure(error, { timeout, timeoutMs: settings.timeoutMs, caller: options?.signal });
    throw new IssuerError(`Slack incoming webhook check: ${why}`, { transient: true });
  }
}
