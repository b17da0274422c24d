import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DISMISS_REASONS } from "../../lib/admin/leak-actions.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { failTimes } from "../../local/sandbox/sandbox-faults.js";
import { cli } from "../helpers/cli.js";
import { serve } from "../helpers/loopback-server.js";
import {
  ADMIN_TOKEN,
  readJson,
  SANDBOX_TYPE,
  startTestStack,
  type TestStack,
} from "../helpers/test-stack.js";

// `tourniquet leaks …` against the real local stack, with leaks revoked, failed and unroutable: what a
// person reads, what a script gets (--json, exit codes), and what each mistake says to do.

let t: TestStack;
let env: Record<string, string>;
const ids = { revoked: "", failed: "", unroutable: "" };

async function reportToken(token: string, type: string) {
  const response = await t.report([
    { token, type, url: "https://github.com/acme/app/blob/main/.env", source: "content" },
  ]);
  expect(response.status).toBe(200);
  await t.stack.queue.drain();
  const leak = await t.leakByFingerprint(fingerprintToken(token));
  if (!leak) throw new Error("the report made no leak");
  return leak;
}

beforeAll(async () => {
  t = await startTestStack({ configOverrides: { intake: { inline_verify_budget_ms: 500 } } });
  // What the stack writes when TOURNIQUET_ADMIN_TOKEN is unset: the CLI reads it from there.
  writeFileSync(join(t.stack.dataDir, "admin-token"), ADMIN_TOKEN);
  env = { TOURNIQUET_URL: t.stack.url, TOURNIQUET_DATA_DIR: t.stack.dataDir };

  ids.revoked = (await reportToken((await t.issueKey()).token, SANDBOX_TYPE)).id;
  t.faults.plan = failTimes("revoke", 1, 401);
  ids.failed = (await reportToken((await t.issueKey()).token, SANDBOX_TYPE)).id;
  t.faults.plan = undefined;
  ids.unroutable = (await reportToken("acme_cli_0123456789abcdef0123456789", "acme_cli_token")).id;
}, 60_000);
afterAll(() => t.close());

describe("tourniquet leaks list", () => {
  it("prints a table, newest first: id, first seen, type, status, preview, owner, time to revoke", async () => {
    const run = await cli(["leaks", "list"], env);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +FIRST SEEN +TYPE +STATUS +PREVIEW +OWNER +TIME TO REVOKE$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([
      ids.unroutable,
      ids.failed,
      ids.revoked,
    ]);
    expect(lines[3]).toMatch(
      new RegExp(
        `^${ids.revoked} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +${SANDBOX_TYPE} +revoked +tqs_…\\S{4} +owner@example.test +\\d+(\\.\\d)? m?s$`,
      ),
    );
    expect(lines[1]).toMatch(/acme_cli_token +unroutable +\S+ +- +-$/);
  });

  it("filters by status (repeatable), type and fingerprint, and prints the API's JSON with --json", async () => {
    const failed = await cli(["leaks", "list", "--status", "failed", "--json"], env);
    expect(failed.code).toBe(0);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      items: [{ id: ids.failed, status: "failed", failure: { step: "revoke" } }],
      next_cursor: null,
    });
    const byType = await cli(["leaks", "list", "--type", "acme_cli_token"], env);
    expect(byType.stdout).toContain(ids.unroutable);
    expect(byType.stdout).not.toContain(ids.revoked);
    const fingerprint = fingerprintToken("acme_cli_0123456789abcdef0123456789");
    const byFingerprint = JSON.parse(
      (await cli(["leaks", "list", "--fingerprint", fingerprint, "--json"], env)).stdout,
    );
    expect(byFingerprint.items.map((leak: { id: string }) => leak.id)).toEqual([ids.unroutable]);
    expect((await cli(["leaks", "list", "--type", "nothing_like_it"], env)).stdout).toBe("no leaks match\n");
  });

  it("says how to get the next page, and --all follows next_cursor to the end", async () => {
    const first = await cli(["leaks", "list", "--limit", "1"], env);
    expect(first.stdout).toContain(ids.unroutable);
    const cursor = /more: add --cursor (\S+) \(or --all\)/.exec(first.stdout)?.[1];
    expect(cursor).toBeDefined();
    const second = await cli(["leaks", "list", "--limit", "1", "--cursor", cursor ?? ""], env);
    expect(second.stdout).toContain(ids.failed);
    const all = JSON.parse((await cli(["leaks", "list", "--limit", "1", "--all", "--json"], env)).stdout);
    expect(all).toEqual({ items: expect.any(Array), next_cursor: null });
    expect(all.items.map((leak: { id: string }) => leak.id)).toEqual([
      ids.unroutable,
      ids.failed,
      ids.revoked,
    ]);
  });

  it("refuses bad filters before any request, with exit code 2", async () => {
    for (const args of [
      ["--status", "bogus"],
      ["--status", "failed,bogus"],
      ["--since", "yesterday"],
      ["--until", "2026-13-45"],
      ["--limit", "0"],
      ["--limit", "101"],
      ["--fingerprint", "abc"],
      ["--fingerprint", "a".repeat(64), "--preview", "tqs_…abcd"],
      ["--colour"],
    ]) {
      const run = await cli(["leaks", "list", ...args], { ...env, TOURNIQUET_URL: "http://127.0.0.1:9" });
      expect(run, args.join(" ")).toMatchObject({ code: 2, stdout: "" });
      expect(run.stderr).toMatch(/^error: /);
    }
    expect((await cli(["leaks", "list", "--status", "bogus"], env)).stderr).toContain("revoked, inactive");
  });
});

