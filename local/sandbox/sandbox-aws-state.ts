import { randomBytes, randomUUID } from "node:crypto";

// The fake AWS's world: accounts, their IAM users (tags, attached policies, at most two access keys)
// and roles, and the temporary credentials AssumeRole handed out. Access key ids are unique across
// accounts, as in AWS, and a deleted key's id stays known (STS GetAccessKeyInfo still names its account).

export interface AwsKeyLastUse {
  /** Epoch ms. */
  date: number;
  service: string;
  region: string;
}

export interface AwsAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  status: "Active" | "Inactive";
  /** Epoch ms. */
  createDate: number;
  lastUsed?: AwsKeyLastUse | undefined;
}

export interface AwsUser {
  name: string;
  /** `/` or `/division/`: ARNs carry it. */
  path: string;
  userId: string;
  arn: string;
  createDate: number;
  tags: Record<string, string>;
  /** Attached managed policy ARNs, in attachment order. */
  policies: string[];
  keys: AwsAccessKey[];
}

export interface AwsRole {
  name: string;
  arn: string;
  roleId: string;
  /** Principal ARNs allowed to assume it; `arn:…:iam::<account>:root` admits any principal of that account. */
  trusted: string[];
  /** The sts:ExternalId the trust policy requires, if any. */
  externalId?: string | undefined;
}

export interface AwsAccount {
  id: string;
  partition: string;
  users: Map<string, AwsUser>;
  roles: Map<string, AwsRole>;
}

/** Temporary credentials from AssumeRole: they act in the role's account. */
export interface AwsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  account: string;
  roleArn: string;
  /** arn:…:sts::<account>:assumed-role/<role>/<session>. */
  arn: string;
  expiresAt: number;
  /** The actions its session policy allows (AssumeRole's `Policy`); undefined: all the role allows. */
  allowedActions?: ReadonlySet<string> | undefined;
}

/** Who signed a request: a user's long-term key or a session. */
export type AwsPrincipal =
  | { kind: "user"; account: AwsAccount; user: AwsUser; key: AwsAccessKey; arn: string }
  | { kind: "session"; account: AwsAccount; session: AwsSession; arn: string };

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * `AKIA`/`ASIA` + 16 base32 characters that encode the account the way AWS's post-2019 ids do (the
 * offline decoding in vendor-contracts §3.1 gives the account back), so tools that decode ids agree.
 */
export function newAccessKeyId(prefix: "AKIA" | "ASIA", account: string): string {
  const bytes = randomBytes(10);
  const z = (BigInt(account) << 7n) | (BigInt(bytes[5] ?? 0) & 0x7fn);
  for (let i = 0; i < 6; i++) bytes[i] = Number((z >> BigInt(8 * (5 - i))) & 0xffn);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = "";
  for (let i = 15; i >= 0; i--) out += BASE32[Number((bits >> BigInt(5 * i)) & 31n)];
  return prefix + out;
}

