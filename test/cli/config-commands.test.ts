import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../lib/config.js";
import { cli } from "../helpers/cli.js";
import { EXAMPLE_CONFIG_ENV } from "../helpers/example-config-env.js";

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(join(process.cwd(), "node_modules/.bin/tsx"), ["bin/tourniquet.ts", ...args], {
    env: { ...process.env, ...env },
  });

describe("tourniquet config", () => {
  it("ships a JSON Schema that matches the config's validator", () => {
    const shipped = JSON.parse(readFileSync("config/tourniquet.schema.json", "utf8"));
    // Regenerate with: npx tsx bin/tourniquet.ts config schema > config/tourniquet.schema.json
    expect(shipped).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it("check accepts the shipped configs and names the bad field of a broken one", async () => {
    await expect(run(["config", "check"])).resolves.toMatchObject({ stdout: expect.stringMatching(/valid/) });
    const dir = mkdtempSync(join(tmpdir(), "tourniquet-config-"));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ intake: { max_body_bytes: 20 * 1024 * 1024 } }));
    const failure = await run(["config", "check", bad]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringMatching(/intake\.max_body_bytes/) });
  });

  it("check refuses what the functions could not construct: plain http off loopback, in the file or a secret", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tourniquet-config-"));
    const check = async (config: unknown, env: NodeJS.ProcessEnv = {}) => {
      const path = join(dir, `${Math.random()}.json`);
      writeFileSync(path, JSON.stringify(config));
      return run(["config", "check", path], env).catch((error: { code: number; stderr: string }) => error);
    };
    const issuer = { kind: "http", url: "http://keys.example.com/tourniquet", secret: { env: "ACME" } };
    expect(await check({ issuers: { acme: issuer } }, { ACME: "s" })).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /issuers\.acme\.url: must use https \(http is allowed on loopback only\)/,
      ),
    });
    const hook = { kind: "webhook", url: "http://hooks.example.com/x", secret: { env: "HOOK" } };
    expect(await check({ notifications: { channels: { hook } } }, { HOOK: "s" })).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/notifications\.channels\.hook\.url: must use https/),
    });
    // A Slack webhook URL is a secret: only constructing the channel can see it.
    const slack = { kind: "slack", webhook_url: { env: "SLACK_URL" } };
    const config = { defaults: { channels: ["team"] }, notifications: { channels: { team: slack } } };
    expect(await check(config, { SLACK_URL: "http://hooks.slack.example.com/services/T/B/x" })).toMatchObject(
      {
        code: 1,
        stderr: expect.stringMatching(/slack channel "team": URL: must use https/),
      },
    );
    await expect(
      check(config, { SLACK_URL: "https://hooks.slack.com/services/T/B/x" }),
    ).resolves.toMatchObject({
      stdout: expect.stringMatching(/valid/),
    });
  }, 60_000); // five runs of the CLI, each a fresh tsx process: seconds each on a busy machine
});

describe("tourniquet config check", () => {
  const dir = mkdtempSync(join(tmpdir(), "tourniquet-check-"));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("passes the shipped example with its documented variables set, naming the file it read", async () => {
    const run = await cli(["config", "check", "config/tourniquet.example.json"], EXAMPLE_CONFIG_ENV);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe(
      `${join(process.cwd(), "config/tourniquet.example.json")}: valid (6 issuers, 9 token types)\n`,
    );
  });

  it("lists every problem of the example without its variables, and exits 1", async () => {
    const run = await cli(["config", "check", "config/tourniquet.example.json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `config file ${join(process.cwd(), "config/tourniquet.example.json")} is invalid (10 problems):`,
    );
    for (const name of Object.keys(EXAMPLE_CONFIG_ENV)) {
      expect(run.stderr).toMatch(new RegExp(`  - \\S+: environment variable ${name} is not set`));
    }
  });

  it("lists schema problems, unset variables and literal secrets together, never echoing a secret", async () => {
    const path = write(
      "mixed.json",
      JSON.stringify({
        issuers: { acme: { kind: "http", url: "http://keys.example.com/t", secret: "s3cr3t-in-the-file" } },
        token_types: { acme_api_key: { issuer: "acme", mode: "obliterate" } },
        github_app: { app_id: 7, private_key: { env: "APP_KEY" }, webhook_secret: { env: "HOOK" } },
      }),
    );
    const run = await cli(["config", "check", path]);
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n")).toEqual([
      `tourniquet: config file ${path} is invalid (5 problems):`,
      "  - issuers.acme.url: must use https (http is allowed on loopback only)",
      '  - issuers.acme.secret: is a literal string where a secret belongs: write { "env": "NAME" } and set the variable NAME instead',
      expect.stringMatching(/^ {2}- token_types\.acme_api_key\.mode: /),
      "  - github_app.private_key: environment variable APP_KEY is not set",
      "  - github_app.webhook_secret: environment variable HOOK is not set",
      "",
    ]);
    expect(run.stderr).not.toContain("s3cr3t-in-the-file");
  });

  it("names the line and column of a JSON syntax error", async () => {
    const path = write(
      "syntax.json",
      '{\n  "issuers": {},\n  "token_types": {\n    "a": { "issuer": "b" }\n    "c": {}\n  }\n}\n',
    );
    const run = await cli(["config", "check", path]);
    expect(run).toMatchObject({ code: 1, stdout: "" });
    expect(run.stderr).toMatch(new RegExp(`config file ${path} is not valid JSON: line 5, column 5: `));
  });

  it("names a file it cannot read, and TOURNIQUET_CONFIG when that is where the path came from", async () => {
    const missing = join(dir, "nope.json");
    expect(await cli(["config", "check", missing])).toMatchObject({
      code: 1,
      stderr: `tourniquet: cannot read config file ${missing} (ENOENT) (set TOURNIQUET_CONFIG)\n`,
    });
    expect(await cli(["config", "check"], { TOURNIQUET_CONFIG: missing })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(missing),
    });
  });

  it("prints the JSON Schema", async () => {
    const run = await cli(["config", "schema"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});
