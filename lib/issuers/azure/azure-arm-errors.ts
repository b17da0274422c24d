import { IssuerError } from "../../errors.js";
import { isTransientStatus, networkErrorCode, parseRetryAfter } from "../../http/outbound.js";

// How a failed Entra ID / ARM / Azure Monitor call becomes an IssuerError (the port's rules): transient
// for 429, 5xx, timeouts and network errors, with Retry-After; permanent otherwise, naming the call, the
// HTTP status, Azure's error code and, for 403, the RBAC action that is missing. Messages are built
// from status, codes and the action only — never from a response body or the SDK's own text, so no key
// value and no secret can reach a message. The SDK error is not kept as `cause` for the same reason (its
// request and response objects hold headers and bodies).

export interface FailureContext {
  /** e.g. `listKeys of /subscriptions/…/accounts/x`. */
  call: string;
  /** The RBAC action the call needs, named when ARM answers 403. */
  action: string;
  timeoutMs: number;
  timedOut: boolean;
  callerAborted: boolean;
}

interface SdkErrorShape {
  name?: unknown;
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
  response?: { headers?: { get(name: string): string | undefined } };
  errorResponse?: { error?: unknown; errorDescription?: unknown; errorCodes?: unknown };
  /** @azure/identity wraps MSAL's ServerError (errorCode, errorNo, status) as its cause. */
  cause?: { errorCode?: unknown; errorNo?: unknown; status?: unknown };
}

const ENTRA_ERRORS = new Set([
  "AuthenticationError",
  "AuthenticationRequiredError",
  "CredentialUnavailableError",
]);

const ACTION_IN_MESSAGE = /perform action '([A-Za-z0-9./_-]+)'/;
const AADSTS = /AADSTS\d+/;

export function toIssuerError(error: unknown, ctx: FailureContext, nowMs = Date.now()): IssuerError {
  if (ctx.timedOut) {
    return new IssuerError(`Azure ${ctx.call}: no answer within ${ctx.timeoutMs} ms`, { transient: true });
  }
  if (ctx.callerAborted) return new IssuerError(`Azure ${ctx.call}: aborted by caller`, { transient: true });
  const e = (error ?? {}) as SdkErrorShape;
  if (typeof e.name === "string" && ENTRA_ERRORS.has(e.name)) return entraFailure(e, ctx);
  const status = typeof e.statusCode === "number" ? e.statusCode : undefined;
  if (status === undefined) {
    const code = e.name === "AbortError" ? " (aborted)" : networkErrorCode(error);
    return new IssuerError(`Azure ${ctx.call}: network error${code}`, { transient: true });
  }
  const code = safeCode(e.code);
  const retryAfterSeconds = parseRetryAfter(e.response?.headers?.get("retry-after") ?? null, nowMs);
  if (isTransientStatus(status)) {
    return new IssuerError(`Azure ${ctx.call}: ${status}${code}, try again later`, {
      transient: true,
      retryAfterSeconds,
    });
  }
  if (status === 403) {
    const named = typeof e.message === "string" ? ACTION_IN_MESSAGE.exec(e.message)?.[1] : undefined;
    return new IssuerError(
      `Azure ${ctx.call}: 403${code}: the service principal lacks the permission ${named ?? ctx.action}`,
      { transient: false },
    );
  }
  const why =
    status === 401
      ? "Azure Resource Manager refused the service principal's token"
      : status === 404
        ? "not found"
        : "refused";
  return new IssuerError(`Azure ${ctx.call}: ${status}${code}: ${why}`, { transient: false });
}

/** A failure at Entra ID's token endpoint: AADSTS code and OAuth error, never the description's text. */
function entraFailure(e: SdkErrorShape, ctx: FailureContext): IssuerError {
  // MSAL says only this when it cannot read the authority's OpenID metadata: refused, unreachable, or a
  // certificate it does not trust look alike, and an outage is among them, so it may pass.
  if (typeof e.message === "string" && e.message.includes("endpoints_resolution_error")) {
    return new IssuerError(
      `Azure ${ctx.call}: Entra ID's OpenID metadata could not be read (endpoints_resolution_error): authority_url unreachable or its certificate not trusted`,
      { transient: true },
    );
  }
  const response = e.errorResponse ?? {};
  const cause = e.cause ?? {};
  const status = [e.statusCode, cause.status].find((s): s is number => typeof s === "number");
  const oauth = [response.error, cause.errorCode].find(
    (c): c is string => typeof c === "string" && /^[a-z_]{1,64}$/.test(c),
  );
  const number = [cause.errorNo, Array.isArray(response.errorCodes) ? response.errorCodes[0] : undefined]
    .map(Number)
    .find((n) => Number.isInteger(n) && n > 0);
  const aadsts =
    number !== undefined
      ? `AADSTS${number}`
      : typeof e.message === "string"
        ? AADSTS.exec(e.message)?.[0]
        : undefined;
  const detail = [aadsts, oauth].filter(Boolean).join(" ");
  const transient =
    (status !== undefined && isTransientStatus(status)) ||
    oauth === "temporarily_unavailable" ||
    oauth === "server_error";
  const hint = aadsts === "AADSTS7000215" ? " (wrong client secret: check client_secret)" : "";
  return new IssuerError(
    `Azure ${ctx.call}: Entra ID refused a token for the service principal${detail ? `: ${detail}` : ""}${hint}`,
    { transient },
  );
}

/** ARM's error code (`AuthorizationFailed`) when it looks like one; never free text. */
function safeCode(code: unknown): string {
  return typeof code === "string" && /^[A-Za-z][A-Za-z0-9_.]{0,80}$/.test(code) ? ` ${code}` : "";
}
