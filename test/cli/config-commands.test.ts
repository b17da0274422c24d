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
});
