import { mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { bundleConsole } from "../lib/console/build-console.js";
import { startSeededConsole } from "../local/seeded-console.js";
import { median, quantile } from "./stats.js";

// The admin console: the bytes the overview loads (index.html, the entry script and its static
// imports, the styles; gzipped as a server would send them), and the time to its first render with
// 10,000 leaks in the store — navigation start → performance.mark("tq:overview-rendered") — in real
// Chromium against the local stack, warm (one load first). Loads back to back get the overview API's
// kept answer (it keeps one 30 s, stale while revalidate: the warm stack's case, which the 1 s target
// is judged on); loads spaced past 30 s make the API read the overview anew each time (reported too).
// Targets: under 300 KB gzipped, under 1 s.

const LEAKS = Number(process.env.BENCH_CONSOLE_LEAKS ?? 10_000);
const LOADS = Number(process.env.BENCH_CONSOLE_LOADS ?? 7);
const TARGETS = { gzipBytes: 300 * 1024, renderMs: 1000 };
/** Loads spaced past the overview API's kept answer (lib/admin/overview.ts: 30 s), each a new read. */
const COMPUTED_LOADS = Number(process.env.BENCH_CONSOLE_COMPUTED_LOADS ?? 3);
const API_KEEPS_MS = 30_000;

const { files, initial } = await bundleConsole();
const assets = initial.map((path) => {
  const bytes = files.get(path) as Uint8Array;
  return { path, bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
});
const gzipBytes = assets.reduce((sum, a) => sum + a.gzipBytes, 0);

const { stack, browser, seedMs, consoleBuildMs, close } = await startSeededConsole({
  count: LEAKS,
  days: 30,
  seed: 10,
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  const page = await context.newPage();
  const renderTime = async (): Promise<number> => {
    await page.waitForFunction(() => performance.getEntriesByName("tq:overview-rendered").length > 0, null, {
      timeout: 30_000,
    });
    return page.evaluate(
      () => performance.getEntriesByName("tq:overview-rendered")[0]?.startTime ?? Number.NaN,
    );
  };
  /** How long the page waited for GET /v1/admin/overview in its last load (Resource Timing). */
  const apiTimes: number[] = [];
  const load = async (url: string) => {
    await page.goto(url);
    const rendered = await renderTime();
    apiTimes.push(
      await page.evaluate(
        () =>
          performance.getEntriesByType("resource").find((e) => e.name.includes("/v1/admin/overview"))
            ?.duration ?? Number.NaN,
      ),
    );
    return rendered;
  };

  // Warm: the stack's first overview read, the browser's first parse.
  const firstMs = await load(`${stack.url}/admin/#token=${stack.adminToken}`);
  const overview = (await (
    await fetch(`${stack.url}/v1/admin/overview`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    })
  ).json()) as { total: number; partial?: boolean };

  const reused: number[] = [];
  for (let i = 0; i < LOADS; i++) reused.push(await load(`${stack.url}/admin/`));
  const reusedApi = apiTimes.splice(0).slice(1);
  const computed: number[] = [];
  for (let i = 0; i < COMPUTED_LOADS; i++) {
    await new Promise((r) => setTimeout(r, API_KEEPS_MS + 500));
    computed.push(await load(`${stack.url}/admin/`));
  }
  const computedApi = apiTimes.splice(0);
  const summary = (values: number[], api: number[]) => ({
    medianMs: round(median(values)),
    p90Ms: round(quantile(values, 0.9)),
    runsMs: values.map(round),
    overviewApiMedianMs: round(median(api)),
  });

  const result = {
    date: new Date().toISOString(),
    leaks: LEAKS,
    overviewTotal: overview.total,
    overviewPartial: overview.partial ?? false,
    bundle: { gzipBytes, assets, target: TARGETS.gzipBytes },
    consoleBuildMs: round(consoleBuildMs),
    seedMs: round(seedMs),
    firstRender: {
      description: "navigation start → tq:overview-rendered (figures and charts drawn), 1280×800, light",
      firstLoadMs: round(firstMs),
      apiAnswerReused: summary(reused, reusedApi),
      apiComputedEachLoad: summary(computed, computedApi),
      target: TARGETS.renderMs,
    },
  };
  const verdict = {
    bundle: gzipBytes < TARGETS.gzipBytes ? "met" : "MISSED",
    firstRenderWarm: median(reused) < TARGETS.renderMs ? "met" : "MISSED",
    firstRenderApiReading: median(computed) < TARGETS.renderMs ? "met" : "MISSED",
  };
  mkdirSync("bench/results", { recursive: true });
  const file = "bench/results/console.json";
  writeFileSync(file, `${JSON.stringify({ ...result, verdict }, null, 2)}\n`);
  process.stdout.write(
    `${[
      `console bundle: ${(gzipBytes / 1024).toFixed(1)} KB gzipped for the overview (target < 300 KB: ${verdict.bundle})`,
      `overview first render with ${LEAKS} leaks: median ${result.firstRender.apiComputedEachLoad.medianMs} ms, p90 ${result.firstRender.apiComputedEachLoad.p90Ms} ms with the API computing it (its answer: ${result.firstRender.apiComputedEachLoad.overviewApiMedianMs} ms); ${result.firstRender.apiAnswerReused.medianMs} ms reusing its answer (target < 1 s: warm ${verdict.firstRenderWarm}, API reading ${verdict.firstRenderApiReading})`,
      `written to ${file}`,
    ].join("\n")}\n`,
  );
} finally {
  await close();
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
