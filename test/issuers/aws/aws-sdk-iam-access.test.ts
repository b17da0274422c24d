import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import type { AwsSdkIamAccess } from "../../../lib/issuers/aws/aws-sdk-iam-access.js";
import { AwsSdkIamAccess as Adapter } from "../../../lib/issuers/aws/aws-sdk-iam-access.js";
import { lazyAwsIamAccess } from "../../../lib/issuers/aws/lazy-aws-iam-access.js";
import { AWS_FAULTS, type SandboxAws } from "../../../local/sandbox/sandbox-aws.js";
import {
  awsIamAccess,
  EXTERNAL_ID,
  fakeAwsTransport,
  HOME,
  HOME_ACCOUNT,
  HOME_CREDENTIALS,
  MEMBER,
  MEMBER_ACCOUNT,
  RESPONDER_ROLE,
  startFakeAwsIam,
} from "../../helpers/fake-aws-iam.js";
import { rejection } from "../../helpers/rejection.js";

// The AWS port through AWS's own SDK clients (IAM, STS, fromTemporaryCredentials) against the loopback
// fake speaking the query protocol: each method's answer, the responder role per account, the error
// mapping (transient / permanent, the permission named), timeouts, and no secret in any error or log.

const QUARANTINE = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3";

let aws: SandboxAws;
let access: AwsSdkIamAccess;
/** Every secret access key the fake handed out or was seeded with. */
const secrets = new Set<string>([HOME_CREDENTIALS.secretAccessKey]);
const errors: IssuerError[] = [];

async function failure(call: Promise<unknown>): Promise<IssuerError> {
  const error = await rejection(call, IssuerError);
  errors.push(error);
  return error;
}

function seedKey(account: string, user: string, options: Parameters<SandboxAws["addKey"]>[2] = {}) {
  const key = aws.addKey(account, user, options);
  secrets.add(key.secretAccessKey);
  return key;
}

beforeAll(async () => {
  aws = await startFakeAwsIam({ pageSize: 1 });
  access = awsIamAccess(aws);
});

afterEach(() => aws.recover());

afterAll(() => aws.close());

describe("accountOfKey (sts:GetAccessKeyInfo with Tourniquet's own credentials)", () => {
  it("names the account of a key in any account, a deleted one too", async () => {
    const key = seedKey(MEMBER_ACCOUNT, "ci-bot");
    expect(await access.accountOfKey(key.accessKeyId)).toBe(MEMBER_ACCOUNT);
    await access.deleteAccessKey(MEMBER, "ci-bot", key.accessKeyId);
    expect(await access.accountOfKey(key.accessKeyId)).toBe(MEMBER_ACCOUNT);
    expect(aws.callsOf("GetAccessKeyInfo").at(-1)?.principal).toBe(
      `arn:aws:iam::${HOME_ACCOUNT}:user/tourniquet`,
    );
  });

  it("is undefined for a key STS never heard of, or an id that is no key id", async () => {
    expect(await access.accountOfKey("AKIAZZZZZZZZZZZZZZZZ")).toBeUndefined();
    expect(await access.accountOfKey("not-a-key")).toBeUndefined();
  });

  it("fails, rather than calling every key unknown, when Tourniquet's own credentials are refused", async () => {
    const wrong = awsIamAccess(aws, {
      clientConfig: { credentials: { accessKeyId: "AKIAQQQQQQQQQQQQQQQQ", secretAccessKey: "x".repeat(40) } },
    });
    const error = await failure(wrong.accountOfKey(HOME_CREDENTIALS.accessKeyId));
    expect(error.transient).toBe(false);
    expect(error.httpStatus).toBe(403);
    expect(error.message).toContain("InvalidClientTokenId");
    expect(error.message).toContain("AWS refused the credentials of Tourniquet's own principal");
  });
});

