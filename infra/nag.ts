import { Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

// cdk-nag v3 reports through CDK's policy validation (Validations.of(app).addPlugins) and reads
// acknowledgements from Validations.of(construct).acknowledge. Every acknowledgement goes through here,
// next to the resource it concerns, with the reason it is acceptable.

// cdk-nag is CommonJS whose named exports Node's ESM loader cannot detect: take them off the default.
import cdkNag from "cdk-nag";

export const { AwsSolutionsChecks } = cdkNag;

/** Acknowledge cdk-nag findings (rule ids, or `Rule[Finding]` ids) on a construct, with the reason. */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}
