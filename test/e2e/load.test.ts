import { describe, expect, it } from "vitest";
import { runLoad } from "../../bench/load/run-load.js";

// The CI variant of `npm run load`: the same load code, a few seconds at ten connections, the same checks.

describe("a short load of concurrent partner reports", () => {
  it("answers every kind as expected and leaves one leak, one revocation and one message per channel", async () => {
    const result = await runLoad({ seconds: 4, connections: 10, liveTokens: 150, drainTimeoutMs: 15_000 });

    for (const check of result.checks) expect(check, check.detail).toMatchObject({ ok: true });
    expect(result.passed).toBe(true);
    for (const [kind, counts] of Object.entries(result.requests.byKind))
      expect(counts.answered, `${kind} answered`).toBeGreaterThan(0);
    expect(result.timeToRevokeMs.revoked).toBeGreaterThan(0);
    expect(result.timeToRevokeMs.p99).toBeGreaterThanOrEqual(result.timeToRevokeMs.p50);
    expect(result.answerLatencyMs.p50).toBeGreaterThan(0);
    // The figures written to bench/results hold no token.
    expect(JSON.stringify(result)).not.toMatch(/tqs_|unk_/);
  }, 40_000);
});
