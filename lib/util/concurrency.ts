/** Maps over items with at most `limit` promises in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Memoises an async factory: the first call starts it, later calls share its promise. */
export function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= factory().catch((error: unknown) => {
      promise = undefined; // a failed wiring may succeed on the next invocation
      throw error;
    });
    return promise;
  };
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Like mapWithConcurrency, but every item runs to its end whatever the others do: one failure neither
 * stops the rest nor leaves them running unawaited. Results keep the input order.
 */
export function mapSettledWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  return mapWithConcurrency(items, limit, (item, index) =>
    fn(item, index).then(
      (value): PromiseSettledResult<R> => ({ status: "fulfilled", value }),
      (reason: unknown): PromiseSettledResult<R> => ({ status: "rejected", reason }),
    ),
  );
}

/**
 * A limit shared by calls made at different times: at most `n` of the tasks given to it run at once,
 * the others wait their turn in order.
 */
export function concurrencyLimit(n: number) {
  let busy = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    while (busy >= n) await new Promise<void>((resolve) => queue.push(resolve));
    busy++;
    try {
      return await task();
    } finally {
      busy--;
      queue.shift()?.();
    }
  };
}
