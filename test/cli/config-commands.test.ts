import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../lib/config.js";

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
