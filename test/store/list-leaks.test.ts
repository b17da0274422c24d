import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import { BadRequestError } from "../../lib/errors.js";
import { DynamoLeakStore } from "../../lib/store/dynamo-leak-store.js";
import type { Leak } from "../../lib/store/leak.js";
import type { LeakPage, LeakQuery } from "../../lib/store/leak-store.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";

const b64 = (value: string) => Buffer.from(value).toString("base64url");

describe("DynamoLeakStore.listLeaks (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let leaks: Record<string, Leak>;

  // Five leaks, one a day, spread over statuses, token types and owners.
  beforeEach(async () => {
    t = await createTestStore(engine());
    leaks = {
      a: makeLeak({ firstSeen: "2025-03-01T10:00:00.000Z", status: "pending", tokenType: "sandbox_key" }),
      b: makeLeak({
        firstSeen: "2025-03-02T10:00:00.000Z",
        status: "revoked",
        tokenType: "sandbox_key",
        owner: { id: "u-1", email: "Dev@Acme.test" },
      }),
      c: makeLeak({
        firstSeen: "2025-03-03T10:00:00.000Z",
        status: "revoked",
        tokenType: "cloud_key",
        owner: { id: "u-2", email: "ops@acme.test" },
      }),
      d: makeLeak({
        firstSeen: "2025-03-04T10:00:00.000Z",
        status: "active",
        tokenType: "cloud_key",
        owner: { id: "u-1", email: "dev@acme.test" },
      }),
      e: makeLeak({ firstSeen: "2025-03-05T10:00:00.000Z", status: "revoked", tokenType: "sandbox_key" }),
    };
    for (const leak of Object.values(leaks)) await t.store.createLeak(leak);
  });

  const names = (items: Leak[]) =>
    items.map((item) => Object.entries(leaks).find(([, leak]) => leak.id === item.id)?.[0] ?? item.id);
  const list = async (query: Omit<LeakQuery, "limit"> & { limit?: number }) => {
    const page = await t.store.listLeaks({ limit: 50, ...query });
    return { names: names(page.items), page };
  };

  const collect = async (query: LeakQuery) => {
    const seen: Leak[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await t.store.listLeaks({ ...query, cursor });
      expect(page.items.length).toBeLessThanOrEqual(query.limit);
      seen.push(...page.items);
      pageSizes.push(page.items.length);
      if (page.nextCursor === null) return { seen, pageSizes };
      cursor = page.nextCursor;
    }
    throw new Error("pagination did not end");
  };

  it("lists all leaks newest first, as stored", async () => {
    const { names, page } = await list({});
    expect(names).toEqual(["e", "d", "c", "b", "a"]);
    expect(page.items[0]).toEqual(leaks.e);
    expect(page.nextCursor).toBeNull();
  });

  it("lists by status", async () => {
    expect((await list({ statuses: ["revoked"] })).names).toEqual(["e", "c", "b"]);
    expect((await list({ statuses: ["active"] })).names).toEqual(["d"]);
    expect((await list({ statuses: ["failed"] })).names).toEqual([]);
  });

  it("lists by token type", async () => {
    expect((await list({ tokenType: "cloud_key" })).names).toEqual(["d", "c"]);
    expect((await list({ tokenType: "sandbox_key" })).names).toEqual(["e", "b", "a"]);
    expect((await list({ tokenType: "nope" })).names).toEqual([]);
  });

  it("lists by owner email, case-insensitively", async () => {
    expect((await list({ owner: "dev@acme.test" })).names).toEqual(["d", "b"]);
    expect((await list({ owner: "DEV@ACME.TEST" })).names).toEqual(["d", "b"]);
    expect((await list({ owner: "Ops@Acme.Test" })).names).toEqual(["c"]);
    expect((await list({ owner: "nobody@acme.test" })).names).toEqual([]);
  });

  it("combines owner with status and token type", async () => {
    expect((await list({ owner: "dev@acme.test", statuses: ["revoked"] })).names).toEqual(["b"]);
    expect((await list({ owner: "dev@acme.test", tokenType: "cloud_key" })).names).toEqual(["d"]);
  });

  it("lists an owner known only by id", async () => {
    const anon = makeLeak({ firstSeen: "2025-03-06T10:00:00.000Z", owner: { id: "octocat-42" } });
    await t.store.createLeak(anon);
    expect((await list({ owner: "octocat-42" })).page.items).toEqual([anon]);
  });

  it("finds a leak by the owner's id when the owner also has an email", async () => {
    expect((await list({ owner: "u-2" })).names).toEqual(["c"]);
    expect((await list({ owner: "U-1" })).names).toEqual(["d", "b"]);
    expect((await list({ owner: "u-1", statuses: ["revoked"] })).names).toEqual(["b"]);
  });

  it("pages an owner's leaks known by email on some and by id on others, each once, newest first", async () => {
    const byIdOnly = makeLeak({ firstSeen: "2025-03-03T12:00:00.000Z", owner: { id: "u-1" } });
    const sameKey = makeLeak({ firstSeen: "2025-03-01T12:00:00.000Z", owner: { id: "u-1", email: "U-1" } });
    for (const leak of [byIdOnly, sameKey]) await t.store.createLeak(leak);
    const { seen } = await collect({ owner: "u-1", limit: 1 });
    expect(names(seen)).toEqual(["d", byIdOnly.id, "b", sameKey.id]);
  });

  it("fills a filtered page with matches although many newer leaks do not match", async () => {
    const owner = { id: "u-9", email: "busy@acme.test" };
    const newer = Array.from({ length: 8 }, (_, i) =>
      makeLeak({ firstSeen: `2025-05-0${i + 1}T00:00:00.000Z`, status: "active", owner }),
    );
    const failed = ["2025-04-01T00:00:00.000Z", "2025-04-02T00:00:00.000Z", "2025-04-03T00:00:00.000Z"].map(
      (firstSeen) => makeLeak({ firstSeen, status: "failed", owner }),
    );
    for (const leak of [...newer, ...failed]) await t.store.createLeak(leak);

    const first = await t.store.listLeaks({ owner: "busy@acme.test", statuses: ["failed"], limit: 2 });
    expect(first.items.map((l) => l.id)).toEqual([failed[2]?.id, failed[1]?.id]);
    expect(first.partial).toBe(false);
    const second = await t.store.listLeaks({
      owner: "busy@acme.test",
      statuses: ["failed"],
      limit: 2,
      cursor: first.nextCursor ?? "",
    });
    expect(second).toEqual({ items: [failed[0]], nextCursor: null, partial: false });
  });

  it("gives no cursor with the last page, even when it is full", async () => {
    const revoked = await list({ statuses: ["revoked"], limit: 3 });
    expect(revoked.names).toEqual(["e", "c", "b"]);
    expect(revoked.page.nextCursor).toBeNull();
    const all = await list({ limit: 5 });
    expect(all.page.nextCursor).toBeNull();
    const filtered = await list({ tokenType: "cloud_key", statuses: ["revoked"], limit: 1 });
    expect(filtered.names).toEqual(["c"]);
    expect(filtered.page.nextCursor).toBeNull();
  });

  it("says a page is partial when it stopped at its search budget, and its cursor goes on", async () => {
    const noise = Array.from({ length: 9 }, (_, i) =>
      makeLeak({ firstSeen: `2025-06-0${i + 1}T00:00:00.000Z`, status: "revoked", tokenType: "sandbox_key" }),
    );
    for (const leak of noise) await t.store.createLeak(leak);
    const budgeted = new DynamoLeakStore(t.client, t.tableName, { maxExaminedPerPage: 4 });
    const query: LeakQuery = { statuses: ["revoked"], tokenType: "cloud_key", limit: 2 };

    const first = await budgeted.listLeaks(query);
    expect(first).toEqual({ items: [], nextCursor: expect.any(String), partial: true });
    const pages: LeakPage[] = [first];
    for (let cursor = first.nextCursor; cursor !== null && pages.length < 20; ) {
      const page = await budgeted.listLeaks({ ...query, cursor });
      pages.push(page);
      cursor = page.nextCursor;
    }
    expect(pages.at(-1)?.nextCursor).toBeNull();
    expect(names(pages.flatMap((p) => p.items))).toEqual(["c"]);
    // A page is short only when it says so.
    for (const page of pages.slice(0, -1)) if (page.items.length < 2) expect(page.partial).toBe(true);
  });

  it("refuses a cursor from a listing with other filters", async () => {
    const page = await list({ statuses: ["revoked"], limit: 1 });
    await expect(
      t.store.listLeaks({ statuses: ["active"], limit: 1, cursor: page.page.nextCursor ?? "" }),
    ).rejects.toThrow(/cursor does not belong to this listing/);
  });

  it("finds a leak by fingerprint", async () => {
    const { page } = await list({ fingerprint: leaks.c?.fingerprint });
    expect(page).toEqual({ items: [leaks.c], nextCursor: null, partial: false });
  });

  it("returns nothing for a fingerprint combined with filters it does not match", async () => {
    const fingerprint = leaks.c?.fingerprint;
    expect((await list({ fingerprint, statuses: ["pending"] })).names).toEqual([]);
    expect((await list({ fingerprint, tokenType: "sandbox_key" })).names).toEqual([]);
    expect((await list({ fingerprint, owner: "dev@acme.test" })).names).toEqual([]);
    expect((await list({ fingerprint, since: "2025-03-04T00:00:00.000Z" })).names).toEqual([]);
    expect((await list({ fingerprint, until: "2025-03-02T00:00:00.000Z" })).names).toEqual([]);
    expect((await list({ fingerprint, statuses: ["revoked"], owner: "OPS@acme.test" })).names).toEqual(["c"]);
    expect((await list({ fingerprint: "f".repeat(64) })).names).toEqual([]);
  });

  it("filters by an inclusive time range on first seen", async () => {
    const range = { since: "2025-03-02T10:00:00.000Z", until: "2025-03-04T10:00:00.000Z" };
    expect((await list(range)).names).toEqual(["d", "c", "b"]);
    expect((await list({ since: "2025-03-04T10:00:00.000Z" })).names).toEqual(["e", "d"]);
    expect((await list({ since: "2025-03-04T10:00:00.001Z" })).names).toEqual(["e"]);
    expect((await list({ until: "2025-03-02T10:00:00.000Z" })).names).toEqual(["b", "a"]);
    expect((await list({ until: "2025-03-02T09:59:59.999Z" })).names).toEqual(["a"]);
    expect((await list({ ...range, statuses: ["revoked"] })).names).toEqual(["c", "b"]);
    expect((await list({ ...range, tokenType: "cloud_key" })).names).toEqual(["d", "c"]);
    expect((await list({ ...range, owner: "dev@acme.test" })).names).toEqual(["d", "b"]);
    expect((await list({ since: "2025-03-06T00:00:00.000Z" })).names).toEqual([]);
  });

  it("combines status and token type", async () => {
    expect((await list({ statuses: ["revoked"], tokenType: "sandbox_key" })).names).toEqual(["e", "b"]);
    expect((await list({ statuses: ["revoked"], tokenType: "cloud_key" })).names).toEqual(["c"]);
    expect((await list({ statuses: ["active"], tokenType: "sandbox_key" })).names).toEqual([]);
  });

  it("pages through all leaks with a limit, each exactly once, ending with a null cursor", async () => {
    const more = Array.from({ length: 6 }, (_, i) =>
      makeLeak({ firstSeen: `2025-04-0${i + 1}T00:00:00.000Z`, status: "pending" }),
    );
    for (const leak of more) await t.store.createLeak(leak);

    const { seen, pageSizes } = await collect({ limit: 3 });
    expect(pageSizes.length).toBeGreaterThanOrEqual(4);
    expect(pageSizes.slice(0, 3)).toEqual([3, 3, 3]);
    expect(seen.map((l) => l.id)).toEqual(
      [...Object.values(leaks), ...more]
        .sort((x, y) => y.firstSeen.localeCompare(x.firstSeen))
        .map((l) => l.id),
    );
  });

  it("pages through a filtered listing, each match exactly once", async () => {
    const more = Array.from({ length: 5 }, (_, i) =>
      makeLeak({
        firstSeen: `2025-04-0${i + 1}T00:00:00.000Z`,
        status: "revoked",
        tokenType: i % 2 === 0 ? "sandbox_key" : "cloud_key",
      }),
    );
    for (const leak of more) await t.store.createLeak(leak);

    const { seen } = await collect({ statuses: ["revoked"], tokenType: "sandbox_key", limit: 2 });
    const expected = [...Object.values(leaks), ...more]
      .filter((l) => l.status === "revoked" && l.tokenType === "sandbox_key")
      .sort((x, y) => y.firstSeen.localeCompare(x.firstSeen));
    expect(seen.map((l) => l.id)).toEqual(expected.map((l) => l.id));
    expect(new Set(seen.map((l) => l.id)).size).toBe(seen.length);
  });

  it.each([
    ["without a budget", 1_000],
    ["with a small search budget", 3],
  ])(
    "pages through several statuses merged newest first, each match exactly once (%s)",
    async (_, budget) => {
      const statuses = ["failed", "unroutable", "revoked"] as const;
      const more = Array.from({ length: 23 }, (_, i) =>
        makeLeak({
          // Interleaved in time, some at the same instant, so pages cut across both sources.
          firstSeen: `2025-04-${String(10 + Math.floor(i / 2)).padStart(2, "0")}T00:00:00.000Z`,
          status: statuses[i % 3],
          tokenType: i % 4 === 0 ? "cloud_key" : "sandbox_key",
        }),
      );
      for (const leak of more) await t.store.createLeak(leak);
      const store = new DynamoLeakStore(t.client, t.tableName, { maxExaminedPerPage: budget });
      const all = [...Object.values(leaks), ...more].sort((x, y) =>
        `${y.firstSeen}#${y.id}`.localeCompare(`${x.firstSeen}#${x.id}`),
      );
      for (const query of [
        { statuses: ["failed", "unroutable"] as const },
        { statuses: ["unroutable", "failed", "unroutable"] as const },
        { statuses: ["failed", "revoked"] as const, tokenType: "sandbox_key" },
        { statuses: ["failed", "revoked"] as const, owner: "dev@acme.test" },
      ]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 100; pages++) {
          const page = await store.listLeaks({ ...query, statuses: [...query.statuses], limit: 2, cursor });
          seen.push(...page.items.map((l) => l.id));
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        const expected = all.filter(
          (l) =>
            (query.statuses as readonly string[]).includes(l.status) &&
            (!("tokenType" in query) || l.tokenType === query.tokenType) &&
            (!("owner" in query) || l.owner?.email?.toLowerCase() === query.owner),
        );
        expect(seen).toEqual(expected.map((l) => l.id));
      }
    },
  );

  it("filters on the exact preview, through any index", async () => {
    const marked = makeLeak({
      firstSeen: "2025-03-06T00:00:00.000Z",
      status: "revoked",
      preview: "ghp_…AbCd",
    });
    await t.store.createLeak(marked);
    expect((await list({ preview: "ghp_…AbCd" })).page.items).toEqual([marked]);
    expect((await list({ preview: "ghp_…abcd" })).names).toEqual([]);
    expect((await list({ preview: "ghp_…AbCd", statuses: ["revoked", "failed"] })).page.items).toEqual([
      marked,
    ]);
    expect((await list({ preview: "ghp_…AbCd", tokenType: "sandbox_key" })).names).toEqual([]);
    expect((await list({ preview: "tqs_live_4f8a…", statuses: ["revoked"] })).names).toEqual(["e", "c", "b"]);
  });

  it("finds a preview through its own index, however many leaks came after it", async () => {
    const old = makeLeak({ firstSeen: "2025-02-01T00:00:00.000Z", status: "revoked", preview: "sk-…Zz9q" });
    await t.store.createLeak(old);
    // A budget of 2 leaks read per page: a scan of the time index would stop, partial, before it.
    const budgeted = new DynamoLeakStore(t.client, t.tableName, { maxExaminedPerPage: 2 });
    const page = await budgeted.listLeaks({ preview: "sk-…Zz9q", limit: 10 });
    expect(page).toEqual({ items: [old], nextCursor: null, partial: false });
    const withStatus = await budgeted.listLeaks({ preview: "sk-…Zz9q", statuses: ["failed"], limit: 10 });
    expect(withStatus).toMatchObject({ items: [], nextCursor: null, partial: false });
  });

  it("leaves a short token's bare '…' preview out of the index, and still finds it by scanning", async () => {
    const short = makeLeak({ firstSeen: "2025-03-07T00:00:00.000Z", status: "failed", preview: "…" });
    await t.store.createLeak(short);
    const { Item } = await t.client.send(
      new GetItemCommand({
        TableName: t.tableName,
        Key: { pk: { S: `LEAK#${short.id}` }, sk: { S: "LEAK" } },
      }),
    );
    expect(Item?.gsi7pk).toBeUndefined();
    expect((await list({ preview: "…" })).page.items).toEqual([short]);
  });

  it("takes cursors only back into the listing with the same statuses and preview", async () => {
    const page = await list({ statuses: ["revoked", "pending"], limit: 1 });
    const cursor = page.page.nextCursor ?? "";
    await expect(
      t.store.listLeaks({ statuses: ["pending", "revoked"], limit: 1, cursor }),
    ).resolves.toMatchObject({ items: [leaks.c] });
    await expect(t.store.listLeaks({ statuses: ["revoked"], limit: 1, cursor })).rejects.toBeInstanceOf(
      BadRequestError,
    );
    await expect(
      t.store.listLeaks({ statuses: ["revoked", "pending"], preview: "x", limit: 1, cursor }),
    ).rejects.toBeInstanceOf(BadRequestError);
  });

  it("keeps equal first-seen times apart when paging", async () => {
    const same = Array.from({ length: 4 }, () => makeLeak({ firstSeen: "2025-05-01T00:00:00.000Z" }));
    for (const leak of same) await t.store.createLeak(leak);
    const { seen } = await collect({ since: "2025-05-01T00:00:00.000Z", limit: 1 });
    expect(seen.map((l) => l.id).sort()).toEqual(same.map((l) => l.id).sort());
  });

  it.each([
    ["not base64 JSON", "%%%not-a-cursor%%%"],
    ["base64 of text that is not JSON", b64("hello, world")],
    ["JSON with a key the table does not have", b64(JSON.stringify({ foo: "bar" }))],
    ["JSON mixing a real key with a foreign one", b64(JSON.stringify({ pk: "LEAK#x", status: "revoked" }))],
    ["JSON with a non-string value", b64(JSON.stringify({ pk: { S: "LEAK#x" } }))],
    ["a JSON array", b64(JSON.stringify(["pk", "sk"]))],
    ["JSON null", b64("null")],
    ["an empty key", b64("{}")],
    ["a partial key", b64(JSON.stringify({ pk: "LEAK#x" }))],
  ])("rejects a tampered cursor (%s) with BadRequestError", async (_, cursor) => {
    await expect(t.store.listLeaks({ limit: 5, cursor })).rejects.toBeInstanceOf(BadRequestError);
  });
});
