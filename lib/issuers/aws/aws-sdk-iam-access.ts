import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  type IAMClientConfig,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import {
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  STSClient,
  type STSClientConfig,
} from "@aws-sdk/client-sts";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { IssuerError } from "../../errors.js";
import { withDeadline } from "../../util/deadline.js";
import type {
  AccessKeyLastUsed,
  AccessKeyMetadata,
  AccessKeyStatus,
  AttachedPolicy,
  AwsAccountAccess,
  AwsIamAccess,
  CallOptions,
  CreatedAccessKey,
  IamUser,
} from "./aws-iam-access.js";
import { awsErrorCode, toIssuerError } from "./aws-iam-errors.js";
import { accountPartition } from "./aws-partition.js";

// The AWS port over AWS's SDK clients. One STS client with Tourniquet's own credentials (the SDK's
// default chain) answers GetAccessKeyInfo; each account gets an IAM client whose credentials are the
// responder role's (fromTemporaryCredentials: AssumeRole with the role's external id, cached and
// refreshed before expiry), or Tourniquet's own for the account it runs in. Endpoints and region are
// the SDK's own resolution, so AWS_REGION, AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS work as AWS
// documents them (the STS client inside fromTemporaryCredentials included); tests may override them.
//
// The SDK retries at most once (maxAttempts 2): the worker retries transient failures itself, with
// backoff, and a longer SDK loop would only burn a time-boxed verification. CreateAccessKey is never
// retried by the SDK: it is not idempotent (a lost answer retried makes a second key), and the SDK
// counts IAM's LimitExceededException among throttling errors.

export const DEFAULT_AWS_TIMEOUT_MS = 5_000;
export const DEFAULT_AWS_MAX_ATTEMPTS = 2;
/** The session name every responder-role session carries (CloudTrail shows it). */
export const ROLE_SESSION_NAME = "tourniquet";
/** The session policy of a read-only responder session: the verification's reads, nothing else. */
export const READ_ONLY_SESSION_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: [
        "iam:GetAccessKeyLastUsed",
        "iam:ListAccessKeys",
        "iam:GetUser",
        "iam:ListAttachedUserPolicies",
      ],
      Resource: "*",
    },
  ],
});
/** Temporary credentials are renewed this long before they expire. */
const CREDENTIAL_REFRESH_MS = 5 * 60_000;

/** SDK settings a test (or a runtime) overrides; anything absent is the SDK's own resolution. */
export interface AwsClientConfig {
  region?: string | undefined;
  /** Tourniquet's own credentials; default: the SDK's default provider chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  maxAttempts?: number | undefined;
  /** Endpoint per service (e.g. a loopback fake); default: the SDK's resolution (AWS_ENDPOINT_URL_*). */
  endpoints?: { sts?: string | undefined; iam?: string | undefined } | undefined;
}

export interface AwsSdkIamAccessOptions {
  clientConfig?: AwsClientConfig | undefined;
  /**
   * `read`: each responder-role session carries a session policy allowing only the reads, so a function
   * that only verifies (the intakes, the sweep) cannot write through a role that trusts it. Default
   * `write`: the worker's sessions get all the role allows.
   */
  sessionAccess?: "read" | "write" | undefined;
  /** Time allowed for one call, the role's AssumeRole included. Default 5 s. */
  timeoutMs?: number | undefined;
}

interface IamClients {
  /** Retries as configured. */
  client: IAMClient;
  /** Never retried by the SDK (CreateAccessKey). */
  once: IAMClient;
}

export class AwsSdkIamAccess implements AwsIamAccess {
  private readonly config: AwsClientConfig;
  private readonly timeoutMs: number;
  private readonly sessionAccess: "read" | "write";
  private readonly requestHandler: {
    connectionTimeout: number;
    requestTimeout: number;
    throwOnRequestTimeout: boolean;
  };
  private stsClient: STSClient | undefined;
  private readonly iamClients = new Map<string, IamClients>();

