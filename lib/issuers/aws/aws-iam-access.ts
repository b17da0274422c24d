// The AWS port: what the AWS issuer needs of STS and IAM. The adapter (aws-sdk-iam-access.ts) speaks
// the query protocol through AWS's SDK clients; the issuer (aws-iam-issuer.ts) holds the logic and is
// table-tested over an in-memory adapter.
//
// Adapters throw IssuerError: `transient` for throttling (Throttling, ThrottlingException,
// RequestLimitExceeded), 5xx (ServiceFailure, ServiceUnavailable) and timeouts; permanent for the
// rest, with a message that names the call, the account and, for AccessDenied, the IAM action the
// responder role lacks. NoSuchEntity is not an error where the port says what it means instead.
// Never a secret access key in a message.

/** An account Tourniquet acts in: its id, and the responder role to assume (none: its own credentials). */
export interface AwsAccountAccess {
  accountId: string;
  roleArn?: string | undefined;
  externalId?: string | undefined;
}

export type AccessKeyStatus = "Active" | "Inactive";

/** An access key's metadata, as ListAccessKeys gives it: never its secret. */
export interface AccessKeyMetadata {
  accessKeyId: string;
  status: AccessKeyStatus;
  /** ISO-8601. */
  createDate?: string | undefined;
}

/** GetAccessKeyLastUsed: the key's user, and its last use when it was ever used. */
export interface AccessKeyLastUsed {
  userName: string;
  /** ISO-8601; absent when the key was never used. */
  lastUsedDate?: string | undefined;
  /** The service last called (`s3`, `ec2`…); absent when never used (AWS says "N/A"). */
  serviceName?: string | undefined;
  region?: string | undefined;
}

/** GetUser: the user's ARN (with its path) and tags. */
export interface IamUser {
  userName: string;
  arn: string;
  tags: Record<string, string>;
}

export interface AttachedPolicy {
  policyName: string;
  policyArn: string;
}

/** CreateAccessKey's answer. The secret is held only until it is in the secret store. */
export interface CreatedAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  createDate?: string | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface AwsIamAccess {
  /**
   * sts:GetAccessKeyInfo with Tourniquet's own credentials: the account that owns any access key id.
   * Undefined when STS says the key does not exist (a deleted key may answer so).
   */
  accountOfKey(accessKeyId: string, options?: CallOptions): Promise<string | undefined>;
  /** The partition of an account's ARNs (`aws`, `aws-us-gov`, `aws-cn`), for managed policy ARNs. */
  partition(account: AwsAccountAccess): string;
  /** iam:GetAccessKeyLastUsed. Undefined when the key is not in the account (NoSuchEntity). */
  lastUsed(
    account: AwsAccountAccess,
    accessKeyId: string,
    options?: CallOptions,
  ): Promise<AccessKeyLastUsed | undefined>;
  /** iam:ListAccessKeys for the user, every page. */
  listAccessKeys(
    account: AwsAccountAccess,
    userName: string,
    options?: CallOptions,
  ): Promise<AccessKeyMetadata[]>;
  /** iam:GetUser. */
  getUser(account: AwsAccountAccess, userName: string, options?: CallOptions): Promise<IamUser>;
  /** iam:ListAttachedUserPolicies, every page. */
  listAttachedUserPolicies(
    account: AwsAccountAccess,
    userName: string,
    options?: CallOptions,
  ): Promise<AttachedPolicy[]>;
  /** iam:UpdateAccessKey. Setting the status it has already succeeds. */
  updateAccessKey(
    account: AwsAccountAccess,
    userName: string,
    accessKeyId: string,
    status: AccessKeyStatus,
    options?: CallOptions,
  ): Promise<void>;
  /** iam:DeleteAccessKey. "absent" when the key was already gone (NoSuchEntity). */
  deleteAccessKey(
    account: AwsAccountAccess,
    userName: string,
    accessKeyId: string,
    options?: CallOptions,
  ): Promise<"deleted" | "absent">;
  /** iam:AttachUserPolicy. Attaching an attached policy succeeds. */
  attachUserPolicy(
    account: AwsAccountAccess,
    userName: string,
    policyArn: string,
    options?: CallOptions,
  ): Promise<void>;
  /** iam:CreateAccessKey. A user with two keys already: IssuerError naming LimitExceeded. */
  createAccessKey(
    account: AwsAccountAccess,
    userName: string,
    options?: CallOptions,
  ): Promise<CreatedAccessKey>;
}
