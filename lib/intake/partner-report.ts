import { BadRequestError, PayloadTooLargeError } from "../errors.js";

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
const MAX_FIELD_LENGTH = 2_048;

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
  return {
    token,
    type: type.trim().slice(0, MAX_FIELD_LENGTH),
    url: typeof url === "string" ? url.slice(0, MAX_FIELD_LENGTH) : "",
    source:
      typeof source === "string" && source.trim() ? source.trim().toLowerCase().slice(0, 64) : "unknown",
  };
}