  constructor(options: AwsSdkIamAccessOptions = {}) {
    this.config = options.clientConfig ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS;
    this.sessionAccess = options.sessionAccess ?? "write";
    this.requestHandler = {
      connectionTimeout: this.timeoutMs,
      requestTimeout: this.timeoutMs,
      throwOnRequestTimeout: true,
    };
  }

  async accountOfKey(accessKeyId: string, options?: CallOptions): Promise<string | undefined> {
    const home: AwsAccountAccess = { accountId: "Tourniquet runs in" };
    const answer = await this.run(
      home,
      `sts:GetAccessKeyInfo of ${accessKeyId}`,
      "sts:GetAccessKeyInfo",
      options,
      (s) => this.sts().send(new GetAccessKeyInfoCommand({ AccessKeyId: accessKeyId }), { abortSignal: s }),
      // A malformed id names no key. STS answers an id it does not know as it answers bad credentials.
      {
        absorb: {
          ValidationError: () => "malformed" as const,
          InvalidClientTokenId: () => "refused" as const,
        },
      },
    );
    if (answer === "malformed") return undefined;
    if (answer === "refused") {
      // If Tourniquet's own credentials are good, the refused credential was the key: it does not exist.
      await this.run(home, "sts:GetCallerIdentity", "sts:GetCallerIdentity", options, (s) =>
        this.sts().send(new GetCallerIdentityCommand({}), { abortSignal: s }),
      );
      return undefined;
    }
    return answer.Account || undefined;
  }

  partition(account: AwsAccountAccess): string {
    return accountPartition(account, this.config.region);
  }

