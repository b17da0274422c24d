import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { ConflictError } from "../errors.js";
import { mapWithConcurrency, sleep } from "../util/concurrency.js";
import { isConditionFailure } from "./dynamo-conditional-put.js";
import { fromItem, toAttributes } from "./dynamo-items.js";
import { listLeakItems } from "./dynamo-leak-listing.js";
import { readLeakSummaries } from "./dynamo-leak-summaries.js";
import { idAt, queryOwesWork } from "./dynamo-owes-work.js";
import { readSightingSummary, readSightingsPage, toSighting } from "./dynamo-sightings-page.js";
import {
  CLOSED_STATUSES,
  type Leak,
  type LeakDetails,
  leakIdFor,
  mergeSightings,
  type Sighting,
  type TimelineEvent,
} from "./leak.js";
import {
  LEAK_SK,
  leakIndexKeys,
  leakPk,
  OWES_WORK_KEY,
  SIGHTING_SK_PREFIX,
  sightingSk,
  TIME_SORT_KEY,
} from "./leak-keys.js";
import type {
  LeakChanges,
  LeakPage,
  LeakQuery,
  LeakStore,
  LeakSummary,
  NewSighting,
  SightingPage,
  SightingSummary,
  SummaryQuery,
} from "./leak-store.js";
import { TABLE_INDEXES, TABLE_KEYS } from "./table-schema.js";

const KEY_ATTRIBUTES = [
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  ...TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
  "entity",
];

const OWES_WORK_LISTING = "owes-work";
/** Sighting summaries read at once (one query each). */
const SIGHTING_READS_IN_FLIGHT = 32;
/** BatchGetItem takes at most 100 keys a call. */
const BATCH_GET_MAX = 100;

function toLeak(item: Record<string, unknown>): Leak {
  const leak = { ...item };
  for (const key of KEY_ATTRIBUTES) delete leak[key];
  return leak as unknown as Leak;
}

function toItem(leak: Leak): Record<string, unknown> {
  const item: Record<string, unknown> = {
    pk: leakPk(leak.id),
    sk: LEAK_SK,
    entity: "leak",
    ...leakIndexKeys(leak),
    ...leak,
  };
  // A closed leak can never need its token again: the sealed copy goes with the write that closes it.
  if (CLOSED_STATUSES.has(leak.status)) delete item.sealedToken;
  return item;
}

const page = (output: {
  Items?: Record<string, AttributeValue>[] | undefined;
  LastEvaluatedKey?: Record<string, AttributeValue> | undefined;
}) => ({
  items: (output.Items ?? []).map(fromItem),
  lastKey: output.LastEvaluatedKey ? fromItem(output.LastEvaluatedKey) : undefined,
});

export interface DynamoLeakStoreOptions {
  /** Items one listing page may read, matching or not, before it answers partial. */
  maxExaminedPerPage?: number | undefined;
}

/** Enough for a page of 100 among ten times as many non-matching leaks, yet bounded. */
const DEFAULT_MAX_EXAMINED = 1_000;

