import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { isAwsError } from "../errors.js";
import { toAttributes } from "./dynamo-items.js";

// The conditional write every record kind shares: the whole item, written only when the condition holds
// (a version, a time), and a lost race told apart from a failure.

export const isConditionFailure = (error: unknown) => isAwsError(error, "ConditionalCheckFailedException");

/** Writes `item` when `condition` holds (with its `:values`); false when it did not. */
export async function putWhen(
  client: DynamoDBClient,
  tableName: string,
  item: Record<string, unknown>,
  condition: string,
  values?: Record<string, unknown>,
): Promise<boolean> {
  const put = new PutItemCommand({
    TableName: tableName,
    Item: toAttributes(item),
    ConditionExpression: condition,
    ...(values ? { ExpressionAttributeValues: toAttributes(values) } : {}),
  });
  try {
    await awsCall("dynamodb:PutItem", () => client.send(put));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
