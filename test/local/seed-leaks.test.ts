import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { LEAK_STATUSES } from "../../lib/store/leak.js";
import { seedLeaks } from "../../local/seed-leaks.js";
import { createTestStore, sharedEngine } from "../helpers/dynamo.js";

const NOW = Date.parse("2026-11-30T12:00:00.000Z");

/** Shapes of live secrets (not the previews, not AWS's EXAMPLE ids): none may be stored. */
const TOKEN_SHAPES = [
  /ghp_[A-Za-z0-9]{20,}/,
  /sk-[A-Za-z0-9_-]{20,}/,
  /xox[abpr]-[A-Za-z0-9-]{10,}/,
  /tqs_[0-9a-f]{16,}/,
  /AKIA(?!EXAMPLE)[A-Z2-7]{16}/,
];

describe("seedLeaks", () => {
  const engine = sharedEngine();

  it("writes leaks in every status over the window, all readable through the store", async () => {
    const t = await createTestStore(engine());
    const leaks = await seedLeaks(t.store, { count: 300, days: 30, now: NOW, seed: 7 });
    expect(new Set(leaks.map((l) => l.status))).toEqual(new Set(LEAK_STATUSES));
    expect(new Set(leaks.map((l) => l.tokenType)).size).toBeGreaterThanOrEqual(6);
    for (const leak of leaks) {
      expect(Date.parse(leak.firstSeen)).toBeGreaterThanOrEqual(NOW - 30 * 86_400_000);
      for (const event of leak.timeline) expect(Date.parse(event.at)).toBeLessThanOrEqual(NOW);
      if (leak.status === "revoked") {
        expect(leak.timeToRevokeMs).toBe(Date.parse(leak.revokedAt ?? "") - leak.receivedAtMs);
      }
      if (leak.status === "failed") expect(leak.failure?.reason).toBeTruthy();
      if (leak.status === "dismissed") expect(leak.dismissal?.by).toBeTruthy();
    }
    const some = leaks[42];
    expect(await t.store.getLeak(some?.id ?? "")).toEqual(some);
    const page = await t.store.listLeaks({ statuses: ["revoked"], limit: 100 });
    expect(page.items.length).toBe(Math.min(100, leaks.filter((l) => l.status === "revoked").length));
  });

  it("is deterministic for a seed", async () => {
    const a = await createTestStore(engine());
    const b = await createTestStore(engine());
    const first = await seedLeaks(a.store, { count: 50, days: 7, now: NOW, seed: 3 });
    const second = await seedLeaks(b.store, { count: 50, days: 7, now: NOW, seed: 3 });
    expect(second).toEqual(first);
    const other = await seedLeaks(b.store, { count: 50, days: 7, now: NOW, seed: 4 });
    expect(other.map((l) => l.id)).not.toEqual(first.map((l) => l.id));
  });

  it("stores no token-like string anywhere in the table", async () => {
    const t = await createTestStore(engine());
    await seedLeaks(t.store, { count: 200, days: 30, now: NOW, seed: 11 });
    const scan = await t.client.send(new ScanCommand({ TableName: t.tableName }));
    const raw = JSON.stringify(scan.Items);
    for (const shape of TOKEN_SHAPES) expect(raw).not.toMatch(shape);
    // The previews are the redacted ones: a prefix and the last four characters.
    expect(raw).toMatch(/"preview":\{"S":"ghp_…[A-Za-z0-9]{4}"\}/);
  });
});
