import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import { leakOverview, TIME_TO_REVOKE_BUCKETS } from "../../lib/admin/overview.js";
import { BadRequestError } from "../../lib/errors.js";
import { DEFAULT_STALE_AFTER_MS } from "../../lib/remediation/reconcile-leaks.js";
import type { Leak } from "../../lib/store/leak.js";
import { seedLeaks } from "../../local/seed-leaks.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";

const NOW = Date.parse("2025-03-10T12:00:00.000Z");
const at = (iso: string) => ({ firstSeen: iso, receivedAtMs: Date.parse(iso) });

describe("leakOverview (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let leaks: Leak[];
  const overview = (params: Record<string, string> = {}, now = NOW) =>
    leakOverview(t.store, params, { now: () => now, cacheMs: 0 });

  beforeEach(async () => {
    t = await createTestStore(engine());
    const revoked = (iso: string, type: string, ms: number) =>
      makeLeak({ ...at(iso), status: "revoked", tokenType: type, timeToRevokeMs: ms, revokedAt: iso });
    leaks = [
      revoked("2025-03-08T10:00:00.000Z", "github_personal_access_token", 800),
      revoked("2025-03-08T11:00:00.000Z", "github_personal_access_token", 2_000),
      revoked("2025-03-09T10:00:00.000Z", "github_personal_access_token", 4_000),
      revoked("2025-03-09T11:00:00.000Z", "aws_access_key_id", 70_000),
      revoked("2025-03-10T09:00:00.000Z", "aws_access_key_id", 5_000_000),
      makeLeak({
        ...at("2025-03-09T12:00:00.000Z"),
        status: "failed",
        notification: { status: "failed", at: "x" },
      }),
      makeLeak({ ...at("2025-03-10T11:50:00.000Z"), status: "pending" }), // 10 minutes old: in flight
      makeLeak({ ...at("2025-03-10T11:00:00.000Z"), status: "active" }), // an hour old: stalled
      makeLeak({ ...at("2025-03-01T11:00:00.000Z"), status: "pending" }), // stalled, 9 days ago
      makeLeak({ ...at("2025-03-09T13:00:00.000Z"), status: "unroutable", tokenType: "stripe_api_key" }),
      makeLeak({ ...at("2025-01-01T00:00:00.000Z"), status: "failed" }), // outside the default window
    ];
    for (const leak of leaks) await t.store.createLeak(leak);
  });

  it("counts the last 30 days by status, by day (zero days included) and what needs a human", async () => {
    const o = await overview();
    expect(o.generated_at).toBe("2025-03-10T12:00:00.000Z");
    expect(o.window).toEqual({ since: "2025-02-09T00:00:00.000Z", until: "2025-03-10T12:00:00.000Z" });
    expect(o.total).toBe(10);
    expect(o.by_status).toEqual({ pending: 2, active: 1, revoked: 5, unroutable: 1, failed: 1 });
    expect(o.by_day).toHaveLength(30);
    expect(o.by_day[0]).toEqual({ day: "2025-02-09", counts: {} });
    expect(o.by_day.at(-1)).toEqual({ day: "2025-03-10", counts: { pending: 1, active: 1, revoked: 1 } });
    expect(o.by_day.find((d) => d.day === "2025-03-09")?.counts).toEqual({
      revoked: 2,
      unroutable: 1,
      failed: 1,
    });
    expect(o.attention).toEqual({
      failed: 1,
      unroutable: 1,
      stalled: 2,
      stalled_after_ms: DEFAULT_STALE_AFTER_MS,
      notification_failed: 1,
    });
    expect(o).not.toHaveProperty("partial");
  });

  it("gives time to revoke per token type and for all, with percentiles and a histogram", async () => {
    const { time_to_revoke } = await overview();
    expect(time_to_revoke.map((e) => e.token_type)).toEqual([
      "aws_access_key_id",
      "github_personal_access_token",
      "all",
    ]);
    const github = time_to_revoke[1];
    expect(github).toMatchObject({ count: 3, median_ms: 2_000, p90_ms: 4_000, p99_ms: 4_000 });
    const all = time_to_revoke[2];
    expect(all).toMatchObject({ count: 5, median_ms: 4_000, p90_ms: 5_000_000, p99_ms: 5_000_000 });
    expect(all?.histogram).toEqual([
      { le_ms: 1_000, count: 1 },
      { le_ms: 5_000, count: 2 },
      { le_ms: 15_000, count: 0 },
      { le_ms: 60_000, count: 0 },
      { le_ms: 300_000, count: 1 },
      { le_ms: 3_600_000, count: 0 },
      { le_ms: null, count: 1 },
    ]);
    expect(all?.histogram.map((b) => b.le_ms)).toEqual([...TIME_TO_REVOKE_BUCKETS]);
  });

  it("lists the slowest revocations in the window, slowest first, as list items", async () => {
    const { slowest } = await overview();
    expect(slowest.map((l) => l.time_to_revoke_ms)).toEqual([5_000_000, 70_000, 4_000, 2_000, 800]);
    expect(slowest[0]).toMatchObject({ id: leaks[4]?.id, status: "revoked", preview: "tqs_live_4f8a…" });
  });

  it("takes a window (dates or date-times) and a token type", async () => {
    const o = await overview({
      since: "2025-03-09",
      until: "2025-03-09",
      token_type: "GitHub_Personal_Access_Token",
    });
    expect(o.window).toEqual({ since: "2025-03-09T00:00:00.000Z", until: "2025-03-09T23:59:59.999Z" });
    expect(o.total).toBe(1);
    expect(o.by_day).toEqual([{ day: "2025-03-09", counts: { revoked: 1 } }]);
    expect(o.time_to_revoke).toMatchObject([
      { token_type: "github_personal_access_token", count: 1 },
      { token_type: "all" },
    ]);
    const old = await overview({ since: "2024-12-31T23:00:00-01:00", until: "2025-01-02" });
    expect(old.by_status).toEqual({ failed: 1 });
    expect(old.by_day.map((d) => d.day)).toEqual(["2025-01-01", "2025-01-02"]);
  });

  it.each([
    [{ since: "last week" }, "since"],
    [{ until: "2025-02-30" }, "until"],
    [{ token_type: "" }, "token_type"],
    [{ status: "failed" }, "status"],
    [{ since: "2023-01-01", until: "2025-01-01" }, "since"],
  ])("refuses %j, naming the parameter", async (params, name) => {
    const error = await overview(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toContain(name);
  });

  it("reads the slim time index, which holds only the fields the figures need", async () => {
    const { Items = [] } = await t.client.send(
      new QueryCommand({
        TableName: t.tableName,
        IndexName: "gsi8",
        KeyConditionExpression: "gsi8pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: "LEAKS" } },
      }),
    );
    expect(Items).toHaveLength(leaks.length);
    const held = new Set(Items.flatMap((item) => Object.keys(item)));
    for (const field of ["timeline", "sealedToken", "evidence", "owner", "preview", "fingerprint"])
      expect(held.has(field), field).toBe(false);
    expect(held).toEqual(
      new Set([
        "pk",
        "sk",
        "gsi8pk",
        "gsi8sk",
        "id",
        "firstSeen",
        "status",
        "tokenType",
        "timeToRevokeMs",
        "notification",
      ]),
    );
  });

  it("refuses since after until, even when until is the default (now)", async () => {
    await expect(overview({ since: "2025-03-11" })).rejects.toThrow("since must not be after until");
  });

  it("summarises the newest leaks and says partial when the window holds more than it reads", async () => {
    const o = await leakOverview(t.store, {}, { now: () => NOW, cacheMs: 0, maxLeaks: 4 });
    expect(o.partial).toBe(true);
    expect(o.total).toBe(4);
    expect(o.by_status).toEqual({ pending: 1, active: 1, revoked: 1, unroutable: 1 });
  });

  it("reuses an answer for the same query a few seconds, then gives it while making the next", async () => {
    let now = NOW;
    const cached = () => leakOverview(t.store, {}, { now: () => now, cacheMs: 5_000, staleMs: 30_000 });
    const first = await cached();
    await t.store.createLeak(makeLeak({ ...at("2025-03-10T11:59:00.000Z"), status: "failed" }));
    now += 4_000;
    expect(await cached()).toBe(first);
    expect((await leakOverview(t.store, { token_type: "x" }, { now: () => now })).total).toBe(0);
    now += 2_000;
    // Stale: the kept answer now, a new one made meanwhile for the next caller.
    expect(await cached()).toBe(first);
    const next = await cached();
    expect(next.total).toBe(first.total + 1);
    expect(next.generated_at).toBe(new Date(now).toISOString());
    // Past the stale limit nothing old is given.
    await t.store.createLeak(makeLeak({ ...at("2025-03-10T11:59:30.000Z"), status: "failed" }));
    now += 31_000;
    expect((await cached()).total).toBe(first.total + 2);
  });

  it("agrees with a count of every seeded leak, across all statuses", async () => {
    const seeded = await createTestStore(engine());
    const written = await seedLeaks(seeded.store, { count: 400, days: 30, now: NOW, seed: 5 });
    const o = await leakOverview(seeded.store, {}, { now: () => NOW, cacheMs: 0 });
    const inWindow = written.filter((l) => l.firstSeen >= o.window.since);
    expect(o.total).toBe(inWindow.length);
    expect(Object.values(o.by_status).reduce((a, b) => a + b, 0)).toBe(inWindow.length);
    expect(o.by_day.reduce((sum, d) => sum + Object.values(d.counts).reduce((a, b) => a + b, 0), 0)).toBe(
      inWindow.length,
    );
    const revoked = inWindow.filter((l) => l.timeToRevokeMs !== undefined);
    expect(o.time_to_revoke.at(-1)?.count).toBe(revoked.length);
    expect(o.slowest[0]?.time_to_revoke_ms).toBe(Math.max(...revoked.map((l) => l.timeToRevokeMs ?? 0)));
    expect(o.attention.failed).toBe(inWindow.filter((l) => l.status === "failed").length);
  });
});
