import { beforeEach, describe, expect, it } from "vitest";
import { getLeak, listLeaks } from "../../lib/admin/leak-queries.js";
import { BadRequestError, NotFoundError } from "../../lib/errors.js";
import { DynamoLeakStore } from "../../lib/store/dynamo-leak-store.js";
import type { Leak } from "../../lib/store/leak.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";

describe("admin leak queries (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let pending: Leak;
  let revoked: Leak;
  let active: Leak;

  beforeEach(async () => {
    t = await createTestStore(engine());
    pending = makeLeak({ firstSeen: "2025-03-01T10:00:00.000Z", tokenType: "sandbox_key" });
    revoked = makeLeak({
      firstSeen: "2025-03-02T10:00:00.000Z",
      tokenType: "cloud_key",
      preview: "ghp_…Wxyz",
      issuer: "cloud",
      status: "revoked",
      keyId: "key-7",
      owner: { id: "u-1", email: "dev@acme.test", name: "Dev" },
      evidence: { verifiedBy: "cloud", scopes: ["read"] },
      verifiedAt: "2025-03-02T10:00:01.000Z",
      revokedAt: "2025-03-02T10:00:02.500Z",
      timeToRevokeMs: 2_500,
      notification: {
        status: "sent",
        at: "2025-03-02T10:00:03.000Z",
      },
      lease: { step: "notify", holder: "worker-1", until: 1_900_000_000_000 },
      receivedAtMs: Date.parse("2025-03-02T10:00:00.000Z"),
    });
    active = makeLeak({ firstSeen: "2025-03-03T10:00:00.000Z", tokenType: "cloud_key", status: "active" });
    for (const leak of [pending, revoked, active]) await t.store.createLeak(leak);
  });

  describe("listLeaks", () => {
    it("maps leaks to snake_case views, newest first, with a null next_cursor at the end", async () => {
      const result = await listLeaks(t.store, {});
      expect(result.next_cursor).toBeNull();
      expect(result.items.map((item) => item.id)).toEqual([active.id, revoked.id, pending.id]);
      expect(result.items[1]).toEqual({
        id: revoked.id,
        fingerprint: revoked.fingerprint,
        token_type: "cloud_key",
        preview: revoked.preview,
        issuer: "cloud",
        status: "revoked",
        key_id: "key-7",
        owner: { id: "u-1", email: "dev@acme.test", name: "Dev" },
        first_seen: "2025-03-02T10:00:00.000Z",
        verified_at: "2025-03-02T10:00:01.000Z",
        revoked_at: "2025-03-02T10:00:02.500Z",
        time_to_revoke_ms: 2_500,
        notification: {
          status: "sent",
          at: "2025-03-02T10:00:03.000Z",
        },
        failure: null,
        mode: null,
        replacement: null,
        dismissal: null,
        paired_with: null,
      });
    });

    it("gives absent optional fields as null and leaves internal bookkeeping out", async () => {
      const [view] = (await listLeaks(t.store, { status: "pending" })).items;
      expect(view).toMatchObject({
        id: pending.id,
        key_id: null,
        owner: null,
        verified_at: null,
        revoked_at: null,
        time_to_revoke_ms: null,
        notification: null,
        failure: null,
        mode: null,
        replacement: null,
        dismissal: null,
        paired_with: null,
      });
      for (const internal of [
        "sealedToken",
        "version",
        "lease",
        "timeline",
        "receivedAtMs",
        "evidence",
        "tokenType",
        "pk",
      ]) {
        expect(view).not.toHaveProperty(internal);
      }
    });

    it("filters by status, token type (any case), owner and fingerprint (any case)", async () => {
      const ids = async (params: Record<string, string>) =>
        (await listLeaks(t.store, params)).items.map((item) => item.id);
      expect(await ids({ status: "revoked" })).toEqual([revoked.id]);
      expect(await ids({ token_type: "CLOUD_KEY" })).toEqual([active.id, revoked.id]);
      expect(await ids({ owner: "DEV@acme.test" })).toEqual([revoked.id]);
      expect(await ids({ owner: "U-1" })).toEqual([revoked.id]); // the owner's id, though they have an email
      expect(await ids({ fingerprint: pending.fingerprint.toUpperCase() })).toEqual([pending.id]);
      expect(await ids({ fingerprint: pending.fingerprint, status: "revoked" })).toEqual([]);
      expect(await ids({ status: "active", token_type: "cloud_key" })).toEqual([active.id]);
    });

    it("takes several statuses, repeated (joined with commas) or comma-separated, once each", async () => {
      const ids = async (params: Record<string, string>) =>
        (await listLeaks(t.store, params)).items.map((item) => item.id);
      expect(await ids({ status: "revoked,pending" })).toEqual([revoked.id, pending.id]);
      expect(await ids({ status: "pending, revoked,pending" })).toEqual([revoked.id, pending.id]);
      expect(await ids({ status: "revoked,active", token_type: "cloud_key" })).toEqual([
        active.id,
        revoked.id,
      ]);
      expect(await ids({ status: "revoked,failed", owner: "dev@acme.test" })).toEqual([revoked.id]);
      expect(await ids({ status: "failed,dismissed" })).toEqual([]);
    });

    it("takes a date alone as since (that day's start) and until (that day's end, inclusive)", async () => {
      const ids = async (params: Record<string, string>) =>
        (await listLeaks(t.store, params)).items.map((item) => item.id);
      expect(await ids({ since: "2025-03-02", until: "2025-03-02" })).toEqual([revoked.id]);
      expect(await ids({ until: "2025-03-01" })).toEqual([pending.id]);
      expect(await ids({ since: "2025-03-03" })).toEqual([active.id]);
      expect(await ids({ since: "2025-03-02", until: "2025-03-03T09:59:59Z" })).toEqual([revoked.id]);
    });

    it("filters on the exact preview, case and all", async () => {
      const ids = async (params: Record<string, string>) =>
        (await listLeaks(t.store, params)).items.map((item) => item.id);
      expect(await ids({ preview: revoked.preview })).toEqual([revoked.id]);
      expect(await ids({ preview: revoked.preview.toUpperCase() })).toEqual([]);
      expect(await ids({ preview: revoked.preview, status: "revoked,active" })).toEqual([revoked.id]);
      expect(await ids({ preview: revoked.preview, status: "active" })).toEqual([]);
      expect(await ids({ preview: revoked.preview, fingerprint: revoked.fingerprint })).toEqual([revoked.id]);
      expect(await ids({ preview: "ghp_…none", fingerprint: revoked.fingerprint })).toEqual([]);
    });

    it("normalises since and until to UTC and keeps them inclusive", async () => {
      const ids = async (params: Record<string, string>) =>
        (await listLeaks(t.store, params)).items.map((item) => item.id);
      expect(await ids({ since: "2025-03-02T10:00:00Z" })).toEqual([active.id, revoked.id]);
      expect(await ids({ since: "2025-03-02T11:00:00+01:00", until: "2025-03-03T12:00:00+02:00" })).toEqual([
        active.id,
        revoked.id,
      ]);
      expect(await ids({ until: "2025-03-01T10:00:00Z" })).toEqual([pending.id]);
      expect(await ids({ since: "2025-03-02T10:00:00Z", until: "2025-03-02T10:00:00Z" })).toEqual([
        revoked.id,
      ]);
    });

    it("pages with limit and the next_cursor it returns", async () => {
      const first = await listLeaks(t.store, { limit: "2" });
      expect(first.items.map((item) => item.id)).toEqual([active.id, revoked.id]);
      expect(first.next_cursor).toEqual(expect.any(String));
      const second = await listLeaks(t.store, { limit: "2", cursor: first.next_cursor ?? "" });
      expect(second.items.map((item) => item.id)).toEqual([pending.id]);
      expect(second.next_cursor).toBeNull();
    });

    it("says when a filtered page stopped at its search budget, and only then", async () => {
      for (let i = 0; i < 6; i++) {
        await t.store.createLeak(
          makeLeak({ firstSeen: `2025-04-0${i + 1}T00:00:00.000Z`, status: "active" }),
        );
      }
      const budgeted = new DynamoLeakStore(t.client, t.tableName, { maxExaminedPerPage: 3 });
      const first = await listLeaks(budgeted, { status: "active", token_type: "cloud_key", limit: "1" });
      expect(first).toEqual({ items: [], next_cursor: expect.any(String), partial: true });
      let page = first;
      for (let pages = 0; page.next_cursor && pages < 10; pages++) {
        page = await listLeaks(budgeted, {
          status: "active",
          token_type: "cloud_key",
          limit: "1",
          cursor: page.next_cursor,
        });
        if (page.items.length > 0) break;
      }
      expect(page).toEqual({ items: [expect.objectContaining({ id: active.id })], next_cursor: null });
    });

    it("uses a default limit when none is given", async () => {
      for (let i = 0; i < 30; i++) {
        await t.store.createLeak(
          makeLeak({ firstSeen: `2025-04-01T00:00:${String(i).padStart(2, "0")}.000Z` }),
        );
      }
      const page = await listLeaks(t.store, {});
      expect(page.items).toHaveLength(25);
      expect(page.next_cursor).not.toBeNull();
    });

    it.each([
      ["status", { status: "exploded" }],
      ["status", { status: "REVOKED" }],
      ["fingerprint", { fingerprint: "abc123" }],
      ["fingerprint", { fingerprint: "g".repeat(64) }],
      ["fingerprint", { fingerprint: "a".repeat(65) }],
      ["since", { since: "yesterday" }],
      ["since", { since: "2025-02-30" }],
      ["since", { since: "2025-3-2" }],
      ["until", { until: "2025-03-02T25:00" }],
      ["status", { status: "revoked,exploded" }],
      ["status", { status: "revoked," }],
      ["preview", { preview: "" }],
      ["until", { until: "2025-13-02T10:00:00Z" }],
      ["limit", { limit: "0" }],
      ["limit", { limit: "101" }],
      ["limit", { limit: "2.5" }],
      ["limit", { limit: "ten" }],
      ["token_type", { token_type: "" }],
      ["bogus", { bogus: "1" }],
      ["tokenType", { tokenType: "cloud_key" }],
    ])("rejects an invalid %s with a BadRequestError naming it", async (name, params) => {
      const error = await listLeaks(t.store, params).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as Error).message).toContain(`parameter ${name}`);
    });

    it("rejects since after until", async () => {
      await expect(
        listLeaks(t.store, { since: "2025-03-03T00:00:00Z", until: "2025-03-02T00:00:00Z" }),
      ).rejects.toBeInstanceOf(BadRequestError);
      // The same instant in different offsets is not "after".
      await expect(
        listLeaks(t.store, { since: "2025-03-02T11:00:00+01:00", until: "2025-03-02T10:00:00Z" }),
      ).resolves.toMatchObject({ items: [{ id: revoked.id }] });
    });

    it("rejects a tampered cursor", async () => {
      const cursor = Buffer.from(JSON.stringify({ foo: "bar" })).toString("base64url");
      await expect(listLeaks(t.store, { cursor })).rejects.toBeInstanceOf(BadRequestError);
      await expect(listLeaks(t.store, { cursor: "not a cursor" })).rejects.toBeInstanceOf(BadRequestError);
    });
  });

  describe("getLeak", () => {
    it("lists the deliveries in the order they were made, whatever order the engine keeps them in", async () => {
      const sent = (channel: string, at: string) => ({
        channel,
        recipient: "owner o@x.test",
        status: "sent" as const,
        at,
      });
      const leak = makeLeak({
        // Map keys in the opposite order to their times: DynamoDB gives a map's keys in no set order.
        deliveries: {
          m_slack: sent("slack", "2025-03-01T12:00:01.200Z"),
          m_hook: sent("hook", "2025-03-01T12:00:01.100Z"),
          m_email: sent("email", "2025-03-01T12:00:01.000Z"),
        },
      });
      await t.store.createLeak(leak);
      const view = await getLeak(t.store, leak.id);
      expect(view.deliveries.map((d) => d.channel)).toEqual(["email", "hook", "slack"]);
    });

    it("returns the leak in full with its sightings and timeline", async () => {
      await t.store.recordSighting(
        revoked.id,
        { url: "https://github.com/acme/app/blob/1/a.js", source: "content" },
        "2025-03-02T10:00:00.000Z",
      );
      await t.store.recordSighting(
        revoked.id,
        { url: "https://github.com/acme/app/blob/1/a.js", source: "content" },
        "2025-03-02T12:00:00.000Z",
      );
      const updated = await t.store.updateLeak(revoked, {}, [
        { at: "2025-03-02T10:00:02.500Z", step: "revoke", outcome: "ok", actor: "worker", detail: "revoked" },
      ]);

      const view = await getLeak(t.store, revoked.id);
      expect(view).toMatchObject({
        id: revoked.id,
        status: "revoked",
        token_type: "cloud_key",
        time_to_revoke_ms: 2_500,
        evidence: { verifiedBy: "cloud", scopes: ["read"] },
      });
      expect(view.sightings).toEqual([
        {
          url: "https://github.com/acme/app/blob/1/a.js",
          source: "content",
          first_seen: "2025-03-02T10:00:00.000Z",
          last_seen: "2025-03-02T12:00:00.000Z",
          reports: 2,
        },
      ]);
      expect(view.timeline).toEqual(updated.timeline);
      expect(view.timeline.map((e) => e.step)).toEqual(["intake", "revoke"]);
      expect(view).not.toHaveProperty("lease");
      expect(view).not.toHaveProperty("version");
    });

    it("gives evidence as null and sightings as empty when there are none", async () => {
      const view = await getLeak(t.store, pending.id);
      expect(view.evidence).toBeNull();
      expect(view.sightings).toEqual([]);
    });

    it("returns a bounded first page of sightings and a cursor to the rest, each place once", async () => {
      const at = (minute: number) => `2025-03-02T11:${String(minute % 60).padStart(2, "0")}:00.000Z`;
      const embedded = ["https://a.test/1", "https://a.test/2", "https://a.test/3"].map((url) => ({
        url,
        source: "content",
        firstSeen: revoked.firstSeen,
        lastSeen: revoked.firstSeen,
        reports: 1,
      }));
      const leak = makeLeak({ firstSeen: revoked.firstSeen, firstSightings: embedded });
      await t.store.createLeak(leak);
      // The second embedded place is reported again later: one sighting, its reports added up.
      await t.store.recordSighting(leak.id, { url: "https://a.test/2", source: "content" }, at(59));
      const later = Array.from({ length: 230 }, (_, i) => ({ url: `https://b.test/${i}`, source: "commit" }));
      for (let i = 0; i < later.length; i += 25) {
        await Promise.all(
          later.slice(i, i + 25).map((s, j) => t.store.recordSighting(leak.id, s, at(i + j))),
        );
      }

      const first = await getLeak(t.store, leak.id);
      expect(first.sightings).toHaveLength(100);
      expect(first.sightings_next_cursor).toEqual(expect.any(String));
      expect(first).toMatchObject({ id: leak.id, status: "pending", timeline: leak.timeline });
      const seen = [...first.sightings];
      let cursor = first.sightings_next_cursor;
      for (let pages = 0; cursor && pages < 10; pages++) {
        const page = await getLeak(t.store, leak.id, { sightings_cursor: cursor, sightings_limit: "70" });
        expect(page.sightings.length).toBeLessThanOrEqual(70);
        expect(page.id).toBe(leak.id);
        seen.push(...page.sightings);
        cursor = page.sightings_next_cursor;
      }
      expect(cursor).toBeNull();
      const places = seen.map((s) => s.url);
      expect(new Set(places).size).toBe(places.length);
      expect(places.sort()).toEqual([...embedded.map((s) => s.url), ...later.map((s) => s.url)].sort());
      expect(seen.find((s) => s.url === "https://a.test/2")).toEqual({
        url: "https://a.test/2",
        source: "content",
        first_seen: revoked.firstSeen,
        last_seen: at(59),
        reports: 2,
      });
    });

    it("gives the sightings oldest first, and no cursor, when they fit one page", async () => {
      const places = ["https://c.test/late", "https://c.test/early", "https://c.test/middle"];
      const times = ["2025-03-02T13:00:00.000Z", "2025-03-02T11:00:00.000Z", "2025-03-02T12:00:00.000Z"];
      for (const [i, url] of places.entries()) {
        await t.store.recordSighting(active.id, { url, source: "content" }, times[i] ?? "");
      }
      const view = await getLeak(t.store, active.id, { sightings_limit: "3" });
      expect(view.sightings.map((s) => s.url)).toEqual([
        "https://c.test/early",
        "https://c.test/middle",
        "https://c.test/late",
      ]);
      expect(view.sightings_next_cursor).toBeNull();
    });

    it.each([
      ["sightings_limit", { sightings_limit: "0" }],
      ["sightings_limit", { sightings_limit: "501" }],
      ["sightings_limit", { sightings_limit: "many" }],
      ["sightings_cursor", { sightings_cursor: "" }],
      ["cursor", { cursor: "abc" }],
    ])("rejects an invalid %s on the detail with a BadRequestError naming it", async (name, params) => {
      const error = await getLeak(t.store, revoked.id, params).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as Error).message).toContain(`parameter ${name}`);
    });

    it("refuses a sightings cursor that is not one this API returned, or is another leak's", async () => {
      for (let i = 0; i < 3; i++) {
        await t.store.recordSighting(
          revoked.id,
          { url: `https://d.test/${i}`, source: "content" },
          revoked.firstSeen,
        );
      }
      const page = await getLeak(t.store, revoked.id, { sightings_limit: "1" });
      expect(page.sightings_next_cursor).toEqual(expect.any(String));
      await expect(
        getLeak(t.store, active.id, { sightings_cursor: page.sightings_next_cursor ?? "" }),
      ).rejects.toThrow(/sightings_cursor does not belong to this listing/);
      await expect(getLeak(t.store, revoked.id, { sightings_cursor: "bm90IGEgY3Vyc29y" })).rejects.toThrow(
        /sightings_cursor is not one this API returned/,
      );
    });

    it.each([
      ["an unknown well-formed id", "lk_0123456789abcdef01234567"],
      ["undefined", undefined],
      ["an empty id", ""],
      ["an id with a path", "lk_0123456789abcdef01234567/../x"],
      ["an upper-case id", "LK_0123456789ABCDEF01234567"],
      ["a fingerprint instead of an id", "a".repeat(64)],
    ])("answers %s with NotFoundError", async (_, id) => {
      await expect(getLeak(t.store, id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("does not find a leak by an id that differs in case", async () => {
      await expect(getLeak(t.store, pending.id.toUpperCase())).rejects.toBeInstanceOf(NotFoundError);
      await expect(getLeak(t.store, pending.id)).resolves.toMatchObject({ id: pending.id });
    });
  });
});
