import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { DISMISS_REASONS } from "../../lib/admin/leak-actions.js";
import { cli } from "../helpers/cli.js";

// The package's bin as a newcomer runs it: `npx tourniquet …` in the repository after `npm ci`, from its
// root or any folder inside it, and the help every command gives.

const npx = (args: string[], cwd: string) =>
  promisify(execFile)("npx", ["--no-install", "tourniquet", ...args], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: "false" },
  }).catch((error: { code: number; stdout: string; stderr: string }) => error);

describe("the tourniquet bin", () => {
  it("is the package's bin, run through tsx", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.bin).toEqual({ tourniquet: "bin/tourniquet.js" });
    expect(pkg.dependencies.tsx).toBeDefined();
    expect(readFileSync("bin/tourniquet.js", "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it("runs with npx from the repository's root and from a folder inside it", async () => {
    for (const cwd of [process.cwd(), join(process.cwd(), "lib/cli")]) {
      const run = await npx(["--help"], cwd);
      expect(run, cwd).toMatchObject({ stderr: "" });
      expect(run.stdout).toMatch(/^Usage: tourniquet \[options\] \[command\]/);
      for (const command of ["leaks", "report", "simulate", "config", "secrets"]) {
        expect(run.stdout).toMatch(new RegExp(`\\n {2}${command} `));
      }
    }
    const usage = await npx(["leaks", "lsit"], process.cwd());
    expect(usage).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown command 'lsit'\n\(Did you mean list\?\)/),
    });
  }, 60_000); // npx and tsx start cold: seconds each on a busy machine
});

describe("help", () => {
  it("documents the exit codes and the environment, and lists every command", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    for (const line of [
      "  0  success",
      "  1  the operation failed (the API answered an error, the config is invalid)",
      "  2  usage error (bad flags or arguments)",
      "  3  not found (unknown leak id)",
      "  4  could not reach the stack",
      "  5  not authorized (401/403: check TOURNIQUET_ADMIN_TOKEN)",
      "  TOURNIQUET_URL ",
      "  TOURNIQUET_ADMIN_TOKEN ",
      "  TOURNIQUET_DATA_DIR ",
    ]) {
      expect(run.stdout).toContain(line);
    }
    expect(await cli([])).toMatchObject({ code: 0, stdout: run.stdout });
  });

  it.each([
    [
      ["leaks", "list"],
      [
        "--status <status>",
        "--type <token_type>",
        "--owner",
        "--fingerprint",
        "--preview",
        "--since",
        "--until",
        "--limit",
        "--all",
        "--json",
      ],
    ],
    [
      ["leaks", "show"],
      ["<id>", "--json"],
    ],
    [
      ["leaks", "export"],
      ["--format <format>", '(choices: "csv", "jsonl", default: "csv")', "--output <file>", "--status"],
    ],
    [["leaks", "retry"], ["<id>"]],
    [
      ["leaks", "dismiss"],
      ["--reason <reason>", ...DISMISS_REASONS.map((reason) => `"${reason}"`), "--note"],
    ],
    [["report"], ["<token>", "standard input", "--type <type>", "--url", "--source", "--wait"]],
    [["simulate"], ["--type <type>", "--app", "azure_openai_key"]],
    [
      ["config", "check"],
      ["[file]", "TOURNIQUET_CONFIG"],
    ],
    [["config", "schema"], []],
    [["secrets", "get"], ["<name>"]],
  ])("%s --help describes its arguments and flags, and the exit codes", async (command, expected) => {
    const run = await cli([...command, "--help"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(new RegExp(`^Usage: tourniquet ${command.join(" ")} `));
    for (const text of [...expected, "exit codes:"]) expect(run.stdout).toContain(text);
    if (command[0] === "leaks" || command[0] === "report")
      expect(run.stdout).toMatch(/Global Options:\n {2}--api <url>/);
  });

  it("answers an unknown command or flag with exit 2 and a pointer to the help", async () => {
    expect(await cli(["frobnicate"])).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "error: unknown command 'frobnicate'\n(add --help for usage)\n",
    });
    expect(await cli(["leaks"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Usage: tourniquet leaks"),
    });
    expect(await cli(["leaks", "list", "--jsn"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("error: unknown option '--jsn'\n(Did you mean --json?)"),
    });
  });
});
