import { partition as partitionOfRegion } from "@aws-sdk/core/client";
import type { AwsAccountAccess } from "./aws-iam-access.js";

// The partition of an account's ARNs (`aws`, `aws-cn`, `aws-us-gov`, …), for AWS managed policy ARNs:
// the responder role's ARN says it; for the account Tourniquet runs in, the region does, through the
// SDK's own partition table (@aws-sdk/core's util-endpoints). Kept apart from the SDK adapter so the
// answer needs no IAM or STS client.

export function accountPartition(account: AwsAccountAccess, region?: string | undefined): string {
  const fromRole = account.roleArn ? /^arn:([\w-]+):/.exec(account.roleArn)?.[1] : undefined;
  if (fromRole) return fromRole;
  // The SDK resolves its region asynchronously; this answer is synchronous, so the region is read where
  // the SDK reads it first: explicit configuration, then AWS_REGION (Lambda sets it).
  const resolved = region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
  return partitionOfRegion(resolved).name;
}
