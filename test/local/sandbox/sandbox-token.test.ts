import { describe, expect, it } from "vitest";
import {
  generateSandboxToken,
  isWellFormedSandboxToken,
  SANDBOX_TOKEN_LENGTH,
} from "../../../local/sandbox/sandbox-token.js";

describe("generateSandboxToken", () => {
  it("makes prefixed base62 tokens of a fixed length that pass their own checksum", () => {
    for (let i = 0; i < 200; i++) {
      const token = generateSandboxToken();
      expect(token).toMatch(/^tqs_[0-9A-Za-z]{36}$/);
      expect(token).toHaveLength(SANDBOX_TOKEN_LENGTH);
      expect(isWellFormedSandboxToken(token)).toBe(true);
    }
  });

  it("does not repeat itself", () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateSandboxToken));
    expect(tokens.size).toBe(1000);
  });
});

describe("isWellFormedSandboxToken", () => {
  const token = generateSandboxToken();

  it("rejects a wrong prefix, length or charset", () => {
    expect(isWellFormedSandboxToken(`tqx_${token.slice(4)}`)).toBe(false);
    expect(isWellFormedSandboxToken(token.slice(0, -1))).toBe(false);
    expect(isWellFormedSandboxToken(`${token}0`)).toBe(false);
    expect(isWellFormedSandboxToken(`${token.slice(0, 10)}-${token.slice(11)}`)).toBe(false);
    expect(isWellFormedSandboxToken("")).toBe(false);
  });

  it("rejects a token whose random part was altered (checksum mismatch)", () => {
    const body = token.slice(4);
    const flipped = body[0] === "A" ? "B" : "A";
    expect(isWellFormedSandboxToken(`tqs_${flipped}${body.slice(1)}`)).toBe(false);
  });

  it("accepts the documented example token", () => {
    expect(isWellFormedSandboxToken("tqs_JSBIE3fv52h3yqrfyNtzLP0k5DHQf93YQYbr")).toBe(true);
  });
});
