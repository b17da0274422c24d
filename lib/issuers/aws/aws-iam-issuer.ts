import { IssuerError } from "../../errors.js";
import { describeError } from "../../log.js";
import { KeyedMutex } from "../../util/keyed-mutex.js";
import type { RetryPolicy } from "../../util/retry.js";
import type {
  CallOptions,
  Issuer,
  KeyDetail,
  KeyRequest,
  Revocation,
  Rotation,
  UsageReport,
  Verification,
} from "../issuer.js";
import { issuerCall } from "../issuer-call.js";
import { ownerFromTags } from "../owner-tags.js";
import type {
  AccessKeyLastUsed,
  AccessKeyMetadata,
  AwsAccountAccess,
  AwsIamAccess,
} from "./aws-iam-access.js";
import { formatAwsKeyId, IAM_USER_KEY_ID, parseAwsKeyId } from "./aws-key-id.js";

// The AWS IAM issuer: STS names the account of any access key id; in a configured account (through its
// responder role) IAM names the key's user, its status and last use. A live key is deactivated
// (reversible), deleted only when configured, and its user quarantined with the managed policy AWS
// itself attaches to exposed keys' users. The secret access key is never needed: the key id is enough.

export interface AwsIamIssuerOptions {
  name: string;
  access: AwsIamAccess;
  /** Account id → its responder role (none: Tourniquet's own credentials). */
  accounts: Record<string, { role_arn?: string | undefined; external_id?: string | undefined }>;
  deleteAfterDeactivate: boolean;
  quarantine: boolean;
  /** User tags read, in order, for the owner's email. */
  ownerTags: readonly string[];
  retry?: RetryPolicy | undefined;
  now?: (() => number) | undefined;
}

/** The managed policy AWS attaches to the user of an exposed key (AWS managed policy reference). */
export const QUARANTINE_POLICY = "AWSCompromisedKeyQuarantineV3";

/** IAM throttles per account (Throttling, "Rate exceeded"): a few quick tries, then the step's retry. */
const AWS_RETRY: RetryPolicy = { attempts: 4, baseMs: 200, maxDelayMs: 5_000 };

/** Key ids whose account is remembered (a few hundred KB at most). */
const KNOWN_KEY_ACCOUNTS = 10_000;

/** IAM allows two access keys per user. */
const KEYS_PER_USER = 2;

export class AwsIamIssuer implements Issuer {
  readonly name: string;
  private readonly aws: AwsIamAccess;
  private readonly accounts: ReadonlyMap<string, AwsAccountAccess>;
  private readonly deleteAfterDeactivate: boolean;
  private readonly quarantine: boolean;
  private readonly ownerTags: readonly string[];
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private readonly users = new KeyedMutex();
  private readonly keyAccounts = new Map<string, string>();

  constructor(options: AwsIamIssuerOptions) {
    this.name = options.name;
    this.aws = options.access;
    this.accounts = new Map(
      Object.entries(options.accounts).map(([accountId, a]) => [
        accountId,
        { accountId, roleArn: a.role_arn, externalId: a.external_id },
      ]),
    );
    this.deleteAfterDeactivate = options.deleteAfterDeactivate;
    this.quarantine = options.quarantine;
    this.ownerTags = options.ownerTags;
    this.retry = options.retry ?? AWS_RETRY;
    this.now = options.now ?? Date.now;
  }

