import { NotificationError } from "../../errors.js";
import { fetchFailure, outboundUrl, parseRetryAfter } from "../../http/outbound.js";
import { type Post, post } from "../../http/post.js";

// What the Slack and webhook channels share: one POST over the shared transport (lib/http/post.ts), which
// never follows redirects (a redirect would resend the message wherever Location points), bounded by a
// timeout that includes reading the answer, and by the transport's cap on the answer's size.
// Errors carry the channel's label and never the URL: a Slack webhook URL is itself a secret.

export interface HttpAnswer {
  status: number;
  /** The response body, as text. */
  body: string;
  /** From `Retry-After` (delta-seconds or HTTP-date), when present. */
  retryAfterSeconds: number | undefined;
}

export interface PostInput {
  /** Names the channel in errors, e.g. `slack channel "security-slack"`. */
  label: string;
  url: URL;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** The HTTP transport; tests may record or fake requests through it. */
  post?: Post | undefined;
  now: () => number;
  signal?: AbortSignal | undefined;
}

/** Sends the POST; network failures, timeouts and aborts become transient NotificationErrors. */
export async function postOnce(input: PostInput): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(input.timeoutMs);
  const signal = input.signal ? AbortSignal.any([input.signal, timeout]) : timeout;
  try {
    const response = await (input.post ?? post)(input.url, {
      headers: input.headers,
      body: input.body,
      signal,
    });
    const retryAfterSeconds = parseRetryAfter(response.header("retry-after") ?? null, input.now());
    return { status: response.status, body: response.text, retryAfterSeconds };
  } catch (error) {
    const what = fetchFailure(error, { timeout, timeoutMs: input.timeoutMs, caller: input.signal });
    throw new NotificationError(`${input.label}: ${what}`, { transient: true, cause: error });
  }
}

/** Accepts https anywhere and plain http only on loopback (local development and tests). */
export const parseChannelUrl = (label: string, value: string): URL => outboundUrl(`${label}: URL`, value);

/** A short snake_case error code from a response body, or "" when the body is anything else. */
export function errorCodeIn(body: string): string {
  const trimmed = body.trim();
  if (/^[a-z][a-z0-9_]{0,59}$/.test(trimmed)) return ` ${trimmed}`;
  try {
    const code = (JSON.parse(trimmed) as { error?: unknown }).error;
    return typeof code === "string" && /^[a-z][a-z0-9_]{0,59}$/.test(code) ? ` ${code}` : "";
  } catch {
    return "";
  }
}
