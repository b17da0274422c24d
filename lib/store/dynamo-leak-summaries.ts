import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { mapWithConcurrency } from "../util/concurrency.js";
import { toAttributes } from "./dynamo-items.js";
import { queryPages } from "./dynamo-query-pages.js";
import type { LeakStatus } from "./leak.js";
import { ALL_LEAKS_KEY, typeKey } from "./leak-keys.js";
import type { LeakSummary, SummaryQuery } from "./leak-store.js";

// Every leak of a time window, as the few fields figures are made of: the slim time index (gsi8, which
// holds only those fields) or one token type's, with the window as its key condition and a projection,
// so a month of leaks is read as small items. The window is cut in slices read in parallel, newest
// first, so the read takes a fraction of one sequential scan; once `max` leaks are in, no further slice
// starts, and the answer says it is partial and holds the newest `max`.

/** Parallel slices of the window; each is paged sequentially by DynamoDB. */
const SLICES = 8;

const PROJECTION = ["id", "firstSeen", "#status", "tokenType", "timeToRevokeMs", "notification.#status"];

function toSummary(item: Record<string, unknown>): LeakSummary {
  const notification = item.notification as { status?: unknown } | undefined;
  return {
    id: String(item.id),
    firstSeen: String(item.firstSeen),
    status: String(item.status) as LeakStatus,
    tokenType: String(item.tokenType),
    timeToRevokeMs: typeof item.timeToRevokeMs === "number" ? item.timeToRevokeMs : undefined,
    notificationStatus: typeof notification?.status === "string" ? notification.status : undefined,
  };
}

/** The window cut in `count` equal slices of sort-key bounds, newest first; the last ends at `until`. */
function slices(since: string, until: string, count: number): { lo: string; hi: string }[] {
  const start = Date.parse(since);
  const end = Date.parse(until);
  const step = Math.max(1, Math.ceil((end - start + 1) / count));
  const bounds: { lo: string; hi: string }[] = [];
  for (let lo = start; lo <= end; lo += step) {
    const hi = Math.min(end, lo + step - 1);
    // Sort keys are `<first seen>#<id>`: "~" sorts after any id, so `hi` takes the whole millisecond.
    bounds.push({ lo: new Date(lo).toISOString(), hi: `${new Date(hi).toISOString()}~` });
  }
  return bounds.reverse();
}

export async function readLeakSummaries(
  client: DynamoDBClient,
  tableName: string,
  query: SummaryQuery,
): Promise<{ items: LeakSummary[]; partial: boolean }> {
  const [index, partition] = query.tokenType
    ? (["gsi2", typeKey(query.tokenType)] as const)
    : (["gsi8", ALL_LEAKS_KEY] as const);
  let read = 0;
  let partial = false;
  const perSlice = await mapWithConcurrency(
    slices(query.since, query.until, SLICES),
    SLICES,
    async (range) => {
      const found: LeakSummary[] = [];
      if (read >= query.max) {
        partial = true;
        return found;
      }
      for await (const page of queryPages(client, {
        TableName: tableName,
        IndexName: index,
        KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        ProjectionExpression: PROJECTION.join(", "),
        ExpressionAttributeNames: { "#pk": `${index}pk`, "#sk": `${index}sk`, "#status": "status" },
        ExpressionAttributeValues: toAttributes({ ":pk": partition, ":lo": range.lo, ":hi": range.hi }),
        ScanIndexForward: false,
      })) {
        found.push(...page.map(toSummary));
        read += page.length;
      }
      return found;
    },
  );
  const items = perSlice
    .flat()
    .sort((a, b) => (a.firstSeen < b.firstSeen ? 1 : a.firstSeen > b.firstSeen ? -1 : 0));
  if (items.length > query.max) partial = true;
  return { items: items.slice(0, query.max), partial };
}
