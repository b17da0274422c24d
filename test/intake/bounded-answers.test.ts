import { randomBytes } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import { parsePartnerReport } from "../../lib/intake/partner-report.js";
import {
  groupReportedTokens,
  type RecordDeps,
  recordReportedTokens,
} from "../../lib/intake/record-reported-tokens.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { silentLog } from "../../lib/log.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { fromItem, toAttributes } from "../../lib/store/dynamo-items.js";
import { createTestStore, oversizedIndexKeys, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { type LoopbackServer, readBody, serve } from "../helpers/loopback-server.js";

// Issue 9, point 13: whatever size an issuer's answer or a report's fields are, the intake writes
// items DynamoDB accepts (400 KB per item, 2048/1024 bytes per index key) and one token's oversized
// answer does not fail the batch. Against the embedded engine and an issuer faked on loopback.

const TYPE = "bounded_type";
const answers = new Map<string, unknown>();
let issuer: LoopbackServer;

beforeAll(async () => {
  issuer = await serve(async (req, res) => {
    const { token } = JSON.parse((await readBody(req)).toString("utf8")) as { token: string };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(answers.get(token) ?? { status: "unknown" }));
  });
});
afterAll(() => issuer.close());

const token = () => `tqs_${randomBytes(16).toString("hex")}`;

