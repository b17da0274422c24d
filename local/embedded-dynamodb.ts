import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import { awsClientDefaults } from "../lib/aws/client-config.js";
import { projectionOf, TABLE_INDEXES, TABLE_KEYS } from "../lib/store/table-schema.js";

// The local stack's DynamoDB: dynalite, a DynamoDB-compatible engine, on loopback in a worker thread.
// With `path` the data lives in LevelDB files there; without, in memory (tests). It speaks DynamoDB's
// wire protocol, so the store reaches it with the same SDK client it uses in AWS.

export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** The engine's process id, set when it runs in a process of its own (to read its memory). */
  pid?: number | undefined;
  close(): Promise<void>;
}

/** A DynamoDB client for a local engine (which checks that requests are signed, not by whom). */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    ...awsClientDefaults(),
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}

const ENGINE_SCRIPT = new URL("./dynalite-thread.mjs", import.meta.url);

/** Where the engine runs: a worker thread or a child process, both speaking dynalite-thread.mjs's messages. */
interface EngineHost {
  once(event: "error" | "message", listener: (value: unknown) => void): unknown;
  send(message: string): unknown;
  stop(): Promise<unknown> | unknown;
  pid?: number | undefined;
}

/** Waits for the engine's port, and closes it gracefully (its files flushed) before stopping its host. */
async function engineOn(host: EngineHost): Promise<EmbeddedDynamo> {
  const port = await new Promise<number>((resolve, reject) => {
    host.once("error", reject);
    host.once("message", (message) => resolve((message as { port: number }).port));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    client: localDynamoClient(endpoint),
    pid: host.pid,
    close: async () => {
      await new Promise<void>((resolve) => {
        host.once("message", () => resolve());
        host.send("close");
      });
      await host.stop();
    },
  };
}

export function startEmbeddedDynamo(options: { path?: string | undefined } = {}): Promise<EmbeddedDynamo> {
  const worker = new Worker(ENGINE_SCRIPT, { workerData: { path: options.path } });
  return engineOn({
    once: (event, listener) => worker.once(event, listener),
    send: (message) => worker.postMessage(message),
    stop: () => worker.terminate(),
  });
}

/**
 * The same engine in a child process: its memory and CPU stay out of this process's, so a benchmark can
 * measure what the stack itself holds (the deployed intake has no database beside it).
 */
export function startDynaliteProcess(options: { path?: string | undefined } = {}): Promise<EmbeddedDynamo> {
  const child = fork(fileURLToPath(ENGINE_SCRIPT), [], {
    env: { ...process.env, DYNALITE_PATH: options.path ?? "" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return engineOn({
    once: (event, listener) => child.once(event, listener),
    send: (message) => child.send(message),
    stop: () => child.kill(),
    pid: child.pid,
  });
}

/** Creates the leak table as the CDK stack defines it, unless it exists. */
export async function ensureLeakTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const attributes = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  for (const index of TABLE_INDEXES) attributes.add(index.partitionKey).add(index.sortKey);
  try {
    const create = new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: "S" })),
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ],
        Projection: projectionOf(index),
      })),
    });
    await client.send(create);
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // Even with no creation delay the engine activates a table and its indexes asynchronously.
  for (let tries = 0; ; tries++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === "ACTIVE",
    );
    if (Table?.TableStatus === "ACTIVE" && indexesActive) {
      // The engine cannot add an index to a table, so a table an older version made cannot serve the
      // listings that need a newer one: say so at start rather than fail on the first such query.
      const present = new Set((Table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
      const missing = TABLE_INDEXES.filter((index) => !present.has(index.indexName)).map((i) => i.indexName);
      if (missing.length > 0) {
        throw new Error(
          `table ${tableName} was made by an older Tourniquet and lacks index ${missing.join(", ")}; ` +
            "move the data dir's db/ aside (or point TOURNIQUET_DATA_DIR at a new directory) to start afresh",
        );
      }
      return;
    }
    if (tries > 500) throw new Error(`table ${tableName} did not become active`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
