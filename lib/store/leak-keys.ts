import { createHash } from "node:crypto";
import type { Leak } from "./leak.js";
import { lastActivity, owedStep } from "./leak-lifecycle.js";

// The one place that builds the table's keys (see table-schema.ts for the access patterns).

export const leakPk = (leakId: string) => `LEAK#${leakId}`;
export const LEAK_SK = "LEAK";
export const SIGHTING_SK_PREFIX = "SIGHTING#";

export const sightingSk = (url: string, source: string) =>
  `${SIGHTING_SK_PREFIX}${createHash("sha256").update(`${source}\n${url}`).digest("hex").slice(0, 32)}`;
/** The shape of sightingSk, to check a position a client hands back. */
export const SIGHTING_SK = /^SIGHTING#[0-9a-f]{32}$/;

export const statusKey = (status: string) => `STATUS#${status}`;
export const typeKey = (tokenType: string) => `TYPE#${tokenType}`;
export const ALL_LEAKS_KEY = "LEAKS";
/** The sparse index of leaks the worker still owes a step, oldest activity first (the sweep's). */
export const OWES_WORK_KEY = "OWES_WORK";
export const ownerKey = (owner: string) => `OWNER#${owner.toLowerCase()}`;
export const previewKey = (preview: string) => `PREVIEW#${preview}`;
/**
 * A preview that tells leaks apart (`ghp_…wxyz`), so it is worth an index entry; a short token's is
 * only "…", which would make one partition of every such leak.
 */
export const isIndexedPreview = (preview: string) => preview.length > 1;
/** Sorts by first seen, then id so equal timestamps stay distinct. */
export const timeSortKey = (leak: Pick<Leak, "firstSeen" | "id">) => `${leak.firstSeen}#${leak.id}`;
/** The shape of timeSortKey, to check a position a client hands back (a bound, never a key). */
export const TIME_SORT_KEY = /^[^#]{1,64}#lk_[0-9a-f]{24}$/;

/** The index attributes a leak item carries, derived from its fields on every write. */
export function leakIndexKeys(leak: Leak): Record<string, string> {
  const sort = timeSortKey(leak);
  const keys: Record<string, string> = {
    gsi1pk: statusKey(leak.status),
    gsi1sk: sort,
    gsi2pk: typeKey(leak.tokenType),
    gsi2sk: sort,
    gsi3pk: ALL_LEAKS_KEY,
    gsi3sk: sort,
    gsi8pk: ALL_LEAKS_KEY,
    gsi8sk: sort,
  };
  // An owner is found by email or by id: gsi4 holds the email (else the id), gsi5 the id when the
  // email took gsi4, so the two never list one leak twice.
  const { email, id } = leak.owner ?? {};
  const primary = email ?? id;
  if (primary) {
    keys.gsi4pk = ownerKey(primary);
    keys.gsi4sk = sort;
  }
  if (email && id && ownerKey(id) !== ownerKey(email)) {
    keys.gsi5pk = ownerKey(id);
    keys.gsi5sk = sort;
  }
  if (isIndexedPreview(leak.preview)) {
    keys.gsi7pk = previewKey(leak.preview);
    keys.gsi7sk = sort;
  }
  // Only leaks that still need the worker are in gsi6, so the sweep never reads the settled history.
  if (owedStep(leak) !== undefined) {
    keys.gsi6pk = OWES_WORK_KEY;
    keys.gsi6sk = `${lastActivity(leak)}#${leak.id}`;
  }
  return keys;
}
