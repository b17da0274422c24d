import { TourniquetError } from "../errors.js";
import { sleep as realSleep } from "./concurrency.js";

// Retries a transient failure a few times, with exponential backoff and full jitter, honouring the
// service's Retry-After (`retryAfterSeconds` on our errors). Longer waits are left to the caller: the
// queue's redelivery for a worker step, the next sweep for a search.

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  /** A Retry-After longer than this ends the in-delivery retries. */
  maxDelayMs?: number;
  random?: () => number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Epoch ms after which no further attempt starts. */
  deadline?: number | undefined;
  /** How a wait is done (tests record the waits instead). */
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

export const isTransient = (error: unknown) => !(error instanceof TourniquetError) || error.transient;

export async function retryTransient<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const maxDelayMs = policy.maxDelayMs ?? 5_000;
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= policy.attempts || !isTransient(error)) throw error;
      const retryAfterMs = ((error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 0) * 1_000;
      if (retryAfterMs > maxDelayMs) throw error;
      const backoff = random() * policy.baseMs * 2 ** (attempt - 1);
      const delayMs = Math.min(maxDelayMs, Math.max(retryAfterMs, backoff));
      if (policy.deadline !== undefined && Date.now() + delayMs >= policy.deadline) throw error;
      policy.onRetry?.(error, attempt, delayMs);
      await (policy.sleep ?? realSleep)(delayMs);
    }
  }
}
