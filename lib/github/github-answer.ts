import { parseRetryAfter } from "../http/outbound.js";

// How GitHub's REST answers say "wait" and "why", read the same way for the App's calls
// (github-api-error.ts) and the token issuer's (issuers/github/github-token-errors.ts).

/** What GitHub answered: the status, headers and the parsed body. */
export interface GithubAnswerParts {
  status: number;
  headers: Record<string, unknown>;
  data?: unknown;
}

/**
 * GitHub's rate limits: 429, or 403 (or 422 from the credentials API) with `x-ratelimit-remaining: 0`
 * or a Retry-After (primary), or a 403 with the "secondary rate limit" message. The wait: Retry-After,
 * else `x-ratelimit-reset` (epoch seconds), else GitHub's advice: at least a minute.
 */
export function githubRateLimit(
  answer: GithubAnswerParts,
  nowMs: number,
): { limited: boolean; retryAfterSeconds?: number } {
  const header = (name: string) => {
    const value = answer.headers[name];
    return value === undefined ? null : String(value);
  };
  const retryAfter = parseRetryAfter(header("retry-after"), nowMs);
  const remaining = header("x-ratelimit-remaining");
  const reset = Number(header("x-ratelimit-reset"));
  const fromReset =
    remaining === "0" && Number.isFinite(reset) && reset > 0
      ? Math.max(1, Math.ceil(reset - nowMs / 1000))
      : undefined;
  const secondary = /\bsecondary rate limit/i.test(githubMessageOf(answer.data) ?? "");
  const limited =
    answer.status === 429 ||
    ((answer.status === 403 || answer.status === 422) && (remaining === "0" || retryAfter !== undefined)) ||
    (answer.status === 403 && secondary);
  const retryAfterSeconds = retryAfter ?? fromReset ?? (limited ? 60 : undefined);
  return retryAfterSeconds === undefined ? { limited } : { limited, retryAfterSeconds };
}

/** The `message` of GitHub's error body, when it has one. */
export const githubMessageOf = (data: unknown): string | undefined => {
  const message = (data as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : undefined;
};

/** GitHub's own `message` ("Bad credentials"), printable ASCII, kept short, for an error's text. */
export function githubMessage(data: unknown): string {
  const clean = (githubMessageOf(data) ?? "").replace(/[^\x20-\x7e]/g, "").slice(0, 120);
  return clean ? ` (${clean})` : "";
}
