import { describe, expect, it } from "vitest";
import { GithubWritePace } from "../../lib/remediation/github-write-pace.js";

// GitHub's one-write-a-second pacing, kept out of the worker's slots: a write whose turn has not come is
// put off by about its wait, and a burst is spread one second apart.

describe("GithubWritePace", () => {
  it("lets a write go at once when none is under way or began under a second ago, and puts off the rest", async () => {
    let now = 10_000;
    const pace = new GithubWritePace(() => now);
    expect(pace.delaySeconds()).toBeUndefined();

    let release: () => void = () => {};
    const running = pace.run(() => new Promise<void>((resolve) => (release = resolve)));
    // While one runs, each caller is given the next free second, one after the other.
    expect([pace.delaySeconds(), pace.delaySeconds(), pace.delaySeconds()]).toEqual([1, 2, 3]);
    release();
    await running;

    now += 500; // finished, but began under a second ago
    expect(pace.delaySeconds()).toBe(4);
    now += 5_000;
    expect(pace.delaySeconds()).toBeUndefined();
  });
});
