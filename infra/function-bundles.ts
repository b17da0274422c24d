import type { BuildOptions } from "esbuild";

// The Lambda handlers and how each is bundled: shared by the CDK stack (its functions' assets are built
// with esbuildOptions below) and by the tests and benchmark that build the same bundles with esbuild
// and load them, so what is measured and tested is what is deployed.

export interface FunctionBundle {
  /** Construct id and the name's suffix. */
  id: string;
  /** Entry file, relative to the repository root. */
  entry: string;
  handler: "handler";
}

export const FUNCTION_BUNDLES = [
  { id: "PartnerReport", entry: "functions/partner-report.ts", handler: "handler" },
  { id: "Remediate", entry: "functions/remediate.ts", handler: "handler" },
  { id: "AdminApi", entry: "functions/admin-api.ts", handler: "handler" },
  { id: "AdminConsole", entry: "functions/admin-console.ts", handler: "handler" },
  { id: "Healthz", entry: "functions/healthz.ts", handler: "handler" },
  { id: "Sweep", entry: "functions/sweep.ts", handler: "handler" },
  { id: "GithubWebhook", entry: "functions/github-webhook.ts", handler: "handler" },
] as const satisfies readonly FunctionBundle[];

/** esbuild settings of every function's bundle (ESM for Node 22 on ARM64); see esbuildOptions. */
export const BUNDLING = {
  format: "esm",
  platform: "node",
  target: "node22",
  minify: true,
  sourcemap: true,
  /** ESM builds of dependencies where they ship one, so unused code can be dropped. */
  mainFields: ["module", "main"],
  /**
   * Each function bundles the AWS SDK clients it imports, at the versions package-lock.json pins and
   * the tests ran, tree-shaken to the commands it sends (the runtime's copy is whatever version AWS last
   * put there, and loads slower than one minified file). Left out are only the credential sources a
   * Lambda never reaches: the SDK's default chain imports them dynamically, after the environment's
   * credentials (which Lambda always sets), so they would be bytes loaded for nothing. Were one ever
   * reached, the runtime's own SDK has it.
   */
  external: [
    "@aws-sdk/credential-provider-ini",
    "@aws-sdk/credential-provider-process",
    "@aws-sdk/credential-provider-sso",
    "@aws-sdk/credential-provider-web-identity",
  ] as string[],
  /** ESM bundles need `require` for the CommonJS dependencies they inline. */
  banner:
    "import { createRequire as __tq_createRequire } from 'module'; const require = __tq_createRequire(import.meta.url);",
  /** The message templates travel with the bundle (read at cold start). */
  templatesDir: "templates",
  /** The admin console's page and assets travel with its function, beside the handler. */
  consoleDir: "console",
  /** The handler's file in the asset: `index.handler` is the function's handler. */
  entryFile: "index.mjs",
  /**
   * Code split into its own files (ESM `splitting`): what only a dynamic `import()` reaches (Azure's
   * SDKs, behind lib/issuers/azure/lazy-azure-management.ts) is a chunk loaded with the first call that
   * needs it, not part of what every cold start parses. Modules both sides use stay one instance (a
   * shared chunk), so `instanceof IssuerError` holds across the split.
   */
  chunksDir: "chunks",
} as const;

/**
 * The esbuild options that build one function's asset into `outdir`: the handler as `index.mjs`, its
 * source map beside it, and any chunks under `chunks/`. NodejsFunction cannot build this (it always
 * passes `--outfile`, which esbuild refuses with `splitting`), so the stack runs esbuild itself with these.
 */
export function esbuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    bundle: true,
    splitting: true,
    format: BUNDLING.format,
    platform: BUNDLING.platform,
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourcemap,
    banner: { js: BUNDLING.banner },
    mainFields: [...BUNDLING.mainFields],
    external: [...BUNDLING.external],
    outExtension: { ".js": ".mjs" },
    chunkNames: `${BUNDLING.chunksDir}/[name]-[hash]`,
    logLevel: "silent",
  };
}
