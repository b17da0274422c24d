import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import { AwsError, TourniquetError } from "../errors.js";
import { networkErrorCode } from "../http/outbound.js";
import { oneLine } from "../util/one-line.js";

// Every AWS SDK call goes through here, so what escapes an adapter is an AwsError with the service's
// error code and the SDK's own verdict on whether trying again may work (its retry classification:
// throttling, 5xx, timeouts, dropped connections). The SDK has already retried by then; `transient`
// tells the worker and the HTTP layer whether the sender should try again later.

type SdkFailure = Parameters<typeof isTransientError>[0];

/** Runs one SDK call; a failure becomes an AwsError naming `what` (e.g. `dynamodb:PutItem`). */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toAwsError(what, error);
  }
}

/**
 * Whether the same call may succeed later, by the SDK's own classification: throttling, 5xx, timeouts
 * and dropped connections are; an answer the SDK refused, or missing credentials, are not.
 */
export function isTransientSdkFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const failure = error as SdkFailure;
  const status = failure.$metadata?.httpStatusCode;
  if (status === undefined) return isTransientError(failure);
  return isThrottlingError(failure) || isTransientError(failure) || isServerError(failure) || status >= 500;
}

export function toAwsError(what: string, error: unknown): unknown {
  if (error instanceof TourniquetError || !(error instanceof Error)) return error;
  const failure = error as SdkFailure;
  const status = failure.$metadata?.httpStatusCode;
  if (status === undefined) {
    // No answer from the service (no credentials, a timeout, a dropped connection), or an answer the
    // SDK refused (a body whose checksum does not match what was sent).
    if (failure.name === "CredentialsProviderError") {
      return new AwsError(`${what}: no AWS credentials`, "CredentialsError", undefined, {
        transient: false,
        cause: error,
      });
    }
    if (isTransientSdkFailure(failure)) {
      const reason = failure.name === "TimeoutError" ? "timed out" : `unreachable${networkErrorCode(error)}`;
      return new AwsError(`${what} ${reason}`, "NetworkingError", undefined, {
        transient: true,
        cause: error,
      });
    }
    return new AwsError(`${what} failed: ${oneLine(failure.message)}`, failure.name, undefined, {
      transient: false,
      cause: error,
    });
  }
  const transient = isTransientSdkFailure(failure);
  const detail = failure.message && failure.message !== failure.name ? `: ${oneLine(failure.message)}` : "";
  return new AwsError(`${what} failed with ${status} ${failure.name}${detail}`, failure.name, status, {
    transient,
    cause: error,
  });
}
