import { describe, expect, it } from "vitest";
import { truncateUtf8, utf8Bytes, utf8Prefix } from "../../lib/util/utf8.js";

describe("utf8Prefix and truncateUtf8", () => {
  it("leave text that fits alone", () => {
    expect(utf8Prefix("héllo", 6)).toBe("héllo");
    expect(truncateUtf8("héllo", 6)).toBe("héllo");
  });

  it("cut on a character boundary, never inside a multi-byte character or a surrogate pair", () => {
    expect(utf8Prefix("aé", 2)).toBe("a"); // é takes 2 bytes
    expect(utf8Prefix("a😀b", 4)).toBe("a"); // 😀 takes 4 bytes
    expect(utf8Prefix("a😀b", 5)).toBe("a😀");
  });

  it("end a cut with … and stay within the byte budget", () => {
    const cut = truncateUtf8("€".repeat(1_000), 100);
    expect(cut).toMatch(/^€+…$/);
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(100);
    expect(utf8Bytes(cut)).toBeGreaterThan(95);
  });
});
