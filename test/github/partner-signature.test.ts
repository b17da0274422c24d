import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BadRequestError, SignatureError } from "../../lib/errors.js";
import { PartnerKeyCache } from "../../lib/github/partner-key-cache.js";
import { type PartnerKeys, parsePartnerKeySet } from "../../lib/github/partner-key-set.js";
import { verifyPartnerSignature } from "../../lib/github/partner-signature.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { createPartnerSigner, readDocsSample, readPublishedKeySet } from "../helpers/partner-keys.js";

// Signature verification against GitHub's own documented sample and published keys, plus key pairs
// generated here for the cases the sample cannot cover.

const sample = readDocsSample();
const SAMPLE_KEY_ID = sample.headers["Github-Public-Key-Identifier"];
const SAMPLE_SIGNATURE = sample.headers["Github-Public-Key-Signature"];
const SAMPLE_BODY = Buffer.from(sample.body, "utf8");

function cacheOf(keySet: unknown): { cache: PartnerKeyCache; loads: () => number } {
  const keys: PartnerKeys = parsePartnerKeySet(keySet);
  let loads = 0;
  const cache = new PartnerKeyCache({
    load: async () => {
      loads++;
      return keys;
    },
  });
  return { cache, loads: () => loads };
}

const githubKeys = () => cacheOf(readPublishedKeySet()).cache;

async function rejection(call: Promise<unknown>): Promise<Error> {
  return call.then(
    () => expect.unreachable("verification should have failed"),
    (error: unknown) => error as Error,
  );
}

describe("GitHub's documented sample", () => {
  it("verifies over the exact body bytes with GitHub's published key", async () => {
    await expect(
      verifyPartnerSignature({
        keyId: SAMPLE_KEY_ID,
        signature: SAMPLE_SIGNATURE,
        body: SAMPLE_BODY,
        keys: githubKeys(),
      }),
    ).resolves.toBeUndefined();
  });

  it("carries a token whose SHA-256 is the documented feedback hash", () => {
    const [match] = JSON.parse(sample.body) as { token: string }[];
    expect(fingerprintToken(match?.token ?? "")).toBe(sample.expected_token_hash);
  });

  it("fails with a 401 SignatureError when one byte of the body changes", async () => {
    const tampered = Buffer.from(SAMPLE_BODY);
    const at = tampered.indexOf("some_token");
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at); // "some_token" → "rome_token"
    const error = await rejection(
      verifyPartnerSignature({
        keyId: SAMPLE_KEY_ID,
        signature: SAMPLE_SIGNATURE,
        body: tampered,
        keys: githubKeys(),
      }),
    );
    expect(error).toBeInstanceOf(SignatureError);
    expect((error as SignatureError).status).toBe(401);
  });

  it("fails when the body is re-serialised, even to equivalent JSON", async () => {
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(sample.body), null, 1));
    const error = await rejection(
      verifyPartnerSignature({
        keyId: SAMPLE_KEY_ID,
        signature: SAMPLE_SIGNATURE,
        body: reformatted,
        keys: githubKeys(),
      }),
    );
    expect(error).toBeInstanceOf(SignatureError);
  });

  it("fails when the signature is checked against GitHub's other published key", async () => {
    const other = readPublishedKeySet().public_keys.find((k) => k.key_identifier !== SAMPLE_KEY_ID);
    const error = await rejection(
      verifyPartnerSignature({
        keyId: other?.key_identifier,
        signature: SAMPLE_SIGNATURE,
        body: SAMPLE_BODY,
        keys: githubKeys(),
      }),
    );
    expect(error).toBeInstanceOf(SignatureError);
  });
});

describe("malformed signature headers", () => {
  const base = { keyId: SAMPLE_KEY_ID, signature: SAMPLE_SIGNATURE, body: SAMPLE_BODY };

  it.each([
    ["a missing key identifier", { keyId: undefined }, /Identifier/],
    ["an empty key identifier", { keyId: "" }, /Identifier/],
    ["a missing signature", { signature: undefined }, /Signature/],
    ["a signature that is not base64", { signature: "not base64 at all!!!" }, /base64/],
    ["a key identifier with illegal characters", { keyId: "../../etc/passwd" }, /Identifier/],
  ])("%s is a 400 BadRequestError that never fetches keys", async (_name, override, message) => {
    const { cache, loads } = cacheOf(readPublishedKeySet());
    const error = await rejection(verifyPartnerSignature({ ...base, ...override, keys: cache }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).status).toBe(400);
    expect(error.message).toMatch(message);
    expect(loads()).toBe(0);
  });

  it("base64 that is not DER is a SignatureError, not a crash", async () => {
    const error = await rejection(
      verifyPartnerSignature({
        keyId: SAMPLE_KEY_ID,
        signature: randomBytes(72).toString("base64"),
        body: SAMPLE_BODY,
        keys: githubKeys(),
      }),
    );
    expect(error).toBeInstanceOf(SignatureError);
  });

  it("an unknown key identifier is a SignatureError naming the id", async () => {
    const error = await rejection(
      verifyPartnerSignature({
        keyId: "no-such-key",
        signature: SAMPLE_SIGNATURE,
        body: SAMPLE_BODY,
        keys: githubKeys(),
      }),
    );
    expect(error).toBeInstanceOf(SignatureError);
    expect(error.message).toContain("no-such-key");
  });
});

describe("key rotation", () => {
  it("accepts a signature from a key published with is_current:false", async () => {
    const retired = createPartnerSigner({ isCurrent: false });
    const current = createPartnerSigner({ isCurrent: true });
    const { cache } = cacheOf({ public_keys: [retired.published, current.published] });
    const body = Buffer.from('[{"token":"tqs_retired","type":"t","url":"","source":"commit"}]');

    await expect(
      verifyPartnerSignature({ keyId: retired.keyId, signature: retired.sign(body), body, keys: cache }),
    ).resolves.toBeUndefined();
  });

  it("rejects a signature made by one key but presented under another key's id", async () => {
    const retired = createPartnerSigner({ isCurrent: false });
    const current = createPartnerSigner({ isCurrent: true });
    const { cache } = cacheOf({ public_keys: [retired.published, current.published] });
    const body = Buffer.from("[]");

    const error = await rejection(
      verifyPartnerSignature({ keyId: current.keyId, signature: retired.sign(body), body, keys: cache }),
    );
    expect(error).toBeInstanceOf(SignatureError);
  });
});
