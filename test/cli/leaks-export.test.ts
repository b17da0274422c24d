import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";

// `tourniquet leaks export` and the list's newer filters against a loopback server that answers as the
// admin API's contract says (issue 14, contracts 1 and 3): the export route is built on another
// branch, so this server stands in for it. Export pages are bounded; X-Next-Cursor leads to the next.

const TOKEN = "export-test-token";
const HEADER = "id,first_seen,token_type,status\r\n";
const PAGES: Record<string, { body: string; next?: string }> = {
  "": {
    body: `${HEADER}lk_1,2026-11-27T10:00:00.000Z,t,failed\r\nlk_2,2026-11-27T09:00:00.000Z,t,failed\r\n`,
    next: "c1",
  },
  c1: {
    body: 'lk_3,2026-11-26T10:00:00.000Z,t,unroutable\r\nlk_4,2026-11-26T09:00:00.000Z,t,"a ""quoted"", value"\r\n',
    next: "c2",
  },
  c2: { body: "lk_5,2026-11-25T10:00:00.000Z,t,failed\r\n" },
};

let server: LoopbackServer;
const requests: URL[] = [];
/** How the server answers a request; the default follows PAGES. */
let answer: (url: URL, res: ServerResponse) => void | Promise<void>;

const pagesAnswer = (url: URL, res: ServerResponse) => {
  const page = PAGES[url.searchParams.get("cursor") ?? ""];
  if (!page) {
    res.writeHead(400, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ error: "bad_request", message: "invalid query parameter cursor" }));
  }
  const format = url.searchParams.get("format") ?? "csv";
  const next = new URLSearchParams(url.searchParams);
  if (page.next) next.set("cursor", page.next);
  res.writeHead(200, {
    "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    "content-disposition": `attachment; filename="tourniquet-leaks-2026-11-27.${format}"`,
    ...(page.next
      ? { "x-next-cursor": page.next, link: `</v1/admin/leaks/export?${next}>; rel="next"` }
      : {}),
  });
  res.end(page.body);
};

beforeAll(async () => {
  server = await serve((req, res) => {
    const url = new URL(req.url ?? "/", "http://stack");
    requests.push(url);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { "content-type": "application/json" });
      return void res.end(
        JSON.stringify({ error: "unauthorized", message: "missing or invalid bearer token" }),
      );
    }
    void answer(url, res);
  });
});
afterAll(() => server.close());
afterEach(() => {
  requests.length = 0;
  answer = pagesAnswer;
});
answer = pagesAnswer;

const env = () => ({ TOURNIQUET_URL: server.url, TOURNIQUET_ADMIN_TOKEN: TOKEN });
const FILTERS = [
  ["--status", "failed", "--status", "unroutable"],
  ["--type", "acme_api_key", "--owner", "ops@example.com", "--preview", "ghp_…wxyz"],
  ["--since", "2026-11-01", "--until", "2026-11-27T23:59:59Z"],
].flat();

