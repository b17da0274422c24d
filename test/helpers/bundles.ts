import { cpSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { BUNDLING, esbuildOptions, FUNCTION_BUNDLES } from "../../infra/function-bundles.js";

// Builds every Lambda handler the way the CDK stack bundles it (infra/function-bundles.ts): per
// function, an ESM `index.mjs` with the AWS SDK included and, under `chunks/`, what it loads only
// through a dynamic import (Azure's SDKs), so the tests and the benchmark load exactly what Lambda
// would run.

export type BundleId = (typeof FUNCTION_BUNDLES)[number]["id"];

export interface BuiltBundle {
  id: BundleId;
  /** Absolute path of `<outDir>/<id>/index.mjs`. */
  file: string;
  /**
   * What a cold start loads, without source maps: `index.mjs` and the chunks it imports statically
   * (shared with lazily loaded chunks), transitively.
   */
  bytes: number;
  /** Those files, absolute paths, `index.mjs` first. */
  coldFiles: string[];
  /** The other chunks: loaded only by a dynamic import, with the first call that needs them. */
  lazyFiles: { file: string; bytes: number }[];
  /** esbuild's metafile, to see which inputs make up the bundle. */
  metafile: Metafile;
}

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The bundle that renders owner messages: the templates travel next to it. */
export const TEMPLATES_BUNDLE: BundleId = "Remediate";

/** Settings BUNDLING may grow; the CDK construct reads them from there too. */

export async function buildBundles(outDir: string): Promise<BuiltBundle[]> {
  const built: BuiltBundle[] = [];
  // One at a time: the machine has two cores and esbuild already uses both.
  for (const fn of FUNCTION_BUNDLES) {
    const dir = join(outDir, fn.id);
    const file = join(dir, BUNDLING.entryFile);
    const result = await build({
      ...esbuildOptions(resolve(REPO_ROOT, fn.entry), dir),
      absWorkingDir: REPO_ROOT,
      metafile: true,
    });
    if (fn.id === TEMPLATES_BUNDLE) {
      cpSync(resolve(REPO_ROOT, BUNDLING.templatesDir), join(dir, BUNDLING.templatesDir), {
        recursive: true,
      });
    }
    const { cold, lazy } = splitOutputs(result.metafile, relative(REPO_ROOT, file));
    const outputs = result.metafile.outputs;
    built.push({
      id: fn.id,
      file,
      bytes: cold.reduce((sum, path) => sum + (outputs[path]?.bytes ?? 0), 0),
      coldFiles: cold.map((path) => resolve(REPO_ROOT, path)),
      lazyFiles: lazy.map((path) => ({ file: resolve(REPO_ROOT, path), bytes: outputs[path]?.bytes ?? 0 })),
      metafile: result.metafile,
    });
  }
  return built;
}

/**
 * The JavaScript outputs (metafile paths) an import of `entry` loads (it and its static imports,
 * transitively), and the rest: the chunks only dynamic imports reach.
 */
export function splitOutputs(metafile: Metafile, entry: string): { cold: string[]; lazy: string[] } {
  const cold = [entry];
  for (let i = 0; i < cold.length; i++) {
    for (const imported of metafile.outputs[cold[i] as string]?.imports ?? []) {
      if (!imported.external && imported.kind === "import-statement" && !cold.includes(imported.path))
        cold.push(imported.path);
    }
  }
  const lazy = Object.keys(metafile.outputs).filter((path) => !path.endsWith(".map") && !cold.includes(path));
  return { cold, lazy };
}

/** Output bytes of the given outputs (metafile paths; all of them by default) by input file. */
export function outputInputs(metafile: Metafile, only?: readonly string[]): [string, number][] {
  return Object.entries(metafile.outputs)
    .filter(([path]) => !only || only.includes(path))
    .flatMap(([, output]) =>
      Object.entries(output.inputs).map(
        ([input, { bytesInOutput }]) => [input, bytesInOutput] as [string, number],
      ),
    );
}

export interface Contributor {
  /** An npm package (`@aws-sdk/client-kms`) or `(project)` for the repository's own code. */
  name: string;
  bytes: number;
}

/** Output bytes of a bundle (or of some of its outputs) grouped by npm package, largest first. */
export function topContributors(metafile: Metafile, limit = 10, only?: readonly string[]): Contributor[] {
  const sizes = new Map<string, number>();
  for (const [input, bytesInOutput] of outputInputs(metafile, only)) {
    const name = packageOf(input);
    sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
  }
  return [...sizes]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit);
}

function packageOf(input: string): string {
  const at = input.lastIndexOf("node_modules/");
  if (at < 0) return "(project)";
  const parts = input.slice(at + "node_modules/".length).split("/");
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}
