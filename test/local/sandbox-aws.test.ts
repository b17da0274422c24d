import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AWS_FAULTS, type SandboxAws } from "../../local/sandbox/sandbox-aws.js";
import {
  EXTERNAL_ID,
  HOME_ACCOUNT,
  HOME_CREDENTIALS,
  MEMBER_ACCOUNT,
  RESPONDER_ROLE,
  startFakeAwsIam,
} from "../helpers/fake-aws-iam.js";

// The fake STS and IAM on the wire: raw SigV4-signed form posts (signed with @smithy/signature-v4) and
// the XML that comes back, authentication failures as AWS answers them, faults, the call log, the
// seeding route, and key ids shaped as AWS's.

const IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

let aws: SandboxAws;

beforeAll(async () => {
  aws = await startFakeAwsIam();
});

afterEach(() => aws.recover());

afterAll(() => aws.close());

/** A query-protocol POST signed as the SDK signs it; `service` is the credential scope's. */
async function post(
  params: Record<string, string>,
  credentials: Credentials = HOME_CREDENTIALS,
  service = params.Version === "2011-06-15" ? "sts" : "iam",
): Promise<{ status: number; body: string }> {
  const url = new URL(aws.url);
  const body = new URLSearchParams(params).toString();
  const signer = new SignatureV4({ credentials, region: "us-east-1", service, sha256: Sha256 });
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    query: {},
    headers: { host: url.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
  });
  const response = await fetch(aws.url, { method: "POST", headers: signed.headers, body });
  return { status: response.status, body: await response.text() };
}

const iam = (action: string, params: Record<string, string> = {}, credentials?: Credentials) =>
  post({ Action: action, Version: "2010-05-08", ...params }, credentials);
const sts = (action: string, params: Record<string, string> = {}, credentials?: Credentials) =>
  post({ Action: action, Version: "2011-06-15", ...params }, credentials);

/** The account a key id encodes (vendor-contracts §3.1, as TruffleHog decodes it). */
function decodeAccount(keyId: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0n;
  for (const c of keyId.slice(4)) bits = (bits << 5n) | BigInt(alphabet.indexOf(c));
  const z = bits >> 32n;
  return ((z & 0x7fffffffff80n) >> 7n).toString().padStart(12, "0");
}

