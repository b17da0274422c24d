// How the console writes times, durations and statuses: UTC throughout, so every admin reads the same.

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** `2026-11-27 14:03:09 UTC` */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `+1.24 s` after `from`. */
export function formatSince(iso: string, from: string): string {
  const ms = Date.parse(iso) - Date.parse(from);
  return Number.isFinite(ms) ? `+${formatDuration(Math.max(0, ms))}` : "";
}

export const statusLabel = (status: string): string => status.replace(/_/g, " ");

export const formatCount = (n: number): string => n.toLocaleString("en-US");

/** An upper bound of a histogram bucket, as a label: `≤ 5 s`, `> 1 h`. */
export function bucketLabel(le: number | null, previous: number | null): string {
  if (le === null) return `> ${formatDuration(previous ?? 0)}`;
  return `≤ ${formatDuration(le)}`;
}

export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);