/** The leak store on a DynamoDB table laid out as table-schema.ts describes. */
export class DynamoLeakStore implements LeakStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly options: DynamoLeakStoreOptions = {},
  ) {}

  async createLeak(leak: Leak): Promise<{ leak: Leak; created: boolean }> {
    try {
      await awsCall("dynamodb:PutItem", () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: toAttributes(toItem(leak)),
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        ),
      );
      return { leak, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.getLeak(leak.id);
      if (!existing) throw new ConflictError(`leak ${leak.id} exists but cannot be read`, { cause: error });
      return { leak: existing, created: false };
    }
  }

  async recordSighting(leakId: string, sighting: NewSighting, at: string): Promise<Sighting> {
    const result = await awsCall("dynamodb:UpdateItem", () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: toAttributes({ pk: leakPk(leakId), sk: sightingSk(sighting.url, sighting.source) }),
          UpdateExpression:
            "SET entity = :entity, #url = :url, #source = :source, firstSeen = if_not_exists(firstSeen, :at), lastSeen = :at ADD reports :one",
          ExpressionAttributeNames: { "#url": "url", "#source": "source" },
          ExpressionAttributeValues: toAttributes({
            ":entity": "sighting",
            ":url": sighting.url,
            ":source": sighting.source,
            ":at": at,
            ":one": 1,
          }),
          ReturnValues: "ALL_NEW",
        }),
      ),
    );
    return toSighting(fromItem(result.Attributes ?? {}));
  }

  async getLeak(id: string): Promise<Leak | undefined> {
    const result = await awsCall("dynamodb:GetItem", () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: toAttributes({ pk: leakPk(id), sk: LEAK_SK }),
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? toLeak(fromItem(result.Item)) : undefined;
  }

  async getLeaks(ids: readonly string[]): Promise<Map<string, Leak>> {
    const found = new Map<string, Leak>();
    const chunks: string[][] = [];
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) chunks.push(unique.slice(i, i + BATCH_GET_MAX));
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Record<string, AttributeValue>[] | undefined = chunk.map((id) =>
          toAttributes({ pk: leakPk(id), sk: LEAK_SK }),
        );
        // DynamoDB may leave keys unprocessed under load: they are asked again until none is left.
        for (let round = 0; keys && keys.length > 0; round++) {
          if (round > 0) await sleep(Math.min(1_000, 25 * 2 ** round));
          const output = await awsCall("dynamodb:BatchGetItem", () =>
            this.client.send(
              new BatchGetItemCommand({
                RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
              }),
            ),
          );
          for (const item of output.Responses?.[this.tableName] ?? []) {
            const leak = toLeak(fromItem(item));
            found.set(leak.id, leak);
          }
          keys = output.UnprocessedKeys?.[this.tableName]?.Keys;
        }
      }),
    );
    return found;
  }

  async getLeakDetails(id: string): Promise<LeakDetails | undefined> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: toAttributes({ ":pk": leakPk(id) }),
        ConsistentRead: true,
        ExclusiveStartKey: start && toAttributes(start),
      };
      const result = page(await awsCall("dynamodb:Query", () => this.client.send(new QueryCommand(input))));
      items.push(...result.items);
      start = result.lastKey;
    } while (start);
    const leakItem = items.find((item) => item.sk === LEAK_SK);
    if (!leakItem) return undefined;
    const leak = toLeak(leakItem);
    const later = items.filter((item) => String(item.sk).startsWith(SIGHTING_SK_PREFIX)).map(toSighting);
    return { leak, sightings: mergeSightings(leak.firstSightings ?? [], later) };
  }

  listSightings(leak: Leak, page: { limit: number; cursor?: string | undefined }): Promise<SightingPage> {
    return readSightingsPage(this.client, this.tableName, leak, page);
  }

  async summarizeSightings(leaks: readonly Leak[]): Promise<Map<string, SightingSummary>> {
    const summaries = await mapWithConcurrency(leaks, SIGHTING_READS_IN_FLIGHT, (leak) =>
      readSightingSummary(this.client, this.tableName, leak),
    );
    return new Map(leaks.map((leak, i) => [leak.id, summaries[i] as SightingSummary]));
  }

  async updateLeak(leak: Leak, changes: LeakChanges, events: TimelineEvent[]): Promise<Leak> {
    const next: Leak = {
      ...leak,
      ...changes,
      timeline: [...leak.timeline, ...events],
      version: leak.version + 1,
    };
    try {
      // The whole item is rewritten so the index keys always follow the fields they derive from.
      await awsCall("dynamodb:PutItem", () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: toAttributes(toItem(next)),
            ConditionExpression: "version = :expected",
            ExpressionAttributeValues: toAttributes({ ":expected": leak.version }),
          }),
        ),
      );
      return next;
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`leak ${leak.id} changed since version ${leak.version}`, { cause: error });
      }
      throw error;
    }
  }

  async listLeaks(query: LeakQuery): Promise<LeakPage> {
    if (query.fingerprint) return this.listByFingerprint(query);
    const page = await listLeakItems(this.client, this.tableName, query, {
      maxExamined: this.options.maxExaminedPerPage ?? DEFAULT_MAX_EXAMINED,
    });
    return { ...page, items: page.items.map(toLeak) };
  }

  summarizeLeaks(query: SummaryQuery): Promise<{ items: LeakSummary[]; partial: boolean }> {
    return readLeakSummaries(this.client, this.tableName, query);
  }

  async listOwingWork(query: {
    until: string;
    limit: number;
    cursor?: string | undefined;
  }): Promise<LeakPage> {
    const page = await queryOwesWork(this.client, this.tableName, {
      ...query,
      partition: OWES_WORK_KEY,
      listing: OWES_WORK_LISTING,
      position: TIME_SORT_KEY,
      tableKey: (position) => ({ pk: leakPk(idAt(position)), sk: LEAK_SK }),
    });
    return { items: page.items.map(toLeak), nextCursor: page.nextCursor, partial: false };
  }

  private async listByFingerprint(query: LeakQuery): Promise<LeakPage> {
    const leak = await this.getLeak(leakIdFor(query.fingerprint ?? ""));
    const matches =
      leak &&
      (!query.statuses?.length || query.statuses.includes(leak.status)) &&
      (query.preview === undefined || leak.preview === query.preview) &&
      (!query.tokenType || leak.tokenType === query.tokenType) &&
      (!query.owner ||
        [leak.owner?.email, leak.owner?.id].some((o) => o?.toLowerCase() === query.owner?.toLowerCase())) &&
      (!query.since || leak.firstSeen >= query.since) &&
      (!query.until || leak.firstSeen <= `${query.until}~`);
    return { items: matches ? [leak] : [], nextCursor: null, partial: false };
  }
}
