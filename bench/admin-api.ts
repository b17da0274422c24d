import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLog } from "../lib/log.js";
import { startLocalStack } from "../local/local-stack.js";
import { seedLeaks } from "../local/seed-leaks.js";
import { median, quantile } from "./stats.js";

// `npm run bench` (admin API part): 10,000 leaks over 30 days in the local stack (dynalite, in memory),
// then each admin read over loopback HTTP, several runs after a warm-up: the list by each filter, the
// overview (its reuse defeated by a new window each run, then reused), and the whole CSV and JSONL export
// followed page by page, with the process's peak RSS above its level before.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const LEAKS = Number(process.env.BENCH_LEAKS ?? 10_000);
const DAYS = 30;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TARGETS = { overviewMedianMs: 300 };

const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-bench-admin-"));
const token = "bench-admin-token";
const stack = await startLocalStack({
  port: 0,
  dataDir,
  inMemoryDb: true,
  log: silentLog,
  env: { TOURNIQUET_ADMIN_TOKEN: token, GITHUB_PUBLIC_KEYS_URL: undefined },
});

async function get(path: string): Promise<{ ms: number; response: Response; body: string }> {
  const started = performance.now();
  const response = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  const ms = performance.now() - started;
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${body.slice(0, 200)}`);
  return { ms, response, body };
}

async function measure(name: string, path: (run: number) => string) {
  await get(path(-1)); // warm-up
  const times: number[] = [];
  let items = 0;
  let partial = false;
  for (let run = 0; run < RUNS; run++) {
    const { ms, body } = await get(path(run));
    times.push(ms);
    const answer = JSON.parse(body) as { items?: unknown[]; partial?: boolean };
    items = answer.items?.length ?? 0;
    partial = answer.partial === true;
  }
  return { name, path: path(0), items, partial, medianMs: median(times), p90Ms: quantile(times, 0.9) };
}

/** The whole export, answer after answer; its time and the peak RSS above the level before it. */
async function exportAll(format: "csv" | "jsonl") {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  let next: string | undefined = `/v1/admin/leaks/export?format=${format}`;
  let answers = 0;
  let bytes = 0;
  let lines = 0;
  while (next) {
    const { response, body } = await get(next);
    answers++;
    bytes += Buffer.byteLength(body);
    lines += body.split("\n").length - 1;
    next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get("link") ?? "")?.[1];
  }
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, answers, bytes, lines, peakRssDeltaMb: (peak - before) / 1024 / 1024 };
}

try {
  const seedStarted = performance.now();
  const leaks = await seedLeaks(stack.store, { count: LEAKS, days: DAYS, seed: 2026 });
  const seedMs = performance.now() - seedStarted;
  const sample = leaks.find((l) => l.status === "revoked" && l.owner?.email) ?? leaks[0];
  const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
  const base = "/v1/admin/leaks?limit=50";
  const lists = [];
  for (const [name, query] of [
    ["unfiltered", ""],
    ["status=revoked", "&status=revoked"],
    ["status=failed,unroutable", "&status=failed,unroutable"],
    ["token_type=aws_access_key_id", "&token_type=aws_access_key_id"],
    ["owner", `&owner=${encodeURIComponent(sample?.owner?.email ?? "")}`],
    ["since/until (7 days, dates)", `&since=${day(14)}&until=${day(8)}`],
    ["preview (exact)", `&preview=${encodeURIComponent(sample?.preview ?? "")}`],
    ["status=revoked&token_type=openai_api_key", "&status=revoked&token_type=openai_api_key"],
  ] as const) {
    lists.push(await measure(name, () => `${base}${query}`));
  }
  // A new `until` each run: a new query, so the 5 s reuse does not answer it.
  const overview = await measure(
    "overview (30 days, read each run)",
    (run) =>
      `/v1/admin/overview?until=${encodeURIComponent(new Date(Date.now() - 1_000 - run).toISOString())}`,
  );
  const overviewCached = await measure("overview (default window, reused ≤ 5 s)", () => "/v1/admin/overview");
  const csvExport = await exportAll("csv");
  const jsonlExport = await exportAll("jsonl");

  const result = {
    date: new Date().toISOString(),
    leaks: LEAKS,
    days: DAYS,
    runs: RUNS,
    seedMs: Math.round(seedMs),
    lists,
    overview,
    overviewCached,
    export: { csv: csvExport, jsonl: jsonlExport },
    verdict: { overviewMedian: overview.medianMs < TARGETS.overviewMedianMs ? "met" : "MISSED" },
  };
  mkdirSync("bench/results", { recursive: true });
  const file = "bench/results/admin-api.json";
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const line = (m: { name: string; medianMs: number; p90Ms: number; items: number; partial: boolean }) =>
    `  ${m.name.padEnd(44)} median ${m.medianMs.toFixed(1).padStart(7)} ms  p90 ${m.p90Ms.toFixed(1).padStart(7)} ms  (${m.items} items${m.partial ? ", partial: search budget spent" : ""})`;
  process.stdout.write(
    `${[
      `admin API over ${LEAKS} leaks (${DAYS} days), seeded in ${(seedMs / 1000).toFixed(1)} s:`,
      ...lists.map(line),
      line({ ...overview, items: 0 }),
      line({ ...overviewCached, items: 0 }),
      `  CSV export: ${csvExport.lines} lines in ${csvExport.answers} answers, ${(csvExport.bytes / 1e6).toFixed(1)} MB, ${(csvExport.ms / 1000).toFixed(2)} s, peak RSS +${csvExport.peakRssDeltaMb.toFixed(0)} MB`,
      `  JSONL export: ${jsonlExport.lines} lines in ${jsonlExport.answers} answers, ${(jsonlExport.bytes / 1e6).toFixed(1)} MB, ${(jsonlExport.ms / 1000).toFixed(2)} s, peak RSS +${jsonlExport.peakRssDeltaMb.toFixed(0)} MB`,
      `overview target (median < ${TARGETS.overviewMedianMs} ms): ${result.verdict.overviewMedian}`,
      `written to ${file}`,
    ].join("\n")}\n`,
  );
} finally {
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
