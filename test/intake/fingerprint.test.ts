import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fingerprintToken, redactToken } from "../../lib/intake/fingerprint.js";
import { leakIdFor } from "../../lib/store/leak.js";

// What the store keeps instead of a token: its SHA-256 (GitHub's feedback token_hash), a preview too
// short to help an attacker, and a leak id derived from the fingerprint.

const SANDBOX_LIKE = "tqs_4f8a1c9e2b7d6035aa91f2a0b3c4abcd";

describe("fingerprintToken", () => {
  it("is the lowercase hex SHA-256 of the token's UTF-8 bytes", () => {
    expect(fingerprintToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(fingerprintToken("clé_ü")).toBe(
      createHash("sha256").update(Buffer.from("clé_ü", "utf8")).digest("hex"),
    );
  });

  it("differs for tokens that differ only in case or trailing whitespace", () => {
    const fingerprints = new Set(["tqs_abc", "TQS_ABC", "tqs_abc ", "tqs_abc\n"].map(fingerprintToken));
    expect(fingerprints.size).toBe(4);
  });
});

describe("redactToken", () => {
  it("shows a sandbox token as its prefix, an ellipsis and its last 4 chars", () => {
    expect(redactToken(SANDBOX_LIKE)).toBe("tqs_…abcd");
  });

  it("shows only the ellipsis and last 4 chars when the token has no prefix", () => {
    expect(redactToken("A1b2C3d4E5f6G7h8I9j0wxyz")).toBe("…wxyz");
  });

  it("shows only a short lowercase type prefix, so random leading characters stay hidden", () => {
    expect(redactToken("abcdefghij_0123456789wxyz")).toBe("…wxyz");
    expect(redactToken("abcdef_0123456789wxyz")).toBe("abcdef_…wxyz");
    expect(redactToken("xoxb-0123456789-wxyz")).toBe("xoxb-…wxyz");
    expect(redactToken("Ab3_x0123456789wxyz")).toBe("…wxyz");
  });

  it.each(["", "a", "tqs_short", "tqs_0123456789a"])("gives only '…' for the short token %j", (token) => {
    expect(redactToken(token)).toBe("…");
  });

  it("shows a 16-char token (the shortest previewed) without its middle", () => {
    expect(redactToken("tqs_0123456789ab")).toBe("tqs_…89ab");
  });

  it("never shows more than the token's last 4 chars after the ellipsis", () => {
    for (let i = 0; i < 500; i++) {
      const token = `tqs_${randomBytes(8 + (i % 40)).toString("base64url")}`;
      const preview = redactToken(token);
      const [prefix, tail] = preview.split("…") as [string, string];
      expect(tail.length).toBeLessThanOrEqual(4);
      expect(token.endsWith(tail)).toBe(true);
      expect(prefix.length).toBeLessThanOrEqual(8);
      expect(token.startsWith(prefix)).toBe(true);
      expect(preview.length).toBeLessThan(token.length);
    }
  });
});

describe("leakIdFor", () => {
  const fingerprint = fingerprintToken(SANDBOX_LIKE);

  it("is deterministic for one fingerprint", () => {
    expect(leakIdFor(fingerprint)).toBe(leakIdFor(fingerprint));
    expect(leakIdFor(fingerprint)).toMatch(/^lk_[0-9a-f]{24}$/);
  });

  it("differs for different fingerprints", () => {
    const ids = new Set(
      Array.from({ length: 200 }, (_, i) => leakIdFor(fingerprintToken(`${SANDBOX_LIKE}${i}`))),
    );
    expect(ids.size).toBe(200);
    expect(leakIdFor(fingerprint)).not.toBe(leakIdFor(fingerprintToken(`${SANDBOX_LIKE}x`)));
  });

  it("does not expose the fingerprint itself", () => {
    expect(fingerprint).not.toContain(leakIdFor(fingerprint).slice(3));
  });
});
