import type { NewSighting } from "../store/leak-store.js";
import type { Pairs } from "./pair-reported-tokens.js";
import type { ReportedToken } from "./record-reported-tokens.js";

// A mass leak in one report (a public repository with 20,000 keys) cannot be recorded before GitHub
// stops waiting. The intake records the first tokens itself and keeps the rest durably as parts: each
// part a bounded list of tokens, sealed as a whole and written as one item, then recorded by the worker
// (intake/record-report-part.ts). A pair (key id and secret) always travels in one part, so the worker
// links it as the intake would have.

/** Tokens one part carries: a worker delivery records them in a few seconds. */
export const PART_MAX_TOKENS = 1_000;
/**
 * The part's JSON before sealing: sealed and base64url-encoded it grows by a third, and the item must
 * stay under DynamoDB's 400 KB.
 */
export const PART_MAX_BYTES = 200_000;

export interface SplitLimits {
  /** Tokens the intake records itself, in the report's order (pairs kept whole). */
  inlineMax: number;
  partMaxTokens?: number;
  partMaxBytes?: number;
}

export interface SplitReport {
  inline: ReportedToken[];
  /** What the worker records later; a token with many sightings may be in several parts. */
  parts: ReportedToken[][];
}

/** The bytes a token takes in a part's JSON, its sightings aside (and a margin for the framing). */
const headBytes = (token: ReportedToken) =>
  Buffer.byteLength(JSON.stringify({ token: token.token, type: token.type })) + 32;
const sightingBytes = (sighting: NewSighting) => Buffer.byteLength(JSON.stringify(sighting)) + 1;
const bytesOf = (token: ReportedToken) =>
  token.sightings.reduce((sum, s) => sum + sightingBytes(s), headBytes(token));

export function splitReport(
  tokens: readonly ReportedToken[],
  pairs: Pairs,
  limits: SplitLimits,
): SplitReport {
  const partMaxTokens = limits.partMaxTokens ?? PART_MAX_TOKENS;
  const partMaxBytes = limits.partMaxBytes ?? PART_MAX_BYTES;
  const placed = new Set<string>();
  const given = new Set(tokens.map((t) => t.fingerprint)); // a pair's other half may be recorded already
  const units: ReportedToken[][] = [];
  for (const token of tokens) {
    if (placed.has(token.fingerprint)) continue;
    const other = pairs.get(token.fingerprint);
    const unit =
      other && given.has(other.fingerprint) && !placed.has(other.fingerprint) ? [token, other] : [token];
    for (const member of unit) placed.add(member.fingerprint);
    units.push(unit);
  }

  const inline: ReportedToken[] = [];
  let next = 0;
  for (; next < units.length; next++) {
    const unit = units[next] as ReportedToken[];
    if (inline.length + unit.length > limits.inlineMax) break;
    inline.push(...unit);
  }

  const parts: ReportedToken[][] = [];
  let part: ReportedToken[] = [];
  let bytes = 0;
  const close = () => {
    if (part.length > 0) parts.push(part);
    part = [];
    bytes = 0;
  };
  for (const unit of units.slice(next).flatMap((u) => slicesOf(u, partMaxBytes))) {
    const unitBytes = unit.reduce((sum, t) => sum + bytesOf(t), 0);
    if (part.length + unit.length > partMaxTokens || bytes + unitBytes > partMaxBytes) close();
    part.push(...unit);
    bytes += unitBytes;
  }
  close();
  return { inline, parts };
}

/**
 * A unit that fits a part as it is; else its tokens' sightings cut into slices that each fit, the first
 * slices kept together (the pair), the rest as the same token again with more of its sightings.
 */
function slicesOf(unit: ReportedToken[], maxBytes: number): ReportedToken[][] {
  const total = unit.reduce((sum, t) => sum + bytesOf(t), 0);
  if (total <= maxBytes) return [unit];
  const share = Math.floor(maxBytes / unit.length);
  const slices = unit.map((t) => sightingSlices(t, share));
  const first = slices.map((s) => s[0] as ReportedToken);
  return [first, ...slices.flatMap((s) => s.slice(1).map((t) => [t]))];
}

function sightingSlices(token: ReportedToken, maxBytes: number): ReportedToken[] {
  const slices: ReportedToken[] = [];
  const head = headBytes(token);
  let sightings: NewSighting[] = [];
  let bytes = head;
  for (const sighting of token.sightings) {
    const size = sightingBytes(sighting);
    if (sightings.length > 0 && bytes + size > maxBytes) {
      slices.push({ ...token, sightings });
      sightings = [];
      bytes = head;
    }
    sightings.push(sighting);
    bytes += size;
  }
  slices.push({ ...token, sightings });
  return slices;
}
