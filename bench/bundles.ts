import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type BuiltBundle,
  buildBundles,
  type Contributor,
  outputInputs,
  REPO_ROOT,
  topContributors,
} from "../test/helpers/bundles.js";
import { median } from "./stats.js";

// `npm run bench` (second part): builds every Lambda handler exactly as the CDK stack bundles it
// (infra/function-bundles.ts) and reports, per function, the minified size of what a cold start loads
// (index.mjs and the chunks it imports statically, without source maps), the chunks loaded only by a
// dynamic import (Azure's SDKs) separately, and the cold module-load time: the median over fresh `node` processes of the time from just
// before `await import(bundle)` to just after, measured inside the child so process start-up is not
// counted. Budgets (issue 8, with the AWS SDK v3 clients bundled): the intakes at most 700 KB and
// 150 ms, the worker 1.2 MB and 250 ms, the admin API 600 KB and 150 ms.

const LOAD_RUNS = Math.max(7, Number(process.env.BENCH_LOAD_RUNS ?? 9));
const INTAKE = "PartnerReport";
const BUDGETS: Record<string, { maxKB: number; maxLoadMs: number }> = {
  PartnerReport: { maxKB: 700, maxLoadMs: 150 },
  GithubWebhook: { maxKB: 700, maxLoadMs: 150 },
  Remediate: { maxKB: 1200, maxLoadMs: 250 },
  AdminApi: { maxKB: 600, maxLoadMs: 150 },
};
const KB = 1024;

const round1 = (n: number) => Math.round(n * 10) / 10;

