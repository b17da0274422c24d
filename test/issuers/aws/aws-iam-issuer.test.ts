import { beforeEach, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import { AwsIamIssuer, QUARANTINE_POLICY } from "../../../lib/issuers/aws/aws-iam-issuer.js";
import { InMemoryAws } from "../../helpers/in-memory-aws-iam.js";
import { rejection } from "../../helpers/rejection.js";

const HOME = "111122223333";
const OTHER = "444455556666";
const ROLE = `arn:aws:iam::${OTHER}:role/tourniquet-responder`;
const STRANGER = "777788889999";

function issuerOver(
  aws: InMemoryAws,
  options: { deleteAfterDeactivate?: boolean; quarantine?: boolean } = {},
) {
  return new AwsIamIssuer({
    name: "aws",
    access: aws,
    accounts: { [HOME]: {}, [OTHER]: { role_arn: ROLE } },
    deleteAfterDeactivate: options.deleteAfterDeactivate ?? false,
    quarantine: options.quarantine ?? true,
    ownerTags: ["email", "owner", "contact"],
    retry: { attempts: 3, baseMs: 1, sleep: async () => {} },
    now: () => Date.parse("2026-11-27T12:00:00Z"),
  });
}

const request = (keyId: string) => ({ keyId, type: "aws_access_key_id", leakId: "lk_test" });

describe("AwsIamIssuer.verify", () => {
  let aws: InMemoryAws;
  beforeEach(() => {
    aws = new InMemoryAws();
  });

  it("names the account, user, owner, last use and the user's other keys of a live key in its own account", async () => {
    aws.addUser(HOME, "ci-deployer", { team: "platform", owner: "not an email", contact: "ops@example.com" });
    const leaked = aws.addKey(HOME, "ci-deployer", {
      lastUsed: { date: "2026-11-27T11:58:00Z", service: "ec2", region: "eu-west-1" },
    });
    const other = aws.addKey(HOME, "ci-deployer", { status: "Inactive" });

    const verification = await issuerOver(aws).verify({
      token: leaked.accessKeyId,
      type: "aws_access_key_id",
    });

    expect(verification.status).toBe("active");
    expect(verification.keyId).toBe(`${HOME}:ci-deployer:${leaked.accessKeyId}`);
    // `owner` holds no email: the next tag in order that does wins.
    expect(verification.owner).toEqual({
      id: `arn:aws:iam::${HOME}:user/ci-deployer`,
      email: "ops@example.com",
    });
    expect(verification.evidence).toMatchObject({
      account: HOME,
      user: "ci-deployer",
      key_status: "Active",
      last_used: { date: "2026-11-27T11:58:00Z", service: "ec2", region: "eu-west-1" },
      other_keys: [{ id: other.accessKeyId, status: "Inactive" }],
      attached_policies: [],
      quarantined: false,
    });
    expect(verification.details).toContainEqual({
      label: "Last used",
      value: "2026-11-27T11:58:00Z (ec2, eu-west-1)",
    });
    expect(verification.details).toContainEqual({
      label: "The user's other keys",
      value: `${other.accessKeyId} (Inactive)`,
    });
    const text = JSON.stringify(verification);
    expect(text).not.toContain(leaked.secret);
    expect(text).not.toContain(other.secret);
    // Tourniquet's own account: no role in any call.
    expect(aws.calls.every((c) => c.role === undefined)).toBe(true);
  });

  it("acts in another account through its responder role", async () => {
    const leaked = aws.addKey(OTHER, "app", {});
    const verification = await issuerOver(aws).verify({
      token: leaked.accessKeyId,
      type: "aws_access_key_id",
    });
    expect(verification.status).toBe("active");
    const iamCalls = aws.calls.filter((c) => c.op !== "accountOfKey");
    expect(iamCalls.length).toBeGreaterThan(0);
    expect(iamCalls.every((c) => c.account === OTHER && c.role === ROLE)).toBe(true);
    expect(verification.details).toContainEqual({ label: "Last used", value: "never" });
  });

  it("leaves a key of an account it is not configured for unknown, touching nothing there", async () => {
    const stranger = aws.addKey(STRANGER, "someone");
    const verification = await issuerOver(aws).verify({
      token: stranger.accessKeyId,
      type: "aws_access_key_id",
    });
    expect(verification).toMatchObject({ status: "unknown", evidence: { account: STRANGER } });
    expect(aws.calls.map((c) => c.op)).toEqual(["accountOfKey"]);
  });

  it("calls nothing for a token that is not an IAM user key id, and says unknown for an id STS does not know", async () => {
    const issuer = issuerOver(aws);
    expect((await issuer.verify({ token: "ASIAIOSFODNN7EXAMPLE", type: "aws_access_key_id" })).status).toBe(
      "unknown",
    );
    expect(aws.calls).toEqual([]);
    expect((await issuer.verify({ token: "AKIAIOSFODNN7EXAMPLE", type: "aws_access_key_id" })).status).toBe(
      "unknown",
    );
    expect(aws.calls.map((c) => c.op)).toEqual(["accountOfKey"]);
  });

  it("asks STS for a key id's account once: the re-verification after revoking is IAM's alone", async () => {
    const leaked = aws.addKey(HOME, "bob");
    const issuer = issuerOver(aws);
    await issuer.verify({ token: leaked.accessKeyId, type: "aws_access_key_id" });
    await issuer.revoke(request(`${HOME}:bob:${leaked.accessKeyId}`));
    const after = await issuer.verify({ token: leaked.accessKeyId, type: "aws_access_key_id" });
    expect(after.status).toBe("inactive");
    expect(aws.countOf("accountOfKey")).toBe(1);
  });

  it("says inactive for a deactivated key and for a deleted one", async () => {
    const inactive = aws.addKey(HOME, "bob", { status: "Inactive" });
    const deleted = aws.addKey(HOME, "bob");
    aws.keys.delete(deleted.accessKeyId);
    const issuer = issuerOver(aws);
    expect(await issuer.verify({ token: inactive.accessKeyId, type: "aws_access_key_id" })).toMatchObject({
      status: "inactive",
      keyId: `${HOME}:bob:${inactive.accessKeyId}`,
    });
    expect(await issuer.verify({ token: deleted.accessKeyId, type: "aws_access_key_id" })).toMatchObject({
      status: "inactive",
      evidence: { reason: "the key no longer exists in its account" },
    });
  });

  it("still finds a live key when the user's tags or policies cannot be read, and says which call failed", async () => {
    const leaked = aws.addKey(HOME, "bob");
    aws.fail(
      "getUser",
      () =>
        new IssuerError("AccessDenied: not authorized to perform iam:GetUser", {
          transient: false,
          httpStatus: 403,
        }),
    );
    const verification = await issuerOver(aws).verify({
      token: leaked.accessKeyId,
      type: "aws_access_key_id",
    });
    expect(verification.status).toBe("active");
    expect(verification.owner).toEqual({ id: `arn:aws:iam::${HOME}:user/bob` });
    expect(JSON.stringify(verification.evidence?.unreadable)).toContain("iam:GetUser");
  });

  it("leaves the verification unfinished when the caller's time runs out while the evidence is read", async () => {
    const leaked = aws.addKey(HOME, "bob");
    const controller = new AbortController();
    aws.fail("getUser", () => {
      controller.abort();
      return new IssuerError("iam:GetUser: aborted by caller", { transient: false });
    });
    const error = await rejection(
      issuerOver(aws).verify(
        { token: leaked.accessKeyId, type: "aws_access_key_id" },
        { signal: controller.signal },
      ),
      IssuerError,
    );
    expect(error.message).toContain("aborted by caller");
  });

  it("retries throttling, and fails plainly when the key's status cannot be read", async () => {
    const leaked = aws.addKey(HOME, "bob");
    aws.fail(
      "listAccessKeys",
      () => new IssuerError("Throttling: Rate exceeded", { transient: true, httpStatus: 400 }),
      2,
    );
    expect(
      (await issuerOver(aws).verify({ token: leaked.accessKeyId, type: "aws_access_key_id" })).status,
    ).toBe("active");
    aws.fail(
      "listAccessKeys",
      () =>
        new IssuerError("AccessDenied: not authorized to perform iam:ListAccessKeys", {
          transient: false,
          httpStatus: 403,
        }),
    );
    const error = await rejection(
      issuerOver(aws).verify({ token: leaked.accessKeyId, type: "aws_access_key_id" }),
      IssuerError,
    );
    expect(error).toBeInstanceOf(IssuerError);
    expect((error as IssuerError).transient).toBe(false);
    expect((error as Error).message).toMatch(
      /issuer "aws" iam:ListAccessKeys \(account 111122223333\).*iam:ListAccessKeys/,
    );
  });
});

describe("AwsIamIssuer.revoke", () => {
  let aws: InMemoryAws;
  beforeEach(() => {
    aws = new InMemoryAws();
  });

  it("deactivates the key once and quarantines its user with AWS's policy, saying how to undo both", async () => {
    const leaked = aws.addKey(OTHER, "app");
    const issuer = issuerOver(aws);
    const keyId = `${OTHER}:app:${leaked.accessKeyId}`;

    const first = await issuer.revoke(request(keyId));
    expect(first.alreadyRevoked).toBe(false);
    expect(aws.keys.get(leaked.accessKeyId)?.status).toBe("Inactive");
    expect(aws.userOf(OTHER, "app").policies).toEqual([
      { policyName: QUARANTINE_POLICY, policyArn: `arn:aws:iam::aws:policy/${QUARANTINE_POLICY}` },
    ]);
    expect(first.actions?.join("\n")).toContain(`--access-key-id ${leaked.accessKeyId} --status Active`);
    expect(first.actions?.join("\n")).toContain("aws iam detach-user-policy --user-name app");

    // A retry (or a second delivery) does nothing more.
    const again = await issuer.revoke(request(keyId));
    expect(again).toMatchObject({ alreadyRevoked: true, actions: [] });
    expect(aws.countOf("updateAccessKey")).toBe(1);
    expect(aws.countOf("attachUserPolicy")).toBe(1);
  });

  it("uses the partition of the responder role for the policy ARN", async () => {
    const govRole = `arn:aws-us-gov:iam::${OTHER}:role/responder`;
    const leaked = aws.addKey(OTHER, "app");
    const issuer = new AwsIamIssuer({
      name: "aws",
      access: aws,
      accounts: { [OTHER]: { role_arn: govRole } },
      deleteAfterDeactivate: false,
      quarantine: true,
      ownerTags: ["email"],
    });
    await issuer.revoke(request(`${OTHER}:app:${leaked.accessKeyId}`));
    expect(aws.userOf(OTHER, "app").policies[0]?.policyArn).toBe(
      `arn:aws-us-gov:iam::aws:policy/${QUARANTINE_POLICY}`,
    );
  });

  it("deletes the key after deactivating it only when configured, and not twice", async () => {
    const kept = aws.addKey(HOME, "bob");
    await issuerOver(aws, { quarantine: false }).revoke(request(`${HOME}:bob:${kept.accessKeyId}`));
    expect(aws.keys.get(kept.accessKeyId)?.status).toBe("Inactive");
    expect(aws.countOf("deleteAccessKey")).toBe(0);
    expect(aws.countOf("attachUserPolicy")).toBe(0);

    const deleted = aws.addKey(HOME, "carol");
    const issuer = issuerOver(aws, { deleteAfterDeactivate: true, quarantine: false });
    const revocation = await issuer.revoke(request(`${HOME}:carol:${deleted.accessKeyId}`));
    expect(aws.keys.has(deleted.accessKeyId)).toBe(false);
    expect(revocation.actions?.some((a) => a.startsWith(`deleted ${deleted.accessKeyId}`))).toBe(true);
    await issuer.revoke(request(`${HOME}:carol:${deleted.accessKeyId}`));
    expect(aws.countOf("deleteAccessKey")).toBe(1);
  });

  it("finishes what an interrupted revocation left: deletion and quarantine after an earlier deactivation", async () => {
    const leaked = aws.addKey(HOME, "bob", { status: "Inactive" });
    const revocation = await issuerOver(aws, { deleteAfterDeactivate: true }).revoke(
      request(`${HOME}:bob:${leaked.accessKeyId}`),
    );
    expect(revocation.alreadyRevoked).toBe(true);
    expect(aws.countOf("updateAccessKey")).toBe(0);
    expect(aws.keys.has(leaked.accessKeyId)).toBe(false);
    expect(aws.userOf(HOME, "bob").policies).toHaveLength(1);
  });

  it("acts once when ten revocations of one key run at once", async () => {
    const leaked = aws.addKey(HOME, "bob");
    const issuer = issuerOver(aws);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => issuer.revoke(request(`${HOME}:bob:${leaked.accessKeyId}`))),
    );
    expect(results.filter((r) => !r.alreadyRevoked)).toHaveLength(1);
    expect(aws.countOf("updateAccessKey")).toBe(1);
    expect(aws.countOf("attachUserPolicy")).toBe(1);
  });

  it("fails permanently, naming the IAM action, when the role may not deactivate keys", async () => {
    const leaked = aws.addKey(OTHER, "app");
    aws.fail(
      "updateAccessKey",
      () =>
        new IssuerError("AccessDenied: the role is not authorized to perform: iam:UpdateAccessKey", {
          transient: false,
          httpStatus: 403,
        }),
    );
    const error = await rejection(
      issuerOver(aws).revoke(request(`${OTHER}:app:${leaked.accessKeyId}`)),
      IssuerError,
    );
    expect(error).toBeInstanceOf(IssuerError);
    expect((error as IssuerError).transient).toBe(false);
    expect((error as Error).message).toContain(`iam:UpdateAccessKey (account ${OTHER} as ${ROLE})`);
    expect(aws.keys.get(leaked.accessKeyId)?.status).toBe("Active");
  });

  it("refuses a key id of an account it is not configured for, and a malformed key id", async () => {
    const stranger = aws.addKey(STRANGER, "x");
    const issuer = issuerOver(aws);
    expect(
      (await rejection(issuer.revoke(request(`${STRANGER}:x:${stranger.accessKeyId}`)), IssuerError)).message,
    ).toContain("not among its accounts");
    expect((await rejection(issuer.revoke(request("not-a-key-id")), IssuerError)).message).toContain(
      "not an AWS key id",
    );
    expect(aws.calls).toEqual([]);
  });
});

