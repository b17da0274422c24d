import { IssuerError } from "../../errors.js";
import { networkErrorCode } from "../../http/outbound.js";

// How a failed STS / IAM call becomes an IssuerError (the port's rules): transient for throttling, 5xx,
// timeouts, aborts and network errors; permanent otherwise, naming the call, the account and what to
// fix. Messages are built from the error code, the HTTP status and the action the call needs — never
// from the SDK's own text or the response body (AWS's messages may quote request values), so no secret
// access key can reach a message; an access key *id* is an identifier and may appear. The SDK error is
// not kept as `cause` for the same reason (its response holds the raw answer).

export interface FailureContext {
  /** e.g. `iam:UpdateAccessKey of AKIA… for user bob`. */
  call: string;
  /** The IAM or STS permission the call needs (`iam:UpdateAccessKey`), named on AccessDenied. */
  permission: string;
  accountId: string;
  /** The responder role the call was made with; absent: Tourniquet's own credentials. */
  roleArn?: string | undefined;
  /** Plain words for the error codes this call expects (`LimitExceeded`: the user has two keys). */
  explain?: Partial<Record<string, string>> | undefined;
  timeoutMs: number;
  timedOut: boolean;
  callerAborted: boolean;
}

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
]);
const SERVER = new Set(["ServiceFailure", "ServiceUnavailable", "InternalFailure", "InternalError"]);
const TIMEOUTS = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const CREDENTIALS = new Set([
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
]);
/** `is not authorized to perform: iam:UpdateAccessKey on resource`: the permission AWS names. */
const PERMISSION_IN_MESSAGE = /perform: ((?:iam|sts):[A-Za-z]+)/;

/** The service's error code (`NoSuchEntity`), from the SDK's error, when it looks like one. */
export function awsErrorCode(error: unknown): string | undefined {
  const e = (error ?? {}) as SdkErrorShape;
  const raw = typeof e.Code === "string" ? e.Code : typeof e.name === "string" ? e.name : undefined;
  if (!raw || !/^[A-Za-z][A-Za-z0-9_.]{0,80}$/.test(raw)) return undefined;
  // Modelled IAM errors are classes named `<Code>Exception` (NoSuchEntityException); the wire code has no suffix.
  return typeof e.Code === "string"
    ? raw
    : raw.replace(/(NoSuchEntity|LimitExceeded|ServiceFailure)Exception$/, "$1");
}

export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

export function toIssuerError(error: unknown, ctx: FailureContext): IssuerError {
  const where = `AWS ${ctx.call} in account ${ctx.accountId}`;
  if (ctx.timedOut)
    return new IssuerError(`${where}: no answer within ${ctx.timeoutMs} ms`, { transient: true });
  if (ctx.callerAborted) return new IssuerError(`${where}: aborted by caller`, { transient: true });
  const code = awsErrorCode(error);
  const httpStatus = httpStatusOf(error);
  const fail = (transient: boolean, why: string) =>
    new IssuerError(`${where}: ${why}`, { transient, httpStatus });
  if (code && TIMEOUTS.has(code)) return fail(true, `no answer within ${ctx.timeoutMs} ms (${code})`);
  const status = httpStatus === undefined ? "" : `${httpStatus} `;
  if (
    (code && (THROTTLING.has(code) || SERVER.has(code))) ||
    (httpStatus !== undefined && httpStatus >= 500)
  ) {
    return fail(true, `${status}${code ?? "error"}, try again later`);
  }
  if (httpStatus === undefined) {
    // No HTTP answer: a refused or dropped connection, or no credentials to sign with.
    const name =
      typeof (error as SdkErrorShape)?.name === "string" ? String((error as SdkErrorShape).name) : "";
    if (name === "CredentialsProviderError") return fail(false, "no AWS credentials found for Tourniquet");
    return fail(true, `network error${name === "AbortError" ? " (aborted)" : networkErrorCode(error)}`);
  }
  const principal = ctx.roleArn ? `the responder role ${ctx.roleArn}` : "Tourniquet's own principal";
  const explained = code ? ctx.explain?.[code] : undefined;
  if (explained) return fail(false, `${status}${code}: ${explained}`);
  if (code === "AccessDenied" || code === "AccessDeniedException") {
    const message = (error as SdkErrorShape).message;
    const named = typeof message === "string" ? PERMISSION_IN_MESSAGE.exec(message)?.[1] : undefined;
    if (named === "sts:AssumeRole" && ctx.roleArn) {
      // The role's credentials are fetched inside the call: the refusal is of Tourniquet's own principal.
      return fail(
        false,
        `${status}AccessDenied: sts:AssumeRole of the responder role ${ctx.roleArn} refused: Tourniquet's own credentials need sts:AssumeRole on it, and the role's trust policy must admit them (with the configured external_id, if it requires one)`,
      );
    }
    return fail(false, `${status}AccessDenied: ${principal} lacks the permission ${named ?? ctx.permission}`);
  }
  if (code && CREDENTIALS.has(code)) {
    return fail(
      false,
      `${status}${code}: AWS refused the credentials of ${principal} (unknown, inactive, expired or wrongly signed)`,
    );
  }
  return fail(false, `${status}${code ?? "error"}: refused`);
}
