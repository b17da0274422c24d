import { describe, expect, it } from "vitest";
import { IssuerError } from "../../lib/errors.js";
import { retryTransient } from "../../lib/util/retry.js";

const transient = (retryAfterSeconds?: number) =>
  new IssuerError("HTTP 503 from issuer", { transient: true, retryAfterSeconds });

function failing(failures: unknown[]) {
  let calls = 0;
  const fn = async () => {
    const failure = failures[calls++];
    if (failure) throw failure;
    return "done";
  };
  return { fn, calls: () => calls };
}

describe("retryTransient", () => {
  it("retries transient failures with growing backoff until one succeeds", async () => {
    const delays: number[] = [];
    const { fn, calls } = failing([transient(), transient()]);
    await expect(
      retryTransient(fn, {
        attempts: 3,
        baseMs: 10,
        random: () => 1,
        onRetry: (_e, _a, ms) => delays.push(ms),
      }),
    ).resolves.toBe("done");
    expect(calls()).toBe(3);
    expect(delays).toEqual([10, 20]);
  });

  it("does not retry a permanent failure", async () => {
    const permanent = new IssuerError("HTTP 401 from issuer", { transient: false });
    const { fn, calls } = failing([permanent]);
    await expect(retryTransient(fn, { attempts: 5, baseMs: 1 })).rejects.toBe(permanent);
    expect(calls()).toBe(1);
  });

  it("gives up after the last attempt with the last error", async () => {
    const last = transient();
    const { fn, calls } = failing([transient(), last]);
    await expect(retryTransient(fn, { attempts: 2, baseMs: 1 })).rejects.toBe(last);
    expect(calls()).toBe(2);
  });

  it("waits at least as long as Retry-After asks", async () => {
    const delays: number[] = [];
    const { fn } = failing([transient(1)]);
    await retryTransient(fn, {
      attempts: 2,
      baseMs: 1,
      random: () => 0,
      onRetry: (_e, _a, ms) => delays.push(ms),
    });
    expect(delays).toEqual([1_000]);
  });

  it("leaves a Retry-After longer than its cap to the queue's redelivery", async () => {
    const long = transient(120);
    const { fn, calls } = failing([long]);
    await expect(retryTransient(fn, { attempts: 3, baseMs: 1, maxDelayMs: 5_000 })).rejects.toBe(long);
    expect(calls()).toBe(1);
  });
});
