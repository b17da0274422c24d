// One outbound call under a time limit and the caller's signal. The race makes the bound hold even where
// a layer does not watch the signal (MSAL's token request, an SDK's credential provider).

/** Why a failed call ended, for the adapter's error message and its transient/permanent choice. */
export interface CallEnding {
  /** The time limit ran out. */
  timedOut: boolean;
  /** The caller gave up (its own signal). */
  callerAborted: boolean;
  /** Either of the two. */
  aborted: boolean;
}

export async function withDeadline<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  limits: { timeoutMs: number; signal?: AbortSignal | undefined },
  onFailure: (error: unknown, ending: CallEnding) => T | Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([timeout, limits.signal]) : timeout;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([fn(signal), aborted]);
  } catch (error) {
    return await onFailure(error, {
      timedOut: timeout.aborted,
      callerAborted: limits.signal?.aborted ?? false,
      aborted: signal.aborted,
    });
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    aborted.catch(() => undefined);
  }
}
