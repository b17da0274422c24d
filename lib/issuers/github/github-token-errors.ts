import { IssuerError } from "../../errors.js";
import { githubMessage, githubRateLimit } from "../../github/github-answer.js";
import { isTransientStatus, networkErrorCode } from "../../http/outbound.js";

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
  const limit = githubRateLimit(answer, (ctx.now ?? Date.now)());
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