/** 40 characters of [A-Za-z0-9+/], like AWS's secrets. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString("base64");
}

const uniqueId = (prefix: string) => prefix + randomBytes(10).toString("hex").toUpperCase().slice(0, 17);

export class AwsWorld {
  readonly accounts = new Map<string, AwsAccount>();
  /** Every access key id ever issued (deleted ones too) → its account. */
  private readonly keyAccounts = new Map<string, string>();
  private readonly sessions = new Map<string, AwsSession>();

  constructor(private readonly now: () => number) {}

  addAccount(id: string, partition = "aws"): AwsAccount {
    if (!/^\d{12}$/.test(id)) throw new Error(`fake AWS: '${id}' is not a 12-digit account id`);
    let account = this.accounts.get(id);
    if (!account) {
      account = { id, partition, users: new Map(), roles: new Map() };
      this.accounts.set(id, account);
    }
    return account;
  }

  account(id: string): AwsAccount {
    const account = this.accounts.get(id);
    if (!account) throw new Error(`fake AWS: no account ${id}`);
    return account;
  }

  addUser(
    accountId: string,
    name: string,
    options: { path?: string | undefined; tags?: Record<string, string> | undefined } = {},
  ): AwsUser {
    const account = this.account(accountId);
    const existing = account.users.get(name);
    if (existing) return existing;
    const path = options.path ?? "/";
    const user: AwsUser = {
      name,
      path,
      userId: uniqueId("AIDA"),
      arn: `arn:${account.partition}:iam::${account.id}:user${path}${name}`,
      createDate: this.now(),
      tags: { ...(options.tags ?? {}) },
      policies: [],
      keys: [],
    };
    account.users.set(name, user);
    return user;
  }

  addKey(
    accountId: string,
    userName: string,
    options: Partial<Pick<AwsAccessKey, "accessKeyId" | "secretAccessKey" | "status" | "lastUsed">> = {},
  ): AwsAccessKey {
    const user = this.account(accountId).users.get(userName);
    if (!user) throw new Error(`fake AWS: no user ${userName} in ${accountId}`);
    const key: AwsAccessKey = {
      accessKeyId: options.accessKeyId ?? newAccessKeyId("AKIA", accountId),
      secretAccessKey: options.secretAccessKey ?? newSecretAccessKey(),
      status: options.status ?? "Active",
      createDate: this.now(),
      lastUsed: options.lastUsed,
    };
    if (this.keyAccounts.has(key.accessKeyId)) throw new Error(`fake AWS: key ${key.accessKeyId} exists`);
    this.keyAccounts.set(key.accessKeyId, accountId);
    user.keys.push(key);
    return key;
  }

  addRole(
    accountId: string,
    name: string,
    options: { trusted: string[]; externalId?: string | undefined },
  ): AwsRole {
    const account = this.account(accountId);
    const role: AwsRole = {
      name,
      arn: `arn:${account.partition}:iam::${account.id}:role/${name}`,
      roleId: uniqueId("AROA"),
      trusted: [...options.trusted],
      externalId: options.externalId,
    };
    account.roles.set(name, role);
    return role;
  }

  /** The account that owns (or owned) a key id; sessions' ASIA ids included. */
  accountOfKey(accessKeyId: string): string | undefined {
    return this.keyAccounts.get(accessKeyId);
  }

  /** A live long-term key, wherever it is. */
  findKey(accessKeyId: string): { account: AwsAccount; user: AwsUser; key: AwsAccessKey } | undefined {
    const accountId = this.keyAccounts.get(accessKeyId);
    const account = accountId ? this.accounts.get(accountId) : undefined;
    for (const user of account?.users.values() ?? []) {
      const key = user.keys.find((k) => k.accessKeyId === accessKeyId);
      if (account && key) return { account, user, key };
    }
    return undefined;
  }

  session(accessKeyId: string): AwsSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  openSession(
    role: AwsRole,
    account: AwsAccount,
    sessionName: string,
    durationSeconds: number,
    allowedActions?: ReadonlySet<string>,
  ): AwsSession {
    const session: AwsSession = {
      allowedActions,
      accessKeyId: newAccessKeyId("ASIA", account.id),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(96).toString("base64")}`,
      account: account.id,
      roleArn: role.arn,
      arn: `arn:${account.partition}:sts::${account.id}:assumed-role/${role.name}/${sessionName}`,
      expiresAt: this.now() + durationSeconds * 1000,
    };
    this.sessions.set(session.accessKeyId, session);
    this.keyAccounts.set(session.accessKeyId, account.id);
    return session;
  }

  /** Ends every session now (a test of ExpiredToken, or of the provider's refresh). */
  expireSessions(): void {
    for (const session of this.sessions.values()) session.expiresAt = this.now() - 1;
  }

  deleteKey(user: AwsUser, accessKeyId: string): void {
    user.keys = user.keys.filter((k) => k.accessKeyId !== accessKeyId);
  }
}

export const requestId = () => randomUUID();