describe("AwsIamIssuer.rotate", () => {
  let aws: InMemoryAws;
  beforeEach(() => {
    aws = new InMemoryAws();
  });

  it("creates a key for the same user and hands its secret over, saying the user is quarantined", async () => {
    const leaked = aws.addKey(HOME, "bob");
    const issuer = issuerOver(aws);
    const keyId = `${HOME}:bob:${leaked.accessKeyId}`;
    await issuer.revoke(request(keyId));
    const rotation = await issuer.rotate(request(keyId));
    const created = [...aws.keys.values()].find((k) => k.accessKeyId !== leaked.accessKeyId);
    expect(created).toBeDefined();
    expect(rotation).toMatchObject({
      keyId,
      replacementKeyId: `${HOME}:bob:${created?.accessKeyId}`,
      deliveredToOwner: false,
      secret: created?.secret,
    });
    expect(rotation.note).toContain(`quarantined (${QUARANTINE_POLICY})`);
    expect(rotation.replacementKeyId).not.toContain(created?.secret ?? "-");
  });

  it("says plainly that a user with two keys has no room, and creates nothing", async () => {
    const leaked = aws.addKey(HOME, "bob", { status: "Inactive" });
    const other = aws.addKey(HOME, "bob");
    const error = await rejection(
      issuerOver(aws).rotate(request(`${HOME}:bob:${leaked.accessKeyId}`)),
      IssuerError,
    );
    expect(error.message).toContain(
      `IAM user bob already has 2 access keys (${leaked.accessKeyId} (Inactive), ${other.accessKeyId} (Active)) and IAM allows 2`,
    );
    expect(error.message).toContain("delete_after_deactivate");
    expect((error as IssuerError).transient).toBe(false);
    expect(aws.countOf("createAccessKey")).toBe(0);
  });

  it("refuses to rotate a key that is still active", async () => {
    const leaked = aws.addKey(HOME, "bob");
    const error = await rejection(
      issuerOver(aws).rotate(request(`${HOME}:bob:${leaked.accessKeyId}`)),
      IssuerError,
    );
    expect(error.message).toContain("still active; revoke it first");
    expect(aws.countOf("createAccessKey")).toBe(0);
  });
});

describe("AwsIamIssuer.usageSince", () => {
  it("says whether the key was used after its revocation, from IAM's last use", async () => {
    const aws = new InMemoryAws();
    const quiet = aws.addKey(HOME, "bob", {
      lastUsed: { date: "2026-11-27T10:00:00Z", service: "s3", region: "us-east-1" },
    });
    const abused = aws.addKey(HOME, "eve", {
      lastUsed: { date: "2026-11-27T11:30:00Z", service: "ec2", region: "us-east-1" },
    });
    const issuer = issuerOver(aws);
    const since = "2026-11-27T11:00:00Z";
    expect(
      (await issuer.usageSince({ keyId: `${HOME}:bob:${quiet.accessKeyId}`, since })).figures,
    ).toMatchObject({
      uses_seen_since_revocation: 0,
      last_used: "2026-11-27T10:00:00Z",
    });
    expect(
      (await issuer.usageSince({ keyId: `${HOME}:eve:${abused.accessKeyId}`, since })).figures,
    ).toMatchObject({
      uses_seen_since_revocation: 1,
      last_service: "ec2",
    });
  });
});
