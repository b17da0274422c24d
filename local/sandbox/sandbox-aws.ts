import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { authenticate } from "./sandbox-aws-auth.js";
import { type AwsFault, AwsFaultPlan, accessDenied } from "./sandbox-aws-faults.js";
import { IAM_ACTIONS, iamAction, iamDenied } from "./sandbox-aws-iam.js";
import {
  type AwsAccessKey,
  type AwsKeyLastUse,
  type AwsRole,
  type AwsUser,
  AwsWorld,
  requestId,
} from "./sandbox-aws-state.js";
import { type ActionAnswer, STS_ACTIONS, stsAction } from "./sandbox-aws-sts.js";
import { type AwsService, errorXml, successXml } from "./sandbox-aws-xml.js";

// A loopback fake of AWS STS and IAM speaking their query protocol (form-encoded POST of Action and
// Version, XML answers and XML errors), for the AWS issuer's tests and the local stack. One plain-HTTP
// server answers both services at its root (the SDK posts to the endpoint URL's root; the Action tells
// the service), so `stsUrl` and `iamUrl` are the same URL. Every request is SigV4-checked against the
// secret the fake knows for the signing key; IAM calls act in the signing principal's account. Secret
// access keys never enter the call log. `POST /sandbox/aws/keys` mints a live key for `simulate`.

export type { AwsFault } from "./sandbox-aws-faults.js";
export { AWS_FAULTS } from "./sandbox-aws-faults.js";
export type { AwsAccessKey, AwsKeyLastUse, AwsRole, AwsUser } from "./sandbox-aws-state.js";

const BODY_LIMIT_BYTES = 64 * 1024;
const VERSIONS: Record<AwsService, string> = { sts: "2011-06-15", iam: "2010-05-08" };
/** Request parameters that are never written to the call log. */
const SECRET_PARAM = /secret|token|password|privatekey/i;

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

/** One request as received: never a secret, a token or a signature. */
export interface AwsCall {
  service: AwsService | "unknown";
  action: string;
  /** The signing principal's account, when the request was authenticated. */
  account?: string | undefined;
  /** The signing principal's ARN (a user, or an assumed-role session). */
  principal?: string | undefined;
  /** The form parameters but Action and Version, any secret-like one left out. */
  params: Record<string, string>;
  status: number;
  code?: string | undefined;
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
    const server = this.server;
    if (!server?.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
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
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      res.writeHead(413).end();
      return;
    }
    if (url.pathname === "/sandbox/aws/keys" && req.method === "POST") {
      const answer = this.mintKey(body);
      res.writeHead(answer.status, { "content-type": answer.contentType }).end(answer.body);
      return;
    }
    const form = new URLSearchParams(req.method === "POST" ? body : url.search.slice(1));
    const action = form.get("Action") ?? "";
    const service: AwsService | undefined = STS_ACTIONS.has(action)
      ? "sts"
      : IAM_ACTIONS.has(action)
        ? "iam"
        : undefined;
    const call: AwsCall = { service: service ?? "unknown", action, params: loggedParams(form), status: 0 };
    const id = requestId();
    const answer = await this.answer(service, action, form, { req, url, body }, call, id);
    call.status = answer.status;
    this.calls.push(call);
    if (res.destroyed) return;
    res.writeHead(answer.status, { "content-type": answer.contentType, "x-amzn-requestid": id });
    res.end(answer.body);
  }

  private async answer(
    service: AwsService | undefined,
    action: string,
    form: URLSearchParams,
    request: { req: IncomingMessage; url: URL; body: string },
    call: AwsCall,
    id: string,
  ): Promise<Answer> {
    const xmlService = service ?? "iam";
    const fail = (error: { status: number; code: string; message: string }): Answer => {
      call.code = error.code;
      return { status: error.status, contentType: "text/xml", body: errorXml(xmlService, error, id) };
    };
    if (!service) {
      return fail({
        status: 400,
        code: "InvalidAction",
        message: `Could not find operation ${action} for version ${form.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
      });
    }
    const auth = await authenticate(
      this.world,
      {
        method: request.req.method ?? "POST",
        path: request.url.pathname,
        query: request.url.searchParams,
        headers: request.req.headers,
        body: request.body,
      },
      service,
      this.now(),
    );
    if ("failure" in auth) return fail(auth.failure);
    const principal = auth.principal;
    call.account = principal.account.id;
    call.principal = principal.arn;
    if (principal.kind === "user") {
      const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(
        String(request.req.headers.authorization),
      )?.[1];
      principal.key.lastUsed = { date: this.now(), service, region: region ?? "us-east-1" };
    }
    if (form.get("Version") !== VERSIONS[service]) {
      return fail({
        status: 400,
        code: "InvalidAction",
        message: `Could not find operation ${action} for version ${form.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
      });
    }
    const fault = this.faults.next(action, principal.account.id);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.code) {
      return fail({ status: fault.status ?? 400, code: fault.code, message: fault.message ?? fault.code });
    }
    const ctx = { world: this.world, principal, params: form, now: this.now(), pageSize: this.pageSize };
    let result: ActionAnswer;
    if (this.faults.isDenied(principal.account.id, `${service}:${action}`)) {
      result =
        service === "iam"
          ? iamDenied(action, ctx)
          : { error: accessDenied(principal.arn, `sts:${action}`, form.get("RoleArn") ?? "*") };
    } else {
      result = service === "sts" ? stsAction(action, ctx) : iamAction(action, ctx);
    }
    if ("error" in result) return fail(result.error);
    return { status: 200, contentType: "text/xml", body: successXml(service, action, result.result, id) };
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
    const user = typeof input.user === "string" ? input.user : "leaky-deployer";
    if (!this.world.accounts.has(account))
      return json(404, { error: `no account ${account} in the fake AWS` });
    const existing = this.user(account, user);
    if (existing && existing.keys.length >= 2) {
      return json(409, { error: `user ${user} already has two access keys` });
    }
    const key = this.addKey(account, user);
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

function loggedParams(form: URLSearchParams): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of form) {
    if (name === "Action" || name === "Version" || SECRET_PARAM.test(name)) continue;
    params[name] = value;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT_BYTES) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
