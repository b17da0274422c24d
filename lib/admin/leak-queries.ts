import * as z from "zod";
import { BadRequestError, NotFoundError } from "../errors.js";
import { LEAK_STATUSES, type Leak } from "../store/leak.js";

const LEAK_ID = /^lk_[0-9a-f]{24}$/;

import type { LeakStore } from "../store/leak-store.js";
import { leakDetailView, leakView } from "./leak-view.js";

// The admin read API's use cases: list with filters and cursor pagination, and one leak in full.

const listParams = z
  .object({
    status: z.enum(LEAK_STATUSES).optional(),
    token_type: z.string().min(1).max(200).optional(),
    fingerprint: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 hex digest")
      .transform((v) => v.toLowerCase())
      .optional(),
    owner: z.string().min(1).max(320).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().min(1).max(2_048).optional(),
  })
  .strict();

/** The query string as `schema` reads it, or BadRequestError naming the first bad parameter. */
function parseQuery<T extends z.ZodType>(schema: T, params: Record<string, string | undefined>): z.output<T> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field =
      issue?.path.join(".") || (issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "query");
    throw new BadRequestError(`invalid query parameter ${field}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

export async function listLeaks(store: LeakStore, params: Record<string, string | undefined>) {
  const q = parseQuery(listParams, params);
  // Stored times are UTC ISO strings, so bounds are normalised to compare as text.
  const since = q.since ? new Date(q.since).toISOString() : undefined;
  const until = q.until ? new Date(q.until).toISOString() : undefined;
  if (since && until && since > until) throw new BadRequestError("since must not be after until");
  const page = await store.listLeaks({
    status: q.status,
    tokenType: q.token_type?.toLowerCase(),
    fingerprint: q.fingerprint,
    owner: q.owner,
    since,
    until,
    limit: q.limit,
    cursor: q.cursor,
  });
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