  /**
   * The token is the access key id (GitHub's `aws_access_key_id`). Its secret half is never sent here:
   * intake records it beside its key id and leaves it alone (lib/intake/key-pairs.ts).
   */
  async verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification> {
    const accessKeyId = request.token.trim();
    if (!IAM_USER_KEY_ID.test(accessKeyId)) {
      return {
        status: "unknown",
        evidence: { reason: "not an IAM user access key id (AKIA + 16 characters)" },
      };
    }
    const accountId = await this.accountOf(accessKeyId, options);
    if (!accountId)
      return { status: "unknown", evidence: { reason: "STS does not know this access key id" } };
    const account = this.accounts.get(accountId);
    if (!account) {
      return {
        status: "unknown",
        evidence: {
          account: accountId,
          reason: `account ${accountId} is not among issuer ${this.name}'s accounts`,
        },
      };
    }
    const lastUsed = await this.call("iam:GetAccessKeyLastUsed", where(account), () =>
      this.aws.lastUsed(account, accessKeyId, options),
    );
    if (!lastUsed) {
      // Gone from the account: deleted, so dead. Its user can no longer be read.
      return {
        status: "inactive",
        keyId: `${accountId}::${accessKeyId}`,
        evidence: { account: accountId, reason: "the key no longer exists in its account" },
      };
    }
    const { userName } = lastUsed;
    const [keys, user, policies] = await Promise.all([
      this.listKeys(account, userName, options),
      this.bonus("iam:GetUser", account, () => this.aws.getUser(account, userName, options), options),
      this.bonus(
        "iam:ListAttachedUserPolicies",
        account,
        () => this.aws.listAttachedUserPolicies(account, userName, options),
        options,
      ),
    ]);
    const key = keys.find((k) => k.accessKeyId === accessKeyId);
    const others = keys.filter((k) => k.accessKeyId !== accessKeyId);
    const userArn = user.value?.arn ?? `${this.userArnPrefix(account)}${userName}`;
    return {
      status: key?.status === "Active" ? "active" : "inactive",
      keyId: formatAwsKeyId({ accountId, userName, accessKeyId }),
      owner: ownerFromTags(user.value?.tags ?? {}, this.ownerTags, userArn),
      evidence: {
        account: accountId,
        user: userName,
        user_arn: userArn,
        key_status: key?.status ?? "deleted",
        key_created: key?.createDate,
        last_used: lastUseEvidence(lastUsed),
        other_keys: others.map((k) => ({ id: k.accessKeyId, status: k.status, created: k.createDate })),
        attached_policies: policies.value?.map((p) => p.policyName),
        quarantined: policies.value?.some((p) => p.policyName === QUARANTINE_POLICY),
        ...(user.error || policies.error
          ? { unreadable: [user.error, policies.error].filter((e) => e !== undefined) }
          : {}),
      },
      details: keyDetails(accountId, userName, lastUsed, others),
    };
  }

  /**
   * Deactivates the key (UpdateAccessKey Inactive), deletes it when configured, and quarantines its
   * user when configured. Each step reads first, so a retry after any of them does only what is left.
   */
  async revoke(request: KeyRequest, options?: CallOptions): Promise<Revocation> {
    const ref = parseAwsKeyId(request.keyId);
    const account = this.account(ref.accountId, request.keyId);
    const { userName, accessKeyId } = ref;
    return this.users.run(`${ref.accountId}:${userName}`, async () => {
      const actions: string[] = [];
      const key = (await this.listKeys(account, userName, options)).find(
        (k) => k.accessKeyId === accessKeyId,
      );
      const wasActive = key?.status === "Active";
      if (wasActive) {
        await this.call("iam:UpdateAccessKey", where(account), () =>
          this.aws.updateAccessKey(account, userName, accessKeyId, "Inactive", options),
        );
        actions.push(
          `deactivated ${accessKeyId} (undo: aws iam update-access-key --user-name ${userName} --access-key-id ${accessKeyId} --status Active)`,
        );
      }
      if (key && this.deleteAfterDeactivate) {
        const deleted = await this.call("iam:DeleteAccessKey", where(account), () =>
          this.aws.deleteAccessKey(account, userName, accessKeyId, options),
        );
        if (deleted === "deleted")
          actions.push(`deleted ${accessKeyId} (delete_after_deactivate; cannot be undone)`);
      }
      if (this.quarantine) {
        const quarantined = await this.quarantineUser(account, userName, options);
        if (quarantined) actions.push(quarantined);
      }
      return {
        keyId: request.keyId,
        alreadyRevoked: !wasActive,
        revokedAt: wasActive ? new Date(this.now()).toISOString() : undefined,
        actions,
      };
    });
  }

