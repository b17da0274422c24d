import { describe, expect, it } from "vitest";
import { concurrencyLimit } from "../../lib/util/concurrency.js";

describe("concurrencyLimit", () => {
  it("runs at most n tasks at once, given at different times, and every task to its end", async () => {
    const limit = concurrencyLimit(3);
    let running = 0;
    let most = 0;
    const task = (i: number) =>
      limit(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5 + (i % 3)));
        running--;
        if (i === 4) throw new Error("task 4 fails");
        return i;
      });
    const first = Array.from({ length: 5 }, (_, i) => task(i));
    await new Promise((resolve) => setTimeout(resolve, 2));
    const later = Array.from({ length: 5 }, (_, i) => task(i + 5));
    const results = await Promise.allSettled([...first, ...later]);
    expect(most).toBe(3);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(9);
    expect(results[4]).toMatchObject({ status: "rejected" });
  });
});
