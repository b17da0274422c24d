// One colour per status for charts, a darker set on light backgrounds and a lighter one on dark, each
// at least 3:1 against its background (WCAG 1.4.11). Legends and tables carry the names.

const LIGHT: Record<string, string> = {
  pending: "#6b7280",
  active: "#b45309",
  revoked: "#15803d",
  inactive: "#0e7490",
  false_positive: "#7c3aed",
  unroutable: "#c2410c",
  failed: "#b91c1c",
  notified: "#1d4ed8",
  dry_run: "#a16207",
  allowlisted: "#4d7c0f",
  paired: "#be185d",
  dismissed: "#475569",
};

const DARK: Record<string, string> = {
  pending: "#9ca3af",
  active: "#fbbf24",
  revoked: "#4ade80",
  inactive: "#22d3ee",
  false_positive: "#a78bfa",
  unroutable: "#fb923c",
  failed: "#f87171",
  notified: "#60a5fa",
  dry_run: "#facc15",
  allowlisted: "#a3e635",
  paired: "#f472b6",
  dismissed: "#cbd5e1",
};

export const prefersDark = () => window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;

export function statusColor(status: string): string {
  return (prefersDark() ? DARK : LIGHT)[status] ?? (prefersDark() ? "#e5e7eb" : "#374151");
}

/** The accent for single-series charts. */
export const accentColor = () => (prefersDark() ? "#60a5fa" : "#1d4ed8");
