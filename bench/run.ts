import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprintToken } from "../lib/intake/fingerprint.js";
import { silentLog } from "../lib/log.js";
import { leakIdFor } from "../lib/store/leak.js";
import { loadDevSigningKey, signPartnerReport } from "../local/dev-signing-key.js";
import { type LocalStack, startLocalStack } from "../local/local-stack.js";
import { median, quantile, waitFor } from "./stats.js";

// `npm run bench`: on the local stack (LevelDB-backed dynalite, in-process queue, sandbox issuer over
// HTTP), measures time from report received to revocation confirmed for single-token reports, and the
// time to answer a signed batch of 1,000 matches. Several rounds; medians of rounds are reported.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REPORTS_PER_ROUND = Number(process.env.BENCH_REPORTS ?? 100);
const BATCH_SIZE = 1_000;
const TARGETS = { timeToRevokeP99Ms: 250, batch1000Ms: 5_000 };

async function post(stack: LocalStack, body: string, key: ReturnType<typeof loadDevSigningKey>) {
  const response = await fetch(`${stack.url}/v1/github/secret-scanning`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signPartnerReport(key, body) },
    body,
  });
  if (response.status !== 200)
    throw new Error(`report answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as unknown[];
}

async function timeToRevokeRound(stack: LocalStack, key: ReturnType<typeof loadDevSigningKey>) {
  const serverMs: number[] = [];
  const clientMs: number[] = [];
  for (let i = 0; i < REPORTS_PER_ROUND; i++) {
    const { token } = stack.sandbox.issue();
    const id = leakIdFor(fingerprintToken(token));
    const body = JSON.stringify([
      { token, type: "tourniquet_sandbox_token", url: `https://bench.example/${i}`, source: "commit" },
    ]);
    const sent = performance.now();
    await post(stack, body, key);
    const leak = await waitFor(async () => {
      const current = await stack.store.getLeak(id);
      return current?.status === "revoked" ? current : undefined;
    });
    clientMs.push(performance.now() - sent);
    serverMs.push(leak.timeToRevokeMs ?? Number.NaN);
  }
  await stack.queue.drain();
  return {
    server: { median: median(serverMs), p99: quantile(serverMs, 0.99) },
    client: { median: median(clientMs), p99: quantile(clientMs, 0.99) },
  };
}

async function batchRound(stack: LocalStack, key: ReturnType<typeof loadDevSigningKey>) {
  const matches = Array.from({ length: BATCH_SIZE }, (_, i) => ({
    token: stack.sandbox.issue().token,
    type: "tourniquet_sandbox_token",
    url: `https://bench.example/batch/${i}`,
    source: "content",
  }));
  const body = JSON.stringify(matches);
  const started = performance.now();
  const feedback = await post(stack, body, key);
  const answeredMs = performance.now() - started;
  await stack.queue.drain();
  const allRevokedMs = performance.now() - started;
  return { answeredMs, labelled: feedback.length, allRevokedMs };
}

const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-bench-"));
const stack = await startLocalStack({
  port: 0,
  dataDir,
  log: silentLog,
  env: { GITHUB_PUBLIC_KEYS_URL: undefined },
  inMemoryDb: process.env.BENCH_IN_MEMORY === "1",
});
const signingKey = loadDevSigningKey(join(dataDir, "dev-github-signing-key.pem"));
try {
  await timeToRevokeRound(stack, signingKey); // warm-up: connections, key cache, JIT
  const revokeRounds = [];
  const batchRounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    revokeRounds.push(await timeToRevokeRound(stack, signingKey));
    batchRounds.push(await batchRound(stack, signingKey));
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  const result = {
    date: new Date().toISOString(),
    machine: { node: process.version, platform: process.platform, arch: process.arch },
    setup: {
      rounds: ROUNDS,
      reportsPerRound: REPORTS_PER_ROUND,
      batchSize: BATCH_SIZE,
      store: "dynalite (LevelDB files)",
    },
    targets: TARGETS,
    timeToRevoke: {
      description:
        "report received → revocation confirmed by re-verification (server clock, leak.time_to_revoke_ms)",
      medianOfRoundMediansMs: median(revokeRounds.map((r) => r.server.median)),
      medianOfRoundP99sMs: median(revokeRounds.map((r) => r.server.p99)),
      clientObserved: {
        description: "client sends report → client sees status revoked (adds HTTP and polling)",
        medianOfRoundMediansMs: median(revokeRounds.map((r) => r.client.median)),
        medianOfRoundP99sMs: median(revokeRounds.map((r) => r.client.p99)),
      },
      rounds: revokeRounds,
    },
    batch1000: {
      description: "signed report of 1,000 distinct live tokens → 200 with feedback",
      medianAnsweredMs: median(batchRounds.map((r) => r.answeredMs)),
      medianAllRevokedMs: median(batchRounds.map((r) => r.allRevokedMs)),
      rounds: batchRounds,
    },
  };
  const verdict = {
    timeToRevokeP99: result.timeToRevoke.medianOfRoundP99sMs < TARGETS.timeToRevokeP99Ms ? "met" : "MISSED",
    batch1000: result.batch1000.medianAnsweredMs < TARGETS.batch1000Ms ? "met" : "MISSED",
  };
  const out = { ...result, verdict };
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/bench-${result.date.replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync("bench/results/latest.json", `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `${[
      `time to revoke (server): median ${out.timeToRevoke.medianOfRoundMediansMs.toFixed(0)} ms, p99 ${out.timeToRevoke.medianOfRoundP99sMs.toFixed(0)} ms (target p99 < ${TARGETS.timeToRevokeP99Ms} ms: ${verdict.timeToRevokeP99})`,
      `time to revoke (client-observed): median ${out.timeToRevoke.clientObserved.medianOfRoundMediansMs.toFixed(0)} ms, p99 ${out.timeToRevoke.clientObserved.medianOfRoundP99sMs.toFixed(0)} ms`,
      `1,000-match batch answered: median ${out.batch1000.medianAnsweredMs.toFixed(0)} ms (target < ${TARGETS.batch1000Ms} ms: ${verdict.batch1000}); all revoked after ${out.batch1000.medianAllRevokedMs.toFixed(0)} ms; labelled ${batchRounds.map((r) => r.labelled).join("/")}`,
      `written to ${file}`,
    ].join("\n")}\n`,
  );
} finally {
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