describe("the responder role", () => {
  it("makes IAM calls in a member account with the role's temporary credentials, one AssumeRole for many calls", async () => {
    aws.addUser(MEMBER_ACCOUNT, "deployer", { tags: { email: "dev@example.com" } });
    const before = aws.callsOf("AssumeRole").length;
    const fresh = awsIamAccess(aws);
    await fresh.getUser(MEMBER, "deployer");
    await fresh.listAccessKeys(MEMBER, "deployer");
    const created = await fresh.createAccessKey(MEMBER, "deployer");
    secrets.add(created.secretAccessKey);
    const assumed = aws.callsOf("AssumeRole").slice(before);
    expect(assumed).toHaveLength(1);
    expect(assumed[0]?.params).toMatchObject({
      RoleArn: RESPONDER_ROLE,
      RoleSessionName: "tourniquet",
      ExternalId: EXTERNAL_ID,
    });
    const iamCalls = aws.calls.slice(-3);
    for (const call of iamCalls) {
      expect(call.account).toBe(MEMBER_ACCOUNT);
      expect(call.principal).toBe(
        `arn:aws:sts::${MEMBER_ACCOUNT}:assumed-role/tourniquet-responder/tourniquet`,
      );
    }
  });

  it("uses Tourniquet's own credentials in the account without a role", async () => {
    aws.addUser(HOME_ACCOUNT, "local-user");
    await access.listAccessKeys(HOME, "local-user");
    expect(aws.calls.at(-1)).toMatchObject({ action: "ListAccessKeys", account: HOME_ACCOUNT });
    expect(aws.calls.at(-1)?.principal).toBe(`arn:aws:iam::${HOME_ACCOUNT}:user/tourniquet`);
  });

  it("fails permanently, naming sts:AssumeRole and the role, with a wrong or missing external id", async () => {
    for (const externalId of ["wrong-external-id", undefined]) {
      const error = await failure(awsIamAccess(aws).listAccessKeys({ ...MEMBER, externalId }, "deployer"));
      expect(error.transient).toBe(false);
      expect(error.message).toContain("sts:AssumeRole");
      expect(error.message).toContain(RESPONDER_ROLE);
      expect(error.message).toContain(MEMBER_ACCOUNT);
    }
  });
});

describe("read-only responder sessions (the verifying functions)", () => {
  it("read through the role, and are refused any write by their session policy, which names the action", async () => {
    const readOnly = new Adapter(fakeAwsTransport(aws, { sessionAccess: "read" }));
    const key = seedKey(MEMBER_ACCOUNT, "read-only-target");
    expect((await readOnly.lastUsed(MEMBER, key.accessKeyId))?.userName).toBe("read-only-target");
    expect(await readOnly.listAccessKeys(MEMBER, "read-only-target")).toHaveLength(1);
    const assumed = aws.callsOf("AssumeRole").at(-1);
    expect(JSON.parse(assumed?.params.Policy ?? "{}").Statement[0].Action).not.toContain(
      "iam:UpdateAccessKey",
    );

    const error = await failure(
      readOnly.updateAccessKey(MEMBER, "read-only-target", key.accessKeyId, "Inactive"),
    );
    expect(error.transient).toBe(false);
    expect(error.message).toContain("iam:UpdateAccessKey");
    expect(aws.user(MEMBER_ACCOUNT, "read-only-target")?.keys[0]?.status).toBe("Active");
    // The worker's sessions carry no session policy: the same write goes through.
    await access.updateAccessKey(MEMBER, "read-only-target", key.accessKeyId, "Inactive");
    expect(aws.user(MEMBER_ACCOUNT, "read-only-target")?.keys[0]?.status).toBe("Inactive");
  });
});

