import { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsError, SealError } from "../../lib/errors.js";
import { KmsEnvelopeSealer } from "../../lib/queue/kms-envelope-sealer.js";
import { errorFault, type FakeKms, fakeAwsClientConfig, startFakeKms } from "../helpers/fake-aws.js";

const TOKEN = "tqs_live_4f8a1c9e2b7d6035aa91f2a";
const KEY_ID = "alias/tourniquet-queue";
const CONTEXT = { purpose: "tourniquet-token" };

/** A KMS on 127.0.0.1 that really wraps data keys under its own key, bound to the encryption context. */
let fake: FakeKms;
beforeAll(async () => {
  fake = await startFakeKms({ aliases: [KEY_ID] });
});
afterAll(async () => {
  await fake.close();
});

const client = (options: { requestTimeout?: number } = {}) =>
  new KMSClient(fakeAwsClientConfig(fake.url, options));
const callsOf = (operation: string) => fake.requests.filter((r) => r.target === `TrentService.${operation}`);

describe("KmsEnvelopeSealer", () => {
  let clock = 1_000_000;
  const now = () => clock;
  const sealer = (options: Partial<ConstructorParameters<typeof KmsEnvelopeSealer>[0]> = {}) =>
    new KmsEnvelopeSealer({ kms: client(), keyId: KEY_ID, now, ...options });

  beforeEach(() => {
    fake.reset();
    clock = 1_000_000;
  });

  it("seals with a data key from GenerateDataKey and opens it again", async () => {
    const s = sealer();
    const sealed = await s.seal(TOKEN, "leak-1");
    expect(sealed).toMatch(/^v1\.kms\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    await expect(s.open(sealed, "leak-1")).resolves.toBe(TOKEN);

    const [call] = callsOf("GenerateDataKey");
    expect(call?.input).toEqual({ KeyId: KEY_ID, KeySpec: "AES_256", EncryptionContext: CONTEXT });
    expect(call?.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(call?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/kms\/aws4_request, SignedHeaders=[\w;-]+, Signature=[0-9a-f]{64}$/,
    );
    // Opened from the process's own cache: no Decrypt.
    expect(fake.calls).toEqual(["GenerateDataKey"]);
  });

  it("carries KMS's CiphertextBlob (base64 on the wire) as base64url in the token", async () => {
    const blob = Buffer.from("fake-wrapped-key-1");
    fake.faults.push({
      kind: "respond",
      status: 200,
      body: {
        KeyId: fake.keyArn,
        Plaintext: Buffer.alloc(32, 7).toString("base64"),
        CiphertextBlob: blob.toString("base64"),
      },
    });
    const sealed = await sealer().seal(TOKEN, "leak-1");
    expect(sealed.split(".")[2]).toBe(blob.toString("base64url"));
  });

  it("opens in another process with Decrypt under the same encryption context, once per data key", async () => {
    const sealed = await Promise.all([sealer().seal(TOKEN, "leak-1"), sealer().seal("tqs_other", "leak-2")]);
    const worker = sealer();
    await expect(worker.open(sealed[0] as string, "leak-1")).resolves.toBe(TOKEN);
    await expect(worker.open(sealed[0] as string, "leak-1")).resolves.toBe(TOKEN);
    await expect(worker.open(sealed[1] as string, "leak-2")).resolves.toBe("tqs_other");

    const decrypts = callsOf("Decrypt");
    expect(decrypts).toHaveLength(2);
    expect(decrypts[0]?.input).toMatchObject({ KeyId: KEY_ID, EncryptionContext: CONTEXT });
  });

  it("sends the data key back to Decrypt as the standard, padded base64 KMS gave", async () => {
    // Bytes whose base64 has "+", "/" and padding, where base64url differs.
    const blob = Buffer.from([0xfb, 0xff, 0xbf, 0xfe, 0x3e]).toString("base64");
    expect(blob).toBe("+/+//j4=");
    fake.faults.push({
      kind: "respond",
      status: 200,
      body: { KeyId: fake.keyArn, Plaintext: Buffer.alloc(32, 7).toString("base64"), CiphertextBlob: blob },
    });
    const sealed = await sealer().seal(TOKEN, "leak-1");
    expect(sealed.split(".")[2]).toBe("-_-__j4");
    // Not a blob the fake KMS wrapped, so it is refused; what matters is how it went over the wire.
    await expect(sealer().open(sealed, "leak-1")).rejects.toBeInstanceOf(SealError);
    expect(callsOf("Decrypt")[0]?.input).toMatchObject({ CiphertextBlob: blob });
  });

  it("shares one Decrypt call among concurrent opens of the same data key", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    const worker = sealer();
    await expect(
      Promise.all(Array.from({ length: 20 }, () => worker.open(sealed, "leak-1"))),
    ).resolves.toEqual(Array(20).fill(TOKEN));
    expect(callsOf("Decrypt")).toHaveLength(1);
  });

  it("shares one GenerateDataKey call among many concurrent seals", async () => {
    const s = sealer();
    const sealed = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => s.seal(`${TOKEN}-${i}`, `leak-${i}`)),
    );
    expect(callsOf("GenerateDataKey")).toHaveLength(1);
    await expect(s.open(sealed[999] as string, "leak-999")).resolves.toBe(`${TOKEN}-999`);
  });

  it("asks for a new data key when the current one is too old", async () => {
    const s = sealer({ dataKeyTtlMs: 60_000 });
    const first = await s.seal(TOKEN, "leak-1");
    clock += 59_999;
    const second = await s.seal(TOKEN, "leak-1");
    expect(callsOf("GenerateDataKey")).toHaveLength(1);
    clock += 1;
    const third = await s.seal(TOKEN, "leak-1");
    expect(callsOf("GenerateDataKey")).toHaveLength(2);
    expect(first.split(".")[2]).toBe(second.split(".")[2]);
    expect(third.split(".")[2]).not.toBe(first.split(".")[2]);
    // The old data key still opens what it sealed (through Decrypt once the cache has expired).
    await expect(s.open(first, "leak-1")).resolves.toBe(TOKEN);
    expect(callsOf("Decrypt")).toHaveLength(1);
  });

  it("asks for a new data key when the current one has sealed its quota", async () => {
    const s = sealer({ maxDataKeyUses: 3 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => s.seal(TOKEN, `leak-${i}`)));
    expect(callsOf("GenerateDataKey")).toHaveLength(3);
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

  it("turns KMS's InvalidCiphertextException into a SealError, without retrying it", async () => {
    const forged = (await sealer().seal(TOKEN, "leak-1")).split(".");
    forged[2] = Buffer.from("not-a-kms-blob").toString("base64url");
    fake.reset();
    const error = await sealer()
      .open(forged.join("."), "leak-1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealError);
    expect((error as Error).cause).toMatchObject({ code: "InvalidCiphertextException", httpStatus: 400 });
    expect(callsOf("Decrypt")).toHaveLength(1);
  });

  it("turns KMS's IncorrectKeyException into a SealError", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    fake.faults.push(
      errorFault(400, "IncorrectKeyException", "The key ID in the request does not identify the key"),
    );
    const error = await sealer()
      .open(sealed, "leak-1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealError);
    expect((error as Error).cause).toMatchObject({ code: "IncorrectKeyException" });
  });

  it("lets the client retry a throttled or failing Decrypt and then opens", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    fake.reset();
    fake.faults.push(
      errorFault(400, "ThrottlingException", "Rate exceeded"),
      errorFault(500, "KMSInternalException", "internal error"),
    );
    await expect(sealer().open(sealed, "leak-1")).resolves.toBe(TOKEN);
    expect(callsOf("Decrypt")).toHaveLength(3);
  });

  it("lets KMS outages through as transient AwsErrors, not SealErrors, so the delivery is retried", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    fake.reset();
    fake.faults.push(
      ...Array.from({ length: 3 }, () => errorFault(500, "KMSInternalException", "internal error")),
    );
    const worker = sealer();
    const error = await worker.open(sealed, "leak-1").catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(SealError);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "KMSInternalException", httpStatus: 500, transient: true });
    expect(callsOf("Decrypt")).toHaveLength(3);
    // The failure is not cached: once KMS is back, the same process opens the token.
    await expect(worker.open(sealed, "leak-1")).resolves.toBe(TOKEN);
  });

  it("lets a throttling that outlasts the client's attempts through as a transient AwsError", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    fake.faults.push(
      ...Array.from({ length: 3 }, () => errorFault(400, "ThrottlingException", "Rate exceeded")),
    );
    const error = await sealer()
      .open(sealed, "leak-1")
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(SealError);
    expect(error).toMatchObject({ code: "ThrottlingException", httpStatus: 400, transient: true });
  });

  it("lets a KMS that does not answer in time through as a transient network error", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    fake.faults.push(...Array.from({ length: 3 }, () => ({ kind: "delay" as const, ms: 300 })));
    const error = await sealer({ kms: client({ requestTimeout: 50 }) })
      .open(sealed, "leak-1")
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(SealError);
    expect(error).toMatchObject({ code: "NetworkingError", transient: true });
  });

  it("fails a seal with the transient AwsError when GenerateDataKey is down, and recovers after", async () => {
    const s = sealer();
    fake.faults.push(
      ...Array.from({ length: 3 }, () =>
        errorFault(503, "DependencyTimeoutException", "dependency timed out"),
      ),
    );
    const error = await s.seal(TOKEN, "leak-1").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DependencyTimeoutException", httpStatus: 503, transient: true });
    const sealed = await s.seal(TOKEN, "leak-1");
    await expect(s.open(sealed, "leak-1")).resolves.toBe(TOKEN);
    expect(callsOf("GenerateDataKey")).toHaveLength(4);
  });

  it("refuses a GenerateDataKey answer without a 256-bit data key", async () => {
    fake.faults.push({
      kind: "respond",
      status: 200,
      body: { KeyId: fake.keyArn, Plaintext: Buffer.alloc(16).toString("base64"), CiphertextBlob: "AAAA" },
    });
    await expect(sealer().seal(TOKEN, "leak-1")).rejects.toThrow(/no usable data key/);
  });

  it("does not turn a permanent KMS error other than a bad ciphertext into a SealError", async () => {
    const sealed = await sealer().seal(TOKEN, "leak-1");
    const error = await sealer({ keyId: "alias/not-ours" })
      .open(sealed, "leak-1")
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(SealError);
    expect(error).toMatchObject({ code: "NotFoundException", transient: false });
  });

  it("never lets the token show in the sealed output or in what KMS receives", async () => {
    const s = sealer();
    const sealed = await s.seal(TOKEN, "leak-1");
    await sealer().open(sealed, "leak-1");
    expect(sealed).not.toContain(TOKEN);
    expect(sealed).not.toContain(Buffer.from(TOKEN).toString("base64url"));
    expect(fake.requests.length).toBeGreaterThan(1);
    for (const request of fake.requests) {
      expect(JSON.stringify(request.input)).not.toContain(TOKEN);
      expect(JSON.stringify(request.input)).not.toContain(Buffer.from(TOKEN).toString("base64"));
    }
  });
});
