import { describe, expect, it } from "vitest";
import { matchesRedaction, parseRedaction } from "../../../lib/issuers/openai/openai-redaction.js";

const KEY = "sk-proj-abcDEFghiJKLmnoPQRstuVWXyz0123456789T3BlbkFJ_-xyzWXYZ";

describe("matchesRedaction", () => {
  it.each([
    ["sk-proj-abc...WXYZ", true],
    ["sk-abc...def", false],
    ["sk-proj-abc…WXYZ", true],
    ["sk-proj-a****WXYZ", true],
    ["sk-proj-abd...WXYZ", false],
    ["sk-proj-abc...WXYz", false],
    ["sk-...Z", true],
    // Too little shown, no marker, or two markers: never a match.
    ["s...Z", false],
    ["sk-proj-abcWXYZ", false],
    ["sk-...abc...WXYZ", false],
    ["...", false],
  ])("%s → %s", (redacted, expected) => {
    expect(matchesRedaction(KEY, redacted)).toBe(expected);
  });

  it("never matches a key shorter than what the redaction shows", () => {
    expect(matchesRedaction("sk-proj-abcWXYZ", "sk-proj-abc...WXYZ")).toBe(false);
  });

  it("reads prefix and suffix", () => {
    expect(parseRedaction("sk-abc...def")).toEqual({ prefix: "sk-abc", suffix: "def" });
  });
});
