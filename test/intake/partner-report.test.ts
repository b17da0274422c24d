import { describe, expect, it } from "vitest";
import { BadRequestError, PayloadTooLargeError } from "../../lib/errors.js";
import { parsePartnerReport } from "../../lib/intake/partner-report.js";

// GitHub's partner report body: a JSON array of {token, type, url, source}. One bad match is skipped
// with a reason; a body of the wrong shape is a 400.

const LIMITS = { maxMatches: 5_000 };
const parse = (body: unknown) => parsePartnerReport(Buffer.from(JSON.stringify(body)), LIMITS);

function badRequest(body: Buffer | string): BadRequestError {
  try {
    parsePartnerReport(Buffer.isBuffer(body) ? body : Buffer.from(body), LIMITS);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).status).toBe(400);
    return error as BadRequestError;
  }
  return expect.unreachable("body should have been rejected");
}

describe("well-formed reports", () => {
  it("parses every match of a valid array, in order", () => {
    const report = parse([
      { token: "tqs_one", type: "tourniquet_sandbox_token", url: "https://github.com/a/b", source: "commit" },
      { token: "tqs_two", type: "acme_api_key", url: "https://gist.github.com/x", source: "gist" },
    ]);
    expect(report.skipped).toEqual([]);
    expect(report.matches).toEqual([
      { token: "tqs_one", type: "tourniquet_sandbox_token", url: "https://github.com/a/b", source: "commit" },
      { token: "tqs_two", type: "acme_api_key", url: "https://gist.github.com/x", source: "gist" },
    ]);
  });

  it("accepts an empty array as a report with nothing in it", () => {
    expect(parse([])).toEqual({ matches: [], skipped: [] });
  });

  it.each([
    ["empty", ""],
    ["missing", undefined],
    ["not a string", 42],
  ])("keeps a match whose url is %s, with url ''", (_name, url) => {
    const { matches } = parse([{ token: "t", type: "x", url, source: "commit" }]);
    expect(matches).toHaveLength(1);
    expect(matches[0]?.url).toBe("");
  });

  it("labels a match without source as 'unknown'", () => {
    expect(parse([{ token: "t", type: "x", url: "" }]).matches[0]?.source).toBe("unknown");
    expect(parse([{ token: "t", type: "x", source: "   " }]).matches[0]?.source).toBe("unknown");
  });

  it.each(["COMMIT", "Commit", "commit", " Pull_Request_Comment "])("lowercases source %j", (source) => {
    const { matches } = parse([{ token: "t", type: "x", url: "", source }]);
    expect(matches[0]?.source).toBe(source.trim().toLowerCase());
  });

  it("keeps the type as reported (routing is case-insensitive), only trimmed", () => {
    expect(parse([{ token: "t", type: " Acme_API_Key ", url: "" }]).matches[0]?.type).toBe("Acme_API_Key");
  });

  it("keeps the token byte for byte, whitespace included", () => {
    expect(parse([{ token: " tqs_x ", type: "x" }]).matches[0]?.token).toBe(" tqs_x ");
  });
});

