// Every error Tourniquet raises on purpose. HTTP handlers map them to status codes in one place
// (lib/http/error-response.ts); the worker reads `transient` to decide between retry and failure.

export class TourniquetError extends Error {
  override readonly name: string = "TourniquetError";
  /**
   * The stable public code (`bad_request`) an HTTP answer's `error` field carries: written out, not
   * derived from the class name, which a minified bundle renames.
   */
  readonly errorCode: string = "tourniquet";
  /** HTTP status an API handler answers with when this error escapes a use case. */
  readonly status: number = 500;
  /** True when trying again later may succeed. */
  readonly transient: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The request is malformed: bad JSON, wrong shape, missing fields. */
export class BadRequestError extends TourniquetError {
  override readonly name: string = "BadRequestError";
  override readonly errorCode: string = "bad_request";
  override readonly status = 400;
}

/** The request body is larger than the documented limit. */
export class PayloadTooLargeError extends TourniquetError {
  override readonly name: string = "PayloadTooLargeError";
  override readonly errorCode: string = "payload_too_large";
  override readonly status = 413;
}

/** The request is not JSON. */
export class UnsupportedMediaTypeError extends TourniquetError {
  override readonly name: string = "UnsupportedMediaTypeError";
  override readonly errorCode: string = "unsupported_media_type";
  override readonly status = 415;
}

/** A partner report whose signature headers are missing, malformed or do not verify. */
export class SignatureError extends TourniquetError {
  override readonly name: string = "SignatureError";
  override readonly errorCode: string = "signature";
  override readonly status = 401;
}

/** The caller is not authenticated (admin API). */
export class UnauthorizedError extends TourniquetError {
  override readonly name: string = "UnauthorizedError";
  override readonly errorCode: string = "unauthorized";
  override readonly status = 401;
}

/** The caller is authenticated but not allowed to do this (admin API: a missing group or scope). */
export class ForbiddenError extends TourniquetError {
  override readonly name: string = "ForbiddenError";
  override readonly errorCode: string = "forbidden";
  override readonly status = 403;
}

export class NotFoundError extends TourniquetError {
  override readonly name: string = "NotFoundError";
  override readonly errorCode: string = "not_found";
  override readonly status = 404;
}

/** GitHub's signing keys cannot be fetched and none are cached: the sender should retry. */
export class KeySetUnavailableError extends TourniquetError {
  override readonly name: string = "KeySetUnavailableError";
  override readonly errorCode: string = "key_set_unavailable";
  override readonly status = 503;
  override readonly transient = true;
}

/** The configuration file is missing or invalid; the service must not start. */
export class ConfigError extends TourniquetError {
  override readonly name: string = "ConfigError";
  override readonly errorCode: string = "config";
}

/** A conditional write lost a race or found the item in another state. */
export class ConflictError extends TourniquetError {
  override readonly name: string = "ConflictError";
  override readonly errorCode: string = "conflict";
  override readonly status = 409;
}

/**
 * A call to another service (an issuer, a notification channel) failed. `transient` failures are
 * retried, honouring the service's Retry-After; permanent ones are not.
 */
export class ExternalCallError extends TourniquetError {
  override readonly name: string = "ExternalCallError";
  override readonly errorCode: string = "external_call";
  override readonly transient: boolean;
  /** Seconds the service asked us to wait (HTTP Retry-After), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    message: string,
    options: { transient: boolean; retryAfterSeconds?: number | undefined; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.transient = options.transient;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * An AWS API answered with an error (or could not be reached). `code` is the service's error type
 * (`ConditionalCheckFailedException`, `ThrottlingException`, ...); `transient` says a retry may work.
 */
export class AwsError extends ExternalCallError {
  override readonly name: string = "AwsError";
  override readonly errorCode: string = "aws";
  constructor(
    message: string,
    readonly code: string,
    readonly httpStatus: number | undefined,
    options: { transient: boolean; cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is an AwsError with one of these codes. */
export const isAwsError = (error: unknown, ...codes: string[]): error is AwsError =>
  error instanceof AwsError && codes.includes(error.code);

/** An issuer call failed; a permanent failure fails the leak at once. */
export class IssuerError extends ExternalCallError {
  override readonly name: string = "IssuerError";
  override readonly errorCode: string = "issuer";
  /** The vendor's HTTP status, when it answered: 401/403 tell a credential or permission problem. */
  readonly httpStatus: number | undefined;

  constructor(
    message: string,
    options: {
      transient: boolean;
      retryAfterSeconds?: number | undefined;
      httpStatus?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.httpStatus = options.httpStatus;
  }
}

/**
 * A call to GitHub's REST API (an App installation token, a secret scanning alert) failed. The HTTP
 * answer is 503 when trying again later may work (GitHub's 5xx, rate limits, timeouts) and 502 when it
 * will not (401/403/404: the App's key, permissions or installation); the message names the call and the
 * alert, never a token.
 */
export class GithubApiError extends ExternalCallError {
  override readonly name: string = "GithubApiError";
  override readonly errorCode: string = "github_api";
  override readonly status: number;
  /** GitHub's HTTP status, when it answered. */
  readonly httpStatus: number | undefined;

  constructor(
    message: string,
    options: {
      transient: boolean;
      httpStatus?: number | undefined;
      retryAfterSeconds?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.status = options.transient ? 503 : 502;
    this.httpStatus = options.httpStatus;
  }
}

/**
 * GitHub will not list secret scanning alerts at this scope: 403 (the App has no access there) or 404
 * (secret scanning is off, or the owner or repository is not the installation's). Not an outage: the
 * sweep lists the installation's repositories one by one instead, or skips the repository.
 */
export class GithubAlertsUnavailableError extends GithubApiError {
  override readonly name: string = "GithubAlertsUnavailableError";
  override readonly errorCode: string = "github_alerts_unavailable";

  constructor(
    message: string,
    readonly scope: "organization" | "repository",
    options: { httpStatus: number; cause?: unknown },
  ) {
    super(message, { transient: false, ...options });
  }
}

/** An optional feature this request needs is not configured (e.g. `github_app`). */
export class NotConfiguredError extends TourniquetError {
  override readonly name: string = "NotConfiguredError";
  override readonly errorCode: string = "not_configured";
  override readonly status = 404;
}

/** A notification could not be delivered. */
export class NotificationError extends ExternalCallError {
  override readonly name: string = "NotificationError";
  override readonly errorCode: string = "notification";
}

/** A sealed token could not be opened: wrong key, tampered message, or wrong leak. */
export class SealError extends TourniquetError {
  override readonly name: string = "SealError";
  override readonly errorCode: string = "seal";
}

/** Another worker holds the lease on this leak's current step; the message is delivered again later. */
export class BusyError extends TourniquetError {
  override readonly name: string = "BusyError";
  override readonly errorCode: string = "busy";
  override readonly status = 409;
  override readonly transient = true;
}

/**
 * The message's leak failed for good: the queue should keep the message in its dead-letter list (the
 * local queue moves it there at once; SQS's redrive policy does after its last receive).
 */
export class DeadLetterError extends TourniquetError {
  override readonly name: string = "DeadLetterError";
  override readonly errorCode: string = "dead_letter";
  override readonly transient = true;
}

/** A command line used wrongly: an unknown flag, a missing or malformed argument. */
export class UsageError extends TourniquetError {
  override readonly name: string = "UsageError";
  override readonly errorCode: string = "usage";
  override readonly status = 400;
}

/** A service could not be reached at all (connection refused, no such host): nothing was sent. */
export class UnreachableError extends ExternalCallError {
  override readonly name: string = "UnreachableError";
  override readonly errorCode: string = "unreachable";
  override readonly status = 502;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { transient: true, cause: options?.cause });
  }
}