describe("tourniquet leaks list and export against the stack's own routes", () => {
  it("takes several statuses at once (comma-separated or repeated) and a day without a time", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const comma = await cli(
      ["leaks", "list", "--status", "failed,unroutable", "--since", today, "--json"],
      env,
    );
    const repeated = await cli(
      ["leaks", "list", "--status", "failed", "--status", "unroutable", "--until", today, "--json"],
      env,
    );
    for (const run of [comma, repeated]) {
      expect(run.code, run.stderr).toBe(0);
      const ids_ = (JSON.parse(run.stdout) as { items: { id: string }[] }).items.map((l) => l.id);
      expect(ids_.sort()).toEqual([ids.failed, ids.unroutable].sort());
    }
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const before = await cli(["leaks", "list", "--until", yesterday, "--json"], env);
    expect(JSON.parse(before.stdout)).toMatchObject({ items: [] });
  });

  it("exports CSV through GET /v1/admin/leaks/export: one header, one row per leak, filters applied", async () => {
    const all = await cli(["leaks", "export"], env);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^id,first_seen,token_type,status,preview,fingerprint,/);
    expect(
      lines
        .slice(1)
        .map((line) => line.split(",")[0])
        .sort(),
    ).toEqual([ids.revoked, ids.failed, ids.unroutable].sort());
    const failed = await cli(["leaks", "export", "--format", "jsonl", "--status", "failed"], env);
    expect(
      failed.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).id),
    ).toEqual([ids.failed]);
  });
});

describe("tourniquet leaks show", () => {
  it("prints the leak and its timeline as text: time since the report, step, outcome, actor, detail", async () => {
    const run = await cli(["leaks", "show", ids.revoked], env);
    expect(run.code).toBe(0);
    const text = run.stdout;
    expect(text).toMatch(new RegExp(`^leak ${ids.revoked}: revoked\\n`));
    expect(text).toMatch(/ {2}type: +tourniquet_sandbox_token \(issuer sandbox\)/);
    expect(text).toMatch(/ {2}revoked: +\S+ \S+Z \(\d+(\.\d)? m?s after the report\)/);
    expect(text).toMatch(/ {2}replacement: +key_\w+, delivered by issuer/);
    expect(text).toMatch(/\ntimeline:\n {2}\+0 ms +report +ok +intake +reported by GitHub secret scanning/);
    expect(text).toMatch(/\n {2}\+\d+(\.\d)? m?s +revoke +ok +worker +issuer sandbox revoked key key_/);
    expect(text).toMatch(/\ndeliveries:\n {2}email +owner owner@example.test +sent/);
    expect(text).toMatch(
      /\nsightings:\n {2}https:\/\/github.com\/acme\/app\/blob\/main\/.env +content +1 report/,
    );
  });

  it("shows a failed leak's failure, and the API's JSON with --json", async () => {
    expect((await cli(["leaks", "show", ids.failed], env)).stdout).toMatch(
      / {2}failure: +at revoke: .*HTTP 401/,
    );
    const json = JSON.parse((await cli(["leaks", "show", ids.failed, "--json"], env)).stdout);
    expect(json).toMatchObject({ id: ids.failed, status: "failed", timeline: expect.any(Array) });
  });

  it("exits 3 for an unknown leak id, and 2 without one", async () => {
    expect(await cli(["leaks", "show", "lk_000000000000000000000000"], env)).toMatchObject({
      code: 3,
      stdout: "",
      stderr:
        "tourniquet: GET /v1/admin/leaks/lk_000000000000000000000000: HTTP 404 not_found: no leak with id lk_000000000000000000000000\n",
    });
    expect(await cli(["leaks", "show"], env)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/missing required argument 'id'/),
    });
  });
});

