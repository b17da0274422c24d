import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprintToken } from "../lib/intake/fingerprint.js";
import { silentLog } from "../lib/log.js";
import { type Leak, leakIdFor } from "../lib/store/leak.js";
import { mapWithConcurrency } from "../lib/util/concurrency.js";
import { loadDevSigningKey, signPartnerReport } from "../local/dev-signing-key.js";
import { type EmbeddedDynamo, startDynaliteProcess } from "../local/embedded-dynamodb.js";
import { startLocalStack } from "../local/local-stack.js";

// `npx tsx bench/mass-leak.ts` (in `npm run bench`): one signed partner report of 20,000 matches (a
// public repository full of keys) against the local stack. Measures the time to answer (target: under
// 10 s, well inside the deployed intake's 25 s), the process's peak RSS while answering and until every
// token is settled (target: under 512 MB), and the time until every token is remediated: each live key
// revoked, each unknown one marked false_positive. The tokens are the sandbox issuer's; BENCH_MASS_LIVE
// says how many of them are live keys (default 2,000: a tenth, the rest keys the issuer does not know,
// so the bench ends in minutes; every one of the 20,000 is still verified at the issuer).

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const MATCHES = Number(process.env.BENCH_MASS_MATCHES ?? 20_000);
const LIVE = Math.min(MATCHES, Number(process.env.BENCH_MASS_LIVE ?? 2_000));
const TARGETS = { answerMs: 10_000, peakRssMb: 512 };
const SETTLED = new Set(["revoked", "false_positive"]);

/** The leaks, read a few batches at a time: 200 batch reads at once would crowd out the worker. */
async function leaksOf(ids: readonly string[]): Promise<Map<string, Leak>> {
  const chunks = Array.from({ length: Math.ceil(ids.length / 500) }, (_, i) =>
    ids.slice(i * 500, i * 500 + 500),
  );
  const found = await mapWithConcurrency(chunks, 2, (chunk) => stack.store.getLeaks(chunk));
  return new Map(found.flatMap((map) => [...map]));
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** A process's resident memory (Linux), for the engine's process. */
function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-mass-"));
// The engine in a process of its own: what is measured is the stack's memory (the intake, with the
// worker and the fake issuer beside it), as a deployed intake has no database in its process.
let engine: EmbeddedDynamo | undefined;
const stack = await startLocalStack({
  port: 0,
  dataDir,
  log: silentLog,
  env: { GITHUB_PUBLIC_KEYS_URL: undefined },
  startDb: async (options) => {
    engine = await startDynaliteProcess(options);
    return engine;
  },
});
try {
  const key = loadDevSigningKey(join(dataDir, "dev-github-signing-key.pem"));
  // A dead key looks like a live one to a scanner: same prefix and length, unknown to the issuer.
  const live = Array.from({ length: LIVE }, () => stack.sandbox.issue().token);
  const sample = live[0] ?? stack.sandbox.issue().token;
  const dead = Array.from({ length: MATCHES - LIVE }, (_, i) =>
    `${sample.slice(0, -12)}${i.toString(36).padStart(12, "0")}`.slice(0, sample.length),
  );
  const tokens = [...live, ...dead];
  const body = JSON.stringify(
    tokens.map((token, i) => ({
      token,
      type: "tourniquet_sandbox_token",
      url: `https://github.com/bench-org/leaky-monorepo/blob/main/svc-${i % 97}/keys-${i}.env`,
      source: "content",
    })),
  );
  const ids = tokens.map((token) => leakIdFor(fingerprintToken(token)));

  let peakRss = process.memoryUsage().rss;
  const baseRss = peakRss;
  let peakEngineRss = rssOf(engine?.pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakEngineRss = Math.max(peakEngineRss, rssOf(engine?.pid));
  }, 20);

  const sent = performance.now();
  const response = await fetch(`${stack.url}/v1/github/secret-scanning`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signPartnerReport(key, body) },
    body,
  });
  const answerMs = performance.now() - sent;
  const answerText = await response.text();
  if (response.status !== 200) throw new Error(`report answered ${response.status}: ${answerText}`);
  const labelled = (JSON.parse(answerText) as unknown[]).length;
  const peakRssAnswering = Math.max(peakRss, process.memoryUsage().rss);
  process.stderr.write(`answered ${response.status} in ${Math.round(answerMs)} ms, ${labelled} labelled\n`);

  // Until the queue is empty and every leak is settled (a message may still be on its way back).
  const statuses = new Map<string, number>();
  let settledMs = Number.NaN;
  for (;;) {
    await stack.queue.drain();
    const leaks = await leaksOf(ids);
    statuses.clear();
    for (const leak of leaks.values()) statuses.set(leak.status, (statuses.get(leak.status) ?? 0) + 1);
    const settled = [...leaks.values()].filter((leak) => SETTLED.has(leak.status)).length;
    if (leaks.size === ids.length && settled === ids.length) {
      settledMs = performance.now() - sent;
      break;
    }
    if (performance.now() - sent > 60 * 60_000) throw new Error("not settled within an hour");
    process.stderr.write(`${JSON.stringify(Object.fromEntries(statuses))}\n`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  clearInterval(sampler);
  const revocations = stack.sandbox.list().filter((k) => k.status === "revoked").length;

  const result = {
    date: new Date().toISOString(),
    machine: { node: process.version, platform: process.platform, arch: process.arch },
    setup: {
      matches: MATCHES,
      live: LIVE,
      bodyBytes: Buffer.byteLength(body),
      store: "dynalite (LevelDB files), in a child process",
      inlineMaxTokens: stack.config.intake.inline_max_tokens,
    },
    targets: TARGETS,
    answerMs: Math.round(answerMs),
    labelled,
    rssMb: {
      description: "the stack's process (intake, in-process worker, fake issuer); the engine runs apart",
      before: mb(baseRss),
      peakWhileAnswering: mb(peakRssAnswering),
      peak: mb(peakRss),
      enginePeak: mb(peakEngineRss),
    },
    timeUntilAllRemediatedMs: Math.round(settledMs),
    statuses: Object.fromEntries(statuses),
    revocationsAtIssuer: revocations,
    verdict: {
      answer: answerMs < TARGETS.answerMs ? "met" : "MISSED",
      memory: mb(peakRss) < TARGETS.peakRssMb ? "met" : "MISSED",
      everyTokenRemediated: revocations === LIVE ? "yes" : `NO (${revocations} revocations for ${LIVE} live)`,
    },
  };
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/mass-leak-${result.date.replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `${[
      `mass leak: ${MATCHES} matches (${LIVE} live, ${mb(result.setup.bodyBytes)} MB) answered in ${result.answerMs} ms (target < ${TARGETS.answerMs}: ${result.verdict.answer}), ${labelled} labelled`,
      `  peak RSS of the stack ${result.rssMb.peakWhileAnswering} MB answering, ${result.rssMb.peak} MB until settled (from ${result.rssMb.before}; target < ${TARGETS.peakRssMb}: ${result.verdict.memory}); the engine's process ${result.rssMb.enginePeak} MB`,
      `  every token remediated after ${(settledMs / 1000).toFixed(1)} s: ${JSON.stringify(result.statuses)}; ${revocations} revocations at the issuer`,
      `  written to ${file}`,
    ].join("\n")}\n`,
  );
} finally {
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
