import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hideArguments } from "../../lib/cli/report-command.js";
import { DEV_SIGNING_KEY_FILE, loadDevSigningKey } from "../../local/dev-signing-key.js";
import { cli } from "../helpers/cli.js";
import { serve } from "../helpers/loopback-server.js";
import { ADMIN_TOKEN, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// `tourniquet report <token> --type <type>` against the real local stack: signed with the data dir's
// development key as GitHub signs, the leak found by fingerprint, and the token printed nowhere.

let t: TestStack;
let env: Record<string, string>;

beforeAll(async () => {
  t = await startTestStack();
  writeFileSync(join(t.stack.dataDir, "admin-token"), ADMIN_TOKEN);
  env = { TOURNIQUET_URL: t.stack.url, TOURNIQUET_DATA_DIR: t.stack.dataDir };
});
afterAll(() => t.close());

const printed = (run: { stdout: string; stderr: string }) => run.stdout + run.stderr;

describe("tourniquet report", () => {
  it("reports a live key as GitHub would and prints the leak it became, never the token", async () => {
    const key = await t.issueKey();
    const run = await cli(
      [
        "report",
        key.token,
        "--type",
        SANDBOX_TYPE,
        "--url",
        "https://github.com/me/demo/blob/main/app.py",
        "--wait",
      ],
      env,
    );
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `report accepted by ${t.stack.url}/v1/github/secret-scanning (HTTP 200); feedback: tourniquet_sandbox_token true_positive`,
    );
    expect(lines[1]).toMatch(/^leak (lk_\w+): revoked in \d+ ms \(tqs_…\S{4}\)$/);
    expect(lines[2]).toMatch(/^ {2}its timeline: tourniquet leaks show lk_\w+$/);
    expect(printed(run)).not.toContain(key.token);
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const id = /leak (lk_\w+)/.exec(lines[1] ?? "")?.[1];
    const sightings = JSON.parse((await cli(["leaks", "show", id ?? "", "--json"], env)).stdout).sightings;
    expect(sightings).toEqual([
      expect.objectContaining({ url: "https://github.com/me/demo/blob/main/app.py", source: "content" }),
    ]);
  });

  it("reads the token from standard input with -, and any type is recorded (unroutable without an issuer)", async () => {
    const token = "acme_stdin_0123456789abcdef0123456789";
    const run = await cli(["report", "-", "--type", "acme_stdin_token", "--source", "commit"], env, {
      stdin: `${token}\n`,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("feedback: none yet (the worker verifies)");
    expect(run.stdout).toMatch(/leak lk_\w+: unroutable \(acme_…6789\)/);
    expect(printed(run)).not.toContain(token);
    expect((await cli(["report", "-", "--type", "x"], env, { stdin: "\n" })).code).toBe(2);
  });

  it("names TOURNIQUET_DATA_DIR when the stack does not know the key it signed with, exit 5", async () => {
    const other = mkdtempSync(join(tmpdir(), "tourniquet-other-"));
    loadDevSigningKey(join(other, DEV_SIGNING_KEY_FILE));
    const token = "tqs_not_sent_anywhere_0123456789abcdef";
    const run = await cli(["report", token, "--type", SANDBOX_TYPE], {
      ...env,
      TOURNIQUET_DATA_DIR: other,
      TOURNIQUET_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    expect(run).toMatchObject({ code: 5, stdout: "" });
    expect(run.stderr).toMatch(
      /^tourniquet: POST \/v1\/github\/secret-scanning: HTTP 401 signature: unknown public key identifier \w+; /,
    );
    expect(run.stderr).toContain(
      `the stack does not take reports signed with ${join(other, DEV_SIGNING_KEY_FILE)}: run the CLI with the stack's TOURNIQUET_DATA_DIR (the stack and the CLI must share it)`,
    );
    expect(run.stderr).not.toContain(token);
  });

  it("makes no key of its own in a data dir without one: it names TOURNIQUET_DATA_DIR, exit 1", async () => {
    const empty = mkdtempSync(join(tmpdir(), "tourniquet-empty-"));
    const run = await cli(["report", "tqs_whatever_0123456789", "--type", SANDBOX_TYPE], {
      ...env,
      TOURNIQUET_DATA_DIR: empty,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no development signing key at ${join(empty, DEV_SIGNING_KEY_FILE)}`);
    expect(run.stderr).toContain("TOURNIQUET_DATA_DIR");
    expect(existsSync(join(empty, DEV_SIGNING_KEY_FILE))).toBe(false);
  });

  it("exits 2 on usage errors without repeating a token commander could not parse", async () => {
    expect(await cli(["report", "tqs_abc_0123456789"], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("required option '--type <type>' not specified"),
    });
    const dashed = "-tqs_starts_with_a_dash_0123456789";
    const run = await cli(["report", dashed, "--type", SANDBOX_TYPE], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown option '…'/);
    expect(printed(run)).not.toContain(dashed.slice(1));
  });

  it("exits 4 naming the URL when the stack is not there", async () => {
    const closed = await serve((_req, res) => res.end());
    await closed.close();
    const run = await cli(["report", "tqs_abc_0123456789", "--type", SANDBOX_TYPE, "--api", closed.url], env);
    expect(run).toMatchObject({
      code: 4,
      stderr: expect.stringContaining(`at ${closed.url} (ECONNREFUSED): start the local stack (npm start)`),
    });
    expect(printed(run)).not.toContain("tqs_abc_0123456789");
  });
});

describe("hideArguments", () => {
  it("blanks out the longer arguments after report, but not flag names", () => {
    const args = ["--api", "http://x", "report", "-secret-token-value", "--type", "t"];
    expect(hideArguments("error: unknown option '-secret-token-value' for --type", args)).toBe(
      "error: unknown option '…' for --type",
    );
  });
});
