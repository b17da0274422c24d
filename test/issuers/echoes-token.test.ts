import { describe, expect, it } from "vitest";
import { echoesToken } from "../../lib/issuers/echoes-token.js";

// The echo guard on its own: where in a parsed answer it looks, and what it leaves alone.

const token = "tqs_0123456789abcdef";

describe("echoesToken", () => {
  it("finds the token in the raw text, in any string at any depth, and in field names", () => {
    expect(echoesToken(`"${token}"`, undefined, token)).toBe(true);
    expect(echoesToken("{}", { a: [{ b: [`x${token}y`] }] }, token)).toBe(true);
    expect(echoesToken("{}", { a: { [token]: 1 } }, token)).toBe(true);
  });

  it("ignores answers without it, numbers and booleans, and tokens too short to tell from words", () => {
    expect(echoesToken("{}", { a: ["tqs_0123", 12, true, null], b: {} }, token)).toBe(false);
    expect(echoesToken('{"status":"active"}', { status: "active" }, "active")).toBe(false);
  });

  it("walks an answer nested deeper, or wider, than the call stack allows without overflowing", () => {
    let deep: unknown = token;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(echoesToken("[]", deep, token)).toBe(true);
    const wide = [...Array.from({ length: 500_000 }, () => 0), token];
    expect(echoesToken("[]", wide, token)).toBe(true);
  });
});