  async lastUsed(
    account: AwsAccountAccess,
    accessKeyId: string,
    options?: CallOptions,
  ): Promise<AccessKeyLastUsed | undefined> {
    const answer = await this.run(
      account,
      `iam:GetAccessKeyLastUsed of ${accessKeyId}`,
      "iam:GetAccessKeyLastUsed",
      options,
      (s) =>
        this.iam(account).client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }), {
          abortSignal: s,
        }),
      { absorb: { NoSuchEntity: () => undefined } },
    );
    if (!answer?.UserName) return undefined;
    const used = answer.AccessKeyLastUsed;
    const known = (value: string | undefined) => (value && value !== "N/A" ? value : undefined);
    return {
      userName: answer.UserName,
      lastUsedDate: used?.LastUsedDate?.toISOString(),
      serviceName: known(used?.ServiceName),
      region: known(used?.Region),
    };
  }

  async listAccessKeys(
    account: AwsAccountAccess,
    userName: string,
    options?: CallOptions,
  ): Promise<AccessKeyMetadata[]> {
    const keys: AccessKeyMetadata[] = [];
    let marker: string | undefined;
    do {
      const page = await this.run(
        account,
        `iam:ListAccessKeys of user ${userName}`,
        "iam:ListAccessKeys",
        options,
        (s) =>
          this.iam(account).client.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }), {
            abortSignal: s,
          }),
        { explain: { NoSuchEntity: `no user ${userName} in the account` } },
      );
      for (const key of page.AccessKeyMetadata ?? []) {
        if (!key.AccessKeyId || (key.Status !== "Active" && key.Status !== "Inactive")) continue;
        keys.push({
          accessKeyId: key.AccessKeyId,
          status: key.Status,
          createDate: key.CreateDate?.toISOString(),
        });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return keys;
  }

  async getUser(account: AwsAccountAccess, userName: string, options?: CallOptions): Promise<IamUser> {
    const answer = await this.run(
      account,
      `iam:GetUser ${userName}`,
      "iam:GetUser",
      options,
      (s) => this.iam(account).client.send(new GetUserCommand({ UserName: userName }), { abortSignal: s }),
      { explain: { NoSuchEntity: `no user ${userName} in the account` } },
    );
    const user = answer.User;
    if (!user?.UserName || !user.Arn) {
      throw new IssuerError(`AWS iam:GetUser ${userName}: the answer lacks the user`, { transient: false });
    }
    const tags: Record<string, string> = {};
    for (const tag of user.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? "";
    return { userName: user.UserName, arn: user.Arn, tags };
  }

  async listAttachedUserPolicies(
    account: AwsAccountAccess,
    userName: string,
    options?: CallOptions,
  ): Promise<AttachedPolicy[]> {
    const policies: AttachedPolicy[] = [];
    let marker: string | undefined;
    do {
      const page = await this.run(
        account,
        `iam:ListAttachedUserPolicies of user ${userName}`,
        "iam:ListAttachedUserPolicies",
        options,
        (s) =>
          this.iam(account).client.send(
            new ListAttachedUserPoliciesCommand({ UserName: userName, Marker: marker }),
            { abortSignal: s },
          ),
        { explain: { NoSuchEntity: `no user ${userName} in the account` } },
      );
      for (const policy of page.AttachedPolicies ?? []) {
        if (policy.PolicyArn)
          policies.push({ policyName: policy.PolicyName ?? "", policyArn: policy.PolicyArn });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return policies;
  }

  async updateAccessKey(
    account: AwsAccountAccess,
    userName: string,
    accessKeyId: string,
    status: AccessKeyStatus,
    options?: CallOptions,
  ): Promise<void> {
    await this.run(
      account,
      `iam:UpdateAccessKey ${accessKeyId} of user ${userName} to ${status}`,
      "iam:UpdateAccessKey",
      options,
      (s) =>
        this.iam(account).client.send(
          new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }),
          { abortSignal: s },
        ),
      { explain: { NoSuchEntity: `no key ${accessKeyId} of user ${userName} in the account` } },
    );
  }

  async deleteAccessKey(
    account: AwsAccountAccess,
    userName: string,
    accessKeyId: string,
    options?: CallOptions,
  ): Promise<"deleted" | "absent"> {
    return this.run(
      account,
      `iam:DeleteAccessKey ${accessKeyId} of user ${userName}`,
      "iam:DeleteAccessKey",
      options,
      async (s) => {
        await this.iam(account).client.send(
          new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }),
          { abortSignal: s },
        );
        return "deleted" as const;
      },
      { absorb: { NoSuchEntity: () => "absent" as const } },
    );
  }

  async attachUserPolicy(
    account: AwsAccountAccess,
    userName: string,
    policyArn: string,
    options?: CallOptions,
  ): Promise<void> {
    await this.run(
      account,
      `iam:AttachUserPolicy ${policyArn} to user ${userName}`,
      "iam:AttachUserPolicy",
      options,
      (s) =>
        this.iam(account).client.send(
          new AttachUserPolicyCommand({ UserName: userName, PolicyArn: policyArn }),
          {
            abortSignal: s,
          },
        ),
      { explain: { NoSuchEntity: `no user ${userName} or no policy ${policyArn}` } },
    );
  }

  async createAccessKey(
    account: AwsAccountAccess,
    userName: string,
    options?: CallOptions,
  ): Promise<CreatedAccessKey> {
    const answer = await this.run(
      account,
      `iam:CreateAccessKey for user ${userName}`,
      "iam:CreateAccessKey",
      options,
      (s) =>
        this.iam(account).once.send(new CreateAccessKeyCommand({ UserName: userName }), { abortSignal: s }),
      {
        explain: {
          LimitExceeded: `user ${userName} already has two access keys: IAM allows two per user`,
          NoSuchEntity: `no user ${userName} in the account`,
        },
      },
    );
    const key = answer.AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey) {
      throw new IssuerError(`AWS iam:CreateAccessKey for user ${userName}: the answer lacks the new key`, {
        transient: false,
      });
    }
    return {
      accessKeyId: key.AccessKeyId,
      secretAccessKey: key.SecretAccessKey,
      createDate: key.CreateDate?.toISOString(),
    };
  }

  private sts(): STSClient {
    this.stsClient ??= new STSClient(this.clientConfig("sts"));
    return this.stsClient;
  }

  /** The account's IAM clients, made once: the role's credentials are shared by both. */
  private iam(account: AwsAccountAccess): IamClients {
    const cacheKey = `${account.accountId}|${account.roleArn ?? ""}|${account.externalId ?? ""}`;
    let clients = this.iamClients.get(cacheKey);
    if (!clients) {
      const credentials = account.roleArn
        ? sharedCredentials(this.roleCredentials(account.roleArn, account.externalId))
        : this.config.credentials;
      const base = this.clientConfig("iam");
      clients = {
        client: new IAMClient({ ...base, ...(credentials ? { credentials } : {}) }),
        once: new IAMClient({ ...base, ...(credentials ? { credentials } : {}), maxAttempts: 1 }),
      };
      this.iamClients.set(cacheKey, clients);
    }
    return clients;
  }

  private roleCredentials(roleArn: string, externalId: string | undefined): AwsCredentialIdentityProvider {
    return fromTemporaryCredentials({
      params: {
        RoleArn: roleArn,
        RoleSessionName: ROLE_SESSION_NAME,
        ...(externalId ? { ExternalId: externalId } : {}),
        ...(this.sessionAccess === "read" ? { Policy: READ_ONLY_SESSION_POLICY } : {}),
      },
      ...(this.config.credentials ? { masterCredentials: this.config.credentials } : {}),
      clientConfig: this.clientConfig("sts"),
    });
  }

  /** Settings for a client of `service`: only what is set, so the SDK resolves the rest itself. */
  private clientConfig(service: "sts" | "iam"): STSClientConfig & IAMClientConfig {
    const endpoint = this.config.endpoints?.[service];
    return {
      maxAttempts: this.config.maxAttempts ?? DEFAULT_AWS_MAX_ATTEMPTS,
      requestHandler: this.requestHandler,
      ...(this.config.region ? { region: this.config.region } : {}),
      ...(this.config.credentials && service === "sts" ? { credentials: this.config.credentials } : {}),
      ...(endpoint ? { endpoint } : {}),
    };
  }

  /**
   * Runs one SDK call under its timeout and the caller's signal, and maps any failure. The race makes the
   * bound hold where a layer (the role's AssumeRole inside the credential provider) does not watch the
   * signal.
   */
  private async run<T, A = never>(
    account: AwsAccountAccess,
    call: string,
    permission: string,
    options: CallOptions | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    expected: {
      /** Plain words for error codes the call expects. */
      explain?: Partial<Record<string, string>>;
      /** Error codes the port gives a meaning: the call answers what the function returns. */
      absorb?: Partial<Record<string, () => A>>;
    } = {},
  ): Promise<T | A> {
    return withDeadline<T | A>(
      fn,
      { timeoutMs: this.timeoutMs, signal: options?.signal },
      (error, ending) => {
        const code = ending.aborted ? undefined : awsErrorCode(error);
        const absorb = code ? expected.absorb?.[code] : undefined;
        if (absorb) return absorb();
        throw toIssuerError(error, {
          call,
          permission,
          accountId: account.accountId,
          roleArn: account.roleArn,
          explain: expected.explain,
          timeoutMs: this.timeoutMs,
          timedOut: ending.timedOut,
          callerAborted: ending.callerAborted,
        });
      },
    );
  }
}

/**
 * One AssumeRole session shared by an account's clients (each SDK client memoizes its provider on its
 * own), renewed a few minutes before it expires; a failed attempt is not kept.
 */
function sharedCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  const fresh = (c: AwsCredentialIdentity) =>
    !c.expiration || c.expiration.getTime() - Date.now() > CREDENTIAL_REFRESH_MS;
  return async () => {
    const pending = current;
    if (pending) {
      const held = await pending.catch(() => undefined);
      if (held && fresh(held)) return held;
      if (current !== pending) return current as Promise<AwsCredentialIdentity>;
    }
    current = provider();
    current.catch(() => {
      current = undefined;
    });
    return current;
  };
}
