import { describe, expect, it } from "vitest";
import {
  decodeRemediationMessage,
  encodeRemediationMessage,
  MAX_LEAKS_PER_MESSAGE,
  togetherMessages,
} from "../../lib/queue/remediation-queue.js";

describe("remediation messages", () => {
  it("round-trips a single leak's message without a together field", () => {
    const body = encodeRemediationMessage({ leakId: "lk_1", sealedToken: "v1.sealed" });
    expect(JSON.parse(body)).toEqual({ leakId: "lk_1", sealedToken: "v1.sealed" });
    expect(decodeRemediationMessage(body)).toEqual({ leakId: "lk_1", sealedToken: "v1.sealed" });
  });

  it("round-trips the leaks to remediate together", () => {
    const message = { leakId: "lk_1", sealedToken: "v1.sealed", together: ["lk_2", "lk_3"] };
    expect(decodeRemediationMessage(encodeRemediationMessage(message))).toEqual(message);
  });

  it.each([
    ["not a list", { together: "lk_2" }],
    ["a non-id entry", { together: ["lk_2", "../etc"] }],
    ["a number", { together: [2] }],
    ["too many leaks", { together: Array.from({ length: MAX_LEAKS_PER_MESSAGE }, (_, i) => `lk_${i}`) }],
  ])("refuses a together field with %s", (_, extra) => {
    const body = JSON.stringify({ leakId: "lk_1", sealedToken: "v1.sealed", ...extra });
    expect(() => decodeRemediationMessage(body)).toThrow(/together must be at most 999 leak ids/);
  });

  it("splits leaks into messages of at most the issuer's batch, the first of each carrying its sealed token", () => {
    const leaks = Array.from({ length: 2_500 }, (_, i) => ({ id: `lk_${i}`, sealedToken: `s${i}` }));
    const messages = togetherMessages(leaks);
    expect(messages.map((m) => 1 + (m.together?.length ?? 0))).toEqual([1_000, 1_000, 500]);
    expect(messages.map((m) => [m.leakId, m.sealedToken])).toEqual([
      ["lk_0", "s0"],
      ["lk_1000", "s1000"],
      ["lk_2000", "s2000"],
    ]);
    expect(messages.flatMap((m) => [m.leakId, ...(m.together ?? [])])).toEqual(leaks.map((l) => l.id));
    expect(togetherMessages(leaks.slice(0, 3), 2)).toEqual([
      { leakId: "lk_0", sealedToken: "s0", together: ["lk_1"] },
      { leakId: "lk_2", sealedToken: "s2" },
    ]);
  });
});