  /**
   * A new key for the same user, when the user has room (IAM allows two). Its secret is handed over for
   * the secret store only: AWS never shows it again, so there is no console page to send the owner to.
   */
  async rotate(request: KeyRequest, options?: CallOptions): Promise<Rotation> {
    const ref = parseAwsKeyId(request.keyId);
    const account = this.account(ref.accountId, request.keyId);
    const { userName, accessKeyId } = ref;
    return this.users.run(`${ref.accountId}:${userName}`, async () => {
      const keys = await this.listKeys(account, userName, options);
      if (keys.some((k) => k.accessKeyId === accessKeyId && k.status === "Active")) {
        throw new IssuerError(
          `issuer "${this.name}" rotate: ${request.keyId} is still active; revoke it first`,
          { transient: false },
        );
      }
      if (keys.length >= KEYS_PER_USER) {
        const listed = keys.map((k) => `${k.accessKeyId} (${k.status})`).join(", ");
        throw new IssuerError(
          `issuer "${this.name}" rotate: IAM user ${userName} already has ${keys.length} access keys (${listed}) and IAM allows ${KEYS_PER_USER}: delete the deactivated leaked key ${accessKeyId} (or set delete_after_deactivate), then retry this leak`,
          { transient: false },
        );
      }
      const created = await this.call("iam:CreateAccessKey", where(account), () =>
        this.aws.createAccessKey(account, userName, options),
      );
      const policies = await this.bonus("iam:ListAttachedUserPolicies", account, () =>
        this.aws.listAttachedUserPolicies(account, userName, options),
      );
      const quarantined = policies.value?.some((p) => p.policyName === QUARANTINE_POLICY);
      return {
        keyId: request.keyId,
        replacementKeyId: formatAwsKeyId({
          accountId: ref.accountId,
          userName,
          accessKeyId: created.accessKeyId,
        }),
        deliveredToOwner: false,
        secret: created.secretAccessKey,
        note: quarantined
          ? `IAM user ${userName} is quarantined (${QUARANTINE_POLICY}): the new key is denied what that policy denies until an administrator has checked the account for abuse and detached it`
          : undefined,
      };
    });
  }

  /** A key id's account never changes: asked of STS once per key id (the re-verification is then IAM's alone). */
  private async accountOf(accessKeyId: string, options?: CallOptions): Promise<string | undefined> {
    const known = this.keyAccounts.get(accessKeyId);
    if (known) return known;
    const accountId = await this.call("sts:GetAccessKeyInfo", "Tourniquet's own credentials", () =>
      this.aws.accountOfKey(accessKeyId, options),
    );
    if (accountId) {
      if (this.keyAccounts.size >= KNOWN_KEY_ACCOUNTS) {
        this.keyAccounts.delete(this.keyAccounts.keys().next().value as string); // the oldest
      }
      this.keyAccounts.set(accessKeyId, accountId);
    }
    return accountId;
  }

  /**
   * Whether the key was used since `since` (its revocation, an hour later: did the abuse stop?). IAM
   * records only a key's last use, so the figure is 0 or 1: not used, or used at least once.
   */
  async usageSince(request: { keyId: string; since: string }, options?: CallOptions): Promise<UsageReport> {
    const { accountId, accessKeyId } = parseAwsKeyId(request.keyId);
    const account = this.account(accountId, request.keyId);
    const lastUsed = await this.call("iam:GetAccessKeyLastUsed", where(account), () =>
      this.aws.lastUsed(account, accessKeyId, options),
    );
    const usedAt = lastUsed?.lastUsedDate;
    return {
      since: request.since,
      until: new Date(this.now()).toISOString(),
      figures: {
        uses_seen_since_revocation: usedAt && Date.parse(usedAt) > Date.parse(request.since) ? 1 : 0,
        last_used: usedAt ?? null,
        last_service: lastUsed?.serviceName ?? null,
        note: lastUsed
          ? "IAM records only a key's last use: 1 means used at least once since"
          : "the key no longer exists (deleted)",
      },
    };
  }

