import { createHash } from "node:crypto";
import type { Leak } from "./leak.js";
import { lastActivity, owedStep } from "./leak-lifecycle.js";

// The one place that builds the table's keys (see table-schema.ts for the access patterns).

export const leakPk = (leakId: string) => `LEAK#${leakId}`;
export const LEAK_SK = "LEAK";
export const SIGHTING_SK_PREFIX = "SIGHTING#";

export const sightingSk = (url: string, source: string) =>
  `${SIGHTING_SK_PREFIX}${createHash("sha256").update(`${source}\n${url}`).digest("hex").slice(0, 32)}`;

export const statusKey = (status: string) => `STATUS#${status}`;
export const typeKey = (tokenType: string) => `TYPE#${tokenType}`;
export const ALL_LEAKS_KEY = "LEAKS";
/** The sparse index of leaks the worker still owes a step, oldest activity first (the sweep's). */
export const OWES_WORK_KEY = "OWES_WORK";
export const ownerKey = (owner: string) => `OWNER#${owner.toLowerCase()}`;
/** Sorts by first seen, then id so equal timestamps stay distinct. */
export const timeSortKey = (leak: Pick<Leak, "firstSeen" | "id">) => `${leak.firstSeen}#${leak.id}`;

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
  };
  const owner = leak.owner?.email ?? leak.owner?.id;
  if (owner) {
    keys.gsi4pk = ownerKey(owner);
    keys.gsi4sk = sort;
  }
  // Only leaks that still need the worker are in gsi5, so the sweep never reads the settled history.
  if (owedStep(leak) !== undefined) {
    keys.gsi5pk = OWES_WORK_KEY;
    keys.gsi5sk = `${lastActivity(leak)}#${leak.id}`;
  }
  return keys;
}
