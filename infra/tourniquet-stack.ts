import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { Key } from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";
import { LeakTable } from "./constructs/leak-table.js";
import { RemediationQueue } from "./constructs/remediation-queue.js";

/** Timeout of the remediate worker Lambda; the queue's visibility timeout is derived from it. */
export const WORKER_TIMEOUT = Duration.seconds(30);

export const DEFAULT_STAGE = "dev";

const STAGE_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_STAGE_LENGTH = 32;

/**
 * Returns a valid stage name, or throws an error that says how to fix it.
 * `undefined` (no `-c stage=…` given) means the default stage.
 */
export function resolveStage(value: unknown): string {
  if (value === undefined) return DEFAULT_STAGE;
  if (typeof value !== "string" || value.length > MAX_STAGE_LENGTH || !STAGE_PATTERN.test(value)) {
    throw new Error(
      `Invalid stage ${JSON.stringify(value)}: use 1-${MAX_STAGE_LENGTH} lowercase letters, digits and ` +
        `single hyphens, e.g. "dev" or "prod-eu" (cdk synth -c stage=dev).`,
    );
  }
  return value;
}

export interface TourniquetStackProps extends StackProps {
  /** Deployment stage; defaults to the `stage` context value, then to "dev". */
  readonly stage?: string;
}

/** Tourniquet's AWS resources. Environment-agnostic: the account and region come from the deploy. */
export class TourniquetStack extends Stack {
  readonly stage: string;

  constructor(scope: Construct, id: string, { stage: stageProp, ...props }: TourniquetStackProps = {}) {
    const stage = resolveStage(stageProp ?? scope.node.tryGetContext("stage"));
    super(scope, id, {
      stackName: `tourniquet-${stage}`,
      description: `Tourniquet leaked-API-key response bot (${stage})`,
      ...props,
      tags: { project: "tourniquet", stage, ...props.tags },
    });
    this.stage = stage;

    // One key for the table, the queues and for sealing raw tokens inside queue messages.
    // Retained: a retained table or a parked message is unreadable without it.
    const key = new Key(this, "Key", {
      description: `Tourniquet (${stage}): leak table, remediation queue and sealed tokens`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const leaks = new LeakTable(this, "Leaks", { encryptionKey: key });
    const remediation = new RemediationQueue(this, "Remediation", {
      encryptionKey: key,
      workerTimeout: WORKER_TIMEOUT,
    });

    new CfnOutput(this, "TableName", { value: leaks.table.tableName, description: "Leak store table" });
    new CfnOutput(this, "QueueUrl", { value: remediation.queue.queueUrl, description: "Remediation queue" });
    new CfnOutput(this, "KeyArn", { value: key.keyArn, description: "KMS key for data and sealed tokens" });
  }
}
