import type { leakDetailView, leakView } from "../admin/leak-view.js";
import type { StackSettings } from "./cli-settings.js";
import { answerError, callStack } from "./stack-http.js";

// The admin API as the CLI's commands use it: a port, and its adapter over fetch.

/** A leak as the list answers it, and in full (lib/admin/leak-view.ts), as JSON carries them. */
export type LeakItem = ReturnType<typeof leakView>;
export type LeakDetail = ReturnType<typeof leakDetailView>;

export interface LeakPage {
  items: LeakItem[];
  next_cursor: string | null;
  partial?: true;
}

/** The list's filters (GET /v1/admin/leaks), named as the API names them. */
export interface LeakFilters {
  status?: string[] | undefined;
  token_type?: string | undefined;
  owner?: string | undefined;
  fingerprint?: string | undefined;
  preview?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export type ExportFormat = "csv" | "jsonl";

/** One page of an export: its bytes as they arrive, and the cursor of the next page, if any. */
export interface ExportPage {
  body: AsyncIterable<Uint8Array>;
  nextCursor: string | undefined;
}

export interface AdminClient {
  listLeaks(
    filters: LeakFilters,
    page?: { limit?: number | undefined; cursor?: string | undefined },
  ): Promise<LeakPage>;
  getLeak(id: string): Promise<LeakDetail>;
  retryLeak(id: string): Promise<{ retried: boolean; leak: LeakDetail }>;
  dismissLeak(
    id: string,
    dismissal: { reason: string; note?: string | undefined },
  ): Promise<{ dismissed: boolean; leak: LeakDetail }>;
  exportLeaks(filters: LeakFilters, format: ExportFormat, cursor?: string): Promise<ExportPage>;
}

/** The query string of `filters` (+ extra parameters); a repeated status is sent as repeated `status=`. */
export function filterQuery(filters: LeakFilters, extra: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const status of filters.status ?? []) query.append("status", status);
  for (const [name, value] of Object.entries({ ...filters, status: undefined, ...extra })) {
    if (typeof value === "string") query.set(name, value);
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

export function httpAdminClient(settings: StackSettings): AdminClient {
  const leaks = `${settings.apiUrl}/v1/admin/leaks`;
  const hints = {
    401: () =>
      `set TOURNIQUET_ADMIN_TOKEN to the stack's admin token (a local stack's is in ${settings.dataDir}/admin-token)`,
    403: () => "the token's identity lacks the permission this needs (see docs/deploy.md#administrators)",
  };
  const call = async (method: string, url: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { authorization: `Bearer ${settings.adminToken()}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await callStack(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw await answerError(response, method, hints);
    return response;
  };
  const json = async <T>(method: string, url: string, body?: unknown) =>
    (await (await call(method, url, body)).json()) as T;
  const leak = (id: string) => `${leaks}/${encodeURIComponent(id)}`;

  return {
    listLeaks: (filters, page = {}) =>
      json("GET", `${leaks}${filterQuery(filters, { limit: page.limit?.toString(), cursor: page.cursor })}`),
    getLeak: (id) => json("GET", leak(id)),
    retryLeak: (id) => json("POST", `${leak(id)}/retry`),
    dismissLeak: (id, dismissal) => json("POST", `${leak(id)}/dismiss`, dismissal),
    exportLeaks: async (filters, format, cursor) => {
      const response = await call("GET", `${leaks}/export${filterQuery(filters, { format, cursor })}`);
      return {
        body: response.body ?? (async function* () {})(),
        nextCursor: response.headers.get("x-next-cursor") || undefined,
      };
    },
  };
}
