// The Lambda handlers and how each is bundled: shared by the CDK stack (NodejsFunction) and by the
// tests and benchmark that build the same bundles with esbuild and load them, so what is measured and
// tested is what is deployed.

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
  { id: "Healthz", entry: "functions/healthz.ts", handler: "handler" },
  { id: "Sweep", entry: "functions/sweep.ts", handler: "handler" },
  { id: "GithubWebhook", entry: "functions/github-webhook.ts", handler: "handler" },
] as const satisfies readonly FunctionBundle[];

/** esbuild settings, as NodejsFunction's `bundling` will apply them (ESM for Node 22 on ARM64). */
export const BUNDLING = {
  format: "esm",
  platform: "node",
  target: "node22",
  minify: true,
  sourcemap: true,
  /** ESM builds of dependencies where they ship one, so unused code can be dropped. */
  mainFields: ["module", "main"],
  /**
   * The AWS SDK v3 is left to the copy in the Lambda Node.js 22 runtime (CDK's own default for these
   * runtimes): it would otherwise be most of every bundle. The bundle tests load the bundles with the
   * repository's SDK on the resolution path, as the runtime provides it.
   */
  external: ["@aws-sdk/*"],
  /** ESM bundles need `require` for the CommonJS dependencies they inline. */
  banner:
    "import { createRequire as __tq_createRequire } from 'module'; const require = __tq_createRequire(import.meta.url);",
  /** The message templates travel with the bundle (read at cold start). */
  templatesDir: "templates",
} as const;