describe("the port's calls", () => {
  it("lastUsed: the user, and no date, service or region for a key never used", async () => {
    const key = seedKey(MEMBER_ACCOUNT, "never-used");
    expect(await access.lastUsed(MEMBER, key.accessKeyId)).toEqual({
      userName: "never-used",
      lastUsedDate: undefined,
      serviceName: undefined,
      region: undefined,
    });
  });

  it("lastUsed: the date, service and region of the last use", async () => {
    const date = Date.parse("2026-11-20T08:30:00Z");
    const key = seedKey(MEMBER_ACCOUNT, "abused", {
      lastUsed: { date, service: "ec2", region: "eu-west-1" },
    });
    expect(await access.lastUsed(MEMBER, key.accessKeyId)).toEqual({
      userName: "abused",
      lastUsedDate: "2026-11-20T08:30:00.000Z",
      serviceName: "ec2",
      region: "eu-west-1",
    });
  });

  it("lastUsed: undefined for a key that is not in the account (NoSuchEntity absorbed)", async () => {
    const key = seedKey(HOME_ACCOUNT, "home-user");
    expect(await access.lastUsed(MEMBER, key.accessKeyId)).toBeUndefined();
    expect(aws.callsOf("GetAccessKeyLastUsed").at(-1)).toMatchObject({ status: 404, code: "NoSuchEntity" });
  });

  it("listAccessKeys and listAttachedUserPolicies follow every page", async () => {
    const a = seedKey(MEMBER_ACCOUNT, "paged");
    const b = seedKey(MEMBER_ACCOUNT, "paged", { status: "Inactive" });
    const policies = [
      "arn:aws:iam::aws:policy/ReadOnlyAccess",
      `arn:aws:iam::${MEMBER_ACCOUNT}:policy/ci/deploy`,
      QUARANTINE,
    ];
    aws.addUser(MEMBER_ACCOUNT, "paged", { policies });
    const listed = aws.callsOf("ListAccessKeys").length;
    expect(await access.listAccessKeys(MEMBER, "paged")).toEqual([
      { accessKeyId: a.accessKeyId, status: "Active", createDate: expect.any(String) },
      { accessKeyId: b.accessKeyId, status: "Inactive", createDate: expect.any(String) },
    ]);
    expect(aws.callsOf("ListAccessKeys").length - listed).toBe(2);
    expect(aws.callsOf("ListAccessKeys").at(-1)?.params.Marker).toBeTruthy();
    expect(await access.listAttachedUserPolicies(MEMBER, "paged")).toEqual([
      { policyName: "ReadOnlyAccess", policyArn: policies[0] },
      { policyName: "deploy", policyArn: policies[1] },
      { policyName: "AWSCompromisedKeyQuarantineV3", policyArn: QUARANTINE },
    ]);
  });

  it("getUser: ARN with its path, and tags", async () => {
    aws.addUser(MEMBER_ACCOUNT, "tagged", {
      path: "/engineering/",
      tags: { owner: "ana@example.com", team: "ml" },
    });
    expect(await access.getUser(MEMBER, "tagged")).toEqual({
      userName: "tagged",
      arn: `arn:aws:iam::${MEMBER_ACCOUNT}:user/engineering/tagged`,
      tags: { owner: "ana@example.com", team: "ml" },
    });
    const error = await failure(access.getUser(MEMBER, "nobody"));
    expect(error.transient).toBe(false);
    expect(error.httpStatus).toBe(404);
    expect(error.message).toContain("no user nobody");
  });

  it("updateAccessKey deactivates, and deactivating again succeeds", async () => {
    const key = seedKey(MEMBER_ACCOUNT, "leaky");
    await access.updateAccessKey(MEMBER, "leaky", key.accessKeyId, "Inactive");
    await access.updateAccessKey(MEMBER, "leaky", key.accessKeyId, "Inactive");
    expect(aws.key(key.accessKeyId)?.status).toBe("Inactive");
    expect(await access.listAccessKeys(MEMBER, "leaky")).toMatchObject([{ status: "Inactive" }]);
  });

  it("deleteAccessKey: deleted, then absent", async () => {
    const key = seedKey(MEMBER_ACCOUNT, "to-delete");
    expect(await access.deleteAccessKey(MEMBER, "to-delete", key.accessKeyId)).toBe("deleted");
    expect(await access.deleteAccessKey(MEMBER, "to-delete", key.accessKeyId)).toBe("absent");
    expect(aws.key(key.accessKeyId)).toBeUndefined();
  });

  it("attachUserPolicy attaches the quarantine policy once, however often asked", async () => {
    aws.addUser(MEMBER_ACCOUNT, "quarantined");
    const arn = `arn:${access.partition(MEMBER)}:iam::aws:policy/AWSCompromisedKeyQuarantineV3`;
    await access.attachUserPolicy(MEMBER, "quarantined", arn);
    await access.attachUserPolicy(MEMBER, "quarantined", arn);
    expect(aws.user(MEMBER_ACCOUNT, "quarantined")?.policies).toEqual([QUARANTINE]);
  });

  it("createAccessKey: a new Active key, then LimitExceeded in plain words and without an SDK retry", async () => {
    seedKey(MEMBER_ACCOUNT, "rotating");
    const created = await access.createAccessKey(MEMBER, "rotating");
    secrets.add(created.secretAccessKey);
    expect(created.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(created.secretAccessKey).toHaveLength(40);
    expect(aws.key(created.accessKeyId)?.status).toBe("Active");
    const tries = aws.callsOf("CreateAccessKey").length;
    const error = await failure(
      awsIamAccess(aws, { clientConfig: { maxAttempts: 3 } }).createAccessKey(MEMBER, "rotating"),
    );
    expect(aws.callsOf("CreateAccessKey").length - tries).toBe(1);
    expect(error.transient).toBe(false);
    expect(error.httpStatus).toBe(409);
    expect(error.message).toContain("user rotating already has two access keys: IAM allows two per user");
    expect(error.message).not.toContain(created.secretAccessKey);
  });
});

describe("failures", () => {
  it("AccessDenied: permanent, naming the IAM permission, the account and the role", async () => {
    const key = seedKey(MEMBER_ACCOUNT, "denied");
    aws.deny(MEMBER_ACCOUNT, "iam:UpdateAccessKey");
    const error = await failure(access.updateAccessKey(MEMBER, "denied", key.accessKeyId, "Inactive"));
    expect(error.transient).toBe(false);
    expect(error.httpStatus).toBe(403);
    expect(error.message).toContain("iam:UpdateAccessKey");
    expect(error.message).toContain(MEMBER_ACCOUNT);
    expect(error.message).toContain(RESPONDER_ROLE);
    expect(aws.key(key.accessKeyId)?.status).toBe("Active");
  });

  it.each([
    ["Throttling", AWS_FAULTS.throttling, 400],
    ["ServiceFailure", AWS_FAULTS.serviceFailure, 500],
    ["ServiceUnavailable", AWS_FAULTS.serviceUnavailable, 503],
  ])("%s is transient", async (code, fault, status) => {
    aws.addUser(MEMBER_ACCOUNT, "flaky");
    aws.fail("ListAccessKeys", fault, { account: MEMBER_ACCOUNT });
    const error = await failure(access.listAccessKeys(MEMBER, "flaky"));
    expect(error.transient).toBe(true);
    expect(error.httpStatus).toBe(status);
    expect(error.message).toContain(code);
  });

  it("a fault scripted for one account leaves the other alone", async () => {
    aws.addUser(HOME_ACCOUNT, "calm");
    aws.fail("ListAccessKeys", AWS_FAULTS.serviceFailure, { account: MEMBER_ACCOUNT });
    expect(await access.listAccessKeys(HOME, "calm")).toEqual([]);
  });

  it("the SDK retries a throttled call once by default", async () => {
    aws.addUser(MEMBER_ACCOUNT, "retried");
    aws.fail("ListAccessKeys", AWS_FAULTS.throttling, { account: MEMBER_ACCOUNT });
    const defaults = awsIamAccess(aws, { clientConfig: { maxAttempts: undefined } });
    expect(await defaults.listAccessKeys(MEMBER, "retried")).toEqual([]);
    expect(
      aws
        .callsOf("ListAccessKeys")
        .slice(-2)
        .map((c) => c.status),
    ).toEqual([400, 200]);
  });

  it("an answer slower than timeoutMs is a transient failure, within the bound", async () => {
    aws.addUser(MEMBER_ACCOUNT, "slow");
    aws.delay("GetUser", 1_500);
    const started = Date.now();
    const error = await failure(awsIamAccess(aws, { timeoutMs: 300 }).getUser(MEMBER, "slow"));
    expect(Date.now() - started).toBeLessThan(1_200);
    expect(error.transient).toBe(true);
    expect(error.message).toContain("no answer within 300 ms");
  });

  it("the caller's abort ends the call, transient", async () => {
    aws.addUser(MEMBER_ACCOUNT, "aborted");
    aws.delay("GetUser", 1_000);
    const error = await failure(access.getUser(MEMBER, "aborted", { signal: AbortSignal.timeout(100) }));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("aborted by caller");
  });

  it("a refused connection is a transient network error", async () => {
    const closed = awsIamAccess(aws, {
      clientConfig: { endpoints: { sts: "http://127.0.0.1:9", iam: "http://127.0.0.1:9" } },
    });
    const error = await failure(closed.listAccessKeys(HOME, "anyone"));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("network error");
  });
});

describe("partition", () => {
  it("comes from the role's ARN, else from the region", () => {
    const adapter = new Adapter({ clientConfig: { region: "cn-north-1" } });
    expect(
      adapter.partition({ accountId: "210987654321", roleArn: "arn:aws-us-gov:iam::210987654321:role/r" }),
    ).toBe("aws-us-gov");
    expect(adapter.partition({ accountId: "210987654321" })).toBe("aws-cn");
    expect(new Adapter({ clientConfig: { region: "eu-west-1" } }).partition(HOME)).toBe("aws");
    expect(lazyAwsIamAccess({ clientConfig: { region: "us-gov-west-1" } }).partition(HOME)).toBe(
      "aws-us-gov",
    );
  });
});

describe("lazyAwsIamAccess", () => {
  it("answers as the adapter does, the adapter loaded on first use", async () => {
    const key = seedKey(MEMBER_ACCOUNT, "lazy");
    const lazy = lazyAwsIamAccess(fakeAwsTransport(aws));
    expect(await lazy.accountOfKey(key.accessKeyId)).toBe(MEMBER_ACCOUNT);
    expect(await lazy.lastUsed(MEMBER, key.accessKeyId)).toMatchObject({ userName: "lazy" });
  });
});

describe("endpoints from the environment (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_IAM)", () => {
  const NAMES = [
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
  ];
  const saved: Record<string, string | undefined> = {};

  beforeAll(() => {
    for (const name of NAMES) saved[name] = process.env[name];
    for (const name of ["AWS_SESSION_TOKEN", "AWS_PROFILE"]) delete process.env[name];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_STS: aws.stsUrl,
      AWS_ENDPOINT_URL_IAM: aws.iamUrl,
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: HOME_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: HOME_CREDENTIALS.secretAccessKey,
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    });
  });

  afterAll(() => {
    for (const name of NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it("reaches the fake with no override at all, the role's STS client included", async () => {
    const key = seedKey(MEMBER_ACCOUNT, "from-env");
    const adapter = new Adapter({ clientConfig: { maxAttempts: 1 } });
    const before = aws.calls.length;
    expect(await adapter.accountOfKey(key.accessKeyId)).toBe(MEMBER_ACCOUNT);
    expect(await adapter.lastUsed(MEMBER, key.accessKeyId)).toMatchObject({ userName: "from-env" });
    const actions = aws.calls.slice(before).map((c) => `${c.action}:${c.status}`);
    expect(actions).toEqual(["GetAccessKeyInfo:200", "AssumeRole:200", "GetAccessKeyLastUsed:200"]);
    expect(adapter.partition(HOME)).toBe("aws");
  });
});

// Last, over every error and call of the tests above.
it("no secret access key (leaked, created or temporary) in any error message or in the fake's call log", () => {
  for (const account of aws.world.accounts.values()) {
    for (const user of account.users.values()) for (const key of user.keys) secrets.add(key.secretAccessKey);
  }
  const log = JSON.stringify(aws.calls);
  expect(errors.length).toBeGreaterThan(5);
  for (const secret of secrets) {
    expect(log).not.toContain(secret);
    for (const error of errors) expect(error.message).not.toContain(secret);
  }
});
