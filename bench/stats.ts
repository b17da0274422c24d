// What every benchmark reports with: nearest-rank quantiles, the median (lib's), and polling for an outcome.

export { median, quantile } from "../lib/util/quantile.js";

/** Polls `probe` every `intervalMs` until it gives a value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 1,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
