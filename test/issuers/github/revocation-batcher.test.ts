import { describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import { RevocationBatcher } from "../../../lib/issuers/github/revocation-batcher.js";

// The batcher over a recorded `send` and a fake clock: every wait advances the clock, so what matters
// (which tokens went in which call, and when) is exact.

const tokens = (n: number, tag = "a") =>
  Array.from({ length: n }, (_, i) => `ghp_${tag}${String(i).padStart(35, "0")}`);

function setup(
  outcomes: (() => Promise<void>)[] = [],
  options: { maxRetryWaitMs?: number; maxAttempts?: number } = {},
) {
  let clock = 1_000_000;
  const calls: { at: number; tokens: string[] }[] = [];
  const batcher = new RevocationBatcher({
    send: async (batch) => {
      calls.push({ at: clock, tokens: [...batch] });
      const next = outcomes.shift();
      if (next) await next();
    },
    quietMs: 5,
    maxWaitMs: 50,
    maxRetryWaitMs: 120_000,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    ...options,
  });
  return { batcher, calls, now: () => clock };
}

const rateLimited =
  (seconds: number, status = 429) =>
  () =>
    Promise.reject(
      new IssuerError(`GitHub POST /credentials/revoke: HTTP ${status}, rate limited`, {
        transient: true,
        httpStatus: status,
        retryAfterSeconds: seconds,
      }),
    );

describe("RevocationBatcher", () => {
  it("sends the tokens of concurrent revoke() calls in one call, and settles each caller", async () => {
    const { batcher, calls } = setup();
    const list = tokens(7);
    const outcomes = await Promise.allSettled(list.map((t) => batcher.revoke(t)));
    expect(outcomes.every((o) => o.status === "fulfilled")).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.tokens).toEqual(list);
  });

  it("takes at most 1,000 tokens a call: 2,500 tokens are 3 calls, none lost or repeated", async () => {
    const { batcher, calls } = setup();
    const list = tokens(2_500);
    await Promise.all(list.map((t) => batcher.revoke(t)));
    expect(calls.map((c) => c.tokens.length)).toEqual([1_000, 1_000, 500]);
    expect(calls.flatMap((c) => c.tokens).sort()).toEqual([...list].sort());
  });

  it("sends a token revoked twice at once once, and settles both callers", async () => {
    const { batcher, calls } = setup();
    const [token] = tokens(1) as [string];
    await Promise.all([batcher.revoke(token), batcher.revoke(token)]);
    expect(calls).toEqual([expect.objectContaining({ tokens: [token] })]);
  });

  it("waits out a rate limit and resends the whole batch, with no call before the reset", async () => {
    const { batcher, calls } = setup([rateLimited(30), rateLimited(12, 403)]);
    const list = tokens(40);
    await Promise.all(list.map((t) => batcher.revoke(t)));
    expect(calls).toHaveLength(3);
    for (const call of calls) expect(call.tokens).toEqual(list);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(30_000);
    expect((calls[2]?.at ?? 0) - (calls[1]?.at ?? 0)).toBeGreaterThanOrEqual(12_000);
  });

  it("treats a 422 (validation failed or spammed) as a wait and resends every token", async () => {
    const spammed = () =>
      Promise.reject(
        new IssuerError("GitHub POST /credentials/revoke: HTTP 422", {
          transient: true,
          httpStatus: 422,
          retryAfterSeconds: 60,
        }),
      );
    const { batcher, calls } = setup([spammed]);
    const list = tokens(3);
    await Promise.all(list.map((t) => batcher.revoke(t)));
    expect(calls.map((c) => c.tokens)).toEqual([list, list]);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(60_000);
  });

  it("rejects every caller of a batch that fails for good, with a clear IssuerError naming no token", async () => {
    const forbidden = () =>
      Promise.reject(
        new IssuerError("GitHub POST /credentials/revoke: HTTP 403 (Must not be authenticated)", {
          transient: false,
          httpStatus: 403,
        }),
      );
    const { batcher, calls } = setup([forbidden]);
    const list = tokens(5);
    const outcomes = await Promise.allSettled(list.map((t) => batcher.revoke(t)));
    expect(calls).toHaveLength(1);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const error = (outcome as PromiseRejectedResult).reason as IssuerError;
      expect(error).toBeInstanceOf(IssuerError);
      expect(error.transient).toBe(false);
      expect(error.message).toMatch(/batch of 5 tokens failed: .*403/);
      for (const token of list) expect(error.message).not.toContain(token);
    }
  });

  it("hands a long rate limit back to the callers (transient, retry after the reset) and calls GitHub no sooner", async () => {
    const { batcher, calls } = setup([rateLimited(3_600)], { maxRetryWaitMs: 20_000 });
    const [first, second] = tokens(2, "b") as [string, string];
    const error = await batcher.revoke(first).catch((e: unknown) => e);
    expect(error).toMatchObject({ transient: true, retryAfterSeconds: 3_600 });
    // Before the reset, another token is refused without a call.
    await expect(batcher.revoke(second)).rejects.toMatchObject({ transient: true });
    expect(calls).toHaveLength(1);
  });

  it("gives up after maxAttempts transient failures, still transient so the step is retried later", async () => {
    const fail = () =>
      Promise.reject(
        new IssuerError("GitHub POST /credentials/revoke: HTTP 502", { transient: true, httpStatus: 502 }),
      );
    const { batcher, calls } = setup([fail, fail, fail], { maxAttempts: 3 });
    await expect(batcher.revoke(tokens(1)[0] as string)).rejects.toMatchObject({ transient: true });
    expect(calls).toHaveLength(3);
  });

  it("sends a batch no later than maxWaitMs after its first token, even while tokens keep coming", async () => {
    const calls: number[] = [];
    const batcher = new RevocationBatcher({
      send: async (b) => void calls.push(b.length),
      quietMs: 30,
      maxWaitMs: 60,
    });
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      pending.push(batcher.revoke(`ghp_${i}`));
      await new Promise((r) => setTimeout(r, 15));
    }
    await Promise.all(pending);
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(8);
  });
});
