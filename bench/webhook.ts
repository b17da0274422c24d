import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhooks } from "@octokit/webhooks";
import { fingerprintToken } from "../lib/intake/fingerprint.js";
import { silentLog } from "../lib/log.js";
import { leakIdFor } from "../lib/store/leak.js";
import { type LocalStack, startLocalStack } from "../local/local-stack.js";
import { median, quantile, waitFor } from "./stats.js";

// `npm run bench` (webhook part): the GitHub App webhook on the local stack. Each delivery is a signed
// secret_scanning_alert for a live sandbox key held in the stack's fake GitHub; measured: the time to
// the webhook's answer (the target: p99 under 100 ms, since it no longer waits on GitHub), and the time
// from the delivery to the key revoked (the worker's fetch, verification, revocation, re-verification).
// Several rounds; the medians of the rounds' figures are reported.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// Each round ends by draining the queue, which includes resolving every alert in GitHub at GitHub's one
// write a second: 40 deliveries keep a round under a minute.
const DELIVERIES_PER_ROUND = Number(process.env.BENCH_DELIVERIES ?? 40);
const TARGETS = { answerP99Ms: 100 };

async function round(stack: LocalStack, hooks: Webhooks) {
  const answerMs: number[] = [];
  const revokedMs: number[] = [];
  for (let i = 0; i < DELIVERIES_PER_ROUND; i++) {
    const { token } = stack.sandbox.issue();
    const alert = stack.githubApi.createAlert({
      repository: "bench/app",
      secret: token,
      secret_type: "tourniquet_sandbox_token",
    });
    const body = JSON.stringify(stack.githubApi.webhookPayload(alert));
    const headers = {
      "content-type": "application/json",
      "x-github-event": "secret_scanning_alert",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": await hooks.sign(body),
    };
    const sent = performance.now();
    const response = await fetch(`${stack.url}/v1/github/webhooks`, { method: "POST", headers, body });
    answerMs.push(performance.now() - sent);
    if (response.status !== 202)
      throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
    const id = leakIdFor(fingerprintToken(token));
    await waitFor(async () => ((await stack.store.getLeak(id))?.status === "revoked" ? true : undefined));
    revokedMs.push(performance.now() - sent);
  }
  await stack.queue.drain();
  return {
    answer: { median: median(answerMs), p99: quantile(answerMs, 0.99) },
    deliveryToRevoked: { median: median(revokedMs), p99: quantile(revokedMs, 0.99) },
  };
}

const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-bench-webhook-"));
const stack = await startLocalStack({
  port: 0,
  dataDir,
  log: silentLog,
  env: { GITHUB_PUBLIC_KEYS_URL: undefined },
});
const hooks = new Webhooks({ secret: stack.githubWebhookSecret });
try {
  await round(stack, hooks); // warm-up: the App's JWT and installation token, connections, JIT
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push(await round(stack, hooks));
    process.stderr.write(`webhook round ${r + 1}/${ROUNDS} done\n`);
  }
  const result = {
    date: new Date().toISOString(),
    machine: { node: process.version, platform: process.platform, arch: process.arch },
    setup: { rounds: ROUNDS, deliveriesPerRound: DELIVERIES_PER_ROUND, store: "dynalite (LevelDB files)" },
    targets: TARGETS,
    answer: {
      description: "signed secret_scanning_alert sent → 202 received (client clock, over loopback HTTP)",
      medianOfRoundMediansMs: median(rounds.map((r) => r.answer.median)),
      medianOfRoundP99sMs: median(rounds.map((r) => r.answer.p99)),
    },
    deliveryToRevoked: {
      description: "delivery sent → leak revoked (the worker fetched the alert from the fake GitHub)",
      medianOfRoundMediansMs: median(rounds.map((r) => r.deliveryToRevoked.median)),
      medianOfRoundP99sMs: median(rounds.map((r) => r.deliveryToRevoked.p99)),
    },
    rounds,
  };
  const verdict = { answerP99: result.answer.medianOfRoundP99sMs < TARGETS.answerP99Ms ? "met" : "MISSED" };
  const out = { ...result, verdict };
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/webhook-${result.date.replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `${[
      `webhook answered: median ${out.answer.medianOfRoundMediansMs.toFixed(1)} ms, p99 ${out.answer.medianOfRoundP99sMs.toFixed(1)} ms (target p99 < ${TARGETS.answerP99Ms} ms: ${verdict.answerP99})`,
      `delivery to revoked: median ${out.deliveryToRevoked.medianOfRoundMediansMs.toFixed(0)} ms, p99 ${out.deliveryToRevoked.medianOfRoundP99sMs.toFixed(0)} ms`,
      `written to ${file}`,
    ].join("\n")}\n`,
  );
} finally {
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
