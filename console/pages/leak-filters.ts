import { LEAK_STATUSES } from "../api-types";

// The list's filters as the URL keeps them (shareable) and as the admin API reads them (contract 1):
// several `status`, `token_type`, `owner`, one search box (64 hex: a fingerprint, else a preview), and
// a date range (`since`/`until` as YYYY-MM-DD).

export interface LeakFilters {
  statuses: string[];
  tokenType: string;
  owner: string;
  search: string;
  since: string;
  until: string;
}

const FINGERPRINT = /^[0-9a-fA-F]{64}$/;

export function filtersFromUrl(query: URLSearchParams): LeakFilters {
  const statuses = query
    .getAll("status")
    .flatMap((s) => s.split(","))
    .filter((s) => (LEAK_STATUSES as readonly string[]).includes(s));
  return {
    statuses: [...new Set(statuses)],
    tokenType: query.get("token_type") ?? "",
    owner: query.get("owner") ?? "",
    search: query.get("q") ?? query.get("fingerprint") ?? query.get("preview") ?? "",
    since: query.get("since") ?? "",
    until: query.get("until") ?? "",
  };
}

/** The page's own URL query (`q` for the search box). */
export function filtersToUrl(filters: LeakFilters): URLSearchParams {
  const query = new URLSearchParams();
  for (const status of filters.statuses) query.append("status", status);
  if (filters.tokenType.trim()) query.set("token_type", filters.tokenType.trim());
  if (filters.owner.trim()) query.set("owner", filters.owner.trim());
  if (filters.search.trim()) query.set("q", filters.search.trim());
  if (filters.since) query.set("since", filters.since);
  if (filters.until) query.set("until", filters.until);
  return query;
}

/** The admin API's query for these filters (list and export). */
export function filtersToApi(filters: LeakFilters): URLSearchParams {
  const query = new URLSearchParams();
  for (const status of filters.statuses) query.append("status", status);
  if (filters.tokenType.trim()) query.set("token_type", filters.tokenType.trim());
  if (filters.owner.trim()) query.set("owner", filters.owner.trim());
  const search = filters.search.trim();
  if (search) query.set(FINGERPRINT.test(search) ? "fingerprint" : "preview", search);
  if (filters.since) query.set("since", filters.since);
  if (filters.until) query.set("until", filters.until);
  return query;
}