  /** Attaches AWS's quarantine policy unless attached; says what it did, or undefined when nothing. */
  private async quarantineUser(
    account: AwsAccountAccess,
    userName: string,
    options?: CallOptions,
  ): Promise<string | undefined> {
    const attached = await this.call("iam:ListAttachedUserPolicies", where(account), () =>
      this.aws.listAttachedUserPolicies(account, userName, options),
    );
    if (attached.some((p) => p.policyName === QUARANTINE_POLICY)) return undefined;
    const policyArn = `arn:${this.aws.partition(account)}:iam::aws:policy/${QUARANTINE_POLICY}`;
    await this.call("iam:AttachUserPolicy", where(account), () =>
      this.aws.attachUserPolicy(account, userName, policyArn, options),
    );
    return `quarantined IAM user ${userName} with ${QUARANTINE_POLICY}, as AWS does for exposed keys (undo once the account is checked: aws iam detach-user-policy --user-name ${userName} --policy-arn ${policyArn})`;
  }

  private listKeys(account: AwsAccountAccess, userName: string, options?: CallOptions) {
    return this.call("iam:ListAccessKeys", where(account), () =>
      this.aws.listAccessKeys(account, userName, options),
    );
  }

  private account(accountId: string, keyId: string): AwsAccountAccess {
    const account = this.accounts.get(accountId);
    if (!account) {
      throw new IssuerError(
        `issuer "${this.name}": ${keyId} is in account ${accountId}, which is not among its accounts`,
        { transient: false },
      );
    }
    return account;
  }

  private userArnPrefix(account: AwsAccountAccess): string {
    return `arn:${this.aws.partition(account)}:iam::${account.accountId}:user/`;
  }

  /**
   * Evidence only: a failure is recorded, never a reason to leave a live key alone. Unless the caller's
   * time is up (the intake's verification box): then the verification is not done, and the worker's,
   * with time of its own, records the evidence.
   */
  private async bonus<T>(
    op: string,
    account: AwsAccountAccess,
    fn: () => Promise<T>,
    options?: CallOptions,
  ): Promise<{ value?: T | undefined; error?: string | undefined }> {
    try {
      return { value: await this.call(op, where(account), fn) };
    } catch (error) {
      if (options?.signal?.aborted) throw error;
      return { error: describeError(error) };
    }
  }

  private call<T>(op: string, target: string, fn: () => Promise<T>): Promise<T> {
    return issuerCall(this.name, `${op} (${target})`, fn, this.retry);
  }
}

const where = (account: AwsAccountAccess) =>
  account.roleArn ? `account ${account.accountId} as ${account.roleArn}` : `account ${account.accountId}`;

function lastUseEvidence(lastUsed: AccessKeyLastUsed) {
  return lastUsed.lastUsedDate
    ? { date: lastUsed.lastUsedDate, service: lastUsed.serviceName, region: lastUsed.region }
    : null;
}

function keyDetails(
  accountId: string,
  userName: string,
  lastUsed: AccessKeyLastUsed,
  others: AccessKeyMetadata[],
): KeyDetail[] {
  const use = lastUsed.lastUsedDate
    ? `${lastUsed.lastUsedDate}${lastUsed.serviceName ? ` (${lastUsed.serviceName}${lastUsed.region ? `, ${lastUsed.region}` : ""})` : ""}`
    : "never";
  return [
    { label: "AWS account", value: accountId },
    { label: "IAM user", value: userName },
    { label: "Last used", value: use },
    {
      label: "The user's other keys",
      value: others.length > 0 ? others.map((k) => `${k.accessKeyId} (${k.status})`).join(", ") : "none",
    },
  ];
}
