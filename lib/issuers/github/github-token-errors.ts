import { IssuerError } from "../../errors.js";
import { isTransientStatus, networkErrorCode, parseRetryAfter } from "../../http/outbound.js";

// How a failed call to GitHub's REST API becomes an IssuerError (the port's rules, github-token-api.ts).
// Messages are built from the call, the HTTP status, the rate-limit headers and GitHub's short `message`
// — never from a request: a token travels in the Authorization header (GET /user) or in the body
// (/credentials/revoke), and neither is read here.

export interface GithubAnswer {
  status: number;
  headers: Record<string, string | number | undefined>;
  data: unknown;
}

export interface FailureContext {
  /** `GET /user`, `POST /credentials/revoke (1000 tokens)`. */
  call: string;
  timeoutMs: number;
  timedOut: boolean;
  callerAborted: boolean;
  now?: (() => number) | undefined;
}

/** 422 without a Retry-After: GitHub gives no wait, so a minute (its advice for secondary limits). */
const DEFAULT_SPAM_WAIT_SECONDS = 60;

export function githubTokenError(answer: GithubAnswer | undefined, error: unknown, ctx: FailureContext) {
  const where = `GitHub ${ctx.call}`;
  if (ctx.callerAborted) return new IssuerError(`${where}: aborted by caller`, { transient: true });
  if (ctx.timedOut)
    return new IssuerError(`${where}: no answer within ${ctx.timeoutMs} ms`, { transient: true });
  if (!answer)
    return new IssuerError(`${where}: network error${networkErrorCode(error)}`, { transient: true });
  const { status } = answer;
  const limit = rateLimit(answer, (ctx.now ?? Date.now)());
  const spammed = status === 422 && /\/credentials\/revoke/.test(ctx.call);
  const transient = limit.limited || spammed || isTransientStatus(status);
  const retryAfterSeconds = limit.retryAfterSeconds ?? (spammed ? DEFAULT_SPAM_WAIT_SECONDS : undefined);
  const why = limit.limited ? ", rate limited" : spammed ? ", validation failed or rate limited" : "";
  return new IssuerError(`${where}: HTTP ${status}${githubMessage(answer.data)}${why}`, {
    transient,
    httpStatus: status,
    retryAfterSeconds: transient ? retryAfterSeconds : undefined,
  });
}

/**
 * GitHub's rate limits: 429, or 403 with `x-ratelimit-remaining: 0` (primary), a Retry-After or the
 * "secondary rate limit" message (secondary). The wait: Retry-After, else `x-ratelimit-reset` (epoch
 * seconds), else a minute for a secondary limit.
 */
export function rateLimit(
  answer: GithubAnswer,
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
  const secondary = /\bsecondary rate limit/i.test(messageOf(answer.data) ?? "");
  const limited =
    answer.status === 429 ||
    ((answer.status === 403 || answer.status === 422) && (remaining === "0" || retryAfter !== undefined)) ||
    (answer.status === 403 && secondary);
  const retryAfterSeconds = retryAfter ?? fromReset ?? (limited ? 60 : undefined);
  return retryAfterSeconds === undefined ? { limited } : { limited, retryAfterSeconds };
}

export const messageOf = (data: unknown) => {
  const message = (data as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : undefined;
};

/** GitHub's own `message` ("Bad credentials"), printable ASCII, kept short. */
function githubMessage(data: unknown): string {
  const clean = (messageOf(data) ?? "").replace(/[^\x20-\x7e]/g, "").slice(0, 120);
  return clean ? ` (${clean})` : "";
}
