import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "../../lib/errors.js";
import { type ReportPart, reportPartId } from "../../lib/intake/report-part.js";
import type { DynamoReportPartStore } from "../../lib/store/dynamo-report-part-store.js";
import { createTestStore, sharedEngine, type TestStore } from "../helpers/dynamo.js";

// Mass reports' parts against the engine: written and read back whole, versioned updates, a delete that
// spares a part written again since, and the sweep's listing of owed parts (oldest first, failed ones
// left out).

const digest = () => randomBytes(32).toString("hex");

function part(index: number, lastActivity: string, overrides: Partial<ReportPart> = {}): ReportPart {
  return {
    id: reportPartId(digest(), index),
    index,
    of: 3,
    tokens: 2,
    sealed: `v1.local.${"A".repeat(300_000)}`, // a full part's sealed size, under the 400 KB item limit
    receivedAtMs: Date.parse("2026-11-28T00:00:00.000Z"),
    reporter: "GitHub secret scanning",
    source: "partner_report",
    lastActivity,
    attempts: 0,
    version: 1,
    ...overrides,
  };
}

describe("DynamoReportPartStore", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let parts: DynamoReportPartStore;

  beforeEach(async () => {
    t = await createTestStore(engine());
    parts = t.parts;
  });

  it("writes parts and reads each back as written", async () => {
    const written = [0, 1, 2].map((i) => part(i, "2026-11-28T00:00:00.000Z"));
    await parts.putParts(written);
    for (const p of written) expect(await parts.getPart(p.id)).toEqual(p);
    expect(await parts.getPart(reportPartId(digest(), 0))).toBeUndefined();
  });

  it("updates by version and refuses a stale update with ConflictError", async () => {
    const p = part(0, "2026-11-28T00:00:00.000Z");
    await parts.putParts([p]);
    const claimed = await parts.updatePart(p, { leaseUntil: 123, attempts: 1 });
    expect(claimed).toMatchObject({ version: 2, leaseUntil: 123, attempts: 1 });
    await expect(parts.updatePart(p, { attempts: 5 })).rejects.toBeInstanceOf(ConflictError);
    const released = await parts.updatePart(claimed, { leaseUntil: undefined });
    expect(await parts.getPart(p.id)).toEqual(released);
    expect(released.leaseUntil).toBeUndefined();
  });

  it("deletes a recorded part, but keeps one the same report wrote again meanwhile", async () => {
    const p = part(0, "2026-11-28T00:00:00.000Z");
    await parts.putParts([p]);
    const claimed = await parts.updatePart(p, { leaseUntil: 1 });
    await parts.putParts([p]); // GitHub's retry of the same report: version 1 again
    await parts.deletePart(claimed);
    expect(await parts.getPart(p.id)).toEqual(p);
    await parts.deletePart(p);
    expect(await parts.getPart(p.id)).toBeUndefined();
    await parts.deletePart(p); // already gone: no error
  });

  it("lists owed parts oldest first up to a time, pages with a cursor, and leaves failed parts out", async () => {
    const old = part(0, "2026-11-28T00:00:00.000Z");
    const older = part(1, "2026-11-27T23:00:00.000Z");
    const recent = part(2, "2026-11-28T00:30:00.000Z");
    const failed = part(0, "2026-11-27T22:00:00.000Z", { failure: "seal does not open" });
    await parts.putParts([old, older, recent, failed]);

    const first = await parts.listOwedParts({ until: "2026-11-28T00:10:00.000Z", limit: 1 });
    expect(first.items.map((p) => p.id)).toEqual([older.id]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await parts.listOwedParts({
      until: "2026-11-28T00:10:00.000Z",
      limit: 5,
      cursor: first.nextCursor ?? undefined,
    });
    expect(second.items.map((p) => p.id)).toEqual([old.id]);
    expect(second.items[0]).toEqual(old);
  });

  it("refuses a cursor from another listing", async () => {
    await expect(
      parts.listOwedParts({ until: "2026-11-28T00:10:00.000Z", limit: 5, cursor: "bm90LWEtY3Vyc29y" }),
    ).rejects.toThrow();
  });
});
