import { GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "../../lib/errors.js";
import { fromItem, toAttributes } from "../../lib/store/dynamo-items.js";
import type { Leak, TimelineEvent } from "../../lib/store/leak.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";

const event = (step: string, at = "2025-03-01T12:05:00.000Z"): TimelineEvent => ({
  at,
  step,
  outcome: "ok",
  actor: "worker",
  detail: `${step} done`,
});

describe("DynamoLeakStore (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;

  beforeEach(async () => {
    t = await createTestStore(engine());
  });

  const rawLeakItem = async (id: string) => {
    const { Item } = await t.client.send(
      new GetItemCommand({
        TableName: t.tableName,
        Key: toAttributes({ pk: `LEAK#${id}`, sk: "LEAK" }),
        ConsistentRead: true,
      }),
    );
    return Item && fromItem(Item);
  };

  describe("getLeaks", () => {
    it("reads the leaks that exist among many ids, past BatchGetItem's 100 keys a call", async () => {
      const stored = Array.from({ length: 130 }, () => makeLeak());
      for (const leak of stored) await t.store.createLeak(leak);
      const missing = Array.from({ length: 40 }, () => makeLeak().id);

      const found = await t.store.getLeaks([...missing, ...stored.map((l) => l.id), stored[0]?.id ?? ""]);

      expect(found.size).toBe(130);
      expect([...found.keys()].sort()).toEqual(stored.map((l) => l.id).sort());
      expect(found.get(stored[7]?.id ?? "")).toEqual(stored[7]);
      expect((await t.store.getLeaks([])).size).toBe(0);
    });
  });

  describe("createLeak", () => {
    it("creates the leak once and reads it back without key attributes", async () => {
      const leak = makeLeak();
      const result = await t.store.createLeak(leak);
      expect(result).toEqual({ leak, created: true });
      expect(await t.store.getLeak(leak.id)).toEqual(leak);
    });

    it("returns the stored leak with created=false on a second call, even with different fields", async () => {
      const leak = makeLeak({ status: "pending", preview: "first…" });
      await t.store.createLeak(leak);
      const again = await t.store.createLeak({
        ...leak,
        status: "active",
        preview: "second…",
        tokenType: "other_type",
        version: 7,
      });
      expect(again.created).toBe(false);
      expect(again.leak).toEqual(leak);
      expect(await t.store.getLeak(leak.id)).toEqual(leak);
    });

    it("lets exactly one of 20 concurrent creates of the same leak win", async () => {
      const leak = makeLeak();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => t.store.createLeak({ ...leak, preview: `attempt ${i}…` })),
      );
      const winners = results.filter((r) => r.created);
      expect(winners).toHaveLength(1);
      const stored = await t.store.getLeak(leak.id);
      expect(stored?.preview).toBe(winners[0]?.leak.preview);
      for (const r of results.filter((r) => !r.created)) expect(r.leak).toEqual(stored);
    });

    it("returns undefined for an unknown leak", async () => {
      expect(await t.store.getLeak("lk_000000000000000000000000")).toBeUndefined();
      expect(await t.store.getLeakDetails("lk_000000000000000000000000")).toBeUndefined();
    });
  });

  describe("recordSighting", () => {
    it("keeps one sighting per url+source, counting reports and moving lastSeen", async () => {
      const leak = makeLeak();
      await t.store.createLeak(leak);
      const where = { url: "https://github.com/acme/app/blob/abc/config.js", source: "content" };
      const first = await t.store.recordSighting(leak.id, where, "2025-03-01T12:00:00.000Z");
      expect(first).toEqual({
        ...where,
        firstSeen: "2025-03-01T12:00:00.000Z",
        lastSeen: "2025-03-01T12:00:00.000Z",
        reports: 1,
      });
      const second = await t.store.recordSighting(leak.id, where, "2025-03-02T08:30:00.000Z");
      expect(second).toEqual({
        ...where,
        firstSeen: "2025-03-01T12:00:00.000Z",
        lastSeen: "2025-03-02T08:30:00.000Z",
        reports: 2,
      });

      const details = await t.store.getLeakDetails(leak.id);
      expect(details?.sightings).toEqual([second]);
    });

    it("keeps separate sightings for a different url or a different source", async () => {
      const leak = makeLeak();
      await t.store.createLeak(leak);
      await t.store.recordSighting(
        leak.id,
        { url: "https://a.example/1", source: "content" },
        "2025-03-01T12:00:00.000Z",
      );
      await t.store.recordSighting(
        leak.id,
        { url: "https://a.example/2", source: "content" },
        "2025-03-01T12:01:00.000Z",
      );
      await t.store.recordSighting(
        leak.id,
        { url: "https://a.example/1", source: "commit" },
        "2025-03-01T12:02:00.000Z",
      );

      const details = await t.store.getLeakDetails(leak.id);
      expect(details?.sightings).toEqual([
        {
          url: "https://a.example/1",
          source: "content",
          firstSeen: "2025-03-01T12:00:00.000Z",
          lastSeen: "2025-03-01T12:00:00.000Z",
          reports: 1,
        },
        {
          url: "https://a.example/2",
          source: "content",
          firstSeen: "2025-03-01T12:01:00.000Z",
          lastSeen: "2025-03-01T12:01:00.000Z",
          reports: 1,
        },
        {
          url: "https://a.example/1",
          source: "commit",
          firstSeen: "2025-03-01T12:02:00.000Z",
          lastSeen: "2025-03-01T12:02:00.000Z",
          reports: 1,
        },
      ]);
    });

    it("counts every one of many concurrent reports of the same place", async () => {
      const leak = makeLeak();
      await t.store.createLeak(leak);
      const where = { url: "https://a.example/x", source: "content" };
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          t.store.recordSighting(leak.id, where, `2025-03-01T12:00:0${i}.000Z`),
        ),
      );
      const details = await t.store.getLeakDetails(leak.id);
      expect(details?.sightings).toHaveLength(1);
      expect(details?.sightings[0]?.reports).toBe(10);
    });

    it("does not let a sighting show up as a leak in listings", async () => {
      const leak = makeLeak();
      await t.store.createLeak(leak);
      await t.store.recordSighting(
        leak.id,
        { url: "https://a.example/1", source: "content" },
        leak.firstSeen,
      );
      const page = await t.store.listLeaks({ limit: 10 });
      expect(page.items.map((l) => l.id)).toEqual([leak.id]);
    });
  });

  describe("getLeakDetails", () => {
    it("returns the leak with its sightings and only its own", async () => {
      const leak = makeLeak();
      const other = makeLeak();
      await t.store.createLeak(leak);
      await t.store.createLeak(other);
      await t.store.recordSighting(
        leak.id,
        { url: "https://a.example/1", source: "content" },
        "2025-03-01T12:00:00.000Z",
      );
      await t.store.recordSighting(
        other.id,
        { url: "https://b.example/1", source: "content" },
        "2025-03-01T12:00:00.000Z",
      );

      const details = await t.store.getLeakDetails(leak.id);
      expect(details?.leak).toEqual(leak);
      expect(details?.sightings.map((s) => s.url)).toEqual(["https://a.example/1"]);
    });

    it("returns a leak with no sightings with an empty list", async () => {
      const leak = makeLeak();
      await t.store.createLeak(leak);
      expect(await t.store.getLeakDetails(leak.id)).toEqual({ leak, sightings: [] });
    });
  });

  describe("updateLeak", () => {
    it("applies the changes, appends the events and bumps the version", async () => {
      const { leak } = await t.store.createLeak(makeLeak());
      const events = [event("verify"), event("revoke", "2025-03-01T12:06:00.000Z")];
      const written = await t.store.updateLeak(
        leak,
        { status: "revoked", revokedAt: "2025-03-01T12:06:00.000Z", timeToRevokeMs: 360_000, keyId: "key-1" },
        events,
      );
      expect(written).toEqual({
        ...leak,
        status: "revoked",
        revokedAt: "2025-03-01T12:06:00.000Z",
        timeToRevokeMs: 360_000,
        keyId: "key-1",
        timeline: [...leak.timeline, ...events],
        version: leak.version + 1,
      });
      expect(await t.store.getLeak(leak.id)).toEqual(written);
    });

    it("chains updates, each from the leak the previous one returned", async () => {
      const { leak } = await t.store.createLeak(makeLeak());
      const v2 = await t.store.updateLeak(leak, { status: "active" }, [event("verify")]);
      const v3 = await t.store.updateLeak(v2, { status: "revoked" }, [event("revoke")]);
      expect(v3.version).toBe(leak.version + 2);
      expect((await t.store.getLeak(leak.id))?.timeline.map((e) => e.step)).toEqual([
        "intake",
        "verify",
        "revoke",
      ]);
    });

    it("throws ConflictError on a stale version and writes nothing", async () => {
      const { leak } = await t.store.createLeak(makeLeak());
      const current = await t.store.updateLeak(leak, { status: "active" }, [event("verify")]);
      const before = await rawLeakItem(leak.id);

      await expect(t.store.updateLeak(leak, { status: "failed" }, [event("stale")])).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await rawLeakItem(leak.id)).toEqual(before);
      expect(await t.store.getLeak(leak.id)).toEqual(current);
    });

    it("throws ConflictError when the leak does not exist, and creates nothing", async () => {
      const ghost = makeLeak();
      await expect(t.store.updateLeak(ghost, { status: "active" }, [])).rejects.toBeInstanceOf(ConflictError);
      expect(await t.store.getLeak(ghost.id)).toBeUndefined();
    });

    it("lets exactly one of two concurrent updates from the same read win", async () => {
      const { leak } = await t.store.createLeak(makeLeak());
      const read = (await t.store.getLeak(leak.id)) as Leak;
      const results = await Promise.allSettled([
        t.store.updateLeak(read, { status: "revoked" }, [event("revoke")]),
        t.store.updateLeak(read, { status: "failed" }, [event("fail")]),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);

      const stored = await t.store.getLeak(leak.id);
      expect(stored).toEqual((won[0] as PromiseFulfilledResult<Leak>).value);
      expect(stored?.version).toBe(leak.version + 1);
      expect(stored?.timeline).toHaveLength(leak.timeline.length + 1);
    });

    it("removes a field set to undefined", async () => {
      const { leak } = await t.store.createLeak(
        makeLeak({ lease: { step: "revoke", holder: "worker-1", until: 1_900_000_000_000 }, keyId: "key-9" }),
      );
      expect((await rawLeakItem(leak.id))?.lease).toBeDefined();

      const written = await t.store.updateLeak(leak, { lease: undefined }, []);
      expect(written.lease).toBeUndefined();
      const item = await rawLeakItem(leak.id);
      expect(item).not.toHaveProperty("lease");
      expect(item?.keyId).toBe("key-9");
      const stored = await t.store.getLeak(leak.id);
      expect(stored).not.toHaveProperty("lease");
      expect(stored?.version).toBe(leak.version + 1);
    });

    it("moves the index keys with the status", async () => {
      const { leak } = await t.store.createLeak(makeLeak({ status: "pending" }));
      expect((await t.store.listLeaks({ statuses: ["pending"], limit: 10 })).items.map((l) => l.id)).toEqual([
        leak.id,
      ]);

      const active = await t.store.updateLeak(leak, { status: "active" }, [event("verify")]);
      expect((await t.store.listLeaks({ statuses: ["pending"], limit: 10 })).items).toEqual([]);
      expect((await t.store.listLeaks({ statuses: ["active"], limit: 10 })).items).toEqual([active]);

      const revoked = await t.store.updateLeak(active, { status: "revoked" }, [event("revoke")]);
      expect((await t.store.listLeaks({ statuses: ["active"], limit: 10 })).items).toEqual([]);
      expect((await t.store.listLeaks({ statuses: ["revoked"], limit: 10 })).items).toEqual([revoked]);
      expect((await t.store.listLeaks({ limit: 10 })).items).toEqual([revoked]);
    });

    it("moves the owner index key when the owner changes or goes away", async () => {
      const { leak } = await t.store.createLeak(makeLeak());
      expect((await t.store.listLeaks({ owner: "dev@acme.test", limit: 10 })).items).toEqual([]);

      const owned = await t.store.updateLeak(leak, { owner: { id: "u1", email: "dev@acme.test" } }, []);
      expect((await t.store.listLeaks({ owner: "dev@acme.test", limit: 10 })).items).toEqual([owned]);

      const moved = await t.store.updateLeak(owned, { owner: { email: "ops@acme.test" } }, []);
      expect((await t.store.listLeaks({ owner: "dev@acme.test", limit: 10 })).items).toEqual([]);
      expect((await t.store.listLeaks({ owner: "ops@acme.test", limit: 10 })).items).toEqual([moved]);

      await t.store.updateLeak(moved, { owner: undefined }, []);
      expect((await t.store.listLeaks({ owner: "ops@acme.test", limit: 10 })).items).toEqual([]);
      const item = await rawLeakItem(leak.id);
      expect(item).not.toHaveProperty("gsi4pk");
      expect(item).not.toHaveProperty("owner");
    });

    it("keeps sightings when the leak item is rewritten", async () => {
      const { leak } = await t.store.createLeak(makeLeak());
      await t.store.recordSighting(
        leak.id,
        { url: "https://a.example/1", source: "content" },
        leak.firstSeen,
      );
      await t.store.updateLeak(leak, { status: "active" }, []);
      const query = await t.client.send(
        new QueryCommand({
          TableName: t.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: toAttributes({ ":pk": `LEAK#${leak.id}` }),
        }),
      );
      expect(query.Items).toHaveLength(2);
      expect((await t.store.getLeakDetails(leak.id))?.sightings).toHaveLength(1);
    });
  });
});
