import { describe, expect, it } from "vitest";
import { pairReportedTokens } from "../../lib/intake/pair-reported-tokens.js";
import { groupReportedTokens, type ReportedToken } from "../../lib/intake/record-reported-tokens.js";
import { PART_MAX_BYTES, PART_MAX_TOKENS, splitReport } from "../../lib/intake/report-parts.js";

// How a mass report is split: the intake's share first (pairs whole), then bounded parts for the
// worker, every token and every sighting in exactly one place.

const match = (token: string, type = "some_type", url = `https://example.test/${token}`) => ({
  token,
  type,
  url,
  source: "content",
});

const tokens = (n: number, prefix = "tok") =>
  groupReportedTokens(Array.from({ length: n }, (_, i) => match(`${prefix}_${i}_${"x".repeat(30)}`)));

/** Each token's sightings, as "fingerprint url source" lines, over inline and parts together. */
const placesOf = (groups: readonly ReportedToken[]) =>
  groups.flatMap((g) => g.sightings.map((s) => `${g.fingerprint} ${s.url} ${s.source}`)).sort();

const jsonBytes = (part: readonly ReportedToken[]) =>
  Buffer.byteLength(
    JSON.stringify(
      part.map((t) => ({ t: t.token, y: t.type, s: t.sightings.map((s) => [s.url, s.source]) })),
    ),
  );

/** An AWS key id and its secret, seen in the same file. */
function awsPair(i: number) {
  const url = `https://example.test/creds-${i}.env`;
  return [
    match(`AKIA${String(i).padStart(16, "0")}`, "aws_access_key_id", url),
    match(`secret${String(i).padStart(34, "0")}`, "aws_secret_access_key", url),
  ];
}

describe("splitReport", () => {
  it("keeps a report within the inline share whole, with no parts", () => {
    const groups = tokens(10);
    const split = splitReport(groups, new Map(), { inlineMax: 10 });
    expect(split.inline).toEqual(groups);
    expect(split.parts).toEqual([]);
  });

  it("records the first tokens inline and puts the rest, in order, in parts of at most 1,000", () => {
    const groups = tokens(2_500);
    const split = splitReport(groups, new Map(), { inlineMax: 100 });
    expect(split.inline).toEqual(groups.slice(0, 100));
    expect(split.parts.map((p) => p.length)).toEqual([PART_MAX_TOKENS, PART_MAX_TOKENS, 400]);
    expect(split.parts.flat()).toEqual(groups.slice(100));
  });

  it("bounds each part's bytes, so the sealed item stays under DynamoDB's 400 KB", () => {
    const longUrl = (i: number) => `https://example.test/${"p".repeat(1_500)}/${i}`;
    const groups = groupReportedTokens(
      Array.from({ length: 600 }, (_, i) => match(`tok_${i}_${"y".repeat(40)}`, "some_type", longUrl(i))),
    );
    const split = splitReport(groups, new Map(), { inlineMax: 1 });
    expect(split.parts.length).toBeGreaterThan(1);
    for (const part of split.parts) expect(jsonBytes(part)).toBeLessThanOrEqual(PART_MAX_BYTES);
    expect(placesOf([...split.inline, ...split.parts.flat()])).toEqual(placesOf(groups));
  });

  it("cuts a token seen in thousands of places into slices across parts, losing no sighting", () => {
    const token = `tok_everywhere_${"z".repeat(40)}`;
    const groups = groupReportedTokens([
      match("first_inline_token_0123456789"),
      ...Array.from({ length: 5_000 }, (_, i) =>
        match(token, "some_type", `https://example.test/${"d".repeat(100)}/${i}`),
      ),
    ]);
    const split = splitReport(groups, new Map(), { inlineMax: 1 });
    const slices = split.parts.flat().filter((t) => t.token === token);
    expect(slices.length).toBeGreaterThan(1);
    for (const part of split.parts) expect(jsonBytes(part)).toBeLessThanOrEqual(PART_MAX_BYTES);
    expect(placesOf([...split.inline, ...split.parts.flat()])).toEqual(placesOf(groups));
  });

  it("never separates the two halves of a pair, inline or in parts", () => {
    const groups = groupReportedTokens(Array.from({ length: 1_500 }, (_, i) => awsPair(i)).flat());
    const pairs = pairReportedTokens(groups);
    expect(pairs.size).toBe(3_000);
    // 999 is odd: the pair that would straddle the inline share goes to the parts whole.
    const split = splitReport(groups, pairs, { inlineMax: 999 });
    expect(split.inline).toHaveLength(998);
    for (const place of [split.inline, ...split.parts]) {
      const here = new Set(place.map((t) => t.fingerprint));
      for (const token of place) expect(here.has(pairs.get(token.fingerprint)?.fingerprint ?? "")).toBe(true);
    }
    expect(placesOf([...split.inline, ...split.parts.flat()])).toEqual(placesOf(groups));
  });
});

describe("splitReport of the tokens the intake did not start in time", () => {
  it("leaves out a pair's other half that is not among them (the intake recorded it)", () => {
    const groups = groupReportedTokens(awsPair(1));
    const pairs = pairReportedTokens(groups);
    const [, secret] = groups;
    const split = splitReport([secret as ReportedToken], pairs, { inlineMax: 0 });
    expect(split.parts).toEqual([[secret]]);
  });
});

describe("pairReportedTokens on a mass report", () => {
  // It was quadratic (each secret scanned every token); now indexed by place, so this runs at all.
  it("pairs 10,000 key ids with their secrets by place", () => {
    const groups = groupReportedTokens(Array.from({ length: 10_000 }, (_, i) => awsPair(i)).flat());
    const pairs = pairReportedTokens(groups);
    expect(pairs.size).toBe(20_000);
    const [key, secret] = groups;
    expect(pairs.get(key?.fingerprint ?? "")).toBe(secret);
  });
});
