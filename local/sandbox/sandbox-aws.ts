import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type AwsFault, AwsFaultPlan } from "./sandbox-aws-faults.js";
import { type AwsCall, answerQuery } from "./sandbox-aws-query.js";
import {
  type AwsAccessKey,
  type AwsKeyLastUse,
  type AwsRole,
  type AwsUser,
  AwsWorld,
} from "./sandbox-aws-state.js";
import { closeServer, readTextOr413 } from "./sandbox-server.js";

// A loopback fake of AWS STS and IAM speaking their query protocol (form-encoded POST of Action and
// Version, XML answers and XML errors), for the AWS issuer's tests and the local stack. One plain-HTTP
// server answers both services at its root (the SDK posts to the endpoint URL's root; the Action tells
// the service), so `stsUrl` and `iamUrl` are the same URL. Every request is SigV4-checked against the
// secret the fake knows for the signing key; IAM calls act in the signing principal's account. Secret
// access keys never enter the call log. `POST /sandbox/aws/keys` mints a live key for `simulate`.

export type { AwsFault } from "./sandbox-aws-faults.js";
export { AWS_FAULTS } from "./sandbox-aws-faults.js";
export type { AwsCall } from "./sandbox-aws-query.js";
export type { AwsAccessKey, AwsKeyLastUse, AwsRole, AwsUser } from "./sandbox-aws-state.js";

/** Whom a demo user's tags name as its owner. */
export const DEMO_OWNER = "platform-team@example.test";

export interface SandboxAwsOptions {
  /** The account Tourniquet runs in, and its own principal there (an IAM user with a key). */
  home: {
    accountId: string;
    userName?: string | undefined;
    accessKeyId?: string | undefined;
    secretAccessKey?: string | undefined;
  };
  partition?: string | undefined;
  /** Items per page of a list when the caller sets no MaxItems (IAM's default: 100). */
  pageSize?: number | undefined;
  now?: (() => number) | undefined;
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export class SandboxAws {
  readonly calls: AwsCall[] = [];
  readonly world: AwsWorld;
  readonly home: { accountId: string; userName: string; accessKeyId: string; secretAccessKey: string };
  private readonly faults = new AwsFaultPlan();
  private readonly now: () => number;
  private readonly pageSize: number;
  private server: Server | undefined;
  url = "";

  constructor(options: SandboxAwsOptions) {
    this.now = options.now ?? Date.now;
    this.pageSize = options.pageSize ?? 100;
    this.world = new AwsWorld(this.now);
    const userName = options.home.userName ?? "tourniquet";
    this.world.addAccount(options.home.accountId, options.partition ?? "aws");
    this.world.addUser(options.home.accountId, userName);
    const key = this.world.addKey(options.home.accountId, userName, {
      accessKeyId: options.home.accessKeyId,
      secretAccessKey: options.home.secretAccessKey,
    });
    this.home = { accountId: options.home.accountId, userName, ...key };
  }

  static async start(options: SandboxAwsOptions & { port?: number | undefined }): Promise<SandboxAws> {
    const aws = new SandboxAws(options);
    const server = createServer((req, res) => void aws.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", resolve);
    });
    aws.server = server;
    aws.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return aws;
  }

  get stsUrl(): string {
    return this.url;
  }

