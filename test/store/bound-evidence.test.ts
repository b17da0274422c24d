import { describe, expect, it } from "vitest";
import { boundEvidence, EVIDENCE_MAX_BYTES } from "../../lib/store/bound-evidence.js";
import { utf8Bytes } from "../../lib/util/utf8.js";

// What of an issuer's evidence a leak keeps. The engine-level tests (test/intake/bounded-answers.test.ts)
// show the items it yields are accepted by the embedded DynamoDB engine.

const size = (value: unknown) => utf8Bytes(JSON.stringify(value));

describe("boundEvidence", () => {
  it("keeps evidence within the limit exactly as sent", () => {
    const evidence = {
      created_at: "2026-01-01T00:00:00Z",
      last_used_at: null,
      scopes: ["read", "write"],
      n: 3,
    };
    expect(boundEvidence(evidence)).toEqual(evidence);
    expect(boundEvidence(undefined)).toBeUndefined();
  });

  it("drops the fields that do not fit, in the issuer's order, and names them in _truncated", () => {
    const bounded = boundEvidence({
      first: "a",
      huge: "x".repeat(EVIDENCE_MAX_BYTES),
      second: "b".repeat(4_000),
      third: "c".repeat(4_000),
      fourth: "d",
    });
    expect(bounded).toEqual({
      first: "a",
      second: "b".repeat(4_000),
      fourth: "d",
      _truncated: { dropped: ["huge", "third"], dropped_count: 2, limit_bytes: EVIDENCE_MAX_BYTES },
    });
    expect(size(bounded)).toBeLessThanOrEqual(EVIDENCE_MAX_BYTES);
  });

  it("stays within the limit with thousands of fields and long names, listing only the first drops", () => {
    const evidence = Object.fromEntries(
      Array.from({ length: 5_000 }, (_, i) => [`${"f".repeat(120)}${i}`, "v".repeat(50)]),
    );
    const bounded = boundEvidence(evidence) ?? {};
    const marker = bounded._truncated as { dropped: string[]; dropped_count: number };
    expect(marker.dropped).toHaveLength(20);
    expect(marker.dropped_count).toBeGreaterThan(4_900);
    expect(size(bounded)).toBeLessThanOrEqual(EVIDENCE_MAX_BYTES);
  });

  it("drops a field with a name over 128 bytes", () => {
    expect(boundEvidence({ ["n".repeat(129)]: 1, ok: 2 })).toEqual({
      ok: 2,
      _truncated: { dropped: ["n".repeat(64)], dropped_count: 1, limit_bytes: EVIDENCE_MAX_BYTES },
    });
  });

  it("turns numbers the store cannot hold exactly into text, and leaves undefined fields out", () => {
    expect(
      boundEvidence({ big: 2 ** 60, small: -(2 ** 60), tiny: 1e-200, fine: 1.5, missing: undefined }),
    ).toEqual({ big: String(2 ** 60), small: String(-(2 ** 60)), tiny: "1e-200", fine: 1.5 });
  });

  it("drops a field nested more than 16 levels deep and keeps one at 16", () => {
    const nest = (levels: number) => {
      let value: unknown = "bottom";
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    const bounded = boundEvidence({ ok: nest(16), deep: nest(17) });
    expect(bounded?.ok).toEqual(nest(16));
    expect(bounded?._truncated).toEqual({
      dropped: ["deep"],
      dropped_count: 1,
      limit_bytes: EVIDENCE_MAX_BYTES,
    });
  });
});
