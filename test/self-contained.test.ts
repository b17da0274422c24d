import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// A newcomer's clone has nothing beside it: no code or test may read the project's shared folder
// (fixtures are copied into test/fixtures/, with where they came from).

const ROOT = new URL("../", import.meta.url).pathname;
const FOLDERS = ["lib", "functions", "local", "infra", "bin", "bench", "test", "config"];
const SHARED = ["..", "shared"].join("/");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs|json)$/.test(name) ? [path] : [];
  });
}

describe("the repository", () => {
  it("reads nothing from outside itself", () => {
    const files = FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)));
    expect(files.length).toBeGreaterThan(100);
    const outside = files.filter((file) => {
      const text = readFileSync(file, "utf8");
      return text.includes(`${SHARED}/`) || text.includes(`"../../../${SHARED.slice(3)}`);
    });
    expect(outside.map((file) => file.slice(ROOT.length))).toEqual([]);
  });
});
