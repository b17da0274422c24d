import { isIP } from "node:net";

// Rules every outbound HTTP client here shares (issuers, Slack, webhooks).

/** Statuses below 500 after which the same request may succeed later. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

export const isTransientStatus = (status: number) => status >= 500 || RETRYABLE_4XX.has(status);

/**
 * Plain http is allowed only to this machine (local stack, tests): a loopback IP literal or
 * `localhost`. A name such as `127.example.com` is not loopback, whatever it starts with.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && host === "::1";
}

/** ` (ECONNREFUSED)` and the like: the system error behind a failed fetch, for error messages. */
export function networkErrorCode(error: unknown): string {
  // fetch wraps the system error as its cause; node:http throws it as it is.
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.cause?.code === "string" ? e.cause.code : e?.code;
  return typeof code === "string" ? ` (${code})` : "";
}

/**
 * Why a fetch threw, for an error message: our own timeout, the caller's signal (`callerAborted` says
 * what that means to the caller), or the network, with its system error code.
 */
export function fetchFailure(
  error: unknown,
  signals: { timeout: AbortSignal; timeoutMs: number; caller?: AbortSignal | undefined },
  callerAborted = "aborted by caller",
): string {
  if (signals.timeout.aborted) return `no answer within ${signals.timeoutMs} ms`;
  if (signals.caller?.aborted) return callerAborted;
  return `network error${networkErrorCode(error)}`;
}

/** Seconds from `Retry-After`: delta-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}
