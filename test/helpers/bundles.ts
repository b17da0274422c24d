import { cpSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { BUNDLING, FUNCTION_BUNDLES } from "../../infra/function-bundles.js";

// Builds every Lambda handler the way the CDK stack bundles it (infra/function-bundles.ts): one
// self-contained ESM file per function, the AWS SDK included, so the tests and the benchmark load
// exactly what Lambda would run.

export type BundleId = (typeof FUNCTION_BUNDLES)[number]["id"];

export interface BuiltBundle {
  id: BundleId;
  /** Absolute path of `<outDir>/<id>/index.mjs`. */
  file: string;
  /** Size of the minified bundle, without its source map. */
  bytes: number;
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
    const file = join(dir, "index.mjs");
    const result = await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: [resolve(REPO_ROOT, fn.entry)],
      outfile: file,
      bundle: true,
      format: BUNDLING.format,
      platform: BUNDLING.platform,
      target: BUNDLING.target,
      minify: BUNDLING.minify,
      sourcemap: BUNDLING.sourcemap,
      banner: { js: BUNDLING.banner },
      mainFields: [...BUNDLING.mainFields],
      external: [...BUNDLING.external],
      metafile: true,
      logLevel: "silent",
    });
    if (fn.id === TEMPLATES_BUNDLE) {
      cpSync(resolve(REPO_ROOT, BUNDLING.templatesDir), join(dir, BUNDLING.templatesDir), {
        recursive: true,
      });
    }
    built.push({ id: fn.id, file, bytes: statSync(file).size, metafile: result.metafile });
  }
  return built;
}

export interface Contributor {
  /** An npm package (`@aws-sdk/client-kms`) or `(project)` for the repository's own code. */
  name: string;
  bytes: number;
}

/** Output bytes of a bundle grouped by npm package, largest first. */
export function topContributors(metafile: Metafile, limit = 10): Contributor[] {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
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
