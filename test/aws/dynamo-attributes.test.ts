import { describe, expect, it } from "vitest";
import {
  type AttributeMap,
  type AttributeValue,
  fromAttribute,
  fromAttributes,
  toAttribute,
  toAttributes,
} from "../../lib/aws/dynamo-attributes.js";

const leakLike = {
  pk: "LEAK#01J",
  sk: "LEAK",
  version: 7,
  score: -0.125,
  big: Number.MAX_SAFE_INTEGER,
  revoked: false,
  closedAt: null,
  empty: "",
  unicode: "ü€ 🔑",
  details: {
    issuer: { name: "github", tokenPrefix: "ghp_" },
    attempts: [1, 2.5, { at: "2026-01-01T00:00:00Z", ok: true }, [null, "x", []]],
    nothing: {},
  },
  tags: [],
};

describe("toAttributes / fromAttributes", () => {
  it("round-trips nested maps, lists and every scalar", () => {
    expect(fromAttributes(toAttributes(leakLike))).toEqual(leakLike);
  });

  it("writes the typed shape DynamoDB expects", () => {
    const attributes = toAttributes(leakLike);
    expect(attributes.version).toEqual({ N: "7" });
    expect(attributes.closedAt).toEqual({ NULL: true });
    expect(attributes.revoked).toEqual({ BOOL: false });
    expect(attributes.details).toEqual({
      M: {
        issuer: { M: { name: { S: "github" }, tokenPrefix: { S: "ghp_" } } },
        attempts: {
          L: [
            { N: "1" },
            { N: "2.5" },
            { M: { at: { S: "2026-01-01T00:00:00Z" }, ok: { BOOL: true } } },
            { L: [{ NULL: true }, { S: "x" }, { L: [] }] },
          ],
        },
        nothing: { M: {} },
      },
    });
    expect(attributes.unicode).toEqual({ S: "ü€ 🔑" });
    expect(attributes.tags).toEqual({ L: [] });
  });

  it("drops undefined fields in maps, at any depth", () => {
    const attributes = toAttributes({ a: 1, gone: undefined, nested: { keep: "x", gone: undefined } });
    expect(attributes).toEqual({ a: { N: "1" }, nested: { M: { keep: { S: "x" } } } });
    expect(Object.hasOwn(attributes, "gone")).toBe(false);
    expect(fromAttributes(attributes)).toEqual({ a: 1, nested: { keep: "x" } });
  });

  it("drops undefined items in lists, at any depth", () => {
    expect(toAttribute([undefined, 1, undefined, [undefined, "a"]])).toEqual({
      L: [{ N: "1" }, { L: [{ S: "a" }] }],
    });
    expect(toAttributes({ list: [undefined] })).toEqual({ list: { L: [] } });
  });

  it("rejects non-finite numbers, wherever they are", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => toAttribute(bad)).toThrow(TypeError);
      expect(() => toAttributes({ deep: { list: [1, bad] } })).toThrow(TypeError);
    }
  });

  it("rejects numbers it cannot store exactly", () => {
    expect(() => toAttribute(2 ** 53 + 2)).toThrow(RangeError);
    expect(() => toAttribute(-(2 ** 53) - 2)).toThrow(RangeError);
    expect(() => toAttribute(1e300)).toThrow(RangeError);
    expect(toAttribute(-Number.MAX_SAFE_INTEGER)).toEqual({ N: "-9007199254740991" });
  });

  it("rejects types it has no attribute for", () => {
    for (const bad of [10n, Symbol("s"), () => 1]) {
      expect(() => toAttribute(bad)).toThrow(TypeError);
      expect(() => toAttributes({ nested: { bad } })).toThrow(TypeError);
    }
  });

  it("rejects objects that are not plain rather than storing them as empty maps", () => {
    class Point {
      constructor(readonly x = 1) {}
    }
    for (const bad of [
      new Date(0),
      new Map([["a", 1]]),
      new Set(["a"]),
      new Uint8Array([1, 2]),
      new Point(),
    ]) {
      expect(() => toAttribute(bad)).toThrow(TypeError);
      expect(() => toAttributes({ when: bad })).toThrow(/cannot store a value of type \w+/);
    }
    // A null-prototype object is still a plain record.
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: "b" });
    expect(toAttribute(bare)).toEqual({ M: { a: { S: "b" } } });
  });
});

describe("fromAttribute", () => {
  it("decodes sets and binaries", () => {
    const map: AttributeMap = {
      ss: { SS: ["a", "b"] },
      ns: { NS: ["1", "-2.5", "1e3"] },
      b: { B: "AQID" },
      bs: { BS: ["AQ==", "Ag=="] },
    };
    expect(fromAttributes(map)).toEqual({
      ss: ["a", "b"],
      ns: [1, -2.5, 1000],
      b: "AQID",
      bs: ["AQ==", "Ag=="],
    });
  });

  it("decodes numbers as numbers, not strings", () => {
    const decoded = fromAttributes({ n: { N: "42" }, f: { N: "-0.5" } });
    expect(decoded).toEqual({ n: 42, f: -0.5 });
    expect(typeof decoded.n).toBe("number");
  });

  it("copies sets rather than sharing the response's arrays", () => {
    const ss = ["a"];
    const decoded = fromAttribute({ SS: ss }) as string[];
    decoded.push("b");
    expect(ss).toEqual(["a"]);
  });

  it("rejects an attribute of unknown type", () => {
    expect(() => fromAttribute({ X: "1" } as unknown as AttributeValue)).toThrow(/unknown attribute type X/);
    expect(() => fromAttributes({ ok: { S: "x" }, bad: {} as AttributeValue })).toThrow(TypeError);
  });
});