describe("tourniquet leaks retry and dismiss", () => {
  it("retries a failed leak from the step that failed; a revoked one has nothing to retry", async () => {
    const run = await cli(["leaks", "retry", ids.failed], env);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(new RegExp(`^leak ${ids.failed}: retry started \\(now active\\)`));
    await t.stack.queue.drain();
    expect((await readJson(await t.admin(`/v1/admin/leaks/${ids.failed}`))).status).toBe("revoked");
    expect((await cli(["leaks", "retry", ids.revoked], env)).stdout).toBe(
      `leak ${ids.revoked}: nothing to retry (revoked)\n`,
    );
  });

  it("dismisses a settled leak with a reason and a note, shown in its history", async () => {
    const run = await cli(
      ["leaks", "dismiss", ids.unroutable, "--reason", "test_token", "--note", "our CI's fixture"],
      env,
    );
    expect(run).toMatchObject({ code: 0, stdout: `leak ${ids.unroutable}: dismissed as test_token\n` });
    const shown = (await cli(["leaks", "show", ids.unroutable], env)).stdout;
    expect(shown).toMatch(/ {2}dismissed: +test_token: our CI's fixture \(by admin-token, /);
    expect(shown).toMatch(
      /dismiss +ok +admin-token +dismissed by admin-token as test_token: our CI's fixture \(was unroutable\)/,
    );
    expect((await cli(["leaks", "dismiss", ids.unroutable, "--reason", "other"], env)).stdout).toBe(
      `leak ${ids.unroutable}: already dismissed\n`,
    );
  });

  it("checks the reason against the API's list (exit 2), and passes on the API's refusal (exit 1)", async () => {
    const bad = await cli(["leaks", "dismiss", ids.revoked, "--reason", "bored"], env);
    expect(bad.code).toBe(2);
    for (const reason of DISMISS_REASONS) expect(bad.stderr).toContain(reason);
    expect((await cli(["leaks", "dismiss", ids.revoked], env)).stderr).toMatch(
      /required option '--reason <reason>' not specified/,
    );
    expect(await cli(["leaks", "dismiss", ids.revoked, "--reason", "other"], env)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /HTTP 409 conflict: leak lk_\w+ is revoked; only a settled, unrevoked leak can be dismissed/,
      ),
    });
  });
});

describe("tourniquet leaks: reaching the stack", () => {
  it("names the URL it tried and how to point the CLI at the stack, exit 4", async () => {
    const closed = await serve((_req, res) => res.end());
    const url = closed.url;
    await closed.close();
    const run = await cli(["leaks", "list", "--api", url], env);
    expect(run).toMatchObject({ code: 4, stdout: "" });
    expect(run.stderr).toBe(
      `tourniquet: cannot reach the Tourniquet API at ${url} (ECONNREFUSED): start the local stack (npm start), or point the CLI at it with --api <url>, TOURNIQUET_URL or PORT\n`,
    );
    const port = new URL(url).port;
    expect(
      (await cli(["leaks", "list"], { PORT: port, TOURNIQUET_DATA_DIR: t.stack.dataDir })).stderr,
    ).toContain(`http://127.0.0.1:${port}`);
  });

  it("finds the local stack on PORT when TOURNIQUET_URL is unset", async () => {
    const port = new URL(t.stack.url).port;
    expect(
      await cli(["leaks", "list", "--limit", "1"], { PORT: port, TOURNIQUET_DATA_DIR: t.stack.dataDir }),
    ).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^ID /),
    });
  });

  it("names TOURNIQUET_ADMIN_TOKEN when the token is refused or missing, exit 5", async () => {
    const refused = await cli(["leaks", "list"], { ...env, TOURNIQUET_ADMIN_TOKEN: "not-the-token" });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(
      /HTTP 401 unauthorized: .*; set TOURNIQUET_ADMIN_TOKEN to the stack's admin token/,
    );
    const empty = mkdtempSync(join(tmpdir(), "tourniquet-cli-"));
    const missing = await cli(["leaks", "list"], { ...env, TOURNIQUET_DATA_DIR: empty });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain(
      `no admin token: set TOURNIQUET_ADMIN_TOKEN (the local stack writes its own to ${join(empty, "admin-token")}`,
    );
    // The local stack's token goes to this machine only.
    const remote = await cli(["leaks", "list", "--api", "https://tourniquet.example.invalid"], env);
    expect(remote).toMatchObject({
      code: 5,
      stderr:
        "tourniquet: no admin token for https://tourniquet.example.invalid: set TOURNIQUET_ADMIN_TOKEN\n",
    });
  });

  it("refuses an --api that is not an http(s) URL as a usage error", async () => {
    expect(await cli(["leaks", "list", "--api", "ftp://127.0.0.1"], env)).toMatchObject({ code: 2 });
    expect(await cli(["leaks", "list", "--api", "localhost"], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("must be a URL such as http://127.0.0.1:3000"),
    });
  });
});
