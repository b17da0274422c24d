import { IssuerError } from "../errors.js";
import { describeError } from "../log.js";
import { type RetryPolicy, retryTransient } from "../util/retry.js";

// One call of an issuer to its vendor: transient failures retried as the policy says, and the last
// failure restated as an IssuerError that names the issuer and the call, for the leak's timeline.

export async function issuerCall<T>(
  issuer: string,
  call: string,
  fn: () => Promise<T>,
  retry: RetryPolicy,
): Promise<T> {
  try {
    return await retryTransient(fn, retry);
  } catch (error) {
    const prefix = `issuer "${issuer}" ${call}`;
    if (!(error instanceof IssuerError)) {
      throw new IssuerError(`${prefix}: ${describeError(error)}`, { transient: true, cause: error });
    }
    throw new IssuerError(`${prefix}: ${error.message}`, {
      transient: error.transient,
      retryAfterSeconds: error.retryAfterSeconds,
      httpStatus: error.httpStatus,
      cause: error,
    });
  }
}
