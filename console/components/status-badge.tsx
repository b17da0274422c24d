import { statusLabel } from "../format";

/** A status as text on a colour (colour alone never carries it); styles.css gives each its colours. */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.replace(/[^a-z_]/g, "")}`}>{statusLabel(status)}</span>;
}
