import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGithubOctokit, GITHUB_API_VERSION } from "../../lib/github/github-octokit.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";

// The Octokit the App uses, against a loopback server that answers what each test scripts: GitHub's
// headers on every call, one quick retry of a transient failure, no sleeping out a rate limit, a timeout
// per attempt, the caller's signal, and redirects that keep the token on GitHub's origin.

type Answer = (res: ServerResponse) => unknown;

let server: LoopbackServer;
let answers: Answer[] = [];
let seen: { path: string; headers: IncomingHttpHeaders }[] = [];

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (res) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  };
const ok = json(200, { ok: true });

beforeAll(async () => {
  server = await serve((req, res) => {
    seen.push({ path: req.url ?? "", headers: req.headers });
    void (answers.shift() ?? ok)(res);
  });
});
afterAll(() => server.close());
afterEach(() => {
  answers = [];
  seen = [];
});

const octokit = (timeoutMs = 1_000) =>
  createGithubOctokit({ baseUrl: server.url, timeoutMs, retryAfterMs: 10 });
const get = (o = octokit(), signal?: AbortSignal) =>
  o.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "app", request: { signal } });
const failure = (call: Promise<unknown>) =>
  call.then(
    () => expect.unreachable("the call should have failed"),
    (error: unknown) => error as Error & { status?: number },
  );

describe("createGithubOctokit", () => {
  it("sends GitHub's recommended Accept and API version headers, and names Tourniquet", async () => {
    await get();
    expect(seen[0]?.headers).toMatchObject({
      accept: "application/vnd.github+json",
      "x-github-api-version": GITHUB_API_VERSION,
      "user-agent": expect.stringMatching(/^tourniquet /),
    });
    expect(seen[0]?.path).toBe("/repos/acme/app");
  });

  it.each([500, 502, 503])("retries a %i once, quickly", async (status) => {
    answers = [json(status, { message: "oops" })];
    const started = Date.now();
    await expect(get()).resolves.toMatchObject({ status: 200 });
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("gives up after that one retry", async () => {
    answers = [json(502, {}), json(502, {}), ok];
    expect(await failure(get())).toMatchObject({ status: 502 });
    expect(seen).toHaveLength(2);
  });

  it.each([
    ["a 429", json(429, { message: "slow down" }, { "retry-after": "1" })],
    [
      "a primary rate limit (403, x-ratelimit-remaining 0)",
      json(
        403,
        { message: "API rate limit exceeded" },
        {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
        },
      ),
    ],
    [
      "a secondary rate limit",
      json(403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "60" }),
    ],
    ["a 401", json(401, { message: "Bad credentials" })],
    ["a 404", json(404, { message: "Not Found" })],
  ])("neither retries nor waits out %s: the caller decides", async (_, answer) => {
    answers = [answer, ok];
    const started = Date.now();
    await failure(get());
    expect(seen).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("times out each attempt, and retries a timeout once with a fresh one", async () => {
    const slow: Answer = (res) => new Promise((resolve) => setTimeout(resolve, 400)).then(() => ok(res));
    answers = [slow];
    await expect(get(octokit(150))).resolves.toMatchObject({ status: 200 });
    expect(seen).toHaveLength(2);

    seen = [];
    answers = [slow, slow];
    const error = await failure(get(octokit(150)));
    expect(error.cause).toMatchObject({ name: "TimeoutError" });
    expect(seen).toHaveLength(2);
  });

  it("times out an answer whose body stalls after the headers", async () => {
    answers = [
      (res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"ok":');
      },
      ok,
    ];
    await expect(get(octokit(150))).resolves.toMatchObject({ data: { ok: true } });
    expect(seen).toHaveLength(2);
  });

  it("stops at the caller's signal, without a retry", async () => {
    answers = [(res) => new Promise((resolve) => setTimeout(resolve, 1_000)).then(() => ok(res))];
    const started = Date.now();
    const error = await failure(get(octokit(5_000), AbortSignal.timeout(100)));
    expect(error.name).toBe("AbortError");
    expect(Date.now() - started).toBeLessThan(800);
    expect(seen).toHaveLength(1);
  });

  it("follows a redirect on GitHub's origin with the token, and drops the token on another origin", async () => {
    const elsewhere: (string | undefined)[] = [];
    const other = await serve((req, res) => {
      elsewhere.push(req.headers.authorization);
      ok(res);
    });
    try {
      const auth = { authorization: "token ghs_secret" };
      answers = [(res) => res.writeHead(301, { location: `${server.url}/repositories/1` }).end()];
      await octokit().request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "old", headers: auth });
      expect(seen.map((s) => [s.path, s.headers.authorization])).toEqual([
        ["/repos/acme/old", "token ghs_secret"],
        ["/repositories/1", "token ghs_secret"],
      ]);

      answers = [(res) => res.writeHead(307, { location: `${other.url}/steal` }).end()];
      await octokit().request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "app", headers: auth });
      expect(elsewhere).toEqual([undefined]);
    } finally {
      await other.close();
    }
  });
});
