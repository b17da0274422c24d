import * as z from "zod";
import { NotFoundError } from "../errors.js";
import type { Leak } from "../store/leak.js";
import type { LeakStore } from "../store/leak-store.js";
import { leakDetailView, leakView } from "./leak-view.js";
import { leakQueryOf, listFilterShape, parseQuery } from "./query-params.js";

const LEAK_ID = /^lk_[0-9a-f]{24}$/;

// The admin read API's use cases: list with filters and cursor pagination, and one leak in full.

const listParams = z
  .object({ ...listFilterShape, limit: z.coerce.number().int().min(1).max(100).default(25) })
  .strict();

export async function listLeaks(store: LeakStore, params: Record<string, string | undefined>) {
  const q = parseQuery(listParams, params);
  const page = await store.listLeaks({ ...leakQueryOf(q), limit: q.limit });
  return {
    items: page.items.map(leakView),
    next_cursor: page.nextCursor,
    // Only a page cut short by the search budget says so: full answers keep their documented shape.
    ...(page.partial ? { partial: true as const } : {}),
  };
}

/** The leak with this id, or NotFoundError for an unknown or malformed id. */
export async function findLeak(store: LeakStore, id: string | undefined): Promise<Leak> {
  const leak = id && LEAK_ID.test(id) ? await store.getLeak(id) : undefined;
  if (!leak) throw new NotFoundError(`no leak with id ${String(id).slice(0, 40)}`);
  return leak;
}

const detailParams = z
  .object({
    sightings_limit: z.coerce.number().int().min(1).max(500).default(100),
    sightings_cursor: z.string().min(1).max(2_048).optional(),
  })
  .strict();

/**
 * One leak in full, with one page of its sightings (a leak may have thousands): `sightings_limit`
 * (default 100) of them and `sightings_next_cursor`, which `?sightings_cursor=` takes for the next.
 */
export async function getLeak(
  store: LeakStore,
  id: string | undefined,
  params: Record<string, string | undefined> = {},
) {
  const q = parseQuery(detailParams, params);
  const leak = await findLeak(store, id);
  const page = await store.listSightings(leak, { limit: q.sightings_limit, cursor: q.sightings_cursor });
  return leakDetailView({ leak, sightings: page.sightings }, page.nextCursor);
}
