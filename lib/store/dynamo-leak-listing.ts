import { createHash } from "node:crypto";
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { fromItem, toAttributes } from "./dynamo-items.js";
import {
  ALL_LEAKS_KEY,
  isIndexedPreview,
  ownerKey,
  previewKey,
  statusKey,
  TIME_SORT_KEY,
  typeKey,
} from "./leak-keys.js";
import type { LeakQuery } from "./leak-store.js";
import type { IndexName } from "./table-schema.js";

// Leaks newest first from the indexes: one index partition per listing (two for an owner, found by
// email or by id; one per status when several are asked for), merged newest first, with the filters the partition does not cover applied by DynamoDB as it reads.
// DynamoDB's Limit counts the items it reads, not the matches, so a page is read in rounds until it
// holds `limit` matches plus one (to know that a next page exists) or its search budget is spent;
// then it says it is partial and its cursor resumes the search where it stopped.

/** How many items a filtered round reads at least: fewer round trips through non-matching items. */
const FILTERED_ROUND = 100;

export interface ListingOptions {
  /** Items one page may read (matching or not) before it answers partial. */
  maxExamined: number;
}

type Item = Record<string, unknown>;

export interface ListedItems {
  items: Item[];
  nextCursor: string | null;
  partial: boolean;
}

interface Source {
  index: IndexName;
  partition: string;
}

/** The statuses asked for, once each and in a fixed order (none: any status). */
const statusesOf = (query: LeakQuery) => [...new Set(query.statuses ?? [])].sort();

/**
 * Where a listing reads: an owner's two partitions; else the preview's (a handful of leaks); else one
 * status partition per status asked for (merged newest first); else the token type's; else the whole
 * time index.
 */
function sourcesFor(query: LeakQuery): Source[] {
  if (query.owner) {
    const partition = ownerKey(query.owner);
    return [
      { index: "gsi4", partition },
      { index: "gsi5", partition },
    ];
  }
  if (query.preview !== undefined && isIndexedPreview(query.preview))
    return [{ index: "gsi7", partition: previewKey(query.preview) }];
  const statuses = statusesOf(query);
  if (statuses.length > 0) return statuses.map((status) => ({ index: "gsi1", partition: statusKey(status) }));
  if (query.tokenType) return [{ index: "gsi2", partition: typeKey(query.tokenType) }];
  return [{ index: "gsi3", partition: ALL_LEAKS_KEY }];
}

/** Names the filters, so a cursor is only taken back by the listing that returned it. */
function listingId(query: LeakQuery): string {
  const filters = [
    statusesOf(query).join(","),
    query.tokenType,
    query.owner?.toLowerCase(),
    query.since,
    query.until,
    query.preview,
  ];
  return createHash("sha256").update(JSON.stringify(filters)).digest("base64url").slice(0, 16);
}

/** The filters DynamoDB applies as it reads a partition: those its key does not cover. */
function filtersFor(query: LeakQuery, index: IndexName) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const conditions: string[] = [];
  const statuses = statusesOf(query);
  if (statuses.length > 0 && index !== "gsi1") {
    names["#status"] = "status";
    statuses.forEach((status, i) => {
      values[`:status${i}`] = status;
    });
    conditions.push(`#status IN (${statuses.map((_, i) => `:status${i}`).join(", ")})`);
  }
  if (query.tokenType && index !== "gsi2") {
    conditions.push("tokenType = :type");
    values[":type"] = query.tokenType;
  }
  if (query.preview !== undefined && index !== "gsi7") {
    names["#preview"] = "preview";
    conditions.push("#preview = :preview");
    values[":preview"] = query.preview;
  }
  return { names, values, expression: conditions.length > 0 ? conditions.join(" AND ") : undefined };
}

/** The sort-key range a listing reads: first seen within since/until, and after the cursor. */
interface Range {
  since?: string | undefined;
  /** Inclusive upper bound. */
  upTo?: string | undefined;
  /** Exclusive upper bound: the cursor's position. */
  before?: string | undefined;
}

