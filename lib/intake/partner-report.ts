import { BadRequestError, PayloadTooLargeError } from "../errors.js";
import { TOKEN_TYPE_MAX_BYTES } from "../store/field-limits.js";
import { utf8Bytes } from "../util/utf8.js";

// Parses GitHub's partner report body: a JSON array of {token, type, url, source}. `url` may be empty,
// `source` missing or in any case. One bad match is skipped, not fatal; a body of the wrong shape is.

export interface PartnerMatch {
  token: string;
  /** As reported; routing matches it case-insensitively. */
  type: string;
  url: string;
  source: string;
}

export interface SkippedMatch {
  index: number;
  reason: string;
}

export interface PartnerReport {
  matches: PartnerMatch[];
  skipped: SkippedMatch[];
}

/** Longer strings are not credentials anyone issues; they are skipped rather than hashed and stored. */
const MAX_TOKEN_LENGTH = 4_096;

export function parsePartnerReport(body: Buffer, limits: { maxMatches: number }): PartnerReport {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)); // invalid UTF-8 throws
  } catch {
    throw new BadRequestError("body is not valid JSON");
  }
  if (!Array.isArray(json)) throw new BadRequestError("body must be a JSON array of matches");
  if (json.length > limits.maxMatches) {
    throw new PayloadTooLargeError(
      `report has ${json.length} matches; at most ${limits.maxMatches} are accepted in one report`,
    );
  }

  const matches: PartnerMatch[] = [];
  const skipped: SkippedMatch[] = [];
  const isObject = (item: unknown) => typeof item === "object" && item !== null && !Array.isArray(item);
  // A batch with no object at all is the wrong shape; a stray item in a good batch is only skipped.
  if (json.length > 0 && !json.some(isObject))
    throw new BadRequestError("body must be a JSON array of match objects");
  json.forEach((item: unknown, index) => {
    const match = isObject(item) ? toMatch(item as Record<string, unknown>) : "not a JSON object";
    if (typeof match === "string") skipped.push({ index, reason: match });
    else matches.push(match);
  });
  return { matches, skipped };
}

/** The match, or why it is skipped. */
function toMatch({ token, type, url, source }: Record<string, unknown>): PartnerMatch | string {
  if (typeof token !== "string" || token.length === 0) return "no token";
  if (token.length > MAX_TOKEN_LENGTH) return "token too long";
  if (typeof type !== "string" || type.trim().length === 0) return "no type";
  // Cut, a type would route nowhere; and it is an index key, so it is not stored at any length.
  if (utf8Bytes(type.trim()) > TOKEN_TYPE_MAX_BYTES) return "type too long";
  return {
    token,
    type: type.trim(),
    // Bounded in bytes with the other sightings' fields where every intake path records them.
    url: typeof url === "string" ? url : "",
    source:
      typeof source === "string" && source.trim() ? source.trim().toLowerCase().slice(0, 64) : "unknown",
  };
}
