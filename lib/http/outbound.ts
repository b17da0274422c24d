import { isIP } from "node:net";
import { ConfigError } from "../errors.js";

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

/**
 * What is wrong with an outbound endpoint URL, or undefined when it is fine: https anywhere, plain
 * http only on loopback (requests may carry tokens or secrets: plain HTTP must never leave the host).
 * The config schema and every client's constructor apply this one rule, so a config that validates
 * also constructs.
 */
export function outboundUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return undefined;
  return "must use https (http is allowed on loopback only)";
}

/** The URL, or a ConfigError naming `label` and what is wrong with it (outboundUrlProblem). */
export function outboundUrl(label: string, value: string): URL {
  const problem = outboundUrlProblem(value);
  if (problem) throw new ConfigError(`${label}: ${problem}`);
  return new URL(value);
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