describe("recordReportedTokens with oversized answers and reports (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;

  beforeEach(async () => {
    t = await createTestStore(engine());
  });

  function deps(): RecordDeps {
    const config = parseConfig(
      {
        issuers: { fake: { kind: "http", url: issuer.url, secret: { env: "SECRET" } } },
        token_types: { [TYPE]: { issuer: "fake" } },
      },
      { SECRET: "s" },
    );
    return {
      config,
      store: t.store,
      queue: { send: async () => {} },
      sealer: new LocalKeySealer(randomBytes(32)),
      issuers: IssuerRegistry.fromConfig(config),
      log: silentLog,
    };
  }

  const record = (reports: { token: string; url?: string; source?: string }[]) => {
    const receivedAt = Date.now();
    const tokens = groupReportedTokens(
      reports.map((r) => ({
        token: r.token,
        type: TYPE,
        url: r.url ?? "https://x.test/",
        source: r.source ?? "commit",
      })),
    );
    return recordReportedTokens(deps(), tokens, {
      receivedAt,
      verifyDeadline: receivedAt + 10_000,
      reporter: "test",
      source: "partner_report",
    });
  };

  const rawLeakItem = async (id: string) => {
    const { Item } = await t.client.send(
      new GetItemCommand({
        TableName: t.tableName,
        Key: toAttributes({ pk: `LEAK#${id}`, sk: "LEAK" }),
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : {};
  };

  it("keeps the small evidence fields of a 200 KB answer, drops the big one with a marker, and records the batch", async () => {
    const big = token();
    const small = token();
    answers.set(big, {
      status: "active",
      key_id: "key_big",
      evidence: {
        created_at: "2026-01-01T00:00:00Z",
        requests: Array.from({ length: 10_000 }, (_, i) => ({ at: i, ip: "203.0.113.7" })),
        last_used_at: "2026-01-02T00:00:00Z",
      },
    });
    answers.set(small, { status: "active", key_id: "key_small", evidence: { last_used_at: null } });

    const recorded = await record([{ token: big }, { token: small }]);

    expect(recorded.map((r) => r.leak.status)).toEqual(["active", "active"]);
    const [leak] = recorded.map((r) => r.leak);
    const stored = await t.store.getLeak(leak?.id ?? "");
    const evidence = {
      created_at: "2026-01-01T00:00:00Z",
      last_used_at: "2026-01-02T00:00:00Z",
      _truncated: { dropped: ["requests"], dropped_count: 1, limit_bytes: 8192 },
    };
    expect(stored?.evidence).toEqual(evidence);
    expect(stored?.timeline.find((e) => e.step === "verify")?.data?.evidence).toEqual(evidence);
    expect(Buffer.byteLength(JSON.stringify(stored?.evidence))).toBeLessThanOrEqual(8192);
  });

  it("stores numbers DynamoDB cannot hold exactly as text, and drops a field nested deeper than it allows", async () => {
    const odd = token();
    let deep: unknown = "bottom";
    for (let i = 0; i < 40; i++) deep = { level: deep };
    answers.set(odd, {
      status: "active",
      key_id: "key_odd",
      evidence: { bytes_sent: 18446744073709552000, tiny: 1e-200, ratio: 0.25, deep, kept: true },
    });

    const [recorded] = await record([{ token: odd }]);

    const stored = await t.store.getLeak(recorded?.leak.id ?? "");
    expect(stored?.evidence).toEqual({
      bytes_sent: "18446744073709552000",
      tiny: "1e-200",
      ratio: 0.25,
      kept: true,
      _truncated: { dropped: ["deep"], dropped_count: 1, limit_bytes: 8192 },
    });
  });

  it("leaves a token pending for the worker when its issuer answers with an over-long key id, recording the batch", async () => {
    const odd = token();
    const fine = token();
    answers.set(odd, { status: "active", key_id: "k".repeat(300_000) });
    answers.set(fine, { status: "active", key_id: "key_fine" });

    const recorded = await record([{ token: odd }, { token: fine }]);

    expect(recorded.map((r) => r.leak.status)).toEqual(["pending", "active"]);
    expect((await t.store.getLeak(recorded[0]?.leak.id ?? ""))?.keyId).toBeUndefined();
  });

  it("drops an over-long owner email and id rather than cutting them into wrong ones, and shortens the name", async () => {
    const longOwner = token();
    const longName = token();
    answers.set(longOwner, {
      status: "active",
      key_id: "key_1",
      owner: { email: `${"a".repeat(2048)}@example.test`, id: "u".repeat(3000), name: "N".repeat(5000) },
    });
    answers.set(longName, {
      status: "active",
      key_id: "key_2",
      owner: { email: "Ada@Example.test", id: "user_ada", name: "É".repeat(5000) },
    });

    const [first, second] = await record([{ token: longOwner }, { token: longName }]);

    const dropped = await rawLeakItem(first?.leak.id ?? "");
    expect(oversizedIndexKeys(dropped)).toEqual([]);
    expect(dropped.owner).toEqual({ name: expect.stringMatching(/^N+…$/) });
    expect(Buffer.byteLength(String((dropped.owner as { name: string }).name))).toBeLessThanOrEqual(256);
    expect(dropped.timeline).toContainEqual(
      expect.objectContaining({
        step: "verify",
        data: expect.objectContaining({ dropped_owner_fields: ["id", "email"] }),
      }),
    );

    const kept = await rawLeakItem(second?.leak.id ?? "");
    expect(oversizedIndexKeys(kept)).toEqual([]);
    expect(kept.owner).toEqual({
      email: "Ada@Example.test",
      id: "user_ada",
      name: expect.stringMatching(/^É+…$/),
    });
    const page = await t.store.listLeaks({ owner: "ada@example.test", limit: 5 });
    expect(page.items.map((l) => l.id)).toEqual([second?.leak.id]);
  });

  it("bounds sighting URLs and sources, in the leak's item and in sighting items, and records the batch", async () => {
    const many = token();
    const other = token();
    const places = Array.from({ length: 12 }, (_, i) => ({
      token: many,
      url: `https://github.com/o/r/blob/${i}/${"€".repeat(50_000)}`,
      source: `${i}${"s".repeat(100_000)}`,
    }));

    const recorded = await record([...places, { token: other }]);

    expect(recorded).toHaveLength(2);
    const details = await t.store.getLeakDetails(recorded[0]?.leak.id ?? "");
    expect(details?.sightings).toHaveLength(12);
    for (const s of details?.sightings ?? []) {
      expect(s.url).toMatch(/^https:\/\/github\.com\/o\/r\/blob\/\d+\/€+…$/);
      expect(Buffer.byteLength(s.url)).toBeLessThanOrEqual(2048);
      expect(Buffer.byteLength(s.source)).toBeLessThanOrEqual(256);
    }
    const report = details?.leak.timeline.find((e) => e.step === "report");
    expect(Buffer.byteLength(report?.detail ?? "")).toBeLessThan(4096);
  });

  it("records a partner report whose other match has a type too long for an index key", async () => {
    const good = token();
    const body = JSON.stringify([
      { token: token(), type: "t".repeat(2_048), url: "https://x.test/1", source: "commit" },
      { token: good, type: TYPE, url: "https://x.test/2", source: "commit" },
    ]);
    const report = parsePartnerReport(Buffer.from(body), { maxMatches: 10 });
    const receivedAt = Date.now();
    const recorded = await recordReportedTokens(deps(), groupReportedTokens(report.matches), {
      receivedAt,
      verifyDeadline: receivedAt,
      reporter: "test",
      source: "partner_report",
    });
    for (const r of recorded) expect(oversizedIndexKeys(await rawLeakItem(r.leak.id))).toEqual([]);
    expect(recorded.map((r) => r.type)).toEqual([TYPE]);
  });
});
