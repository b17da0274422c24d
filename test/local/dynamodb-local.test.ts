import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromItem, toAttributes } from "../../lib/store/dynamo-items.js";
import { DynamoLeakStore } from "../../lib/store/dynamo-leak-store.js";
import { type EmbeddedDynamo, ensureLeakTable } from "../../local/embedded-dynamodb.js";
import { makeLeak, oversizedIndexKeys } from "../helpers/dynamo.js";
import { startDynamoDbLocal } from "../helpers/dynamodb-local.js";

// The tests' second engine itself, whatever TOURNIQUET_TEST_ENGINE says: DynamoDB Local starts from the
// jar in node_modules, keeps AWS's rules where dynalite accepts what AWS refuses, and stops with close.

describe("DynamoDB Local (the second test engine)", () => {
  let engine: EmbeddedDynamo;
  const table = "leaks";
  beforeAll(async () => {
    engine = await startDynamoDbLocal();
    await ensureLeakTable(engine.client, table);
  });
  afterAll(() => engine?.close());

  const put = (item: Record<string, string>) =>
    engine.client.send(new PutItemCommand({ TableName: table, Item: toAttributes(item) }));

  it("refuses an index sort key past 1024 bytes, as oversizedIndexKeys predicts (dynalite accepts it)", async () => {
    const fits = { pk: "LEAK#fits", sk: "LEAK", gsi3pk: "LEAKS", gsi3sk: "x".repeat(1024) };
    const tooLong = { ...fits, pk: "LEAK#long", gsi3sk: "x".repeat(1025) };
    expect(oversizedIndexKeys(fits)).toEqual([]);
    expect(oversizedIndexKeys(tooLong)).toEqual(["gsi3sk"]);
    await expect(put(fits)).resolves.toBeDefined();
    await expect(put(tooLong)).rejects.toThrow(/Size limit exceeded/);
  });

  it("refuses an empty string as an index key (dynalite accepts it)", async () => {
    await expect(put({ pk: "LEAK#empty", sk: "LEAK", gsi3pk: "", gsi3sk: "x" })).rejects.toThrow(
      /secondary index key/,
    );
  });

  it("serves the overview's index (gsi8, INCLUDE) with the included fields only, not the timeline", async () => {
    const store = new DynamoLeakStore(engine.client, table);
    const leak = makeLeak({ firstSeen: "2026-02-03T04:05:06.000Z", status: "revoked", timeToRevokeMs: 1234 });
    await store.createLeak(leak);
    const { Items = [] } = await engine.client.send(
      new QueryCommand({
        TableName: table,
        IndexName: "gsi8",
        KeyConditionExpression: "gsi8pk = :pk",
        ExpressionAttributeValues: toAttributes({ ":pk": "LEAKS" }),
      }),
    );
    expect(Items).toHaveLength(1);
    const item = fromItem(Items[0] ?? {});
    expect(item).toMatchObject({ id: leak.id, status: "revoked", timeToRevokeMs: 1234 });
    expect(item).not.toHaveProperty("timeline");
    expect(item).not.toHaveProperty("fingerprint");
  });

  it("stops listening when closed, and keeps its data for the next start when given a path", async () => {
    const path = mkdtempSync(join(tmpdir(), "tourniquet-ddb-local-"));
    const leak = makeLeak();
    const first = await startDynamoDbLocal({ path });
    try {
      await ensureLeakTable(first.client, table);
      await new DynamoLeakStore(first.client, table).createLeak(leak);
    } finally {
      await first.close();
    }
    await expect(fetch(first.endpoint)).rejects.toThrow();
    const second = await startDynamoDbLocal({ path });
    try {
      await expect(new DynamoLeakStore(second.client, table).getLeak(leak.id)).resolves.toEqual(leak);
    } finally {
      await second.close();
      rmSync(path, { recursive: true, force: true });
    }
  });
});
