import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type LoadResult, runLoad } from "./load/run-load.js";

// `npm run load`: many concurrent senders of signed partner reports against the local stack for a fixed
// time, then the checks (no 5xx, one leak per token, one revocation per live key, one message per owner
// and channel, queue drained). Flags win over LOAD_* variables. Exits 1 when a check fails.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { values } = parseArgs({
  options: {
    seconds: { type: "string" },
    connections: { type: "string" },
    "live-tokens": { type: "string" },
    "max-requests": { type: "string" },
  },
});

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not "${value}"`);
  return n;
}

const env = process.env;
const options = {
  seconds: positive("--seconds / LOAD_SECONDS", values.seconds ?? env.LOAD_SECONDS, 60),
  connections: positive("--connections / LOAD_CONNECTIONS", values.connections ?? env.LOAD_CONNECTIONS, 50),
  liveTokens: positive(
    "--live-tokens / LOAD_LIVE_TOKENS",
    values["live-tokens"] ?? env.LOAD_LIVE_TOKENS,
    5_000,
  ),
  maxRequests:
    positive("--max-requests / LOAD_MAX_REQUESTS", values["max-requests"] ?? env.LOAD_MAX_REQUESTS, 0) ||
    undefined,
};

function summary(result: LoadResult, file: string): string {
  const r = result.requests;
  const kinds = Object.entries(r.byKind)
    .map(
      ([kind, k]) =>
        `${kind} ${k.sent} (${Object.entries(k.statuses)
          .map(([s, n]) => `${n}× ${s}`)
          .join(", ")})`,
    )
    .join("; ");
  return [
    `load: ${result.setup.connections} connections for ${result.setup.seconds} s on the local stack (${result.setup.store})`,
    `requests: ${r.total} answered, ${r.perSecond.toFixed(0)} per second; ${r.inFlightAtEnd} in flight at the end${r.livePoolExhausted ? "; live pool used up (later new reports became repeats)" : ""}`,
    `  by kind: ${kinds}`,
    `answer latency: p50 ${result.answerLatencyMs.p50} ms, p99 ${result.answerLatencyMs.p99} ms, max ${result.answerLatencyMs.max} ms`,
    `time to revoke (${result.timeToRevokeMs.revoked} keys): p50 ${result.timeToRevokeMs.p50.toFixed(0)} ms, p99 ${result.timeToRevokeMs.p99.toFixed(0)} ms, max ${result.timeToRevokeMs.max.toFixed(0)} ms`,
    `queue: ${result.queueDeliveries} deliveries for ${result.timeToRevokeMs.revoked} revoked keys and the unroutable leaks`,
    `warnings logged: ${
      Object.entries(result.warnings)
        .map(([message, n]) => `${n}× ${message}`)
        .join("; ") || "none"
    }`,
    ...result.checks.map((c) => `${c.ok ? "PASS" : "FAIL"} ${c.name}: ${c.detail}`),
    `written to ${file}`,
  ].join("\n");
}

const result = await runLoad(options);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/load-${result.date.replace(/[:.]/g, "-")}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${summary(result, file)}\n`);
if (!result.passed) process.exitCode = 1;
