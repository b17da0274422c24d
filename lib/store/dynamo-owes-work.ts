import { type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { fromItem, toAttributes } from "./dynamo-items.js";

// gsi6, the sparse index of what still needs work (leaks the worker owes a step, App alerts whose fetch
// is owed), each kind under its own partition, least recently active first: the sweep's reading.

export interface OwesWorkQuery {
  /** The kind's partition in gsi6 (`OWES_WORK`, `ALERTS_OWED`). */
  partition: string;
  /** Items last active up to this time (ISO). */
  until: string;
  limit: number;
  cursor?: string | undefined;
  /** Names the listing in its cursors, so one kind's cursor is refused by the other. */
  listing: string;
  /** The shape of a position (`<last activity>#<id>`) in this partition. */
  position: RegExp;
  /** The item's table key at a position: with the index key, DynamoDB's start key. */
  tableKey: (position: string) => Record<string, string>;
}

export async function queryOwesWork(
  client: DynamoDBClient,
  tableName: string,
  query: OwesWorkQuery,
): Promise<{ items: Record<string, unknown>[]; nextCursor: string | null }> {
  const position = query.cursor ? decodeCursor(query.cursor, query.listing, query.position) : undefined;
  const output = await awsCall("dynamodb:Query", () =>
    client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: "gsi6",
        KeyConditionExpression: "gsi6pk = :pk AND gsi6sk <= :until",
        ExpressionAttributeValues: toAttributes({ ":pk": query.partition, ":until": `${query.until}~` }),
        ScanIndexForward: true, // least recently active first
        Limit: query.limit,
        // Built from the checked position, never taken from the caller as it is.
        ExclusiveStartKey: position
          ? toAttributes({ ...query.tableKey(position), gsi6pk: query.partition, gsi6sk: position })
          : undefined,
      }),
    ),
  );
  const last = output.LastEvaluatedKey && fromItem(output.LastEvaluatedKey);
  return {
    items: (output.Items ?? []).map((item) => fromItem(item)),
    nextCursor: last ? encodeCursor(String(last.gsi6sk), query.listing) : null,
  };
}

/** The id at the end of a position (`<last activity>#<id>`). */
export const idAt = (position: string) => position.slice(position.lastIndexOf("#") + 1);
