import { IssuerError } from "../../errors.js";
import { sleep as realSleep } from "../../util/concurrency.js";

// ARM throttles per subscription and region (429 + Retry-After): a search over hundreds of accounts
// must wait as told rather than fail, and give up only when the wait is longer than a step may take.

export interface AzureRetryPolicy {
  attempts: number;
  baseMs: number;
  /** A Retry-After longer than this is not waited for here: the queue's redelivery waits instead. */
  maxWaitMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_AZURE_RETRY: AzureRetryPolicy = {
  attempts: 4,
  baseMs: 250,
  maxWaitMs: 30_000,
  sleep: realSleep,
};

export async function retryAzure<T>(
  fn: () => Promise<T>,
  policy: AzureRetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const transient = !(error instanceof IssuerError) || error.transient;
      if (!transient || attempt >= policy.attempts || signal?.aborted) throw error;
      const told = error instanceof IssuerError ? error.retryAfterSeconds : undefined;
      const waitMs = told !== undefined ? told * 1_000 : policy.baseMs * 2 ** (attempt - 1);
      if (waitMs > policy.maxWaitMs) throw error;
      await policy.sleep(waitMs, signal);
    }
  }
}
