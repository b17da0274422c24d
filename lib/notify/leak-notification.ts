import { createHash } from "node:crypto";
import type { LeakDetails } from "../store/leak.js";
import type { Notification } from "./notifier.js";

// The owner's message: what leaked, where, what Tourniquet did and when, and what to do next.
// Built only from the stored leak, which never holds the token.

export function notificationId(leakId: string, channel: string, recipient: string): string {
  const hash = createHash("sha256").update(recipient.toLowerCase()).digest("hex").slice(0, 16);
  return `${leakId}.${channel}.${hash}`;
}

export function renderLeakNotification(
  details: LeakDetails,
  recipient: { to: string; name?: string | undefined },
  options: { channel: string; adminUrl?: string | undefined },
): Notification {
  const { leak, sightings } = details;
  const where = sightings.length
    ? sightings.map((s) => `  - ${s.url || "(no url given)"} (${s.source}, first seen ${s.firstSeen})`)
    : ["  - (location not reported)"];
  const actions = leak.timeline
    .filter((e) => e.outcome === "ok" && e.step !== "notify")
    .map((e) => `  - ${e.at}  ${e.step}: ${e.detail}`);
  const revoked = leak.status === "revoked";
  const lines = [
    `Hello ${recipient.name ?? recipient.to},`,
    "",
    `A ${leak.tokenType} key of yours (${leak.preview}${leak.keyId ? `, key id ${leak.keyId}` : ""}) was found in public and reported to us by GitHub secret scanning.`,
    "",
    "Where it was found:",
    ...where,
    "",
    revoked
      ? `What we did: we revoked the key at ${leak.revokedAt}, ${formatDuration(leak.timeToRevokeMs)} after the report, and confirmed with the issuer that it no longer works.`
      : `Status: ${leak.status}.`,
    "",
    "Timeline:",
    ...actions,
    "",
    "What to do next:",
    "  1. Create a new key and update every application and secret store that used the old one.",
    "  2. Remove the key from the places listed above and from your repository history, and check for forks or copies.",
    "  3. Review your account's recent activity for use you do not recognise around the time of the leak.",
    "  4. Keep keys out of code: use environment variables or a secret manager, and enable push protection.",
    "",
    options.adminUrl
      ? `Full history: ${options.adminUrl.replace(/\/$/, "")}/${leak.id}`
      : `Leak id: ${leak.id}`,
    "",
    "— Tourniquet, on behalf of your API provider's security team",
  ];
  return {
    id: notificationId(leak.id, options.channel, recipient.to),
    leakId: leak.id,
    to: recipient.to,
    subject: revoked
      ? `[Action needed] Your ${leak.tokenType} key ${leak.preview} leaked and was revoked`
      : `[Security notice] Your ${leak.tokenType} key ${leak.preview} was found in public`,
    text: lines.join("\n"),
  };
}

function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return "shortly";
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1)} s`;
}
