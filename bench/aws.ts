import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprintToken } from "../lib/intake/fingerprint.js";
import { silentLog } from "../lib/log.js";
import { leakIdFor } from "../lib/store/leak.js";
import { loadDevSigningKey, signPartnerReport } from "../local/dev-signing-key.js";
import { LOCAL_AWS } from "../local/local-aws.js";
import { startLocalStack } from "../local/local-stack.js";
import { median, quantile } from "./stats.js";

// `npm run bench` (after bench/azure.ts): a leaked AWS key pair reported to the local stack, whose AWS
// issuer speaks to the loopback fake STS/IAM through AWS's SDK clients (signatures checked): time from
// report received to deactivation confirmed (leak.time_to_revoke_ms), and the STS/IAM calls it took.
// Each round is a new stack: its first leak is cold (new clients; an AssumeRole for the member account;
// in round 1 also the SDK chunk's first load), the following ones warm. Medians of rounds.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROUNDS = Number(process.env.BENCH_AWS_ROUNDS ?? 5);
const WARM_PER_ROUND = Number(process.env.BENCH_AWS_WARM ?? 20);

async function round() {
  const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-bench-aws-"));
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    log: silentLog,
    env: { GITHUB_PUBLIC_KEYS_URL: undefined },
    inMemoryDb: true,
  });
  const signingKey = loadDevSigningKey(join(dataDir, "dev-github-signing-key.pem"));
  const leakOnce = async (i: number) => {
    // Alternate the account Tourniquet runs in and the member account reached through its role.
    const account = i % 2 === 0 ? LOCAL_AWS.memberAccount : LOCAL_AWS.homeAccount;
    const key = stack.aws.addKey(account, `bench-${i}`);
    const url = `https://bench.example/aws/${i}/.env`;
    const body = JSON.stringify([
      { token: key.accessKeyId, type: "aws_access_key_id", url, source: "commit" },
      { token: key.secretAccessKey, type: "aws_secret_access_key", url, source: "commit" },
    ]);
    const callsBefore = stack.aws.calls.length;
    const response = await fetch(`${stack.url}/v1/github/secret-scanning`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signPartnerReport(signingKey, body) },
      body,
    });
    if (response.status !== 200) throw new Error(`report answered ${response.status}`);
    await stack.queue.drain();
    const leak = await stack.store.getLeak(leakIdFor(fingerprintToken(key.accessKeyId)));
    if (leak?.status !== "revoked" || !leak.replacement) throw new Error(`leak ended ${leak?.status}`);
    const calls = stack.aws.calls.slice(callsBefore);
    return {
      timeToRevokeMs: leak.timeToRevokeMs ?? Number.NaN,
      awsCalls: calls.length,
      writes: calls.filter((c) => /^(Update|Delete|Create)AccessKey|AttachUserPolicy$/.test(c.action)).length,
    };
  };
  try {
    const cold = await leakOnce(0);
    const warm = [];
    for (let i = 1; i <= WARM_PER_ROUND; i++) warm.push(await leakOnce(i));
    return { cold, warm };
  } finally {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rounds: Awaited<ReturnType<typeof round>>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  rounds.push(await round());
  process.stderr.write(`aws round ${r + 1}/${ROUNDS} done\n`);
}
const warmTimes = (r: (typeof rounds)[number]) => r.warm.map((w) => w.timeToRevokeMs);
const result = {
  date: new Date().toISOString(),
  machine: { node: process.version, platform: process.platform, arch: process.arch },
  setup: {
    rounds: ROUNDS,
    warmLeaksPerRound: WARM_PER_ROUND,
    mode: "revoke_and_rotate, quarantine on (config/local.json)",
    accounts: "alternating: Tourniquet's own account, a member account through its responder role",
  },
  cold: {
    description: "first leak of a new stack: report received → deactivation confirmed",
    medianMs: median(rounds.map((r) => r.cold.timeToRevokeMs)),
    round1Ms: rounds[0]?.cold.timeToRevokeMs,
  },
  warm: {
    description: "later leaks: report received → deactivation confirmed",
    medianOfRoundMediansMs: median(rounds.map((r) => median(warmTimes(r)))),
    medianOfRoundP99sMs: median(rounds.map((r) => quantile(warmTimes(r), 0.99))),
    awsCallsPerLeak: median(rounds.flatMap((r) => r.warm.map((w) => w.awsCalls))),
    writesPerLeak: median(rounds.flatMap((r) => r.warm.map((w) => w.writes))),
  },
  rounds,
};
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/aws-${result.date.replace(/[:.]/g, "-")}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `AWS key pair → deactivated: cold median ${result.cold.medianMs.toFixed(0)} ms (round 1 ${result.cold.round1Ms?.toFixed(0)} ms); ` +
    `warm median ${result.warm.medianOfRoundMediansMs.toFixed(0)} ms, p99 ${result.warm.medianOfRoundP99sMs.toFixed(0)} ms; ` +
    `${result.warm.awsCallsPerLeak} STS/IAM calls per leak (${result.warm.writesPerLeak} writes: deactivate, quarantine, create)\nwritten to ${file}\n`,
);
