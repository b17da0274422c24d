import { unrevocableType } from "../issuers/unrevocable-types.js";
import type { LeakDetails } from "../store/leak.js";
import type { LeakFacts } from "./leak-message.js";

// What a notification says about a leak, from the stored record alone (which never holds the token).

const NEXT_STEPS = {
  replace: "Create a new key and update every application and secret store that used the old one.",
  rotateNow: "Rotate this key now: it still works, and anyone who copied it can use it.",
  useReplacement:
    "Switch your applications to the replacement key, then confirm nothing still uses the old one.",
  remove:
    "Remove the key from the places listed above and from your repository history; check forks and copies.",
  review: "Review your account's recent activity for use you do not recognise around the time of the leak.",
  prevent:
    "Keep keys out of code: use environment variables or a secret manager, and enable push protection.",
  contact:
    "Your security team has been told that automatic revocation failed; contact them if you need help.",
};

export function nextSteps(details: LeakDetails): string[] {
  const { leak } = details;
  if (leak.status === "failed" || leak.status === "notified") {
    // No API kills it (a Slack incoming webhook): the owner must, and is told how.
    const removal = unrevocableType(leak.tokenType)?.howToRemove;
    return [
      ...(removal ?? [NEXT_STEPS.rotateNow]),
      NEXT_STEPS.remove,
      NEXT_STEPS.review,
      ...(leak.status === "failed" ? [NEXT_STEPS.contact] : []),
      NEXT_STEPS.prevent,
    ];
  }
  return [
    leak.replacement ? NEXT_STEPS.useReplacement : NEXT_STEPS.replace,
    NEXT_STEPS.remove,
    NEXT_STEPS.review,
    NEXT_STEPS.prevent,
  ];
}

export function leakFacts(details: LeakDetails, options: { adminUrl?: string | undefined } = {}): LeakFacts {
  const { leak, sightings } = details;
  return {
    leakId: leak.id,
    tokenType: leak.tokenType,
    preview: leak.preview,
    keyId: leak.keyId,
    status: leak.status,
    mode: leak.mode ?? "revoke",
    firstSeen: leak.firstSeen,
    revokedAt: leak.revokedAt,
    timeToRevokeMs: leak.timeToRevokeMs,
    sightings: sightings.map((s) => ({ url: s.url, source: s.source, firstSeen: s.firstSeen })),
    actions: leak.timeline
      .filter((e) => e.step !== "notify" && e.outcome !== "retrying")
      .map((e) => ({ at: e.at, step: e.step, outcome: e.outcome, detail: e.detail })),
    replacement: leak.replacement && { keyId: leak.replacement.keyId, where: leak.replacement.where },
    details: leak.keyDetails ?? [],
    nextSteps: nextSteps(details),
    adminUrl: options.adminUrl ? `${options.adminUrl.replace(/\/$/, "")}/${leak.id}` : undefined,
  };
}