describe("bad matches are skipped, the rest kept", () => {
  it("skips matches without a usable token, with their index and reason", () => {
    const report = parse([
      { token: "good-1", type: "x", url: "", source: "commit" },
      { type: "x", url: "", source: "commit" },
      { token: "", type: "x", url: "", source: "commit" },
      { token: 12345, type: "x", url: "", source: "commit" },
      { token: null, type: "x" },
      { token: "good-2", type: "x", url: "", source: "commit" },
    ]);
    expect(report.matches.map((m) => m.token)).toEqual(["good-1", "good-2"]);
    expect(report.skipped).toEqual([
      { index: 1, reason: "no token" },
      { index: 2, reason: "no token" },
      { index: 3, reason: "no token" },
      { index: 4, reason: "no token" },
    ]);
  });

  it("skips matches without a type", () => {
    const report = parse([
      { token: "a", url: "" },
      { token: "b", type: "" },
      { token: "c", type: "   " },
      { token: "d", type: ["x"] },
      { token: "e", type: "x" },
    ]);
    expect(report.matches.map((m) => m.token)).toEqual(["e"]);
    expect(report.skipped).toEqual([0, 1, 2, 3].map((index) => ({ index, reason: "no type" })));
  });

  it("skips a token too long to be a credential", () => {
    const report = parse([{ token: "x".repeat(4_097), type: "x" }]);
    expect(report.matches).toEqual([]);
    expect(report.skipped).toEqual([{ index: 0, reason: "token too long" }]);
  });

  // Issue 9, point 13: the type is an index key (TYPE#<type>, at most 2048 bytes in DynamoDB); a type
  // cut at 2048 characters overflowed it and failed the whole report.
  it("skips a type longer than 256 bytes, counted in UTF-8, and keeps one of exactly 256", () => {
    const report = parse([
      { token: "a", type: "x".repeat(2_048) },
      { token: "b", type: "é".repeat(129) },
      { token: "c", type: "y".repeat(256) },
    ]);
    expect(report.matches.map((m) => m.token)).toEqual(["c"]);
    expect(report.skipped).toEqual([
      { index: 0, reason: "type too long" },
      { index: 1, reason: "type too long" },
    ]);
  });
});

describe("bodies of the wrong shape are a 400", () => {
  it.each([
    ["plain text", "hello"],
    ["truncated JSON", '[{"token":"t","type":"x"'],
    ["an empty body", ""],
  ])("%s is rejected as not JSON", (_name, body) => {
    expect(badRequest(body).message).toBe("body is not valid JSON");
  });

  it.each([
    ["an object", '{"token":"t","type":"x"}'],
    ["a number", "42"],
    ["a string", '"[]"'],
    ["null", "null"],
  ])("%s instead of an array is rejected", (_name, body) => {
    expect(badRequest(body).message).toMatch(/must be a JSON array/);
  });

  it.each([
    ["a string", '[{"token":"t","type":"x"},"tqs_x"]'],
    ["null", '[{"token":"t","type":"x"},null]'],
    ["an array", '[{"token":"t","type":"x"},["t","x"]]'],
    ["a number", '[{"token":"t","type":"x"},7]'],
  ])("an array containing %s skips that item, naming its index, and keeps the others", (_name, body) => {
    const report = parsePartnerReport(Buffer.from(body), LIMITS);
    expect(report.matches).toHaveLength(1);
    expect(report.skipped).toEqual([{ index: 1, reason: "not a JSON object" }]);
  });

  it("an array with no object at all is rejected", () => {
    expect(badRequest('["tqs_x", 7, null]').message).toMatch(/JSON array of match objects/);
  });

  it("binary garbage is rejected", () => {
    expect(badRequest(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x81])).message).toMatch(
      /not valid JSON/,
    );
  });

  it("invalid UTF-8 inside an otherwise valid array is rejected, not silently altered", () => {
    // A token with a lone 0xFF byte must not be replaced by U+FFFD and hashed as a different token.
    const body = Buffer.concat([
      Buffer.from('[{"token":"tqs_abc'),
      Buffer.from([0xff]),
      Buffer.from('","type":"x","url":"","source":"commit"}]'),
    ]);
    expect(badRequest(body).message).toMatch(/not valid JSON|UTF-8/);
  });

  it("refuses a report with more matches than the configured cap, before doing any work", () => {
    const matches = (n: number) => Array.from({ length: n }, (_, i) => ({ token: `t${i}`, type: "x" }));
    expect(
      parsePartnerReport(Buffer.from(JSON.stringify(matches(3))), { maxMatches: 3 }).matches,
    ).toHaveLength(3);
    expect(() => parsePartnerReport(Buffer.from(JSON.stringify(matches(4))), { maxMatches: 3 })).toThrow(
      new PayloadTooLargeError("report has 4 matches; at most 3 are accepted in one report"),
    );
  });
});
