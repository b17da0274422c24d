import { cpSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AssetHashType,
  type BundlingOptions,
  DockerImage,
  type Duration,
  type ILocalBundling,
  RemovalPolicy,
} from "aws-cdk-lib";
import { Architecture, Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { buildSync } from "esbuild";
import { buildConsoleSync } from "../../lib/console/build-console.js";
import { BUNDLING, esbuildOptions, type FUNCTION_BUNDLES } from "../function-bundles.js";
import { FunctionAccess } from "./function-access.js";

/** The repository root: entries in FUNCTION_BUNDLES and the templates directory are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where the remediate bundle's templates land in the Lambda image (`/var/task` is the bundle root). */
export const LAMBDA_TEMPLATES_DIR = `/var/task/${BUNDLING.templatesDir}`;

/** Service name and namespace of Powertools' logger and metrics (EMF), shared by every function. */
export const POWERTOOLS_SERVICE_NAME = "tourniquet";
export const METRICS_NAMESPACE = "Tourniquet";

export interface TourniquetFunctionProps {
  readonly bundle: (typeof FUNCTION_BUNDLES)[number];
  readonly stage: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: RetentionDays;
  readonly logLevel: string;
  /** Copy `templates/` into the bundle and point TOURNIQUET_TEMPLATES_DIR at it. */
  readonly withTemplates?: boolean;
  /** Build the admin console's page and assets into the bundle's `console/`, beside the handler. */
  readonly withConsole?: boolean;
  /**
   * Map stack traces to the sources at run time (NODE_OPTIONS=--enable-source-maps). Node then parses
   * the map at cold start: 15-25 ms on the bench machine, which the GitHub-facing functions do without
   * (their maps still ship with the bundle, to map a trace by hand).
   */
  readonly sourceMapsAtRuntime: boolean;
}

/**
 * Builds one function's asset on this machine with the project's esbuild (CDK's local bundling: no
 * Docker, no network), exactly as esbuildOptions says: `index.mjs`, its lazily loaded chunks under
 * `chunks/`, their source maps, and the templates when asked. Its fields are what CDK's asset cache
 * tells one function's bundling from another's by.
 */
export class EsbuildLocalBundling implements ILocalBundling {
  constructor(
    /** Entry file, relative to the repository root. */
    readonly entry: string,
    readonly withTemplates: boolean,
    readonly withConsole: boolean,
  ) {}

  tryBundle(outputDir: string): boolean {
    buildSync({ ...esbuildOptions(join(REPO_ROOT, this.entry), outputDir), absWorkingDir: REPO_ROOT });
    if (this.withTemplates) {
      cpSync(join(REPO_ROOT, BUNDLING.templatesDir), join(outputDir, BUNDLING.templatesDir), {
        recursive: true,
      });
    }
    if (this.withConsole) buildConsoleSync(join(outputDir, BUNDLING.consoleDir));
    return true;
  }
}

/** CDK's bundling options for a function's asset: local esbuild only (tryBundle never defers to Docker). */
export function functionBundling(
  entry: string,
  extras: { withTemplates: boolean; withConsole: boolean },
): BundlingOptions {
  return {
    local: new EsbuildLocalBundling(entry, extras.withTemplates, extras.withConsole),
    // Required by the type, never pulled or run: local bundling always succeeds or throws.
    image: DockerImage.fromRegistry("local-esbuild-only"),
  };
}

/**
 * One handler of FUNCTION_BUNDLES as a Lambda function: Node.js 22 on ARM64 (Graviton: cheaper, and
 * faster at the crypto the intake does), an ESM bundle built with the esbuild settings in
 * `infra/function-bundles.ts` (the same ones the bundle tests and the benchmark use), minified with
 * source maps, split so that code only a dynamic `import()` reaches (Azure's SDKs) is loaded on first
 * use, and its own log group with a retention. `access` sets environment variables and the matching
 * grants.
 */
export class TourniquetFunction extends Construct {
  readonly fn: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly access: FunctionAccess;

  constructor(scope: Construct, id: string, props: TourniquetFunctionProps) {
    super(scope, id);
    const { bundle } = props;

    // Retained: the logs are part of the record of what was revoked, and when.
    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.fn = new LambdaFunction(this, "Function", {
      functionName: `tourniquet-${props.stage}-${bundle.id}`,
      description: props.description,
      // The asset's hash is that of the built files, as NodejsFunction hashes its bundles.
      code: Code.fromAsset(REPO_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: functionBundling(bundle.entry, {
          withTemplates: props.withTemplates ?? false,
          withConsole: props.withConsole ?? false,
        }),
      }),
      handler: `${BUNDLING.entryFile.replace(/\.mjs$/, "")}.${bundle.handler}`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      logGroup: this.logGroup,
      environment: {
        ...(props.sourceMapsAtRuntime ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: props.logLevel,
        ...(props.withTemplates ? { TOURNIQUET_TEMPLATES_DIR: LAMBDA_TEMPLATES_DIR } : {}),
      },
    });

    this.access = new FunctionAccess(this.fn);
  }
}
