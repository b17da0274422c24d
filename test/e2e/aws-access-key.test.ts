import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { LocalSecretStore } from "../../lib/secrets/local-secret-store.js";
import { LOCAL_AWS } from "../../local/local-aws.js";
import type { SandboxAws } from "../../local/sandbox/sandbox-aws.js";
import { readJson, startTestStack, type TestStack } from "../helpers/test-stack.js";

// A leaked AWS access key, end to end on the local stack: the partner report holds the key id and its
// secret; the AWS issuer (AWS's SDK clients over the query protocol to the stack's loopback fake of STS
// and IAM, signatures checked) finds the key's account and user, deactivates it once, quarantines the
// user, creates a replacement straight into the secret store, and tells the owner named by the user's
// tags. Neither secret, leaked or new, is kept or said anywhere.

const { homeAccount: HOME, memberAccount: MEMBER } = LOCAL_AWS;
const ROLE = `arn:aws:iam::${MEMBER}:role/${LOCAL_AWS.roleName}`;
const FILE = "https://github.com/acme/app/blob/1a2b3c/.env";
const OWNER = "payments-team@acme.example";

let t: TestStack;
let aws: SandboxAws;

beforeAll(async () => {
  t = await startTestStack();
  aws = t.stack.aws;
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  aws.recover();
});

const pair = (key: { accessKeyId: string; secretAccessKey: string }, url = FILE) => [
  { token: key.accessKeyId, type: "aws_access_key_id", url, source: "commit" },
  { token: key.secretAccessKey, type: "aws_secret_access_key", url, source: "commit" },
];

/** The calls made in an account after `from` (the fake's call log index). */
const callsIn = (account: string, from: number) => aws.calls.slice(from).filter((c) => c.account === account);

