import { evidenceLines } from "../../local/simulate-evidence.js";
import { durationText } from "../util/duration-text.js";
import type { LeakDetail, LeakItem } from "./admin-client.js";

// How the CLI shows leaks to a person: a table for a list, and one leak with its timeline as text.

/** An ISO time as `2026-11-27 10:31:02Z`: to the second, still UTC. */
export const formatTime = (iso: string | null | undefined) =>
  iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-";

const ownerText = (owner: LeakItem["owner"]) =>
  owner ? (owner.email ?? owner.name ?? owner.id ?? "-") : "-";

/** Rows of cells as aligned columns, two spaces apart. */
function columns(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

export function leakTable(items: readonly LeakItem[]): string[] {
  return columns([
    ["ID", "FIRST SEEN", "TYPE", "STATUS", "PREVIEW", "OWNER", "TIME TO REVOKE"],
    ...items.map((leak) => [
      leak.id,
      formatTime(leak.first_seen),
      leak.token_type,
      leak.status,
      leak.preview,
      ownerText(leak.owner),
      leak.time_to_revoke_ms === null ? "-" : durationText(leak.time_to_revoke_ms),
    ]),
  ]);
}

/** `+216 ms` after the report: when a timeline event happened, counted from the leak's first report. */
function sinceReport(firstSeen: string, at: string): string {
  const ms = Date.parse(at) - Date.parse(firstSeen);
  return Number.isNaN(ms) ? at : `+${durationText(Math.max(0, ms))}`;
}

export function leakDetailText(leak: LeakDetail): string[] {
  const fields: [string, string | null | undefined][] = [
    ["type", `${leak.token_type}${leak.issuer ? ` (issuer ${leak.issuer})` : ""}`],
    ["preview", leak.preview],
    ["fingerprint", leak.fingerprint],
    [
      "owner",
      leak.owner ? [leak.owner.email, leak.owner.name, leak.owner.id].filter(Boolean).join(", ") : null,
    ],
    ["key id", leak.key_id],
    ["mode", leak.mode],
    ["first seen", formatTime(leak.first_seen)],
    ["verified", leak.verified_at && formatTime(leak.verified_at)],
    [
      "revoked",
      leak.revoked_at &&
        `${formatTime(leak.revoked_at)}${leak.time_to_revoke_ms !== null ? ` (${durationText(leak.time_to_revoke_ms)} after the report)` : ""}`,
    ],
    [
      "replacement",
      leak.replacement &&
        `${leak.replacement.key_id}, delivered by ${leak.replacement.delivered_by} (${leak.replacement.where})`,
    ],
    [
      "notification",
      leak.notification && `${leak.notification.status} at ${formatTime(leak.notification.at)}`,
    ],
    ["paired with", leak.paired_with && `${leak.paired_with.leak_id} (${leak.paired_with.token_type})`],
  ];
  const lines = [`leak ${leak.id}: ${leak.status}`];
  for (const [label, value] of fields) if (value) lines.push(`  ${`${label}:`.padEnd(14)}${value}`);
  if (leak.failure) {
    lines.push(
      `  ${"failure:".padEnd(14)}at ${leak.failure.step}: ${leak.failure.reason} (${formatTime(leak.failure.at)})`,
    );
  }
  if (leak.dismissal) {
    const d = leak.dismissal;
    lines.push(
      `  ${"dismissed:".padEnd(14)}${d.reason}${d.note ? `: ${d.note}` : ""} (by ${d.by}, ${formatTime(d.at)})`,
    );
  }
  lines.push("", "timeline:");
  lines.push(
    ...columns(
      leak.timeline.map((event) => [
        `  ${sinceReport(leak.first_seen, event.at)}`,
        event.step,
        event.outcome,
        event.actor,
        event.detail,
      ]),
    ),
  );
  if (leak.deliveries.length > 0) {
    lines.push("", "deliveries:");
    lines.push(
      ...columns(
        leak.deliveries.map((d) => [
          `  ${d.channel}`,
          d.recipient,
          d.status,
          formatTime(d.at),
          d.reason ?? "",
        ]),
      ),
    );
  }
  lines.push("", `sightings${leak.sightings_next_cursor ? " (first page)" : ""}:`);
  lines.push(
    ...columns(
      leak.sightings.map((s) => [
        `  ${s.url || "(no url)"}`,
        s.source,
        `${s.reports} report${s.reports === 1 ? "" : "s"}`,
        `last ${formatTime(s.last_seen)}`,
      ]),
    ),
  );
  if (leak.alerts.length > 0) {
    lines.push("", "GitHub alerts:");
    for (const a of leak.alerts) {
      const state = a.resolved
        ? `resolved as ${a.resolved.resolution}`
        : a.left_open
          ? `left open: ${a.left_open.reason}`
          : "open";
      lines.push(`  ${a.repository}#${a.number}  ${state}`);
    }
  }
  const evidence = evidenceLines(leak.evidence, leak.key_details);
  if (evidence.length > 0) lines.push("", ...evidence);
  return lines;
}