describe("answers", () => {
  it("GetCallerIdentity: the signing principal, in STS's XML", async () => {
    const { status, body } = await sts("GetCallerIdentity");
    expect(status).toBe(200);
    expect(body).toContain(`<GetCallerIdentityResponse xmlns="${STS_XMLNS}"><GetCallerIdentityResult>`);
    expect(body).toContain(`<Arn>arn:aws:iam::${HOME_ACCOUNT}:user/tourniquet</Arn>`);
    expect(body).toContain(`<Account>${HOME_ACCOUNT}</Account>`);
    expect(body).toMatch(/<ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata>/);
  });

  it("GetAccessKeyLastUsed of a key never used: no LastUsedDate, N/A for service and region", async () => {
    const key = aws.addKey(HOME_ACCOUNT, "fresh");
    const { status, body } = await iam("GetAccessKeyLastUsed", { AccessKeyId: key.accessKeyId });
    expect(status).toBe(200);
    expect(body).toContain(`<GetAccessKeyLastUsedResponse xmlns="${IAM_XMLNS}">`);
    expect(body).toContain(
      "<UserName>fresh</UserName><AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region></AccessKeyLastUsed>",
    );
    expect(body).not.toContain("LastUsedDate");
  });

  it("a key that signs a request is marked used (date, service, region)", async () => {
    const key = aws.addKey(HOME_ACCOUNT, "user-of-sts");
    expect((await sts("GetCallerIdentity", {}, key)).status).toBe(200);
    expect(aws.key(key.accessKeyId)?.lastUsed).toMatchObject({ service: "sts", region: "us-east-1" });
    const { body } = await iam("GetAccessKeyLastUsed", { AccessKeyId: key.accessKeyId });
    expect(body).toMatch(
      /<LastUsedDate>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/LastUsedDate><ServiceName>sts<\/ServiceName>/,
    );
  });

  it("NoSuchEntity as IAM's XML error, 404", async () => {
    const { status, body } = await iam("DeleteAccessKey", {
      UserName: "tourniquet",
      AccessKeyId: "AKIAZZZZZZZZZZZZZZZZ",
    });
    expect(status).toBe(404);
    expect(body).toMatch(
      new RegExp(
        `^<ErrorResponse xmlns="${IAM_XMLNS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>[^<]+</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>$`,
      ),
    );
  });

  it("an unknown action is 400 InvalidAction", async () => {
    const { status, body } = await iam("DeleteAccountAlias");
    expect(status).toBe(400);
    expect(body).toContain("<Code>InvalidAction</Code>");
  });

  it("CreateAccessKey: 409 LimitExceeded with two keys already", async () => {
    aws.addKey(HOME_ACCOUNT, "full");
    aws.addKey(HOME_ACCOUNT, "full");
    const { status, body } = await iam("CreateAccessKey", { UserName: "full" });
    expect(status).toBe(409);
    expect(body).toContain("<Code>LimitExceeded</Code>");
    expect(aws.user(HOME_ACCOUNT, "full")?.keys).toHaveLength(2);
  });

  it("AttachUserPolicy is idempotent, DetachUserPolicy answers NoSuchEntity once detached, another partition is refused", async () => {
    aws.addUser(HOME_ACCOUNT, "policy-holder");
    const arn = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3";
    for (let i = 0; i < 2; i++)
      expect((await iam("AttachUserPolicy", { UserName: "policy-holder", PolicyArn: arn })).status).toBe(200);
    expect(aws.user(HOME_ACCOUNT, "policy-holder")?.policies).toEqual([arn]);
    const listed = await iam("ListAttachedUserPolicies", { UserName: "policy-holder" });
    expect(listed.body).toContain(
      `<AttachedPolicies><member><PolicyName>AWSCompromisedKeyQuarantineV3</PolicyName><PolicyArn>${arn}</PolicyArn></member></AttachedPolicies><IsTruncated>false</IsTruncated>`,
    );
    expect((await iam("DetachUserPolicy", { UserName: "policy-holder", PolicyArn: arn })).status).toBe(200);
    expect((await iam("DetachUserPolicy", { UserName: "policy-holder", PolicyArn: arn })).status).toBe(404);
    const foreign = await iam("AttachUserPolicy", {
      UserName: "policy-holder",
      PolicyArn: "arn:aws-cn:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toContain("<Code>InvalidInput</Code>");
  });

  it("key ids are AKIA + 16 base32 characters, unique, and encode their account", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add(aws.addKey(MEMBER_ACCOUNT, `many-${i}`).accessKeyId);
    expect(ids.size).toBe(20);
    for (const id of ids) {
      expect(id).toMatch(/^AKIA[A-Z2-7]{16}$/);
      expect(decodeAccount(id)).toBe(MEMBER_ACCOUNT);
    }
  });
});

describe("authentication (SigV4, checked against the key's secret)", () => {
  it("a wrong secret: 403 SignatureDoesNotMatch", async () => {
    const { status, body } = await sts(
      "GetCallerIdentity",
      {},
      { ...HOME_CREDENTIALS, secretAccessKey: "x".repeat(40) },
    );
    expect(status).toBe(403);
    expect(body).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("an unknown key id: 403 InvalidClientTokenId", async () => {
    const { status, body } = await sts(
      "GetCallerIdentity",
      {},
      { accessKeyId: "AKIAQQQQQQQQQQQQQQQQ", secretAccessKey: "x" },
    );
    expect(status).toBe(403);
    expect(body).toContain(
      `<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>`,
    );
  });

  it("an Inactive key: 403 InvalidClientTokenId", async () => {
    const key = aws.addKey(HOME_ACCOUNT, "inactive-signer", { status: "Inactive" });
    const { status, body } = await sts("GetCallerIdentity", {}, key);
    expect(status).toBe(403);
    expect(body).toContain("<Code>InvalidClientTokenId</Code>");
  });

  it("a request signed for the other service: 403 SignatureDoesNotMatch", async () => {
    const { status, body } = await post(
      { Action: "ListAccessKeys", Version: "2010-05-08" },
      HOME_CREDENTIALS,
      "sts",
    );
    expect(status).toBe(403);
    expect(body).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("no signature at all: 403 MissingAuthenticationToken", async () => {
    const response = await fetch(aws.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>MissingAuthenticationToken</Code>");
  });

  it("the SDK with a wrong secret is refused as AWS refuses it", async () => {
    const client = new STSClient({
      region: "us-east-1",
      endpoint: aws.stsUrl,
      credentials: { ...HOME_CREDENTIALS, secretAccessKey: "y".repeat(40) },
      maxAttempts: 1,
    });
    await expect(client.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
  });
});

describe("AssumeRole and its temporary credentials", () => {
  it("acts in the role's account with the session's credentials, only with the session token", async () => {
    const { status, body } = await sts("AssumeRole", {
      RoleArn: RESPONDER_ROLE,
      RoleSessionName: "tourniquet",
      ExternalId: EXTERNAL_ID,
    });
    expect(status).toBe(200);
    const value = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(body)?.[1] ?? "";
    const session = {
      accessKeyId: value("AccessKeyId"),
      secretAccessKey: value("SecretAccessKey"),
      sessionToken: value("SessionToken"),
    };
    expect(session.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(value("Expiration")).toMatch(/Z$/);
    const who = await sts("GetCallerIdentity", {}, session);
    expect(who.body).toContain(
      `<Arn>arn:aws:sts::${MEMBER_ACCOUNT}:assumed-role/tourniquet-responder/tourniquet</Arn>`,
    );
    aws.addUser(MEMBER_ACCOUNT, "member-user");
    expect((await iam("ListAccessKeys", { UserName: "member-user" }, session)).status).toBe(200);
    expect(aws.calls.at(-1)).toMatchObject({ account: MEMBER_ACCOUNT, action: "ListAccessKeys" });
    const { sessionToken: _, ...withoutToken } = session;
    expect((await sts("GetCallerIdentity", {}, withoutToken)).body).toContain(
      "<Code>InvalidClientTokenId</Code>",
    );
    const log = JSON.stringify(aws.calls);
    expect(log).not.toContain(session.secretAccessKey);
    expect(log).not.toContain(session.sessionToken);
    aws.world.expireSessions();
    const expired = await sts("GetCallerIdentity", {}, session);
    expect(expired.status).toBe(403);
    expect(expired.body).toContain("<Code>ExpiredToken</Code>");
  });

  it("AccessDenied for a wrong external id, a missing one, or a role that does not exist", async () => {
    const attempts: Record<string, string>[] = [
      { RoleArn: RESPONDER_ROLE, RoleSessionName: "tourniquet", ExternalId: "nope" },
      { RoleArn: RESPONDER_ROLE, RoleSessionName: "tourniquet" },
      { RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/missing`, RoleSessionName: "tourniquet" },
    ];
    for (const params of attempts) {
      const { status, body } = await sts("AssumeRole", params);
      expect(status).toBe(403);
      expect(body).toContain("<Code>AccessDenied</Code>");
      expect(body).toContain(
        `User: arn:aws:iam::${HOME_ACCOUNT}:user/tourniquet is not authorized to perform: sts:AssumeRole`,
      );
    }
  });
});

describe("faults", () => {
  it("scripted errors for the next N calls, then normal answers", async () => {
    aws.fail("ListAccessKeys", AWS_FAULTS.throttling, { times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await iam("ListAccessKeys", { UserName: "tourniquet" })).status);
    expect(statuses).toEqual([400, 400, 200]);
    expect(
      aws
        .callsOf("ListAccessKeys")
        .slice(-3)
        .map((c) => c.code),
    ).toEqual(["Throttling", "Throttling", undefined]);
  });

  it("a denied action answers AccessDenied in AWS's words", async () => {
    const key = aws.addKey(HOME_ACCOUNT, "protected");
    aws.deny(HOME_ACCOUNT, "iam:UpdateAccessKey");
    const { status, body } = await iam("UpdateAccessKey", {
      UserName: "protected",
      AccessKeyId: key.accessKeyId,
      Status: "Inactive",
    });
    expect(status).toBe(403);
    expect(body).toContain(
      `User: arn:aws:iam::${HOME_ACCOUNT}:user/tourniquet is not authorized to perform: iam:UpdateAccessKey on resource: arn:aws:iam::${HOME_ACCOUNT}:user/protected because no identity-based policy allows the iam:UpdateAccessKey action`,
    );
    expect(aws.key(key.accessKeyId)?.status).toBe("Active");
  });

  it("a delay holds the answer back", async () => {
    aws.delay("GetCallerIdentity", 250);
    const started = Date.now();
    expect((await sts("GetCallerIdentity")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });
});

describe("the call log and the seeding route", () => {
  it("records action, account, principal, params and status; never a secret", async () => {
    const { body } = await iam("CreateAccessKey", { UserName: "logged" });
    expect(body).toContain("<Code>NoSuchEntity</Code>");
    aws.addUser(HOME_ACCOUNT, "logged");
    const created = await iam("CreateAccessKey", { UserName: "logged" });
    const secret = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(created.body)?.[1] ?? "";
    expect(secret).toHaveLength(40);
    expect(aws.calls.at(-1)).toEqual({
      service: "iam",
      action: "CreateAccessKey",
      account: HOME_ACCOUNT,
      principal: `arn:aws:iam::${HOME_ACCOUNT}:user/tourniquet`,
      params: { UserName: "logged" },
      status: 200,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    await iam("UpdateAccessKey", {
      UserName: "logged",
      AccessKeyId: "AKIAZZZZZZZZZZZZZZZZ",
      Status: "Inactive",
      SecretAccessKey: secret,
    });
    const log = JSON.stringify(aws.calls);
    expect(log).not.toContain(secret);
    expect(log).not.toContain(HOME_CREDENTIALS.secretAccessKey);
  });

  it("POST /sandbox/aws/keys mints a live key the SDK can sign with", async () => {
    const response = await fetch(`${aws.url}/sandbox/aws/keys`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ account: MEMBER_ACCOUNT, user: "leaky-app" }),
    });
    expect(response.status).toBe(201);
    const minted = (await response.json()) as Record<string, string>;
    expect(minted).toMatchObject({ account: MEMBER_ACCOUNT, user: "leaky-app" });
    const client = new STSClient({
      region: "us-east-1",
      endpoint: aws.stsUrl,
      credentials: {
        accessKeyId: minted.access_key_id ?? "",
        secretAccessKey: minted.secret_access_key ?? "",
      },
      maxAttempts: 1,
    });
    const who = await client.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(`arn:aws:iam::${MEMBER_ACCOUNT}:user/leaky-app`);
    const unknown = await fetch(`${aws.url}/sandbox/aws/keys`, {
      method: "POST",
      body: JSON.stringify({ account: "999999999999" }),
    });
    expect(unknown.status).toBe(404);
  });
});
