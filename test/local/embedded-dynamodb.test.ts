import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE_INDEXES } from "../../lib/store/table-schema.js";
import { type EmbeddedDynamo, ensureLeakTable, startEmbeddedDynamo } from "../../local/embedded-dynamodb.js";

describe("ensureLeakTable (embedded DynamoDB)", () => {
  let engine: EmbeddedDynamo;
  beforeAll(async () => {
    engine = await startEmbeddedDynamo();
  });
  afterAll(() => engine.close());

  it("creates the table once and accepts it as it made it", async () => {
    await ensureLeakTable(engine.client, "complete");
    await expect(ensureLeakTable(engine.client, "complete")).resolves.toBeUndefined();
  });

  it("refuses, naming the index and the way out, a table made before an index was added", async () => {
    const older = TABLE_INDEXES.filter((index) => index.indexName !== "gsi5");
    const attributes = ["pk", "sk", ...older.flatMap((index) => [index.partitionKey, index.sortKey])];
    await engine.client.send(
      new CreateTableCommand({
        TableName: "older",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: older.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      }),
    );
    await expect(ensureLeakTable(engine.client, "older")).rejects.toThrow(
      /table older .*lacks index gsi5.*TOURNIQUET_DATA_DIR/,
    );
  });
});