  get iamUrl(): string {
    return this.url;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  // Seeding.

  addAccount(accountId: string, partition?: string): void {
    this.world.addAccount(accountId, partition ?? this.world.account(this.home.accountId).partition);
  }

  addUser(
    accountId: string,
    userName: string,
    options: { path?: string; tags?: Record<string, string>; policies?: string[] } = {},
  ): AwsUser {
    const user = this.world.addUser(accountId, userName, options);
    for (const arn of options.policies ?? []) if (!user.policies.includes(arn)) user.policies.push(arn);
    return user;
  }

  /** A new access key for the user (created with the user when missing): its id and secret. */
  addKey(
    accountId: string,
    userName: string,
    options: { status?: "Active" | "Inactive"; lastUsed?: AwsKeyLastUse } = {},
  ): { accessKeyId: string; secretAccessKey: string } {
    if (!this.world.accounts.get(accountId)?.users.has(userName)) this.addUser(accountId, userName);
    const key = this.world.addKey(accountId, userName, options);
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  }

  /** A role in `accountId` that `trusted` principals (ARNs; `…:root` for a whole account) may assume. */
  addRole(
    accountId: string,
    roleName: string,
    options: { trusted?: string[]; externalId?: string } = {},
  ): AwsRole {
    const home = this.world.account(this.home.accountId);
    const trusted = options.trusted ?? [`arn:${home.partition}:iam::${home.id}:root`];
    return this.world.addRole(accountId, roleName, { trusted, externalId: options.externalId });
  }

  /** A user as it stands now (its keys' status, its policies), for assertions. */
  user(accountId: string, userName: string): AwsUser | undefined {
    return this.world.accounts.get(accountId)?.users.get(userName);
  }

  key(accessKeyId: string): AwsAccessKey | undefined {
    return this.world.findKey(accessKeyId)?.key;
  }

  // Faults.

  /** The next `times` calls of `action` (in `account` only, when given) fail or are delayed as `fault` says. */
  fail(action: string, fault: AwsFault, options: { times?: number; account?: string } = {}): void {
    this.faults.add(action, fault, options.times ?? 1, options.account);
  }

  delay(action: string, delayMs: number, options: { times?: number; account?: string } = {}): void {
    this.fail(action, { delayMs }, options);
  }

  /** Principals of `accountId` may not call `action` (`iam:UpdateAccessKey`, `sts:AssumeRole`, …). */
  deny(accountId: string, permission: string): void {
    this.faults.deny(accountId, permission);
  }

  recover(): void {
    this.faults.clear();
  }

  callsOf(action: string): AwsCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  // Serving.

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readTextOr413(req, res);
    if (body === undefined) return;
    if (url.pathname === "/sandbox/aws/keys" && req.method === "POST") {
      const answer = this.mintKey(body);
      res.writeHead(answer.status, { "content-type": answer.contentType }).end(answer.body);
      return;
    }
    const { answer, call, id } = await answerQuery(
      { world: this.world, faults: this.faults, now: this.now, pageSize: this.pageSize },
      { method: req.method ?? "POST", url, headers: req.headers, body },
    );
    this.calls.push(call);
    if (res.destroyed) return;
    res.writeHead(answer.status, { "content-type": answer.contentType, "x-amzn-requestid": id });
    res.end(answer.body);
  }

  /** `POST /sandbox/aws/keys` `{account?, user?}`: a live key for `simulate` to leak. */
  private mintKey(body: string): Answer {
    let input: { account?: unknown; user?: unknown };
    try {
      input = body ? (JSON.parse(body) as typeof input) : {};
    } catch {
      return json(400, { error: "body must be JSON: {account?, user?}" });
    }
    const account = typeof input.account === "string" ? input.account : this.home.accountId;
    // A new demo user each time by default, tagged with its owner and with a recent use, so the leak
    // shows whom Tourniquet tells and what the key did (and a replacement always has room).
    const user =
      typeof input.user === "string" ? input.user : `demo-deployer-${randomBytes(3).toString("hex")}`;
    if (!this.world.accounts.has(account))
      return json(404, { error: `no account ${account} in the fake AWS` });
    const existing = this.user(account, user);
    if (existing && existing.keys.length >= 2) {
      return json(409, { error: `user ${user} already has two access keys` });
    }
    if (!existing) this.addUser(account, user, { tags: { team: "platform", email: DEMO_OWNER } });
    const key = this.addKey(account, user, {
      lastUsed: {
        date: this.now() - 4 * 60_000,
        service: "ec2",
        region: "us-east-1",
      },
    });
    return json(201, {
      access_key_id: key.accessKeyId,
      secret_access_key: key.secretAccessKey,
      account,
      user,
    });
  }
}

function json(status: number, value: unknown): Answer {
  return { status, contentType: "application/json", body: JSON.stringify(value) };
}
