import * as z from "zod";
import { BadRequestError } from "../errors.js";
import { DEFAULT_STALE_AFTER_MS } from "../remediation/reconcile-leaks.js";
import { LEAK_STATUSES, type LeakStatus } from "../store/leak.js";
import type { LeakStore, LeakSummary } from "../store/leak-store.js";
import { quantileOfSorted } from "../util/quantile.js";
import { leakView } from "./leak-view.js";
import { parseQuery, timeWindowShape } from "./query-params.js";

// GET /v1/admin/overview: what leaked, what was done, how fast, and what still needs a human, over a
// window (default: the last 30 days, today included). Made from leak summaries (a projection of the
// time index), the slowest revocations read in full. The admin function is warm between a console's
// calls, so an answer is kept per query: reused for 5 s, then, up to 30 s, given while a new one is
// made (stale while revalidate), so a dashboard's refreshes and its several users cost one read.

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;
/** A year and a day: the by_day series stays a readable size. */
const MAX_DAYS = 366;
/** Leaks one overview reads at most; a busier window is summarised from its newest ones (partial). */
export const OVERVIEW_MAX_LEAKS = 50_000;
const SLOWEST = 10;
/** Upper bounds (ms) of the time-to-revoke buckets; null: above the last. */
export const TIME_TO_REVOKE_BUCKETS = [1_000, 5_000, 15_000, 60_000, 300_000, 3_600_000, null] as const;

const overviewParams = z
  .object({ ...timeWindowShape, token_type: z.string().min(1).max(200).optional() })
  .strict();

export interface OverviewOptions {
  now?: () => number;
  /** How long an answer is reused as it is for the same query; 0 turns the reuse off. */
  cacheMs?: number;
  /** Up to this age an answer is still given while a new one is made for the next caller. */
  staleMs?: number;
  maxLeaks?: number;
}

type StatusCounts = Partial<Record<LeakStatus, number>>;

const dayOf = (iso: string) => iso.slice(0, 10);

function countByStatus(leaks: readonly LeakSummary[]): StatusCounts {
  const counts: StatusCounts = {};
  for (const leak of leaks) counts[leak.status] = (counts[leak.status] ?? 0) + 1;
  // In LEAK_STATUSES order, so answers read alike.
  return Object.fromEntries(LEAK_STATUSES.filter((s) => counts[s]).map((s) => [s, counts[s]]));
}

function byDay(leaks: readonly LeakSummary[], since: string, until: string) {
  const days = new Map<string, LeakSummary[]>();
  for (let t = Date.parse(`${dayOf(since)}T00:00:00.000Z`); t <= Date.parse(until); t += DAY_MS) {
    days.set(dayOf(new Date(t).toISOString()), []);
  }
  for (const leak of leaks) days.get(dayOf(leak.firstSeen))?.push(leak);
  return [...days].map(([day, list]) => ({ day, counts: countByStatus(list) }));
}

function timeToRevoke(tokenType: string, durations: number[]) {
  const sorted = [...durations].sort((a, b) => a - b);
  let previous = -1;
  const histogram = TIME_TO_REVOKE_BUCKETS.map((le) => {
    const upper = le ?? Number.POSITIVE_INFINITY;
    const count = sorted.filter((ms) => ms > previous && ms <= upper).length;
    previous = upper;
    return { le_ms: le, count };
  });
  return {
    token_type: tokenType,
    count: sorted.length,
    median_ms: quantileOfSorted(sorted, 0.5),
    p90_ms: quantileOfSorted(sorted, 0.9),
    p99_ms: quantileOfSorted(sorted, 0.99),
    histogram,
  };
}

function timesToRevoke(leaks: readonly LeakSummary[]) {
  const byType = new Map<string, number[]>();
  for (const leak of leaks) {
    if (leak.timeToRevokeMs === undefined) continue;
    byType.set(leak.tokenType, [...(byType.get(leak.tokenType) ?? []), leak.timeToRevokeMs]);
  }
  const types = [...byType.keys()].sort();
  return [
    ...types.map((type) => timeToRevoke(type, byType.get(type) ?? [])),
    timeToRevoke("all", [...byType.values()].flat()),
  ];
}

