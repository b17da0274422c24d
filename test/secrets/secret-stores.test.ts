import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { gcmOpen, parseBox } from "../../lib/queue/aes-gcm.js";
import { LocalSecretStore } from "../../lib/secrets/local-secret-store.js";
import { SecretsManagerSecretStore } from "../../lib/secrets/secrets-manager-store.js";

const SECRET = "tqs_replacement_secret_value_0000000000";

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
  it("creates a tagged secret encrypted with the stack key, and replaces it when it exists", async () => {
    const sm = mockClient(SecretsManagerClient);
    const store = new SecretsManagerSecretStore(new SecretsManagerClient({ region: "us-east-1" }), {
      prefix: "tourniquet/replacements/",
      kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/abc",
    });
    sm.on(CreateSecretCommand).resolves({});
    const stored = await store.put({ leakId: "lk_1", keyId: "key_2", secret: SECRET });
    expect(sm.commandCalls(CreateSecretCommand)[0]?.args[0].input).toMatchObject({
      Name: "tourniquet/replacements/lk_1/key_2",
      SecretString: SECRET,
      KmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/abc",
      Tags: [
        { Key: "tourniquet:leak", Value: "lk_1" },
        { Key: "tourniquet:key", Value: "key_2" },
      ],
    });
    expect(stored.where).toContain("tourniquet/replacements/lk_1/key_2");
    expect(stored.where).not.toContain(SECRET);

    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: "exists", $metadata: {} }));
    sm.on(PutSecretValueCommand).resolves({});
    await store.put({ leakId: "lk_1", keyId: "key_2", secret: SECRET });
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: "tourniquet/replacements/lk_1/key_2",
      SecretString: SECRET,
    });
  });
});
