import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { ASSETS_DIR, CONSOLE_BASE } from "./serve-console.js";

// Bundles the browser console (console/) with esbuild: minified ESM, hashed asset names, the CSS as a
// file of its own, no inline script or style (the Content-Security-Policy forbids them), nothing from a
// CDN. The result is a few files: index.html and assets/*.

const CONSOLE_SRC = fileURLToPath(new URL("../../console/", import.meta.url));

/** The built console in memory: path under the console's root → bytes. */
export type ConsoleBuild = Map<string, Uint8Array>;

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

export async function bundleConsole(): Promise<ConsoleBuild> {
  const outdir = join(CONSOLE_SRC, "dist");
  const result = await build({
    entryPoints: { main: join(CONSOLE_SRC, "main.tsx") },
    absWorkingDir: CONSOLE_SRC,
    outdir,
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
  });
  const files: ConsoleBuild = new Map();
  for (const output of result.outputFiles) files.set(relative(outdir, output.path), output.contents);
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint);
  if (!entry) throw new Error("esbuild produced no entry point for the console");
  const [entryPath, entryOutput] = entry;
  const script = relative(outdir, join(CONSOLE_SRC, entryPath));
  const styles = entryOutput.cssBundle ? [relative(outdir, join(CONSOLE_SRC, entryOutput.cssBundle))] : [];
  files.set("index.html", new TextEncoder().encode(indexHtml(script, styles)));
  return files;
}

/** Writes the bundled console (index.html and hashed assets) into `outdir`. */
export async function buildConsole(outdir: string): Promise<void> {
  const files = await bundleConsole();
  for (const [path, bytes] of files) {
    const file = join(outdir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
}
