import * as z from "zod";
import { BadRequestError } from "../errors.js";
import { LEAK_STATUSES, type LeakStatus } from "../store/leak.js";

// The admin API's shared query parameters: the list filters (which the export and the overview take
// too) and how a query string is read, so every route reads them alike and names a bad one.

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = z.iso.datetime({ offset: true });

/**
 * A bound on first seen: an ISO date-time with an offset, or a date alone (UTC), which stands for that
 * day's start as `since` and its end (inclusive) as `until`. Normalised to UTC ISO, so it compares as text.
 */
const timeBound = (edge: "start" | "end") =>
  z.string().transform((value, ctx) => {
    if (DATE_ONLY.test(value)) {
      const start = new Date(`${value}T00:00:00.000Z`);
      if (!Number.isNaN(start.getTime()) && start.toISOString().startsWith(value)) {
        return `${value}T${edge === "start" ? "00:00:00.000" : "23:59:59.999"}Z`;
      }
    } else if (dateTime.safeParse(value).success) {
      return new Date(value).toISOString();
    }
    ctx.addIssue({
      code: "custom",
      message: "must be an ISO-8601 date-time or a calendar date (YYYY-MM-DD)",
    });
    return z.NEVER;
  });

/** One status, several repeated (API Gateway joins them with commas) or comma-separated, once each. */
const statusList = z
  .string()
  .transform((v) => v.split(",").map((s) => s.trim()))
  .pipe(
    z
      .array(z.enum(LEAK_STATUSES, { error: `must be among ${LEAK_STATUSES.join(", ")}` }))
      .min(1)
      .transform((statuses): LeakStatus[] => [...new Set(statuses)]),
  );

/** The list filters, shared by the list, the export (both with a cursor) and the overview (some). */
export const listFilterShape = {
  status: statusList.optional(),
  token_type: z
    .string()
    .min(1)
    .max(200)
    .transform((v) => v.toLowerCase())
    .optional(),
  fingerprint: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 hex digest")
    .transform((v) => v.toLowerCase())
    .optional(),
  owner: z.string().min(1).max(320).optional(),
  /** Exact, case-sensitive: previews keep the token's case (`ghp_…wxyz`). */
  preview: z.string().min(1).max(100).optional(),
  since: timeBound("start").optional(),
  until: timeBound("end").optional(),
  cursor: z.string().min(1).max(2_048).optional(),
};

export const timeWindowShape = { since: listFilterShape.since, until: listFilterShape.until };

/** The query string as `schema` reads it, or BadRequestError naming the first bad parameter. */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  params: Record<string, string | undefined>,
): z.output<T> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field =
      issue?.path[0]?.toString() || (issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "query");
    throw new BadRequestError(`invalid query parameter ${field}: ${issue?.message ?? "invalid"}`);
  }
  const { since, until } = parsed.data as { since?: unknown; until?: unknown };
  if (typeof since === "string" && typeof until === "string" && since > until) {
    throw new BadRequestError("since must not be after until");
  }
  return parsed.data;
}

/** The store's query from parsed list filters. */
export function leakQueryOf(q: z.output<z.ZodObject<typeof listFilterShape>>) {
  return {
    statuses: q.status,
    tokenType: q.token_type,
    fingerprint: q.fingerprint,
    owner: q.owner,
    preview: q.preview,
    since: q.since,
    until: q.until,
    cursor: q.cursor,
  };
}
