import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsError } from "../../lib/errors.js";
import { gcmOpen, parseBox } from "../../lib/queue/aes-gcm.js";
import { LocalSecretStore } from "../../lib/secrets/local-secret-store.js";
import { SecretsManagerSecretStore } from "../../lib/secrets/secrets-manager-store.js";
import { type FakeClientOptions, fakeAwsClientConfig } from "../helpers/fake-aws.js";
import {
  ACCESS_DENIED,
  type FakeSecretsManager,
  startFakeSecretsManager,
  THROTTLED,
} from "../helpers/fake-aws-config.js";

const SECRET = "tqs_replacement_secret_value_0000000000";
const ROTATED = "tqs_replacement_secret_value_1111111111";

describe("LocalSecretStore", () => {
  it("keeps the secret sealed on disk and tells where to fetch it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tourniquet-secrets-"));
    const key = randomBytes(32);
    const stored = await new LocalSecretStore(dir, key).put({
      leakId: "lk_1",
      keyId: "key_2",
      secret: SECRET,
    });
    expect(stored.where).toMatch(/secrets get lk_1\.key_2/);
    expect(stored.where).not.toContain(SECRET);
    const [file] = readdirSync(dir);
    const sealed = readFileSync(join(dir, file ?? ""), "utf8");
    expect(sealed).not.toContain(SECRET);
    expect(gcmOpen(key, parseBox(sealed, 2).box, "lk_1.key_2")).toBe(SECRET);
    await expect(new LocalSecretStore(dir, key).get("lk_1.key_2")).resolves.toBe(SECRET);
    await expect(new LocalSecretStore(dir, key).get("../../etc/passwd")).rejects.toThrow(/no secret named/);
    await expect(new LocalSecretStore(dir, randomBytes(32)).get("lk_1.key_2")).rejects.toThrow(
      /does not open/,
    );
  });
});

