import { fileURLToPath } from "node:url";
import { type Duration, RemovalPolicy } from "aws-cdk-lib";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { BUNDLING, type FUNCTION_BUNDLES } from "../function-bundles.js";
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
  /**
   * Map stack traces to the sources at run time (NODE_OPTIONS=--enable-source-maps). Node then parses
   * the map at cold start: 15-25 ms on the bench machine, which the GitHub-facing functions do without
   * (their maps still ship with the bundle, to map a trace by hand).
   */
  readonly sourceMapsAtRuntime: boolean;
}

/**
 * One handler of FUNCTION_BUNDLES as a Lambda function: Node.js 22 on ARM64 (Graviton: cheaper, and
 * faster at the crypto the intake does), an ESM bundle built with the esbuild settings in
 * `infra/function-bundles.ts` (the same ones the bundle tests and the benchmark use), minified with
 * source maps, and its own log group with a retention. `access` sets environment variables and the
 * matching grants.
 */
export class TourniquetFunction extends Construct {
  readonly fn: NodejsFunction;
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

    this.fn = new NodejsFunction(this, "Function", {
      functionName: `tourniquet-${props.stage}-${bundle.id}`,
      description: props.description,
      entry: `${REPO_ROOT}${bundle.entry}`,
      handler: bundle.handler,
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
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
      bundling: {
        format: OutputFormat.ESM,
        platform: BUNDLING.platform,
        target: BUNDLING.target,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourcemap,
        banner: BUNDLING.banner,
        // Exactly what function-bundles.ts says, as the bundle tests and the benchmark build it.
        mainFields: [...BUNDLING.mainFields],
        externalModules: [...BUNDLING.external],
        ...(props.withTemplates
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => [
                  `cp -r "${inputDir}/${BUNDLING.templatesDir}" "${outputDir}/${BUNDLING.templatesDir}"`,
                ],
              },
            }
          : {}),
      },
    });

    this.access = new FunctionAccess(this.fn);
  }
}
