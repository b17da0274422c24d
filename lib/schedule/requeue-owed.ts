import { ConflictError } from "../errors.js";
import { describeError, type Log } from "../log.js";
import type { QueueMessage, RemediationQueue } from "../queue/remediation-queue.js";

// The safety net for work recorded in the table and then announced by a queue message (a GitHub App
// alert whose secret is owed, a mass report's part): when nothing happened to an item for a while, its
// message was lost (a send that failed after the write, a local queue that restarted, a message the
// queue gave up on during a long outage), and it is sent to the worker again. The worker reads the item
// first, so a duplicate message is a no-op.
//
// Sent first, touched after (a conditional write; a conflict means a worker moved the item, and its own
// write says so): the touch restarts the idle clock, so an item the worker cannot finish is re-sent
// once per `staleAfterMs`, not on every sweep, and moves behind those not looked at yet.

export interface OwedItem {
  id: string;
  /** ISO; the owed index's order. */
  lastActivity: string;
}

export interface OwedKind<T extends OwedItem> {
  /** For logs: "alert", "report part". */
  name: string;
  list(query: {
    until: string;
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: T[]; nextCursor: string | null }>;
  /** The index is eventually consistent: the item itself says whether it is still stuck. */
  isStuck(item: T, cutoff: string, now: number): boolean;
  message(item: T): QueueMessage;
  /** A versioned write of the new last activity; ConflictError when the item moved meanwhile. */
  touch(item: T, lastActivity: string): Promise<unknown>;
}

export interface RequeueOwedOptions {
  now: number;
  staleAfterMs: number;
  /** Owed items examined in one run. */
  maxPerRun: number;
  pageSize: number;
}

export interface RequeueOwedResult {
  examined: number;
  requeued: string[];
  failed: { id: string; reason: string }[];
}

export async function requeueOwed<T extends OwedItem>(
  deps: { queue: RemediationQueue; log: Log },
  kind: OwedKind<T>,
  options: RequeueOwedOptions,
): Promise<RequeueOwedResult> {
  const { now } = options;
  const cutoff = new Date(now - options.staleAfterMs).toISOString();
  const result: RequeueOwedResult = { examined: 0, requeued: [], failed: [] };
  let cursor: string | undefined;
  do {
    const page = await kind.list({
      until: cutoff,
      limit: Math.min(options.pageSize, options.maxPerRun - result.examined),
      cursor,
    });
    result.examined += page.items.length;
    const stuck = page.items.filter((item) => kind.isStuck(item, cutoff, now));
    const sent = stuck.length > 0 && (await send(deps, kind, stuck, result));
    for (const item of sent ? stuck : []) {
      await touch(deps, kind, item, now);
      result.requeued.push(item.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && result.examined < options.maxPerRun);
  return result;
}

/** One send for the page's stuck items; false (each one failed, left untouched for the next run) when it fails. */
async function send<T extends OwedItem>(
  deps: { queue: RemediationQueue },
  kind: OwedKind<T>,
  stuck: T[],
  result: RequeueOwedResult,
): Promise<boolean> {
  try {
    await deps.queue.send(stuck.map((item) => kind.message(item)));
    return true;
  } catch (error) {
    for (const item of stuck) result.failed.push({ id: item.id, reason: describeError(error) });
    return false;
  }
}

async function touch<T extends OwedItem>(
  deps: { log: Log },
  kind: OwedKind<T>,
  item: T,
  now: number,
): Promise<void> {
  try {
    await kind.touch(item, new Date(now).toISOString());
  } catch (error) {
    if (error instanceof ConflictError) return;
    // Sent all the same: the next run may send it once more, which the worker shrugs off.
    deps.log.warn(`re-queued ${kind.name} not touched`, { id: item.id, error: describeError(error) });
  }
}
