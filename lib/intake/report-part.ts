import type { TokenSealer } from "../queue/token-sealer.js";
import { fingerprintToken } from "./fingerprint.js";
import type { IntakeSource } from "./intake-metrics.js";
import type { Pairs } from "./pair-reported-tokens.js";
import type { ReportedToken } from "./record-reported-tokens.js";

// One part of a mass report, as kept in the store until the worker has recorded its tokens
// (report-parts.ts says why). Its tokens are sealed as a whole, bound to the part's id: the item and
// the queue message that names it hold no raw token.

export interface ReportPart {
  /** `rp_<24 hex of the report's SHA-256>_<index>`: a retried report writes the same parts again. */
  id: string;
  /** Where its first token stands among the report's tokens kept in parts (defer-report-parts.ts). */
  index: number;
  /** Parts written with it. */
  of: number;
  /** Tokens (entries) the part carries. */
  tokens: number;
  /** The entries, sealed (TokenSealer) with the id as associated data. */
  sealed: string;
  /** When the report arrived: the leaks' first seen and the start of their time to revoke. */
  receivedAtMs: number;
  reporter: string;
  source: IntakeSource;
  /** Last written (ISO): the sweep sends a part again when nothing happened to it for a while. */
  lastActivity: string;
  /** A worker is recording it until then (epoch ms); another delivery waits. */
  leaseUntil?: number | undefined;
  /** Deliveries that began recording it. */
  attempts: number;
  /** Set when the part can never be recorded (its seal does not open): kept for inspection, not owed. */
  failure?: string | undefined;
  version: number;
}

export type ReportPartChanges = Partial<Omit<ReportPart, "id" | "version">>;

const PART_ID = /^rp_[0-9a-f]{24}_\d{1,6}$/;

export const reportPartId = (reportDigest: string, index: number) =>
  `rp_${reportDigest.slice(0, 24)}_${index}`;

export const isReportPartId = (id: string) => PART_ID.test(id);

/**
 * A token as a part keeps it: the token, its type, its places, and its pair: the pair's index in the
 * part, or (a half whose other half the intake recorded itself) the other's fingerprint and type.
 */
interface PartEntry {
  t: string;
  y: string;
  s: [url: string, source: string][];
  p?: number;
  q?: [fingerprint: string, type: string];
}

export function sealPartTokens(
  sealer: TokenSealer,
  id: string,
  tokens: readonly ReportedToken[],
  pairs: Pairs,
): Promise<string> {
  // By fingerprint: a pair's halves may be slices (report-parts.ts), not the objects `pairs` holds.
  const index = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (!index.has(t.fingerprint)) index.set(t.fingerprint, i);
  });
  const entries = tokens.map((t): PartEntry => {
    const other = pairs.get(t.fingerprint);
    const p = other && index.get(other.fingerprint);
    return {
      t: t.token,
      y: t.type,
      s: t.sightings.map((s) => [s.url, s.source]),
      ...(p !== undefined ? { p } : other ? { q: [other.fingerprint, other.type] } : {}),
    };
  });
  return sealer.seal(JSON.stringify(entries), id);
}

/** The part's tokens and the pairs among them; throws SealError when the seal does not open. */
export async function openPartTokens(
  sealer: TokenSealer,
  part: Pick<ReportPart, "id" | "sealed">,
): Promise<{ tokens: ReportedToken[]; pairs: Pairs }> {
  const entries = JSON.parse(await sealer.open(part.sealed, part.id)) as PartEntry[];
  const tokens = entries.map(
    (e): ReportedToken => ({
      token: e.t,
      type: e.y,
      fingerprint: fingerprintToken(e.t),
      sightings: e.s.map(([url, source]) => ({ url, source })),
    }),
  );
  const pairs = new Map<string, ReportedToken>();
  entries.forEach((e, i) => {
    const self = tokens[i];
    // A half outside the part is named, not carried: linking needs only its fingerprint and type.
    const outside = e.q && { token: "", fingerprint: e.q[0], type: e.q[1], sightings: [] };
    const other = e.p === undefined ? outside : tokens[e.p];
    if (self && other) pairs.set(self.fingerprint, other);
  });
  return { tokens, pairs };
}
