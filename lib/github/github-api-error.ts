import { GithubApiError } from "../errors.js";
import { isTransientStatus, networkErrorCode } from "../http/outbound.js";
import { githubMessage, githubRateLimit } from "./github-answer.js";

// What a failed Octokit call means to Tourniquet: a GithubApiError that names the call and the alert,
// says whether trying again may work, and how long GitHub asked us to wait. GitHub's own `message` is
// kept (short); a token never is: Octokit's error redacts the Authorization header, and only the
// status, the rate-limit headers and that message are read from it.

/**
 * The parts of Octokit's RequestError read here. It is recognised by its shape (its `name` is
 * "HttpError"): the class belongs to @octokit/request-error, a dependency of @octokit/core, not ours.
 */
interface OctokitRequestError extends Error {
  status: number;
  response?: { status: number; headers: Record<string, string | number | undefined>; data: unknown };
}

const isOctokitRequestError = (error: unknown): error is OctokitRequestError =>
  error instanceof Error &&
  error.name === "HttpError" &&
  typeof (error as { status?: unknown }).status === "number";

export interface CallContext {
  /** The per-attempt timeout, for the message. */
  timeoutMs: number;
  /** The caller's signal: once it fired, the failure is the caller's deadline, not GitHub. */
  caller?: AbortSignal | undefined;
  now?: (() => number) | undefined;
}

/**
 * The GithubApiError for a failed call to GitHub (`what`: "alert acme/app#3"), or `error` itself when
 * it did not come from talking to GitHub (a bug is not a GitHub outage).
 */
export function githubApiError(what: string, error: unknown, context: CallContext): unknown {
  if (error instanceof GithubApiError) return error;
  const fail = (detail: string, extra: ConstructorParameters<typeof GithubApiError>[1]) =>
    new GithubApiError(`GitHub API ${what}: ${detail}`, extra);
  const response = isOctokitRequestError(error) ? error.response : undefined;
  if (response) {
    const status = response.status;
    const limit = githubRateLimit(response, (context.now ?? Date.now)());
    const transient = isTransientStatus(status) || limit.limited;
    return fail(`HTTP ${status}${githubMessage(response.data)}`, {
      transient,
      httpStatus: status,
      retryAfterSeconds: transient ? limit.retryAfterSeconds : undefined,
    });
  }
  if (context.caller?.aborted)
    return fail("out of time for this delivery", { transient: true, cause: error });
  if (!isOctokitRequestError(error)) return error;
  // Octokit turns every fetch failure into a RequestError with status 500 and the fetch error as cause.
  const cause = error.cause;
  if (cause instanceof Error && cause.name === "TimeoutError")
    return fail(`no answer within ${context.timeoutMs} ms`, { transient: true, cause });
  return fail(`network error${networkErrorCode(cause)}`, { transient: true, cause });
}
