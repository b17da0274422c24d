import { randomBytes } from "node:crypto";
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  InvalidCiphertextException,
  KMSClient,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { SealError } from "../../lib/errors.js";
import { KmsEnvelopeSealer } from "../../lib/queue/kms-envelope-sealer.js";

const TOKEN = "tqs_live_4f8a1c9e2b7d6035aa91f2a";
const KEY_ID = "alias/tourniquet-queue";
const CONTEXT = { purpose: "tourniquet-token" };

const kms = mockClient(KMSClient);

/** A fake KMS: real random data keys, "encrypted" as an opaque blob only it can map back. */
function fakeKms() {
  const keys = new Map<string, Uint8Array>();
  let issued = 0;
  kms.on(GenerateDataKeyCommand).callsFake(async () => {
    const plaintext = new Uint8Array(randomBytes(32));
    const blob = new Uint8Array(Buffer.from(`fake-wrapped-key-${++issued}`));
    keys.set(Buffer.from(blob).toString("hex"), plaintext);
    return { KeyId: KEY_ID, Plaintext: plaintext, CiphertextBlob: blob };
  });
  kms.on(DecryptCommand).callsFake(async (input: { CiphertextBlob: Uint8Array }) => {
    const plaintext = keys.get(Buffer.from(input.CiphertextBlob).toString("hex"));
    if (!plaintext) throw new InvalidCiphertextException({ message: "bad blob", $metadata: {} });
    return { KeyId: KEY_ID, Plaintext: plaintext };
  });
}

describe("KmsEnvelopeSealer", () => {
  let clock = 1_000_000;
  const now = () => clock;
  const sealer = (options: Partial<ConstructorParameters<typeof KmsEnvelopeSealer>[0]> = {}) =>
    new KmsEnvelopeSealer({ kms: new KMSClient({ region: "us-east-1" }), keyId: KEY_ID, now, ...options });

  beforeEach(() => {
    kms.reset();
    clock = 1_000_000;
    fakeKms();
  });

  it("seals with a data key from GenerateDataKey and opens it again", async () => {
    const s = sealer();
    const sealed = await s.seal(TOKEN, "leak-1");
    expect(sealed).toMatch(/^v1\.kms\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed.split(".")[2]).toBe(Buffer.from("fake-wrapped-key-1").toString("base64url"));
    await expect(s.open(sealed, "leak-1")).resolves.toBe(TOKEN);

    const [call] = kms.commandCalls(GenerateDataKeyCommand);
    expect(call?.args[0].input).toEqual({ KeyId: KEY_ID, KeySpec: "AES_256", EncryptionContext: CONTEXT });
  });

  it("opens in another process with Decrypt under the same encryption context, once per data key", async () => {
    const sealed = await Promise.all([sealer().seal(TOKEN, "leak-1"), sealer().seal("tqs_other", "leak-2")]);
    const worker = sealer();
    await expect(worker.open(sealed[0] as string, "leak-1")).resolves.toBe(TOKEN);
    await expect(worker.open(sealed[0] as string, "leak-1")).resolves.toBe(TOKEN);
    await expect(worker.open(sealed[1] as string, "leak-2")).resolves.toBe("tqs_other");

    const decrypts = kms.commandCalls(DecryptCommand);
    expect(decrypts).toHaveLength(2);
    expect(decrypts[0]?.args[0].input).toMatchObject({ KeyId: KEY_ID, EncryptionContext: CONTEXT });
  });

  it("shares one GenerateDataKey call among many concurrent seals", async () => {
    const s = sealer();
    const sealed = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => s.seal(`${TOKEN}-${i}`, `leak-${i}`)),
    );
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
    await expect(s.open(sealed[999] as string, "leak-999")).resolves.toBe(`${TOKEN}-999`);
  });

  it("asks for a new data key when the current one is too old", async () => {
    const s = sealer({ dataKeyTtlMs: 60_000 });
    const first = await s.seal(TOKEN, "leak-1");
    clock += 59_999;
    const second = await s.seal(TOKEN, "leak-1");
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
    clock += 1;
    const third = await s.seal(TOKEN, "leak-1");
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(2);
    expect(first.split(".")[2]).toBe(second.split(".")[2]);
    expect(third.split(".")[2]).not.toBe(first.split(".")[2]);
    // The old data key still opens what it sealed (through Decrypt once the cache has expired).
    await expect(s.open(first, "leak-1")).resolves.toBe(TOKEN);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(1);
  });

  it("asks for a new data key when the current one has sealed its quota", async () => {
    const s = sealer({ maxDataKeyUses: 3 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => s.seal(TOKEN, `leak-${i}`)));
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(3);
  });

  it("refuses a token sealed for another leak", async () => {
    const s = sealer();
    const sealed = await s.seal(TOKEN, "leak-1");
    await expect(s.open(sealed, "leak-2")).rejects.toBeInstanceOf(SealError);
    await expect(sealer().open(sealed, "leak-2")).rejects.toBeInstanceOf(SealError);
  });

  it("refuses tampered ciphertext, a forged data key and the wrong prefix", async () => {
    const s = sealer();
    const sealed = await s.seal(TOKEN, "leak-1");
    const parts = sealed.split(".");
    const tag = Buffer.from(parts[5] as string, "base64url");
    tag[0] = (tag[0] as number) ^ 1;
    const tampered = [...parts.slice(0, 5), tag.toString("base64url")].join(".");
    await expect(s.open(tampered, "leak-1")).rejects.toBeInstanceOf(SealError);

    const forged = [parts[0], parts[1], Buffer.from("forged").toString("base64url"), ...parts.slice(3)].join(
      ".",
    );
    await expect(s.open(forged, "leak-1")).rejects.toBeInstanceOf(SealError);

    await expect(s.open(sealed.replace("v1.kms.", "v1.local."), "leak-1")).rejects.toBeInstanceOf(SealError);
    await expect(s.open(parts.slice(1).join("."), "leak-1")).rejects.toBeInstanceOf(SealError);
  });

  it("lets KMS outages through as they are, so the delivery is retried", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    kms.on(DecryptCommand).rejects(Object.assign(new Error("throttled"), { name: "ThrottlingException" }));
    const error = await sealer()
      .open(sealed, "leak-1")
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(SealError);
    expect((error as Error).name).toBe("ThrottlingException");
  });

  it("never lets the token show in the sealed output", async () => {
    const s = sealer();
    const sealed = await s.seal(TOKEN, "leak-1");
    expect(sealed).not.toContain(TOKEN);
    expect(sealed).not.toContain(Buffer.from(TOKEN).toString("base64url"));
    for (const call of kms.calls()) expect(JSON.stringify(call.args[0].input)).not.toContain(TOKEN);
  });
});
