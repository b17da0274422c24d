import type { AwsAccountAccess } from "../../lib/issuers/aws/aws-iam-access.js";
import { AwsSdkIamAccess, type AwsSdkIamAccessOptions } from "../../lib/issuers/aws/aws-sdk-iam-access.js";
import { SandboxAws } from "../../local/sandbox/sandbox-aws.js";

// The fake STS and IAM seeded as the AWS issuer's tests expect: the "home" account Tourniquet runs in
// (its own principal signs with HOME_CREDENTIALS) and a second account with a responder role that the
// home account may assume with an external id; and an adapter wired to the fake through explicit
// endpoints and credentials. The SDK's credential chain never looks for instance metadata here.

process.env.AWS_EC2_METADATA_DISABLED = "true";

export const HOME_ACCOUNT = "111122223333";
export const MEMBER_ACCOUNT = "444455556666";
/** AWS's documented example pair: Tourniquet's own principal in the fake. */
export const HOME_CREDENTIALS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
export const RESPONDER_ROLE = `arn:aws:iam::${MEMBER_ACCOUNT}:role/tourniquet-responder`;
export const EXTERNAL_ID = "tourniquet-test-external-id";

export const HOME: AwsAccountAccess = { accountId: HOME_ACCOUNT };
export const MEMBER: AwsAccountAccess = {
  accountId: MEMBER_ACCOUNT,
  roleArn: RESPONDER_ROLE,
  externalId: EXTERNAL_ID,
};

export async function startFakeAwsIam(options: { pageSize?: number } = {}): Promise<SandboxAws> {
  const aws = await SandboxAws.start({ home: { accountId: HOME_ACCOUNT, ...HOME_CREDENTIALS }, ...options });
  aws.addAccount(MEMBER_ACCOUNT);
  aws.addRole(MEMBER_ACCOUNT, "tourniquet-responder", { externalId: EXTERNAL_ID });
  return aws;
}

/** The SDK adapter pointed at the fake: one attempt per call (tests script each answer), 2 s timeout. */
export function awsIamAccess(aws: SandboxAws, overrides: AwsSdkIamAccessOptions = {}): AwsSdkIamAccess {
  return new AwsSdkIamAccess(fakeAwsTransport(aws, overrides));
}

export function fakeAwsTransport(
  aws: SandboxAws,
  overrides: AwsSdkIamAccessOptions = {},
): AwsSdkIamAccessOptions {
  return {
    timeoutMs: 2_000,
    ...overrides,
    clientConfig: {
      region: "us-east-1",
      credentials: HOME_CREDENTIALS,
      endpoints: { sts: aws.stsUrl, iam: aws.iamUrl },
      maxAttempts: 1,
      ...overrides.clientConfig,
    },
  };
}
