import { type DynamoDBClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { fromItem, toAttributes } from "./dynamo-items.js";
import { queryPages } from "./dynamo-query-pages.js";
import { type Leak, mergeSightings, type Sighting } from "./leak.js";
import { leakPk, SIGHTING_SK, SIGHTING_SK_PREFIX, sightingSk } from "./leak-keys.js";
import type { SightingPage, SightingSummary } from "./leak-store.js";

// One page of a leak's sightings. Pages follow the sighting items' keys (a hash of url and source),
// the one order DynamoDB can page without an index; the sightings the leak's own item carries join the
// page their key falls in, merged with the item of the same place, so no place shows twice.

export function toSighting(item: Record<string, unknown>): Sighting {
  return {
    url: String(item.url ?? ""),
    source: String(item.source ?? ""),
    firstSeen: String(item.firstSeen),
    lastSeen: String(item.lastSeen),
    reports: Number(item.reports ?? 1),
  };
}

export async function readSightingsPage(
  client: DynamoDBClient,
  tableName: string,
  leak: Leak,
  page: { limit: number; cursor?: string | undefined },
): Promise<SightingPage> {
  const after = page.cursor && decodeCursor(page.cursor, leak.id, SIGHTING_SK, "sightings_cursor");
  // One more than the page, to know whether a next page exists.
  const wanted = page.limit + 1;
  const items = new Map<string, Sighting>();
  let start: QueryCommandInput["ExclusiveStartKey"];
  do {
    const output = await awsCall("dynamodb:Query", () =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :lo AND :hi",
          ExpressionAttributeValues: toAttributes({
            ":pk": leakPk(leak.id),
            ":lo": after || SIGHTING_SK_PREFIX,
            ":hi": `${SIGHTING_SK_PREFIX}~`,
          }),
          ConsistentRead: true,
          Limit: wanted - items.size,
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const raw of output.Items ?? []) {
      const item = fromItem(raw);
      // BETWEEN is inclusive: the sighting at the cursor ended the previous page.
      if (item.sk !== after) items.set(String(item.sk), toSighting(item));
    }
    start = output.LastEvaluatedKey;
  } while (start && items.size < wanted);

  const places = new Map(items);
  for (const embedded of leak.firstSightings ?? []) {
    const sk = sightingSk(embedded.url, embedded.source);
    if (after && sk <= after) continue;
    const stored = places.get(sk);
    places.set(sk, stored ? (mergeSightings([embedded], [stored])[0] ?? stored) : embedded);
  }
  const keys = [...places.keys()].sort();
  const pageKeys = keys.slice(0, page.limit);
  const sightings = pageKeys.map((sk) => places.get(sk)).filter((s): s is Sighting => s !== undefined);
  return {
    // Oldest first within the page, as a leak whose sightings fit one page always showed them.
    sightings: mergeSightings(sightings),
    nextCursor: keys.length > page.limit ? encodeCursor(pageKeys.at(-1) ?? "", leak.id) : null,
  };
}

/**
 * How many places (url and source) the leak was seen at, its own item's included, and the first
 * place's url: a projection of the sighting items' keys, merged with the embedded sightings by key.
 */
export async function readSightingSummary(
  client: DynamoDBClient,
  tableName: string,
  leak: Leak,
): Promise<SightingSummary> {
  const places = new Map<string, { url: string; firstSeen: string }>();
  for (const s of leak.firstSightings ?? []) places.set(sightingSk(s.url, s.source), s);
  for await (const page of queryPages(client, {
    TableName: tableName,
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
    ProjectionExpression: "sk, #url, firstSeen",
    ExpressionAttributeNames: { "#url": "url" },
    ExpressionAttributeValues: toAttributes({ ":pk": leakPk(leak.id), ":prefix": SIGHTING_SK_PREFIX }),
  })) {
    for (const item of page) {
      const sk = String(item.sk);
      const seen = places.get(sk);
      const firstSeen = String(item.firstSeen);
      if (!seen || firstSeen < seen.firstSeen) places.set(sk, { url: String(item.url ?? ""), firstSeen });
    }
  }
  const first = [...places.values()].sort((a, b) => a.firstSeen.localeCompare(b.firstSeen))[0];
  return { places: places.size, firstUrl: first?.url ?? null };
}
