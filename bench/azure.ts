import { mkdirSync, writeFileSync } from "node:fs";
import { AzureIssuer } from "../lib/issuers/azure/azure-issuer.js";
import { AZURE_APP, azureManagement, startFakeAzure } from "../test/helpers/fake-azure.js";
import { median } from "./stats.js";

// `npm run bench` (after bench/run.ts): verification of one Azure key among 300 Cognitive Services
// accounts in 3 subscriptions, against the loopback fake Azure over HTTPS through Microsoft's SDKs:
// cold (a new issuer: accounts listed, keys read 8 at a time) and warm (the fingerprint cache knows the
// account). Reported in ARM calls (the fake counts them) and milliseconds, medians of several runs.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const RUNS = Number(process.env.BENCH_AZURE_RUNS ?? 5);
const ACCOUNTS = 300;
const SUBSCRIPTIONS = [
  "11111111-1111-4111-8111-111111111111",
  "22222222-2222-4222-8222-222222222222",
  "33333333-3333-4333-8333-333333333333",
];

async function main() {
  // ARM's own page size for this list is 100 accounts.
  const azure = await startFakeAzure({ pageSize: 100 });
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) =>
    azure.addAccount({
      subscriptionId: SUBSCRIPTIONS[i % SUBSCRIPTIONS.length] as string,
      resourceGroup: `rg-${i % 7}`,
      name: `account-${i}`,
      tags: { owner: `team-${i}@example.test` },
    }),
  );
  const management = azureManagement(azure, { timeoutMs: 30_000 });
  const cold: { ms: number; armCalls: number }[] = [];
  const warm: { ms: number; armCalls: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    // A new issuer is a cold container: no fingerprints yet. The key sits in the last account listed.
    const issuer = new AzureIssuer({
      name: "azure",
      management,
      subscriptions: SUBSCRIPTIONS,
      ownerTags: ["owner"],
    });
    const target = accounts[ACCOUNTS - 1 - run] ?? accounts[0];
    for (const [phase, into] of [
      ["cold", cold],
      ["warm", warm],
    ] as const) {
      const before = azure.armCalls().length;
      const started = performance.now();
      const answer = await issuer.verify({ token: target?.key1 ?? "", type: "azure_openai_key" });
      const ms = performance.now() - started;
      if (answer.status !== "active") throw new Error(`${phase} verification did not find the key`);
      into.push({ ms, armCalls: azure.armCalls().length - before });
    }
  }
  await azure.close();
  const result = {
    date: new Date().toISOString(),
    machine: { node: process.version, platform: process.platform, arch: process.arch },
    setup: {
      accounts: ACCOUNTS,
      subscriptions: SUBSCRIPTIONS.length,
      pageSize: 100,
      runs: RUNS,
      client: AZURE_APP.clientId,
    },
    cold: {
      medianMs: median(cold.map((r) => r.ms)),
      medianArmCalls: median(cold.map((r) => r.armCalls)),
      runs: cold,
    },
    warm: {
      medianMs: median(warm.map((r) => r.ms)),
      medianArmCalls: median(warm.map((r) => r.armCalls)),
      runs: warm,
    },
    target: { warmArmCallsAtMost: 3, met: Math.max(...warm.map((r) => r.armCalls)) <= 3 },
  };
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/azure-${result.date.replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `Azure verification among ${ACCOUNTS} accounts: cold median ${result.cold.medianMs.toFixed(0)} ms, ${result.cold.medianArmCalls} ARM calls; ` +
      `warm median ${result.warm.medianMs.toFixed(0)} ms, ${result.warm.medianArmCalls} ARM calls (target ≤ 3: ${result.target.met ? "met" : "MISSED"})\nwritten to ${file}\n`,
  );
}

await main();