describe("SecretsManagerSecretStore", () => {
  // Against a loopback Secrets Manager speaking its wire protocol (awsJson1_1, SigV4).
  const NAME = "tourniquet/replacements/lk_1/key_2";
  const KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/abc";
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const INTERNAL_ERROR = {
    error: "InternalServiceError",
    status: 500,
    message: "An internal error occurred",
  };
  let sm: FakeSecretsManager;

  beforeAll(async () => {
    sm = await startFakeSecretsManager();
  });
  afterAll(async () => {
    await sm?.close();
  });
  beforeEach(() => {
    sm.calls.length = 0;
    sm.clearFailures();
    sm.secrets.clear();
  });

  const store = (options: { kmsKeyId?: string } = { kmsKeyId: KMS_KEY }, client: FakeClientOptions = {}) =>
    new SecretsManagerSecretStore(new SecretsManagerClient(fakeAwsClientConfig(sm.url, client)), {
      prefix: "tourniquet/replacements/",
      ...options,
    });
  const put = (s = store(), secret = SECRET) => s.put({ leakId: "lk_1", keyId: "key_2", secret });
  const operations = () => sm.calls.map((c) => c.operation);

  it("creates a tagged secret encrypted with the stack key, and replaces it when it exists", async () => {
    const stored = await put();
    expect(sm.callsOf("CreateSecret")).toEqual([
      {
        Name: NAME,
        SecretString: SECRET,
        KmsKeyId: KMS_KEY,
        Description: "Replacement key key_2 for leak lk_1",
        Tags: [
          { Key: "tourniquet:leak", Value: "lk_1" },
          { Key: "tourniquet:key", Value: "key_2" },
        ],
        ClientRequestToken: expect.stringMatching(UUID),
      },
    ]);
    expect(stored.where).toContain(NAME);
    expect(stored.where).not.toContain(SECRET);
    expect(sm.currentValue(NAME)).toBe(SECRET);
    expect(sm.secret(NAME)).toMatchObject({
      kmsKeyId: KMS_KEY,
      tags: [
        { Key: "tourniquet:leak", Value: "lk_1" },
        { Key: "tourniquet:key", Value: "key_2" },
      ],
    });

    // Secrets Manager answers ResourceExistsException; the store writes a new version instead.
    const again = await put(store(), ROTATED);
    expect(again.where).toBe(stored.where);
    expect(operations()).toEqual(["CreateSecret", "CreateSecret", "PutSecretValue"]);
    expect(sm.callsOf("PutSecretValue")).toEqual([
      { SecretId: NAME, SecretString: ROTATED, ClientRequestToken: expect.stringMatching(UUID) },
    ]);
    expect(sm.currentValue(NAME)).toBe(ROTATED);
    expect(sm.secret(NAME)?.versions.map((v) => v.stages)).toEqual([["AWSPREVIOUS"], ["AWSCURRENT"]]);
  });

  it("leaves the key to Secrets Manager's default when the stack names none", async () => {
    await put(store({}));
    expect(sm.callsOf("CreateSecret")[0]).not.toHaveProperty("KmsKeyId");
    expect(sm.secret(NAME)?.kmsKeyId).toBeUndefined();
  });

  it("retries a 5xx with the same ClientRequestToken", async () => {
    sm.failNext("CreateSecret", INTERNAL_ERROR);
    await put();
    const [first, second] = sm.callsOf("CreateSecret");
    expect(operations()).toEqual(["CreateSecret", "CreateSecret"]);
    expect(second?.ClientRequestToken).toBe(first?.ClientRequestToken);
    expect(sm.secret(NAME)?.versions).toHaveLength(1);
  });

  it("makes one version when CreateSecret succeeded but its answer was lost", async () => {
    sm.failNext("CreateSecret", { drop: true, afterApplying: true });
    await put();
    // The retry carries the same token, so Secrets Manager treats it as the same request.
    expect(operations()).toEqual(["CreateSecret", "CreateSecret"]);
    expect(sm.secret(NAME)?.versions).toHaveLength(1);
    expect(sm.currentValue(NAME)).toBe(SECRET);
  });

  it("retries a throttled PutSecretValue after ResourceExistsException", async () => {
    await put();
    sm.failNext("PutSecretValue", THROTTLED);
    await put(store(), ROTATED);
    expect(operations()).toEqual(["CreateSecret", "CreateSecret", "PutSecretValue", "PutSecretValue"]);
    expect(sm.currentValue(NAME)).toBe(ROTATED);
    expect(sm.secret(NAME)?.versions).toHaveLength(2);
  });

  it("fails at once on AccessDeniedException, without echoing the secret", async () => {
    sm.failNext("CreateSecret", ACCESS_DENIED);
    const error = (await put().catch((e: unknown) => e)) as AwsError;
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "AccessDeniedException", transient: false });
    expect(error.message).toMatch(/secretsmanager:CreateSecret failed with 400 AccessDeniedException/);
    expect(error.message).not.toContain(SECRET);
    expect(operations()).toEqual(["CreateSecret"]);
    expect(sm.secret(NAME)).toBeUndefined();
  });

  it("fails with a transient error when Secrets Manager keeps failing, so the worker retries later", async () => {
    sm.failNext("CreateSecret", INTERNAL_ERROR, Number.POSITIVE_INFINITY);
    const error = (await put().catch((e: unknown) => e)) as AwsError;
    expect(error).toMatchObject({ code: "InternalServiceError", httpStatus: 500, transient: true });
    expect(error.message).not.toContain(SECRET);
    expect(operations()).toEqual(["CreateSecret", "CreateSecret", "CreateSecret"]);
  });

  it("fails when PutSecretValue is refused after ResourceExistsException", async () => {
    await put();
    sm.failNext("PutSecretValue", ACCESS_DENIED);
    const error = (await put(store(), ROTATED).catch((e: unknown) => e)) as AwsError;
    expect(error).toMatchObject({ code: "AccessDeniedException", transient: false });
    expect(error.message).not.toContain(ROTATED);
    expect(sm.currentValue(NAME)).toBe(SECRET);
  });

  it("times out a CreateSecret that gets no answer, and retries it", async () => {
    sm.failNext("CreateSecret", { hang: true });
    await put(store(undefined, { requestTimeout: 100 }));
    expect(operations()).toEqual(["CreateSecret", "CreateSecret"]);
    expect(sm.currentValue(NAME)).toBe(SECRET);
  });
});
