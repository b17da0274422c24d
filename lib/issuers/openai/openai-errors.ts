import { IssuerError } from "../../errors.js";
import { networkErrorCode, parseRetryAfter } from "../../http/outbound.js";

// How a failed OpenAI call becomes an IssuerError (the port's rules): transient for 429 rate limits,
// 5xx, timeouts, aborts and network errors; permanent otherwise, naming the call and what to fix. The
// message is built from the HTTP status and OpenAI's error `code` alone — never from OpenAI's message
// text, which for a refused key quotes part of it ("Incorrect API key provided: sk-abc***xyz") — and the
// SDK error is not kept as `cause` (its body holds that text).

export interface FailureContext {
  /** e.g. `DELETE /organization/projects/proj_abc/api_keys/key_abc`. */
  call: string;
  /** Whose key made the call: the admin key's failures tell the operator what to fix. */
  credential: "admin key" | "leaked key";
  /** Plain words for HTTP statuses this call expects (404: the project is gone). */
  explain?: Partial<Record<number, string>> | undefined;
  timeoutMs: number;
  timedOut: boolean;
  callerAborted: boolean;
  now?: number | undefined;
}

interface SdkErrorShape {
  status?: unknown;
  code?: unknown;
  type?: unknown;
  headers?: { get?: (name: string) => string | null } | undefined;
  name?: unknown;
}

/** OpenAI's error `code` (`invalid_api_key`), when it looks like one: never free text. */
export function openaiErrorCode(error: unknown): string | undefined {
  const e = (error ?? {}) as SdkErrorShape;
  for (const value of [e.code, e.type]) {
    if (typeof value === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(value)) return value;
  }
  return undefined;
}

export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as SdkErrorShape | undefined)?.status;
  return typeof status === "number" ? status : undefined;
}

export function retryAfterOf(error: unknown, now = Date.now()): number | undefined {
  const headers = (error as SdkErrorShape | undefined)?.headers;
  if (!headers || typeof headers.get !== "function") return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms) / 1000);
  return parseRetryAfter(headers.get("retry-after"), now);
}

export function toIssuerError(error: unknown, ctx: FailureContext): IssuerError {
  const where = `OpenAI ${ctx.call}`;
  if (ctx.timedOut)
    return new IssuerError(`${where}: no answer within ${ctx.timeoutMs} ms`, { transient: true });
  if (ctx.callerAborted) return new IssuerError(`${where}: aborted by caller`, { transient: true });
  const httpStatus = httpStatusOf(error);
  const code = openaiErrorCode(error);
  const fail = (transient: boolean, why: string, retryAfterSeconds?: number) =>
    new IssuerError(`${where}: ${why}`, { transient, httpStatus, retryAfterSeconds });
  if (httpStatus === undefined) {
    const name = (error as SdkErrorShape | undefined)?.name;
    if (name === "APIConnectionTimeoutError") return fail(true, `no answer within ${ctx.timeoutMs} ms`);
    return fail(true, `network error${networkErrorCode(error)}`);
  }
  const answered = `${httpStatus}${code ? ` ${code}` : ""}`;
  if (httpStatus === 429) {
    const retryAfter = retryAfterOf(error, ctx.now);
    if (code === "insufficient_quota")
      return fail(false, `${answered}: the organisation is out of quota for this call`);
    return fail(true, `${answered}: rate limited, try again later`, retryAfter);
  }
  if (httpStatus >= 500 || httpStatus === 408 || httpStatus === 409)
    return fail(true, `${answered}, try again later`, retryAfterOf(error, ctx.now));
  const explained = ctx.explain?.[httpStatus];
  if (explained) return fail(false, `${answered}: ${explained}`);
  if (ctx.credential === "admin key" && httpStatus === 401)
    return fail(
      false,
      `${answered}: OpenAI refused the issuer's admin key (unknown, revoked or not an admin key): set issuers.<name>.admin_key to a valid organisation admin key (sk-admin-…)`,
    );
  if (ctx.credential === "admin key" && httpStatus === 403)
    return fail(
      false,
      `${answered}: the issuer's admin key may not make this call: it needs an organisation owner's admin key with write access to projects' API keys and read access to usage`,
    );
  return fail(false, `${answered}: refused`);
}
