import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoLeakStore } from "../store/dynamo-leak-store.js";
import { type Env, required } from "./aws-env.js";

export function awsStore(env: Env = process.env) {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return new DynamoLeakStore(client, required(env, "TABLE_NAME"));
}