describe("tourniquet leaks export", () => {
  it("follows X-Next-Cursor page after page, with the filters on every request, to standard output", async () => {
    const run = await cli(["leaks", "export", ...FILTERS], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(PAGES[""]?.body + (PAGES.c1?.body ?? "") + (PAGES.c2?.body ?? ""));
    expect(run.stderr).toMatch(/^exported 3 pages \(\d+ bytes\) to standard output in \d+ m?s\n$/);
    expect(requests.map((url) => url.pathname)).toEqual(Array(3).fill("/v1/admin/leaks/export"));
    expect(requests.map((url) => url.searchParams.get("cursor"))).toEqual([null, "c1", "c2"]);
    for (const url of requests) {
      expect(url.searchParams.getAll("status")).toEqual(["failed", "unroutable"]);
      expect(
        Object.fromEntries([...url.searchParams].filter(([name]) => name !== "status" && name !== "cursor")),
      ).toEqual({
        format: "csv",
        token_type: "acme_api_key",
        owner: "ops@example.com",
        preview: "ghp_…wxyz",
        since: "2026-11-01",
        until: "2026-11-27T23:59:59Z",
      });
    }
  });

  it("writes --output FILE whole, as JSON lines with --format jsonl, and leaves no partial file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tourniquet-export-"));
    const file = join(dir, "leaks.jsonl");
    const run = await cli(["leaks", "export", "--format", "jsonl", "--output", file], env());
    expect(run).toMatchObject({ code: 0, stdout: "" });
    expect(run.stderr).toContain(`exported 3 pages`);
    expect(run.stderr).toContain(`to ${file}`);
    expect(readFileSync(file, "utf8")).toBe(
      Object.values(PAGES)
        .map((page) => page.body)
        .join(""),
    );
    expect(requests[0]?.searchParams.get("format")).toBe("jsonl");
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it("streams: a page's first bytes are written before the page has arrived", async () => {
    const stdout = new PassThrough();
    const firstBytes = new Promise<string>((resolve) =>
      stdout.once("data", (chunk: Buffer) => resolve(chunk.toString())),
    );
    answer = async (_url, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8" });
      res.write('{"id":"lk_1"}\n');
      // The rest comes only once the CLI has passed the first line on: nothing waits for the whole page.
      const seen = await Promise.race([
        firstBytes,
        new Promise((r) => setTimeout(() => r("timeout"), 5_000)),
      ]);
      res.end(`{"id":"lk_2","seen_first":${JSON.stringify(seen)}}\n`);
    };
    const run = await cli(["leaks", "export", "--format", "jsonl"], env(), { stdout });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"id":"lk_1"}\n{"id":"lk_2","seen_first":"{\\"id\\":\\"lk_1\\"}\\n"}\n');
  });

  it("joins pages line to line even when a page does not end with a newline", async () => {
    answer = (url, res) => {
      const cursor = url.searchParams.get("cursor");
      res.writeHead(200, cursor ? {} : { "x-next-cursor": "next" });
      res.end(cursor ? '{"id":"lk_2"}' : '{"id":"lk_1"}');
    };
    expect((await cli(["leaks", "export", "--format", "jsonl"], env())).stdout).toBe(
      '{"id":"lk_1"}\n{"id":"lk_2"}',
    );
  });

  it("fails before any request when the output file cannot be written", async () => {
    const file = join(tmpdir(), "no-such-dir-for-tourniquet", "leaks.csv");
    const run = await cli(["leaks", "export", "--output", file], env());
    expect(run).toMatchObject({ code: 1, stderr: expect.stringContaining("ENOENT") });
    expect(requests).toEqual([]);
  });

  it("stops on a failed page with exit 1 and keeps no file", async () => {
    answer = (url, res) => {
      if (url.searchParams.get("cursor")) {
        res.writeHead(503, { "content-type": "application/json" });
        return void res.end(
          JSON.stringify({
            error: "aws",
            message: "a service Tourniquet stores or queues with is unavailable",
          }),
        );
      }
      pagesAnswer(url, res);
    };
    const file = join(mkdtempSync(join(tmpdir(), "tourniquet-export-")), "leaks.csv");
    const run = await cli(["leaks", "export", "--output", file], env());
    expect(run).toMatchObject({
      code: 1,
      stderr:
        "tourniquet: GET /v1/admin/leaks/export: HTTP 503 aws: a service Tourniquet stores or queues with is unavailable\n",
    });
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it("says when the stack has no export route (exit 3), refuses a bad format (exit 2) and a bad token (exit 5)", async () => {
    answer = (_url, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not_found", message: "no leak with id export" }));
    };
    expect(await cli(["leaks", "export"], env())).toMatchObject({
      code: 3,
      stderr: expect.stringContaining(
        "no leak with id export (does this stack serve GET /v1/admin/leaks/export?)",
      ),
    });
    expect(await cli(["leaks", "export", "--format", "xml"], env())).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Allowed choices are csv, jsonl"),
    });
    expect(await cli(["leaks", "export"], { ...env(), TOURNIQUET_ADMIN_TOKEN: "wrong" })).toMatchObject({
      code: 5,
      stderr: expect.stringContaining("set TOURNIQUET_ADMIN_TOKEN"),
    });
  });
});

describe("tourniquet leaks list with the newer filters", () => {
  it("sends repeated statuses, dates and a preview as the list contract names them, and says a page is partial", async () => {
    answer = (_url, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ items: [], next_cursor: "more", partial: true }));
    };
    const run = await cli(
      [
        "leaks",
        "list",
        "--status",
        "failed,unroutable",
        "--status",
        "dismissed",
        "--since",
        "2026-11-27",
        "--preview",
        "ghp_…wxyz",
      ],
      env(),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      "no leaks match\n(partial page: the search stopped at its budget of leaks read before filling the page; more may match)\nmore: add --cursor more (or --all)\n",
    );
    const [url] = requests;
    expect(url?.pathname).toBe("/v1/admin/leaks");
    expect(url?.searchParams.getAll("status")).toEqual(["failed", "unroutable", "dismissed"]);
    expect(url?.searchParams.get("since")).toBe("2026-11-27");
    expect(url?.searchParams.get("preview")).toBe("ghp_…wxyz");
  });
});
