import { describe, expect, it } from "vitest";
import { type InstallationToken, InstallationTokenCache } from "../../lib/github/installation-tokens.js";

// One token per installation, reused until 5 minutes before it expires, fetched once at a time.

function fetcher(lifetimeMs = 60 * 60_000) {
  const calls: number[] = [];
  let clock = 1_000_000;
  let n = 0;
  let gate: Promise<void> = Promise.resolve();
  const fetchToken = async (id: number): Promise<InstallationToken> => {
    calls.push(id);
    await gate;
    n += 1;
    return { token: `tok-${id}-${n}`, expiresAt: clock + lifetimeMs };
  };
  return {
    calls,
    fetchToken,
    now: () => clock,
    advance: (ms: number) => {
      clock += ms;
    },
    hold: () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => release();
    },
  };
}

describe("InstallationTokenCache", () => {
  it("reuses a token until 5 minutes before it expires, then fetches a new one", async () => {
    const f = fetcher();
    const cache = new InstallationTokenCache(f.fetchToken, { now: f.now });
    expect(await cache.get(7)).toBe("tok-7-1");
    f.advance(54 * 60_000);
    expect(await cache.get(7)).toBe("tok-7-1");
    f.advance(60_000 + 1); // 55 min + 1 ms: within 5 minutes of expiry
    expect(await cache.get(7)).toBe("tok-7-2");
    expect(f.calls).toEqual([7, 7]);
  });

  it("keeps one token per installation", async () => {
    const f = fetcher();
    const cache = new InstallationTokenCache(f.fetchToken, { now: f.now });
    expect([await cache.get(1), await cache.get(2), await cache.get(1)]).toEqual([
      "tok-1-1",
      "tok-2-2",
      "tok-1-1",
    ]);
    expect(f.calls).toEqual([1, 2]);
  });

  it("fetches once for concurrent callers (single flight)", async () => {
    const f = fetcher();
    const cache = new InstallationTokenCache(f.fetchToken, { now: f.now });
    const release = f.hold();
    const all = Promise.all(Array.from({ length: 10 }, () => cache.get(3)));
    release();
    expect(new Set(await all)).toEqual(new Set(["tok-3-1"]));
    expect(f.calls).toEqual([3]);
  });

  it("does not cache a failure: the next call fetches again", async () => {
    let fail = true;
    const calls: number[] = [];
    const cache = new InstallationTokenCache(async (id) => {
      calls.push(id);
      if (fail) throw new Error("GitHub down");
      return { token: "ok", expiresAt: Date.now() + 3_600_000 };
    });
    await expect(Promise.all([cache.get(1), cache.get(1)])).rejects.toThrow("GitHub down");
    fail = false;
    expect(await cache.get(1)).toBe("ok");
    expect(calls).toEqual([1, 1]);
  });

  it("forgets a token GitHub refused, but not a newer one", async () => {
    const f = fetcher();
    const cache = new InstallationTokenCache(f.fetchToken, { now: f.now });
    const first = await cache.get(9);
    cache.invalidate(9, first);
    const second = await cache.get(9);
    expect(second).not.toBe(first);
    cache.invalidate(9, first); // stale: keeps the newer one
    expect(await cache.get(9)).toBe(second);
    expect(f.calls).toEqual([9, 9]);
  });
});
