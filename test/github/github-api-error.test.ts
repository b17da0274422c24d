import type { ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GithubApiError } from "../../lib/errors.js";
import { githubApiError } from "../../lib/github/github-api-error.js";
import { createGithubOctokit } from "../../lib/github/github-octokit.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";

// Octokit's errors, as a loopback GitHub makes them, mapped to GithubApiError: transient or not, the
// wait GitHub asked for, and a message naming the call with GitHub's own words but no token.

const NOW = Date.parse("2025-03-01T12:00:00Z");
let server: LoopbackServer;
let answer: (res: ServerResponse) => void;

beforeAll(async () => {
  server = await serve((_req, res) => answer(res));
});
afterAll(() => server.close());
afterEach(() => {
  answer = (res) => res.end();
});

const reply =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

/** The error Octokit throws for this answer, mapped as the App client maps it. */
async function mapped(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<GithubApiError> {
  answer = reply(status, body, headers);
  const octokit = createGithubOctokit({ baseUrl: server.url, timeoutMs: 1_000, retryAfterMs: 10 });
  const error = await octokit
    .request("GET /repos/{owner}/{repo}", {
      owner: "acme",
      repo: "app",
      headers: { authorization: "token ghs_0123456789abcdef" },
    })
    .then(
      () => expect.unreachable("the call should have failed"),
      (e: unknown) => e,
    );
  const result = githubApiError("alert acme/app#3", error, { timeoutMs: 1_000, now: () => NOW });
  expect(result).toBeInstanceOf(GithubApiError);
  return result as GithubApiError;
}

describe("githubApiError", () => {
  it.each([401, 403, 404, 422])("makes a %i permanent (502), keeping GitHub's message", async (status) => {
    const error = await mapped(status, {
      message: "Resource not accessible by integration",
      documentation_url: "https://docs.github.com/rest",
    });
    expect(error).toMatchObject({ transient: false, status: 502, httpStatus: status });
    expect(error.retryAfterSeconds).toBeUndefined();
    expect(error.message).toBe(
      `GitHub API alert acme/app#3: HTTP ${status} (Resource not accessible by integration)`,
    );
    expect(error.message).not.toContain("ghs_");
  });

  it.each([500, 502, 503, 504])("makes a %i transient (503)", async (status) => {
    const error = await mapped(status, { message: "Server Error" });
    expect(error).toMatchObject({ transient: true, status: 503, httpStatus: status });
  });

  it("makes a 429 transient, with its Retry-After in seconds or as a date", async () => {
    expect(await mapped(429, {}, { "retry-after": "7" })).toMatchObject({
      transient: true,
      httpStatus: 429,
      retryAfterSeconds: 7,
    });
    const at = new Date(NOW + 30_000).toUTCString();
    expect((await mapped(429, {}, { "retry-after": at })).retryAfterSeconds).toBe(30);
  });

  it("reads a primary rate limit (403, x-ratelimit-remaining 0) and waits until x-ratelimit-reset", async () => {
    const error = await mapped(
      403,
      { message: "API rate limit exceeded for installation ID 11." },
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 30) },
    );
    expect(error).toMatchObject({ transient: true, status: 503, httpStatus: 403, retryAfterSeconds: 30 });
  });

  it("reads a secondary rate limit by its Retry-After, or by GitHub's message (a minute)", async () => {
    expect(await mapped(403, { message: "slow down" }, { "retry-after": "5" })).toMatchObject({
      transient: true,
      retryAfterSeconds: 5,
    });
    expect(
      await mapped(403, { message: "You have exceeded a secondary rate limit. Please wait a few minutes." }),
    ).toMatchObject({ transient: true, status: 503, retryAfterSeconds: 60 });
  });

  it("keeps a 403 with rate-limit headers left as permanent", async () => {
    const error = await mapped(403, { message: "Forbidden" }, { "x-ratelimit-remaining": "4999" });
    expect(error).toMatchObject({ transient: false, status: 502 });
  });

  it("keeps GitHub's message short and printable", async () => {
    const error = await mapped(404, { message: `Not\u0007 Found ${"x".repeat(500)}` });
    expect(error.message).toMatch(/HTTP 404 \(Not Found x+\)$/);
    expect(error.message.length).toBeLessThan(200);
  });

  it("says GitHub did not answer in time, or could not be reached", async () => {
    answer = () => {}; // never answers
    const octokit = createGithubOctokit({ baseUrl: server.url, timeoutMs: 100, retryAfterMs: 10 });
    const slow = await octokit.request("GET /meta").catch((e: unknown) => e);
    expect(githubApiError("alert acme/app#3", slow, { timeoutMs: 100 })).toMatchObject({
      transient: true,
      status: 503,
      message: "GitHub API alert acme/app#3: no answer within 100 ms",
    });

    const down = await serve(() => {});
    await down.close();
    const unreachable = await createGithubOctokit({ baseUrl: down.url, timeoutMs: 1_000, retryAfterMs: 10 })
      .request("GET /meta")
      .catch((e: unknown) => e);
    expect(githubApiError("alert acme/app#3", unreachable, { timeoutMs: 1_000 })).toMatchObject({
      transient: true,
      message: "GitHub API alert acme/app#3: network error (ECONNREFUSED)",
    });
  });

  it("blames the caller's deadline when the caller's signal fired", async () => {
    answer = () => {};
    const octokit = createGithubOctokit({ baseUrl: server.url, timeoutMs: 5_000, retryAfterMs: 10 });
    const caller = AbortSignal.timeout(50);
    const error = await octokit
      .request("GET /meta", { request: { signal: caller } })
      .catch((e: unknown) => e);
    expect(githubApiError("alert acme/app#3", error, { timeoutMs: 5_000, caller })).toMatchObject({
      transient: true,
      message: "GitHub API alert acme/app#3: out of time for this delivery",
    });
  });

  it("passes on an error that did not come from talking to GitHub", () => {
    const bug = new TypeError("x is undefined");
    expect(githubApiError("alert acme/app#3", bug, { timeoutMs: 1_000 })).toBe(bug);
  });
});
