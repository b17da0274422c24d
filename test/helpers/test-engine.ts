import { type EmbeddedDynamo, startEmbeddedDynamo } from "../../local/embedded-dynamodb.js";
import { startDynamoDbLocal } from "./dynamodb-local.js";

// Which DynamoDB engine the tests' stores and test stacks run on: dynalite by default (in-process,
// fast), or AWS's DynamoDB Local with TOURNIQUET_TEST_ENGINE=dynamodb-local (`npm run test:dynamodb-local`).

export const TEST_ENGINES = ["dynalite", "dynamodb-local"] as const;
export type TestEngineName = (typeof TEST_ENGINES)[number];

export function testEngineName(env: NodeJS.ProcessEnv = process.env): TestEngineName {
  const name = env.TOURNIQUET_TEST_ENGINE ?? "dynalite";
  if (!(TEST_ENGINES as readonly string[]).includes(name)) {
    throw new Error(`TOURNIQUET_TEST_ENGINE=${name}: expected one of ${TEST_ENGINES.join(", ")}`);
  }
  return name as TestEngineName;
}

/** Starts the engine TOURNIQUET_TEST_ENGINE names on loopback: in memory, or with its files under `path`. */
export function startTestEngine(options: { path?: string | undefined } = {}): Promise<EmbeddedDynamo> {
  return testEngineName() === "dynamodb-local" ? startDynamoDbLocal(options) : startEmbeddedDynamo(options);
}
