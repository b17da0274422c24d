import { utf8Bytes, utf8Prefix } from "../util/utf8.js";

// An issuer's evidence, made storable and small enough for a leak's item, which holds it twice per
// verification (on the leak and in the verify event). Oversized, too deep or badly named fields are
// dropped whole, in the issuer's order, and a `_truncated` field names them; the rest is kept as sent.

export const EVIDENCE_MAX_BYTES = 8 * 1024;
/** What the `_truncated` marker may take of the limit. */
const MARKER_RESERVE_BYTES = 2 * 1024;
const FIELD_NAME_MAX_BYTES = 128;
const LISTED_DROPS = 20;
/**
 * Levels below a field. DynamoDB nests documents 32 deep, and evidence sits 4 levels down in the
 * timeline (item → timeline → event → data → evidence).
 */
const MAX_DEPTH = 16;
/** The marshaller refuses numbers it cannot store exactly, and DynamoDB ones below 1e-130. */
const SMALLEST_NUMBER = 1e-130;

export const TRUNCATION_MARKER = "_truncated";

export function boundEvidence(
  evidence: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!evidence) return undefined;
  const fields: [string, unknown, number][] = [];
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(evidence)) {
    if (value === undefined) continue; // absent, as the marshaller would leave it
    const stored = utf8Bytes(name) <= FIELD_NAME_MAX_BYTES ? storable(value, 0) : UNSTORABLE;
    if (stored === UNSTORABLE) dropped.push(name);
    else fields.push([name, stored, fieldBytes(name, stored)]);
  }
  const total = fields.reduce((sum, [, , bytes]) => sum + bytes, 2);
  if (dropped.length === 0 && total <= EVIDENCE_MAX_BYTES)
    return Object.fromEntries(fields.map(([n, v]) => [n, v]));

  let budget = EVIDENCE_MAX_BYTES - MARKER_RESERVE_BYTES - 2;
  const kept: Record<string, unknown> = {};
  for (const [name, value, bytes] of fields) {
    if (bytes <= budget) {
      kept[name] = value;
      budget -= bytes;
    } else {
      dropped.push(name);
    }
  }
  kept[TRUNCATION_MARKER] = {
    dropped: dropped.slice(0, LISTED_DROPS).map((name) => utf8Prefix(name, 64)),
    dropped_count: dropped.length,
    limit_bytes: EVIDENCE_MAX_BYTES,
  };
  return kept;
}

/** `"name":value,` in JSON bytes. */
const fieldBytes = (name: string, value: unknown) =>
  utf8Bytes(JSON.stringify(name)) + utf8Bytes(JSON.stringify(value)) + 2;

/** Marks a value that cannot be stored as it is (too deep, a function…): its field is dropped. */
const UNSTORABLE = Symbol("unstorable");

/** The value as DynamoDB can hold it; undefined stays undefined (the marshaller leaves it out). */
function storable(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "undefined":
    case "string":
    case "boolean":
      return value;
    case "bigint":
      return String(value);
    case "number":
      if (!Number.isFinite(value)) return UNSTORABLE;
      // Kept exact as text rather than refused by the marshaller (a 64-bit counter, 1e-200).
      if (Number.isInteger(value) ? !Number.isSafeInteger(value) : Math.abs(value) < SMALLEST_NUMBER)
        return String(value);
      return value;
    case "object": {
      if (value === null) return null;
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? UNSTORABLE : value.toISOString();
      if (depth >= MAX_DEPTH) return UNSTORABLE;
      if (Array.isArray(value)) {
        const items = value.map((item) => storable(item, depth + 1));
        return items.includes(UNSTORABLE) ? UNSTORABLE : items;
      }
      const entries = Object.entries(value).map(([k, v]) => [k, storable(v, depth + 1)] as const);
      return entries.some(([, v]) => v === UNSTORABLE) ? UNSTORABLE : Object.fromEntries(entries);
    }
    default:
      return UNSTORABLE;
  }
}
