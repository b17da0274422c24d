import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";

// The Octokit the GitHub App calls GitHub's REST API with: @octokit/core with the retry and throttling
// plugins, bent to a webhook that GitHub waits 10 s for. Every attempt has its own timeout; the plugins
// retry a 5xx, a timeout or a network failure once, quickly, and never sleep out a rate limit: the
// caller (the webhook intake, which knows its deadline) reads the limit off the error and decides.
//
// Redirects are followed, as Octokit does by default: GitHub answers a renamed repository's URLs with a
// same-origin redirect, and Node's fetch drops the Authorization header on a cross-origin one
// (test/github/github-octokit.test.ts checks both), so a Location elsewhere never gets the token.

export const GITHUB_API_VERSION = "2022-11-28";

const GithubOctokit = Octokit.plugin(retry, throttling);
export type GithubOctokit = InstanceType<typeof GithubOctokit>;

/** Statuses no retry fixes; 429 is here too: its Retry-After is the caller's to honour or not. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

export interface GithubOctokitOptions {
  /** https://api.github.com, a GHES `https://host/api/v3`, or http on loopback; no trailing slash. */
  baseUrl: string;
  /** Per attempt, reading the answer included. */
  timeoutMs: number;
  /** Delay before the one retry of a transient failure. */
  retryAfterMs?: number | undefined;
}

export function createGithubOctokit(options: GithubOctokitOptions): GithubOctokit {
  const octokit = new GithubOctokit({
    baseUrl: options.baseUrl,
    userAgent: "tourniquet",
    request: { fetch: fetchWithTimeout(options.timeoutMs) },
    retry: { retries: 1, retryAfterBaseValue: options.retryAfterMs ?? 250, doNotRetry: DO_NOT_RETRY },
    throttle: {
      // Octokit would wait out the limit (up to an hour for the primary one) inside the request.
      onRateLimit: () => false,
      onSecondaryRateLimit: () => false,
    },
  });
  // GitHub's recommended headers, on every call (the installation token requests of auth-app included).
  octokit.hook.before("request", (request) => {
    request.headers.accept = "application/vnd.github+json";
    request.headers["x-github-api-version"] = GITHUB_API_VERSION;
  });
  return octokit;
}

/**
 * Node's fetch with a timeout per attempt that covers reading the body too (Octokit reads it after
 * fetch resolves, and takes a body cut short for an empty one). A failure after the caller's own signal
 * fired is thrown as an AbortError: @octokit/request passes that on as it is and plugin-retry does not
 * retry it, whereas a timeout of ours is a transient failure worth its one retry.
 */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const caller = init?.signal ?? undefined;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
    try {
      const response = await fetch(input, { ...init, signal });
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      if (caller?.aborted)
        throw Object.assign(new Error("aborted by the caller", { cause: error }), { name: "AbortError" });
      throw error;
    }
  };
}

/** Statuses a Response may not be built with a body for. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);