/** One index partition, read newest first in rounds; `frontier` is how far down it has been read. */
class SourceReader {
  readonly matches: { sk: string; item: Item }[] = [];
  done = false;
  /** Everything in the range from the top down to this sort key has been read. */
  frontier: string | undefined;
  private startKey: Record<string, AttributeValue> | undefined;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly source: Source,
    private readonly range: Range,
    private readonly query: LeakQuery,
  ) {}

  /** True when DynamoDB filters what this partition holds, so reads may find few matches. */
  get filtered(): boolean {
    return filtersFor(this.query, this.source.index).expression !== undefined;
  }

  /** Reads up to `limit` items; returns how many it read. */
  async read(limit: number): Promise<number> {
    const input = this.input(limit);
    if (!input) {
      this.done = true;
      return 0;
    }
    const output = await awsCall("dynamodb:Query", () => this.client.send(new QueryCommand(input)));
    const skName = `${this.source.index}sk`;
    for (const raw of output.Items ?? []) {
      const item = fromItem(raw);
      const sk = String(item[skName]);
      // BETWEEN is inclusive: the item at the cursor was on the previous page.
      if (sk !== this.range.before) this.matches.push({ sk, item });
    }
    this.startKey = output.LastEvaluatedKey;
    if (this.startKey) this.frontier = String(fromItem(this.startKey)[skName]);
    else this.done = true;
    return output.ScannedCount ?? output.Items?.length ?? 0;
  }

  private input(limit: number): QueryCommandInput | undefined {
    const { index, partition } = this.source;
    const names: Record<string, string> = { "#pk": `${index}pk` };
    const values: Record<string, unknown> = { ":pk": partition };
    const { since, upTo, before } = this.range;
    // The tighter upper bound: the cursor's (exclusive) or until's (inclusive).
    const upper =
      before !== undefined && (upTo === undefined || before <= upTo)
        ? { value: before, exclusive: true }
        : upTo !== undefined
          ? { value: upTo, exclusive: false }
          : undefined;
    let keyCondition = "#pk = :pk";
    if (since !== undefined || upper) names["#sk"] = `${index}sk`;
    if (since !== undefined && upper) {
      if (upper.value < since) return undefined; // nothing left in the range
      keyCondition += " AND #sk BETWEEN :lo AND :hi";
      Object.assign(values, { ":lo": since, ":hi": upper.value });
    } else if (since !== undefined) {
      keyCondition += " AND #sk >= :lo";
      values[":lo"] = since;
    } else if (upper) {
      keyCondition += ` AND #sk ${upper.exclusive ? "<" : "<="} :hi`;
      values[":hi"] = upper.value;
    }
    const filter = filtersFor(this.query, index);
    return {
      TableName: this.tableName,
      IndexName: index,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeNames: { ...names, ...filter.names },
      ExpressionAttributeValues: toAttributes({ ...values, ...filter.values }),
      FilterExpression: filter.expression,
      ScanIndexForward: false, // newest first
      Limit: limit,
      ExclusiveStartKey: this.startKey,
    };
  }
}

/** Orders sort-key frontiers; a source not read yet (undefined) is highest: read from the top. */
function compareFrontiers(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}

/** One page of leak items (raw, as stored) for `query`, which must not be a fingerprint lookup. */
export async function listLeakItems(
  client: DynamoDBClient,
  tableName: string,
  query: LeakQuery,
  options: ListingOptions,
): Promise<ListedItems> {
  const listing = listingId(query);
  const range: Range = {
    since: query.since,
    upTo: query.until === undefined ? undefined : `${query.until}~`, // any id after that instant
    before: query.cursor === undefined ? undefined : decodeCursor(query.cursor, listing, TIME_SORT_KEY),
  };
  const readers = sourcesFor(query).map(
    (source) => new SourceReader(client, tableName, source, range, query),
  );
  const wanted = query.limit + 1;
  let budget = options.maxExamined;
  // Every source is read at least once, whatever the budget, so each page moves the listing on.
  while (budget > 0 || readers.some((r) => !r.done && r.frontier === undefined)) {
    const hungry = readers.filter((r) => !r.done && r.matches.length < wanted);
    // The reader read least far goes first, so every source moves and the merged page can advance.
    const reader = hungry.sort((a, b) => compareFrontiers(b.frontier, a.frontier))[0];
    if (!reader) break;
    const open = readers.filter((r) => !r.done).length;
    const missing = wanted - reader.matches.length;
    const share = Math.max(1, Math.ceil(budget / open));
    const round = Math.min(reader.filtered ? Math.max(missing, FILTERED_ROUND) : missing, share);
    budget -= Math.max(1, await reader.read(round));
  }

  // The sources are complete down to the highest frontier of those not done: above it, nothing is missing.
  const frontiers = readers.filter((r) => !r.done).map((r) => r.frontier);
  const frontier = frontiers.length > 0 ? frontiers.sort(compareFrontiers).at(-1) : undefined;
  const complete = new Map<string, Item>();
  for (const reader of readers) {
    for (const { sk, item } of reader.matches) {
      if (frontier === undefined || sk >= frontier) complete.set(sk, item);
    }
  }
  const sorted = [...complete.entries()].sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
  if (sorted.length > query.limit) {
    const page = sorted.slice(0, query.limit);
    return {
      items: page.map(([, item]) => item),
      nextCursor: encodeCursor(page.at(-1)?.[0] ?? "", listing),
      partial: false,
    };
  }
  const items = sorted.map(([, item]) => item);
  if (frontiers.length === 0) return { items, nextCursor: null, partial: false };
  return { items, nextCursor: encodeCursor(frontier ?? "", listing), partial: true };
}
