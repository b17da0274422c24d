import { Aws } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { acknowledge } from "../nag.js";
import type { AwsIamSettings } from "../stages.js";

// What the `aws_iam` issuer (lib/issuers/aws/) may call, from the stage setting `awsIam`:
//
// - sts:GetAccessKeyInfo, with the functions' own credentials: which account owns a key id. It takes
//   no resource (IAM only accepts "*" for it) and reads nothing but the key's account id.
// - sts:AssumeRole on exactly the configured responder roles: everything else happens in the key's
//   account, as that role, whose own policy (docs/deploy.md) says what it may do there.
// - With `ownAccount`, the IAM calls themselves on this account's users (never roles): the reads to
//   every function that verifies, the writes to the worker only.
//
// Without `awsIam`, none of this is granted.

/** The calls that find a key, its user and its evidence (verify, re-verify, usage after revocation). */
export const AWS_IAM_READ_ACTIONS = [
  "iam:GetAccessKeyLastUsed",
  "iam:ListAccessKeys",
  "iam:GetUser",
  "iam:ListAttachedUserPolicies",
] as const;

/** The calls that act on a key (revoke, delete, rotate); AttachUserPolicy is granted apart, conditioned. */
export const AWS_IAM_WRITE_ACTIONS = [
  "iam:UpdateAccessKey",
  "iam:DeleteAccessKey",
  "iam:CreateAccessKey",
] as const;

/** AWS's managed policy the issuer attaches to a leaked key's user (as AWS itself does), and no other. */
export const QUARANTINE_POLICY_NAME = "AWSCompromisedKeyQuarantineV3";

export interface AwsKeyAccessProps {
  readonly settings: AwsIamSettings | undefined;
  /** The functions that verify keys and so read: they find the key's account, user and evidence. */
  readonly verifiers: readonly IFunction[];
  /** The function that acts on keys (one of the verifiers): it alone may write. */
  readonly remediator: IFunction;
}

/** Grants the AWS key calls the stage's `awsIam` setting allows; nothing when it is absent. */
export function grantAwsKeyAccess({ settings, verifiers, remediator }: AwsKeyAccessProps): void {
  if (!settings) return;
  if (!verifiers.includes(remediator)) throw new Error("the remediator must be one of the verifiers");
  const users = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:user/*`;

  for (const fn of verifiers) {
    fn.addToRolePolicy(new PolicyStatement({ actions: ["sts:GetAccessKeyInfo"], resources: ["*"] }));
    acknowledge(
      fn,
      "sts:GetAccessKeyInfo has no resource type (IAM accepts only '*'): it names the account that owns " +
        "an access key id, and nothing else.",
      "AwsSolutions-IAM5[Resource::*]",
    );
    if (settings.responderRoles.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ["sts:AssumeRole"], resources: [...settings.responderRoles] }),
      );
    }
    if (settings.ownAccount) {
      fn.addToRolePolicy(new PolicyStatement({ actions: [...AWS_IAM_READ_ACTIONS], resources: [users] }));
      acknowledge(
        fn,
        "A leaked key may belong to any IAM user of this account (stage setting awsIam.ownAccount): the " +
          "key calls apply to users only, never roles; writes are the worker's alone.",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]",
      );
    }
  }

  if (settings.ownAccount) {
    remediator.addToRolePolicy(
      new PolicyStatement({ actions: [...AWS_IAM_WRITE_ACTIONS], resources: [users] }),
    );
    remediator.addToRolePolicy(
      new PolicyStatement({
        actions: ["iam:AttachUserPolicy"],
        resources: [users],
        conditions: {
          ArnEquals: { "iam:PolicyARN": `arn:${Aws.PARTITION}:iam::aws:policy/${QUARANTINE_POLICY_NAME}` },
        },
      }),
    );
  }
}