describe("a leaked AWS access key", () => {
  it("is found in its account through the responder role, deactivated once, its user quarantined and a replacement stored", async () => {
    aws.addUser(MEMBER, "payments-ci", { tags: { team: "payments", email: OWNER } });
    const leaked = aws.addKey(MEMBER, "payments-ci", {
      lastUsed: { date: Date.now() - 120_000, service: "s3", region: "eu-west-1" },
    });
    const from = aws.calls.length;

    // Ten concurrent reports of the pair: one leak per half, one deactivation.
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.report(pair(leaked))));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    await t.stack.queue.drain();

    expect(aws.callsOf("UpdateAccessKey").slice(0)).toHaveLength(1);
    expect(aws.callsOf("AttachUserPolicy")).toHaveLength(1);
    expect(aws.callsOf("CreateAccessKey")).toHaveLength(1);
    const user = aws.user(MEMBER, "payments-ci");
    expect(user?.keys.find((k) => k.accessKeyId === leaked.accessKeyId)?.status).toBe("Inactive");
    expect(user?.policies).toEqual(["arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"]);
    const replacement = user?.keys.find((k) => k.accessKeyId !== leaked.accessKeyId);
    expect(replacement?.status).toBe("Active");
    // Every IAM call in the member account went through an assumed-role session of the responder role.
    const iam = callsIn(MEMBER, from).filter((c) => c.service === "iam");
    expect(iam.length).toBeGreaterThan(0);
    expect(
      iam.every((c) => c.principal?.startsWith(`arn:aws:sts::${MEMBER}:assumed-role/${LOCAL_AWS.roleName}/`)),
    ).toBe(true);

    const leak = await t.leakByFingerprint(fingerprintToken(leaked.accessKeyId));
    const keyId = `${MEMBER}:payments-ci:${leaked.accessKeyId}`;
    expect(leak).toMatchObject({ status: "revoked", key_id: keyId, owner: { email: OWNER } });
    expect(leak?.replacement).toMatchObject({
      key_id: `${MEMBER}:payments-ci:${replacement?.accessKeyId}`,
      delivered_by: "secret_store",
    });
    expect(leak?.timeline.find((e) => e.step === "revoke")?.detail).toContain(
      "quarantined IAM user payments-ci with AWSCompromisedKeyQuarantineV3",
    );
    expect(leak?.timeline.find((e) => e.step === "rotate")?.detail).toContain("is quarantined");
    const detail = await readJson(await t.admin(`/v1/admin/leaks/${leak?.id}`));
    expect(detail.evidence).toMatchObject({
      account: MEMBER,
      user: "payments-ci",
      last_used: { service: "s3", region: "eu-west-1" },
    });

    // The secret half: recorded, linked, never sent to AWS.
    const secretLeak = await t.leakByFingerprint(fingerprintToken(leaked.secretAccessKey));
    expect(secretLeak).toMatchObject({ status: "paired", paired_with: { leak_id: leak?.id } });
    expect(detail.paired_with).toEqual({ leak_id: secretLeak?.id, token_type: "aws_secret_access_key" });

    // The new secret is in the secret store, and only there.
    const store = new LocalSecretStore(
      join(t.stack.dataDir, "secrets"),
      LocalKeySealer.loadKey(join(t.stack.dataDir, "queue.key")),
    );
    const name = LocalSecretStore.nameFor(leak?.id ?? "", leak?.replacement?.key_id ?? "");
    expect(await store.get(name)).toBe(replacement?.secretAccessKey);
    expect(leak?.deliveries.map((d) => d.recipient)).toContain(`owner ${OWNER}`);

    const written = await t.everythingWritten([leak?.id ?? "", secretLeak?.id ?? ""]);
    expect(written).toContain(leaked.accessKeyId); // the key id names the key: it is not a secret
    expect(written).not.toContain(leaked.secretAccessKey);
    expect(written).not.toContain(replacement?.secretAccessKey ?? "?");
    expect(JSON.stringify(aws.calls)).not.toContain(leaked.secretAccessKey);
  });

  it("touches nothing for a key of an account it is not configured for", async () => {
    aws.addAccount("999988887777");
    const stranger = aws.addKey("999988887777", "someone");
    const from = aws.calls.length;
    expect((await t.report(pair(stranger, "https://gist.example/x"))).status).toBe(200);
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(fingerprintToken(stranger.accessKeyId)))?.status).toBe(
      "false_positive",
    );
    expect(aws.calls.slice(from).map((c) => c.action)).toEqual(["GetAccessKeyInfo"]);
    expect(aws.user("999988887777", "someone")?.keys[0]?.status).toBe("Active");
  });

  it("records a key already inactive as inactive and acts on nothing", async () => {
    const dead = aws.addKey(HOME, "old-ci", { status: "Inactive" });
    const from = aws.calls.length;
    await t.report(pair(dead, "https://gist.example/y"));
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(fingerprintToken(dead.accessKeyId)))?.status).toBe("inactive");
    const writes = aws.calls
      .slice(from)
      .filter((c) =>
        ["UpdateAccessKey", "DeleteAccessKey", "AttachUserPolicy", "CreateAccessKey"].includes(c.action),
      );
    expect(writes).toEqual([]);
  });

  it("fails the revoke step naming the IAM action the responder role lacks, and changes nothing", async () => {
    const leaked = aws.addKey(MEMBER, "denied-ci");
    aws.deny(MEMBER, "iam:UpdateAccessKey");
    await t.report(pair(leaked, "https://gist.example/z"));
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(leaked.accessKeyId));
    expect(leak).toMatchObject({ status: "failed", failure: { step: "revoke" } });
    expect(leak?.failure?.reason).toContain("iam:UpdateAccessKey");
    expect(leak?.failure?.reason).toContain(ROLE);
    expect(aws.user(MEMBER, "denied-ci")?.keys[0]?.status).toBe("Active");
    expect(leak?.failure?.reason).not.toContain(leaked.secretAccessKey);
  });

  it("says plainly when the user has no room for a replacement, after revoking", async () => {
    const leaked = aws.addKey(HOME, "full-ci");
    const other = aws.addKey(HOME, "full-ci");
    await t.report(pair(leaked, "https://gist.example/full"));
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(leaked.accessKeyId));
    expect(leak?.status).toBe("revoked");
    expect(leak?.failure).toMatchObject({ step: "rotate" });
    expect(leak?.failure?.reason).toContain("IAM user full-ci already has 2 access keys");
    expect(
      aws
        .user(HOME, "full-ci")
        ?.keys.map((k) => k.accessKeyId)
        .sort(),
    ).toEqual([leaked.accessKeyId, other.accessKeyId].sort());
  });

  it("records a secret reported without its key id and sends nothing to AWS", async () => {
    const lonely = aws.addKey(HOME, "lonely-ci");
    const from = aws.calls.length;
    await t.report([
      { token: lonely.secretAccessKey, type: "aws_secret_access_key", url: FILE, source: "commit" },
    ]);
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(lonely.secretAccessKey));
    expect(leak).toMatchObject({ status: "unroutable", issuer: null, paired_with: null });
    expect(aws.calls.slice(from)).toEqual([]);
    expect(await t.everythingWritten([leak?.id ?? ""])).not.toContain(lonely.secretAccessKey);
  });
});
