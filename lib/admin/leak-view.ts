import type { AlertLink } from "../github/alert-record.js";
import type { Leak, LeakDetails, Sighting } from "../store/leak.js";

// The admin API's JSON for a leak: snake_case, stable field names, no internal bookkeeping.

export function leakView(leak: Leak) {
  return {
    id: leak.id,
    fingerprint: leak.fingerprint,
    token_type: leak.tokenType,
    preview: leak.preview,
    issuer: leak.issuer,
    status: leak.status,
    key_id: leak.keyId ?? null,
    owner: leak.owner ?? null,
    first_seen: leak.firstSeen,
    verified_at: leak.verifiedAt ?? null,
    revoked_at: leak.revokedAt ?? null,
    time_to_revoke_ms: leak.timeToRevokeMs ?? null,
    mode: leak.mode ?? null,
    replacement: leak.replacement
      ? {
          key_id: leak.replacement.keyId,
          delivered_by: leak.replacement.deliveredBy,
          where: leak.replacement.where,
          at: leak.replacement.at,
        }
      : null,
    notification: leak.notification ?? null,
    failure: leak.failure ?? null,
    dismissal: leak.dismissal ?? null,
    paired_with: leak.pairedWith
      ? { leak_id: leak.pairedWith.leakId, token_type: leak.pairedWith.tokenType }
      : null,
  };
}

const sightingView = (s: Sighting) => ({
  url: s.url,
  source: s.source,
  first_seen: s.firstSeen,
  last_seen: s.lastSeen,
  reports: s.reports,
});

/** A GitHub App alert that reported the token, and what Tourniquet did to it in GitHub. */
const alertView = (a: AlertLink) => ({
  repository: `${a.owner}/${a.repo}`,
  number: a.number,
  resolved: a.resolved ? { resolution: a.resolved.resolution, at: a.resolved.at } : null,
  left_open: a.leftOpen
    ? { outcome: a.leftOpen.outcome, reason: a.leftOpen.reason, at: a.leftOpen.at }
    : null,
});

/** The leak with one page of its sightings; `sightingsNextCursor` leads to the next page. */
export function leakDetailView({ leak, sightings }: LeakDetails, sightingsNextCursor: string | null) {
  return {
    ...leakView(leak),
    evidence: leak.evidence ?? null,
    key_details: leak.keyDetails ?? [],
    // In the order they were recorded: DynamoDB keeps no order among a map's keys (dynalite happens to).
    deliveries: Object.entries(leak.deliveries ?? {})
      .sort(([idA, a], [idB, b]) => a.at.localeCompare(b.at) || idA.localeCompare(idB))
      .map(([id, d]) => ({
        id,
        channel: d.channel,
        recipient: d.recipient,
        status: d.status,
        at: d.at,
        reason: d.reason ?? null,
      })),
    alerts: (leak.alerts ?? []).map(alertView),
    sightings: sightings.map(sightingView),
    sightings_next_cursor: sightingsNextCursor,
    timeline: leak.timeline,
  };
}
