import { afterEach, describe, expect, it, vi } from "vitest";
import { createRemediationMetrics } from "../../lib/runtime/metrics.js";

// Powertools writes metrics as CloudWatch EMF JSON on stdout; the stack's alarms read these names.

afterEach(() => vi.restoreAllMocks());

describe("createRemediationMetrics", () => {
  it("publishes TimeToRevoke and LeaksRevoked in the Tourniquet namespace as one EMF record", () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
    const metrics = createRemediationMetrics();
    metrics.revoked(42);
    metrics.flush();
    const emf = lines.map((line) => line.trim()).find((line) => line.includes("TimeToRevoke"));
    expect(emf).toBeDefined();
    const record = JSON.parse(emf ?? "{}");
    expect(record._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: "Tourniquet",
      Metrics: expect.arrayContaining([{ Name: "TimeToRevoke", Unit: "Milliseconds" }]),
    });
    expect(record.TimeToRevoke).toBe(42);
    expect(record.LeaksRevoked).toBe(1);
  });
});
