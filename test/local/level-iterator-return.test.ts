import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { closeLevelIteratorsOnReturn } from "../../local/level-iterator-return.mjs";

// dynalite ends each Query and Scan with `iterator.return()`; without it the iterator stayed open and
// the local engine's thread grew by gigabytes over a mass leak. The patch must reach the copies of
// abstract-level that dynalite's backends use.

const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));

describe("dynalite's level iterators", () => {
  it("are closed by return(), the call dynalite makes when a query's stream ends", async () => {
    closeLevelIteratorsOnReturn();
    const { MemoryLevel } = requireFromDynalite("memory-level") as {
      MemoryLevel: new () => {
        put(key: string, value: string): Promise<void>;
        values(): { next(): Promise<string | undefined>; return?: () => Promise<void> };
        close(): Promise<void>;
      };
    };
    const db = new MemoryLevel();
    await db.put("a", "1");
    await db.put("b", "2");
    const iterator = db.values();
    expect(await iterator.next()).toBe("1");
    expect(typeof iterator.return).toBe("function");
    await iterator.return?.();
    await expect(iterator.next()).rejects.toMatchObject({ code: "LEVEL_ITERATOR_NOT_OPEN" });
    await db.close();
  });
});