async function computeOverview(
  store: LeakStore,
  query: { since: string; until: string; tokenType?: string | undefined },
  now: number,
  maxLeaks: number,
) {
  const { items, partial } = await store.summarizeLeaks({ ...query, max: maxLeaks });
  const staleBefore = new Date(now - DEFAULT_STALE_AFTER_MS).toISOString();
  const byStatus = countByStatus(items);
  const slowestIds = items
    .filter((leak) => leak.timeToRevokeMs !== undefined)
    .sort((a, b) => (b.timeToRevokeMs ?? 0) - (a.timeToRevokeMs ?? 0))
    .slice(0, SLOWEST)
    .map((leak) => leak.id);
  const slowest = await store.getLeaks(slowestIds);
  return {
    generated_at: new Date(now).toISOString(),
    window: { since: query.since, until: query.until },
    total: items.length,
    by_status: byStatus,
    by_day: byDay(items, query.since, query.until),
    time_to_revoke: timesToRevoke(items),
    attention: {
      failed: byStatus.failed ?? 0,
      unroutable: byStatus.unroutable ?? 0,
      stalled: items.filter(
        (leak) => (leak.status === "pending" || leak.status === "active") && leak.firstSeen < staleBefore,
      ).length,
      stalled_after_ms: DEFAULT_STALE_AFTER_MS,
      notification_failed: items.filter((leak) => leak.notificationStatus === "failed").length,
    },
    slowest: slowestIds.flatMap((id) => {
      const leak = slowest.get(id);
      return leak ? [leakView(leak)] : [];
    }),
    ...(partial ? { partial: true as const } : {}),
  };
}

export type Overview = Awaited<ReturnType<typeof computeOverview>>;

/** Answers (in flight or made) per store and query, with when each was asked for. */
const recent = new WeakMap<LeakStore, Map<string, { at: number; answer: Promise<Overview> }>>();

export async function leakOverview(
  store: LeakStore,
  params: Record<string, string | undefined>,
  options: OverviewOptions = {},
): Promise<Overview> {
  const q = parseQuery(overviewParams, params);
  const now = (options.now ?? Date.now)();
  const until = q.until ?? new Date(now).toISOString();
  const since =
    q.since ??
    `${dayOf(new Date(Date.parse(until) - (DEFAULT_DAYS - 1) * DAY_MS).toISOString())}T00:00:00.000Z`;
  if (since > until) throw new BadRequestError("since must not be after until");
  if (Date.parse(until) - Date.parse(since) > MAX_DAYS * DAY_MS) {
    throw new BadRequestError(`invalid query parameter since: the window spans at most ${MAX_DAYS} days`);
  }
  const query = { since, until, tokenType: q.token_type?.toLowerCase() };
  const fresh = options.cacheMs ?? 5_000;
  const stale = Math.max(fresh, options.staleMs ?? 30_000);
  const compute = () => computeOverview(store, query, now, options.maxLeaks ?? OVERVIEW_MAX_LEAKS);
  if (fresh <= 0) return compute();

  // The query as given, not as resolved: a default window moves with the clock, its key does not.
  const key = JSON.stringify([q.since, q.until, query.tokenType]);
  const answers = recent.get(store) ?? new Map<string, { at: number; answer: Promise<Overview> }>();
  recent.set(store, answers);
  for (const [k, entry] of answers) if (now - entry.at >= stale) answers.delete(k);
  const kept = answers.get(key);
  const refresh = () => {
    const answer = compute();
    const entry = { at: now, answer };
    answers.set(key, entry);
    // A failure is not reused; the answer it replaced, if any, is gone too (it was already old).
    answer.catch(() => answers.get(key) === entry && answers.delete(key));
    return answer;
  };
  if (!kept) return refresh();
  if (now - kept.at < fresh) return kept.answer;
  // Older than `fresh` but not `stale`: the kept answer now (its generated_at tells its age), a new
  // one made for the next caller. Reading a month of leaks takes the embedded engine seconds.
  void refresh().catch(() => undefined);
  return kept.answer;
}
