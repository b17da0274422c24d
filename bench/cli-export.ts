import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// `tourniquet leaks export` through a loopback server that answers as the export contract says
// (bounded pages, X-Next-Cursor), small and large: the CLI's peak memory must not grow with the
// export's size, since it writes each page as it arrives. The CLI runs as users run it, in its own
// process; its peak resident set is read from /proc while it runs.

const ROWS_PER_PAGE = 1_000;
const ROW = (i: number) =>
  `lk_${i.toString(16).padStart(24, "0")},2026-11-27T10:00:00.000Z,azure_openai_key,revoked,sk-…wxyz,${"f".repeat(64)},azure,key-${i},owner${i}@example.com,2026-11-27T10:00:00.100Z,2026-11-27T10:00:00.250Z,250,revoke,,sent,,,,,,1,https://github.com/acme/app/blob/main/.env\r\n`;

async function page(res: ServerResponse, index: number, pages: number): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/csv; charset=utf-8",
    ...(index + 1 < pages ? { "x-next-cursor": String(index + 1) } : {}),
  });
  for (let i = 0; i < ROWS_PER_PAGE; i++) {
    if (!res.write(ROW(index * ROWS_PER_PAGE + i))) await once(res, "drain");
  }
  res.end();
}

async function exportOnce(pages: number) {
  const server = createServer((req, res) => {
    const cursor = new URL(req.url ?? "/", "http://x").searchParams.get("cursor");
    void page(res, cursor ? Number(cursor) : 0, pages);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), "tourniquet-bench-export-"));
  const file = join(dir, "leaks.csv");
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bin/tourniquet.ts", "leaks", "export", "--output", file],
    {
      env: { ...process.env, TOURNIQUET_URL: url, TOURNIQUET_ADMIN_TOKEN: "bench" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let peakKb = 0;
  const sample = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
      peakKb = Math.max(peakKb, Number(hwm ?? 0));
    } catch {
      // The process has ended.
    }
  }, 10);
  const [code] = await once(child, "exit");
  clearInterval(sample);
  const ms = performance.now() - started;
  server.close();
  if (code !== 0) throw new Error(`the export exited with ${code}`);
  const bytes = statSync(file).size;
  rmSync(dir, { recursive: true, force: true });
  return {
    pages,
    rows: pages * ROWS_PER_PAGE,
    mb: +(bytes / 1e6).toFixed(1),
    seconds: +(ms / 1_000).toFixed(2),
    mb_per_s: +(bytes / 1e6 / (ms / 1_000)).toFixed(1),
    peak_rss_mb: +(peakKb / 1_024).toFixed(1),
  };
}

const runs = [];
for (const pages of (process.env.BENCH_PAGES ?? "1,300").split(",").map(Number))
  runs.push(await exportOnce(pages));
const out = { date: new Date().toISOString(), rows_per_page: ROWS_PER_PAGE, runs };
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/cli-export-latest.json", `${JSON.stringify(out, null, 2)}\n`);
for (const r of runs) {
  process.stdout.write(
    `export of ${r.rows} rows (${r.mb} MB, ${r.pages} pages): ${r.seconds} s, ${r.mb_per_s} MB/s, CLI peak RSS ${r.peak_rss_mb} MB\n`,
  );
}
