import { randomBytes } from "node:crypto";
import { IssuerError } from "../../lib/errors.js";
import type {
  AccessKeyLastUsed,
  AccessKeyMetadata,
  AccessKeyStatus,
  AttachedPolicy,
  AwsAccountAccess,
  AwsIamAccess,
  CreatedAccessKey,
  IamUser,
} from "../../lib/issuers/aws/aws-iam-access.js";

// An in-memory AWS behind the issuer's port: accounts with users, keys, tags and policies, counted calls
// (with the account each acted in, and whether through the role), and failures injected per call.

export type AwsOp = Exclude<keyof AwsIamAccess, "partition">;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A fresh long-term access key id (AKIA + 16 base32 characters). */
export const newAccessKeyId = () => `AKIA${Array.from(randomBytes(16), (b) => BASE32[b % 32]).join("")}`;
/** A fresh secret access key (40 characters). */
export const newSecretAccessKey = () => randomBytes(30).toString("base64");

interface StoredKey extends AccessKeyMetadata {
  secret: string;
  userName: string;
  lastUsed?: { date: string; service: string; region: string } | undefined;
}

interface User {
  accountId: string;
  userName: string;
  tags: Record<string, string>;
  policies: AttachedPolicy[];
}

interface Failure {
  op: AwsOp;
  error: () => IssuerError;
  times: number;
}

export class InMemoryAws implements AwsIamAccess {
  /** Every key id ever made, with its account (STS knows deleted keys' accounts too). */
  private readonly accountsOfKeys = new Map<string, string>();
  readonly keys = new Map<string, StoredKey>();
  readonly users = new Map<string, User>();
  readonly calls: { op: AwsOp; account?: string | undefined; role?: string | undefined }[] = [];
  private failures: Failure[] = [];

  addUser(accountId: string, userName: string, tags: Record<string, string> = {}): User {
    const user: User = { accountId, userName, tags, policies: [] };
    this.users.set(`${accountId}:${userName}`, user);
    return user;
  }

  addKey(
    accountId: string,
    userName: string,
    options: { status?: AccessKeyStatus; lastUsed?: StoredKey["lastUsed"] } = {},
  ): { accessKeyId: string; secret: string } {
    if (!this.users.has(`${accountId}:${userName}`)) this.addUser(accountId, userName);
    const accessKeyId = newAccessKeyId();
    const secret = newSecretAccessKey();
    this.keys.set(accessKeyId, {
      accessKeyId,
      secret,
      userName,
      status: options.status ?? "Active",
      createDate: "2026-01-02T03:04:05Z",
      lastUsed: options.lastUsed,
    });
    this.accountsOfKeys.set(accessKeyId, accountId);
    return { accessKeyId, secret };
  }

  /** The next `times` calls of `op` fail with the error. */
  fail(op: AwsOp, error: () => IssuerError, times = 1): void {
    this.failures.push({ op, error, times });
  }

  countOf(op: AwsOp): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  userOf(accountId: string, userName: string): User {
    const user = this.users.get(`${accountId}:${userName}`);
    if (!user) throw new Error(`no user ${accountId}:${userName}`);
    return user;
  }

  async accountOfKey(accessKeyId: string): Promise<string | undefined> {
    this.record("accountOfKey");
    return this.accountsOfKeys.get(accessKeyId);
  }

  partition(account: AwsAccountAccess): string {
    return account.roleArn?.split(":")[1] ?? "aws";
  }

  async lastUsed(account: AwsAccountAccess, accessKeyId: string): Promise<AccessKeyLastUsed | undefined> {
    this.record("lastUsed", account);
    const key = this.keyIn(account, accessKeyId);
    if (!key) return undefined;
    return {
      userName: key.userName,
      lastUsedDate: key.lastUsed?.date,
      serviceName: key.lastUsed?.service,
      region: key.lastUsed?.region,
    };
  }

  async listAccessKeys(account: AwsAccountAccess, userName: string): Promise<AccessKeyMetadata[]> {
    this.record("listAccessKeys", account);
    this.requireUser(account, userName);
    return this.keysOf(account, userName).map(({ accessKeyId, status, createDate }) => ({
      accessKeyId,
      status,
      createDate,
    }));
  }

  async getUser(account: AwsAccountAccess, userName: string): Promise<IamUser> {
    this.record("getUser", account);
    const user = this.requireUser(account, userName);
    return { userName, arn: `arn:aws:iam::${account.accountId}:user/${userName}`, tags: user.tags };
  }

  async listAttachedUserPolicies(account: AwsAccountAccess, userName: string): Promise<AttachedPolicy[]> {
    this.record("listAttachedUserPolicies", account);
    return [...this.requireUser(account, userName).policies];
  }

  async updateAccessKey(
    account: AwsAccountAccess,
    _userName: string,
    accessKeyId: string,
    status: AccessKeyStatus,
  ): Promise<void> {
    this.record("updateAccessKey", account);
    const key = this.keyIn(account, accessKeyId);
    if (!key) throw new IssuerError(`NoSuchEntity: ${accessKeyId}`, { transient: false, httpStatus: 404 });
    key.status = status;
  }

  async deleteAccessKey(
    account: AwsAccountAccess,
    _userName: string,
    accessKeyId: string,
  ): Promise<"deleted" | "absent"> {
    this.record("deleteAccessKey", account);
    if (!this.keyIn(account, accessKeyId)) return "absent";
    this.keys.delete(accessKeyId);
    return "deleted";
  }

  async attachUserPolicy(account: AwsAccountAccess, userName: string, policyArn: string): Promise<void> {
    this.record("attachUserPolicy", account);
    const user = this.requireUser(account, userName);
    if (!user.policies.some((p) => p.policyArn === policyArn)) {
      user.policies.push({ policyArn, policyName: policyArn.split("/").pop() ?? policyArn });
    }
  }

  async createAccessKey(account: AwsAccountAccess, userName: string): Promise<CreatedAccessKey> {
    this.record("createAccessKey", account);
    this.requireUser(account, userName);
    if (this.keysOf(account, userName).length >= 2) {
      throw new IssuerError(`LimitExceeded: user ${userName} already has two access keys`, {
        transient: false,
        httpStatus: 409,
      });
    }
    const { accessKeyId, secret } = this.addKey(account.accountId, userName);
    return { accessKeyId, secretAccessKey: secret, createDate: "2026-11-27T00:00:00Z" };
  }

  private keysOf(account: AwsAccountAccess, userName: string): StoredKey[] {
    return [...this.keys.values()].filter(
      (k) => k.userName === userName && this.accountsOfKeys.get(k.accessKeyId) === account.accountId,
    );
  }

  private keyIn(account: AwsAccountAccess, accessKeyId: string): StoredKey | undefined {
    const key = this.keys.get(accessKeyId);
    return key && this.accountsOfKeys.get(accessKeyId) === account.accountId ? key : undefined;
  }

  private requireUser(account: AwsAccountAccess, userName: string): User {
    const user = this.users.get(`${account.accountId}:${userName}`);
    if (!user) throw new IssuerError(`NoSuchEntity: user ${userName}`, { transient: false, httpStatus: 404 });
    return user;
  }

  private record(op: AwsOp, account?: AwsAccountAccess): void {
    this.calls.push({ op, account: account?.accountId, role: account?.roleArn });
    const failure = this.failures.find((f) => f.op === op && f.times > 0);
    if (failure) {
      failure.times--;
      throw failure.error();
    }
  }
}
