import { keyHalfOf } from "../issuers/token-pairs.js";
import type { ReportedToken } from "./record-reported-tokens.js";

// Which secret half of a report goes with which key id: GitHub raises a pair only when both halves are
// in the same file, so a secret is linked to the key id seen at the same place (url and source). A
// report without urls that holds exactly one half of each is one pair. Where a place holds several key
// ids, or several secrets point at one key id, which goes with which is not known: none is linked.

/** Fingerprint → the reported token of its other half, both ways. */
export type Pairs = ReadonlyMap<string, ReportedToken>;

export function pairReportedTokens(tokens: readonly ReportedToken[]): Pairs {
  const secrets = tokens.filter((t) => keyHalfOf(t.type) !== undefined);
  if (secrets.length === 0) return new Map();
  // Key ids by type, and by type and place: one pass, so a report of 20,000 pairs is not quadratic.
  const keysOfType = new Map<string, ReportedToken[]>();
  const keysAt = new Map<string, Set<ReportedToken>>();
  for (const token of tokens) {
    const type = token.type.toLowerCase();
    const ofType = keysOfType.get(type) ?? [];
    ofType.push(token);
    keysOfType.set(type, ofType);
    for (const sighting of token.sightings) {
      const at = `${type} ${placeOf(sighting)}`;
      const here = keysAt.get(at) ?? new Set();
      here.add(token);
      keysAt.set(at, here);
    }
  }
  const chosen = new Map<ReportedToken, ReportedToken[]>(); // key id → the secrets that point at it
  for (const secret of secrets) {
    const keyType = keyHalfOf(secret.type) as string;
    const keys = keysOfType.get(keyType) ?? [];
    const places = new Set(secret.sightings.filter((s) => s.url).map(placeOf));
    const together = new Set<ReportedToken>();
    for (const place of places) for (const key of keysAt.get(`${keyType} ${place}`) ?? []) together.add(key);
    const key =
      together.size === 1
        ? [...together][0]
        : places.size === 0 && keys.length === 1 && secrets.length === 1
          ? keys[0]
          : undefined;
    if (key) chosen.set(key, [...(chosen.get(key) ?? []), secret]);
  }
  const pairs = new Map<string, ReportedToken>();
  for (const [key, [secret, ...more]] of chosen) {
    if (!secret || more.length > 0) continue;
    pairs.set(secret.fingerprint, key);
    pairs.set(key.fingerprint, secret);
  }
  return pairs;
}

const placeOf = (s: { url: string; source: string }) => JSON.stringify([s.url, s.source.toLowerCase()]);