/** One fresh Node process: milliseconds spent in `await import(file)`, timed by the child itself. */
function loadOnce(file: string, nodeOptions: string[] = []): number {
  const code = [
    "const start = performance.now();",
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    "process.stdout.write(String(performance.now() - start));",
  ].join("\n");
  const out = execFileSync(process.execPath, [...nodeOptions, "--input-type=module", "-e", code], {
    encoding: "utf8",
    // As on Lambda: nothing but the bundle; the SDK's Node-version reminder would only add noise.
    env: { PATH: process.env.PATH ?? "", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ms = Number(out.trim());
  if (!Number.isFinite(ms)) throw new Error(`unexpected output from load of ${file}: ${out}`);
  return ms;
}

function sumInputs(bundle: BuiltBundle, match: (input: string) => boolean): number {
  let bytes = 0;
  for (const [name, bytesInOutput] of coldInputs(bundle)) if (match(name)) bytes += bytesInOutput;
  return bytes;
}

/** Output bytes per input file of what a cold start loads, largest first: where the bytes come from. */
function topInputs(bundle: BuiltBundle, limit: number): Contributor[] {
  return coldInputs(bundle)
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit);
}

const coldInputs = (bundle: BuiltBundle) =>
  outputInputs(
    bundle.metafile,
    bundle.coldFiles.map((file) => relative(REPO_ROOT, file)),
  );

// Inside the repository's node_modules, so the bundles find the AWS SDK there as they find the
// runtime's copy on Lambda.
const outDir = mkdtempSync(join(REPO_ROOT, "node_modules", ".tourniquet-bench-bundles-"));
try {
  const buildStart = performance.now();
  const bundles: BuiltBundle[] = await buildBundles(outDir);
  const buildMs = performance.now() - buildStart;

  const intakeFile = bundles.find((b) => b.id === INTAKE)?.file ?? "";
  // The stack sets NODE_OPTIONS=--enable-source-maps on the functions GitHub does not wait on (Node then
  // reads the map at load time); the intake's figure with it shows what that would cost.
  const sourceMaps = ["--enable-source-maps"];
  const targets = [
    ...bundles.map((b) => ({ id: b.id as string, file: b.file, options: [] as string[] })),
    { id: "intakeSourceMaps", file: intakeFile, options: sourceMaps },
  ];
  // Rounds go across the targets, so a burst of load on the machine touches all of them alike.
  // One untimed load first warms the file cache, as a fresh container's disk read is not our code.
  const loads = new Map<string, number[]>(targets.map((t) => [t.id, []]));
  for (const t of targets) loadOnce(t.file, t.options);
  for (let run = 0; run < LOAD_RUNS; run++) {
    for (const t of targets) loads.get(t.id)?.push(loadOnce(t.file, t.options));
    process.stderr.write(`load run ${run + 1}/${LOAD_RUNS} done\n`);
  }

  const fromRoot = (file: string) => relative(REPO_ROOT, file);
  const functions = bundles.map((b) => {
    const samples = loads.get(b.id) ?? [];
    const lazyBytes = b.lazyFiles.reduce((sum, chunk) => sum + chunk.bytes, 0);
    return {
      id: b.id,
      bytes: b.bytes,
      kb: round1(b.bytes / KB),
      coldFiles: b.coldFiles.length,
      // Loaded with the first call that needs them; the largest is Azure's SDKs.
      lazyKB: round1(lazyBytes / KB),
      lazyChunks: [...b.lazyFiles]
        .sort((x, y) => y.bytes - x.bytes)
        .map((chunk) => ({ file: basename(chunk.file), kb: round1(chunk.bytes / KB) })),
      moduleLoadMs: {
        median: round1(median(samples)),
        min: round1(Math.min(...samples)),
        samples: samples.map(round1),
      },
      topPackages: topContributors(b.metafile, 10, b.coldFiles.map(fromRoot)).map((c) => ({
        ...c,
        kb: round1(c.bytes / KB),
      })),
    };
  });
  const intake = functions.find((f) => f.id === INTAKE);
  const intakeBundle = bundles.find((b) => b.id === INTAKE);
  if (!intake || !intakeBundle) throw new Error(`no ${INTAKE} bundle`);

  const verdict = Object.fromEntries(
    functions.flatMap((f) => {
      const budget = BUDGETS[f.id];
      if (!budget) return [];
      return [
        [
          f.id,
          {
            bundle: f.kb <= budget.maxKB ? "met" : "MISSED",
            moduleLoad: f.moduleLoadMs.median <= budget.maxLoadMs ? "met" : "MISSED",
          },
        ],
      ];
    }),
  );
  const missed = Object.values(verdict).some((v) => v.bundle === "MISSED" || v.moduleLoad === "MISSED");
  const date = new Date().toISOString();
  const out = {
    date,
    machine: { node: process.version, platform: process.platform, arch: process.arch },
    setup: {
      bundling:
        "infra/function-bundles.ts BUNDLING (esm, node22, minified, source map, ESM main fields, AWS SDK v3 bundled)",
      sizes:
        "bytes of index.mjs and the chunks it imports statically (what a cold start loads), source maps excluded; lazy chunks apart; KB = 1024 bytes",
      moduleLoad: `median of ${LOAD_RUNS} fresh node processes (after one untimed warm-up), timed inside the child around await import()`,
      buildMs: Math.round(buildMs),
    },
    budgets: BUDGETS,
    functions,
    // Where the intake's bytes come from, so a miss points at what to cut.
    intakeZodLocalesKB: round1(
      sumInputs(intakeBundle, (name) => /node_modules\/zod\/.*\/locales\//.test(name)) / KB,
    ),
    intakeModuleLoadWithSourceMapsMs: round1(median(loads.get("intakeSourceMaps") ?? [])),
    intakeTopInputs: topInputs(intakeBundle, 15).map((c) => ({ ...c, kb: round1(c.bytes / KB) })),
    verdict,
  };

  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/bundles-${date.replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync("bench/results/bundles-latest.json", `${JSON.stringify(out, null, 2)}\n`);

  const lines = [
    `bundles (built in ${Math.round(buildMs)} ms; module load = median of ${LOAD_RUNS} fresh processes, on ${process.version}):`,
    ...functions.map(
      (f) =>
        `  ${f.id.padEnd(14)} ${String(f.bytes).padStart(9)} B  ${f.kb.toFixed(1).padStart(7)} KB   load ${f.moduleLoadMs.median.toFixed(1).padStart(6)} ms (min ${f.moduleLoadMs.min.toFixed(1)})   lazy ${f.lazyKB.toFixed(1).padStart(7)} KB (largest: ${f.lazyChunks[0] ? `${f.lazyChunks[0].file} ${f.lazyChunks[0].kb.toFixed(1)} KB` : "none"})`,
    ),
    ...Object.entries(verdict).map(([id, v]) => {
      const budget = BUDGETS[id];
      return `  ${id.padEnd(14)} budget ${budget?.maxKB} KB: ${v.bundle}; ${budget?.maxLoadMs} ms: ${v.moduleLoad}`;
    }),
  ];
  if (missed) {
    lines.push(
      "intake bundle, largest packages:",
      ...intake.topPackages
        .slice(0, 8)
        .map((c) => `  ${c.name.padEnd(36)} ${c.kb.toFixed(1).padStart(7)} KB`),
      `  (of zod, ${out.intakeZodLocalesKB.toFixed(1)} KB are its locale messages)`,
      "intake bundle, largest files:",
      ...out.intakeTopInputs
        .slice(0, 8)
        .map((c) => `  ${c.name.padEnd(70)} ${c.kb.toFixed(1).padStart(7)} KB`),
    );
  }
  lines.push(
    `intake load if --enable-source-maps were set (the stack leaves it off for the intake): ${out.intakeModuleLoadWithSourceMapsMs.toFixed(1)} ms`,
    `written to ${file}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
