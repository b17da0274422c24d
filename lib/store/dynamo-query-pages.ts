import { type DynamoDBClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { fromItem } from "./dynamo-items.js";

/** Every page of a query, in order, as plain items: for reads that want the whole result. */
export async function* queryPages(
  client: DynamoDBClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, unknown>[]> {
  let start = input.ExclusiveStartKey;
  do {
    const output = await awsCall("dynamodb:Query", () =>
      client.send(new QueryCommand({ ...input, ExclusiveStartKey: start })),
    );
    yield (output.Items ?? []).map(fromItem);
    start = output.LastEvaluatedKey;
  } while (start);
}
