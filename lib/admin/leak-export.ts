import { stringify } from "csv-stringify/sync";
import * as z from "zod";
import type { Leak } from "../store/leak.js";
import type { LeakStore, SightingSummary } from "../store/leak-store.js";
import { leakView } from "./leak-view.js";
import { leakQueryOf, listFilterShape, parseQuery } from "./query-params.js";

// GET /v1/admin/leaks/export: the list's filters, as CSV or JSON Lines, a bounded page per answer so a
// Lambda answer stays under API Gateway's 6 MB and memory stays flat whatever the history's size. When
// more remain, the answer names the cursor that resumes it; the client asks again until none is named.
// Columns: docs/admin-export.md.

export const EXPORT_FORMATS = ["csv", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_COLUMNS = [
  "id",
  "first_seen",
  "token_type",
  "status",
  "preview",
  "fingerprint",
  "issuer",
  "key_id",
  "owner",
  "verified_at",
  "revoked_at",
  "time_to_revoke_ms",
  "mode",
  "replacement_key_id",
  "notification_status",
  "failure_step",
  "failure_reason",
  "dismissal_reason",
  "dismissal_note",
  "dismissed_by",
  "sightings",
  "first_url",
] as const;

export interface ExportLimits {
  /** Rows one answer holds at most. */
  maxRows: number;
  /**
   * Body bytes after which an answer stops, checked between store pages (of at most `pageSize` rows),
   * so a body ends within a page's worth above it: well under API Gateway's 6 MB.
   */
  maxBytes: number;
  /** Leaks read per store page. */
  pageSize: number;
  /** Store pages one answer reads at most (a sparse filter's pages may match little). */
  maxPages: number;
}

export const DEFAULT_EXPORT_LIMITS: ExportLimits = {
  // A CSV row costs a query for its sighting figures: 2,000 keep an answer well inside the admin
  // function's 25 s (infra/tourniquet-stack.ts), even on the local engine (about 3 s).
  maxRows: 2_000,
  maxBytes: 3 * 1024 * 1024,
  pageSize: 100,
  maxPages: 200,
};

const exportParams = z
  .object({
    ...listFilterShape,
    format: z.enum(EXPORT_FORMATS, { error: `must be one of ${EXPORT_FORMATS.join(", ")}` }).default("csv"),
  })
  .strict();

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
};

export interface LeakExport {
  format: ExportFormat;
  contentType: string;
  /** `tourniquet-leaks-<YYYY-MM-DD>.<csv|jsonl>`, dated when the export was made. */
  filename: string;
  body: string;
  rows: number;
  /** The cursor of the next answer; null when this one holds the last rows. */
  nextCursor: string | null;
}

function csvRow(leak: Leak, sightings: SightingSummary | undefined): unknown[] {
  return [
    leak.id,
    leak.firstSeen,
    leak.tokenType,
    leak.status,
    leak.preview,
    leak.fingerprint,
    leak.issuer,
    leak.keyId,
    leak.owner?.email ?? leak.owner?.id,
    leak.verifiedAt,
    leak.revokedAt,
    leak.timeToRevokeMs,
    leak.mode,
    leak.replacement?.keyId,
    leak.notification?.status,
    leak.failure?.step,
    leak.failure?.reason,
    leak.dismissal?.reason,
    leak.dismissal?.note,
    leak.dismissal?.by,
    sightings?.places ?? 0,
    sightings?.firstUrl,
  ];
}

// RFC 4180 quoting by the library; a cell starting with = + - @ (a reporter's URL, an admin's note) is
// prefixed with ' so a spreadsheet shows it rather than running it as a formula.
const csv = (rows: unknown[][], header: boolean) =>
  stringify(rows, {
    header,
    columns: header ? [...EXPORT_COLUMNS] : undefined,
    escape_formulas: true,
    eof: true,
  });

export async function exportLeaks(
  store: LeakStore,
  params: Record<string, string | undefined>,
  options: { limits?: Partial<ExportLimits>; now?: () => number } = {},
): Promise<LeakExport> {
  const q = parseQuery(exportParams, params);
  const limits = { ...DEFAULT_EXPORT_LIMITS, ...options.limits };
  const query = leakQueryOf(q);
  const chunks: string[] = [];
  let bytes = 0;
  let rows = 0;
  // The header opens the export: its first answer only, so the answers concatenated are one file.
  if (q.format === "csv" && q.cursor === undefined) {
    chunks.push(csv([], true));
    bytes += Buffer.byteLength(chunks[0] ?? "");
  }
  let cursor = query.cursor;
  for (let pages = 0; pages < limits.maxPages; pages++) {
    const page = await store.listLeaks({
      ...query,
      cursor,
      limit: Math.min(limits.pageSize, limits.maxRows - rows),
    });
    let text: string;
    if (q.format === "csv") {
      const sightings = await store.summarizeSightings(page.items);
      text = csv(
        page.items.map((leak) => csvRow(leak, sightings.get(leak.id))),
        false,
      );
    } else {
      text = page.items.map((leak) => `${JSON.stringify(leakView(leak))}\n`).join("");
    }
    chunks.push(text);
    bytes += Buffer.byteLength(text);
    rows += page.items.length;
    cursor = page.nextCursor ?? undefined;
    if (cursor === undefined || rows >= limits.maxRows || bytes >= limits.maxBytes) break;
  }
  const day = new Date((options.now ?? Date.now)()).toISOString().slice(0, 10);
  return {
    format: q.format,
    contentType: CONTENT_TYPES[q.format],
    filename: `tourniquet-leaks-${day}.${q.format}`,
    body: chunks.join(""),
    rows,
    nextCursor: cursor ?? null,
  };
}

/**
 * The answer's headers: a download named by its date and, when more remain, the next answer's cursor
 * and its address (`path` with the same parameters and that cursor).
 */
export function exportHeaders(
  exported: LeakExport,
  path: string,
  params: Record<string, string | undefined>,
): Record<string, string> {
  const headers: Record<string, string> = {
    "content-disposition": `attachment; filename="${exported.filename}"`,
  };
  if (exported.nextCursor === null) return headers;
  const next = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (name !== "cursor" && value !== undefined) next.set(name, value);
  }
  next.set("cursor", exported.nextCursor);
  return { ...headers, "x-next-cursor": exported.nextCursor, link: `<${path}?${next}>; rel="next"` };
}
