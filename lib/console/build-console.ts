import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, type BuildResult, build, buildSync } from "esbuild";
import { ASSETS_DIR, CONSOLE_BASE } from "./serve-console.js";

// Bundles the browser console (console/) with esbuild: minified ESM, hashed asset names, the CSS as a
// file of its own, no inline script or style (the Content-Security-Policy forbids them), nothing from a
// CDN. The result is a few files: index.html and assets/*.

const CONSOLE_SRC = fileURLToPath(new URL("../../console/", import.meta.url));

/** The built console in memory. */
export interface ConsoleBuild {
  /** Path under the console's root → bytes. */
  files: Map<string, Uint8Array>;
  /** What opening a page loads: index.html, the entry script and its static imports, the styles. */
  initial: string[];
}

function indexHtml(script: string, styles: string[]): string {
  const links = styles.map((href) => `<link rel="stylesheet" href="${CONSOLE_BASE}${href}">`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>Tourniquet console</title>
${links}
<script type="module" src="${CONSOLE_BASE}${script}"></script>
</head>
<body>
<div id="app"><noscript>The Tourniquet console needs JavaScript.</noscript></div>
</body>
</html>
`;
}

const OUTDIR = join(CONSOLE_SRC, "dist");

const BUILD_OPTIONS = {
  entryPoints: { main: join(CONSOLE_SRC, "main.tsx") },
  absWorkingDir: CONSOLE_SRC,
  outdir: OUTDIR,
  write: false,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  tsconfig: join(CONSOLE_SRC, "tsconfig.json"),
  entryNames: `${ASSETS_DIR}[name]-[hash]`,
  chunkNames: `${ASSETS_DIR}[name]-[hash]`,
  assetNames: `${ASSETS_DIR}[name]-[hash]`,
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "none",
  metafile: true,
  logLevel: "silent",
} as const satisfies BuildOptions;

/** The files of one esbuild run, with the page that loads them. */
function consoleFiles(result: BuildResult<typeof BUILD_OPTIONS>) {
  const files = new Map<string, Uint8Array>();
  for (const output of result.outputFiles) files.set(relative(OUTDIR, output.path), output.contents);
  const outputs = result.metafile.outputs;
  const entry = Object.entries(outputs).find(([, o]) => o.entryPoint);
  if (!entry) throw new Error("esbuild produced no entry point for the console");
  const [entryPath, entryOutput] = entry;
  const pathOf = (metafilePath: string) => relative(OUTDIR, join(CONSOLE_SRC, metafilePath));
  // The entry and the chunks it imports statically; dynamic imports (the OIDC client) load on demand.
  const scripts = [entryPath];
  for (let i = 0; i < scripts.length; i++) {
    for (const imported of outputs[scripts[i] as string]?.imports ?? []) {
      if (imported.kind === "import-statement" && !scripts.includes(imported.path))
        scripts.push(imported.path);
    }
  }
  const styles = entryOutput.cssBundle ? [pathOf(entryOutput.cssBundle)] : [];
  files.set("index.html", new TextEncoder().encode(indexHtml(pathOf(entryPath), styles)));
  return { files, initial: ["index.html", ...scripts.map(pathOf), ...styles] };
}

export async function bundleConsole(): Promise<ConsoleBuild> {
  return consoleFiles(await build(BUILD_OPTIONS));
}

function writeConsole(outdir: string, files: ConsoleBuild["files"]): void {
  for (const [path, bytes] of files) {
    const file = join(outdir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
}

/** Writes the bundled console (index.html and hashed assets) into `outdir`. */
export async function buildConsole(outdir: string): Promise<void> {
  writeConsole(outdir, (await bundleConsole()).files);
}

/** buildConsole for CDK's bundling, which is synchronous: the same files, built the same way. */
export function buildConsoleSync(outdir: string): void {
  writeConsole(outdir, consoleFiles(buildSync(BUILD_OPTIONS)).files);
}
