import { verify } from "node:crypto";
import { BadRequestError, SignatureError } from "../errors.js";
import type { PartnerKeyCache } from "./partner-key-cache.js";

// GitHub signs each partner report with ECDSA P-256 / SHA-256 over the raw body; the signature is
// base64 DER in Github-Public-Key-Signature, the key named by Github-Public-Key-Identifier.

export const KEY_ID_HEADER = "github-public-key-identifier";
export const SIGNATURE_HEADER = "github-public-key-signature";

const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]{16,256}={0,2}$/;

export async function verifyPartnerSignature(input: {
  keyId: string | undefined;
  signature: string | undefined;
  body: Buffer;
  keys: PartnerKeyCache;
}): Promise<void> {
  const { keyId, signature } = input;
  if (!keyId) throw new BadRequestError("missing Github-Public-Key-Identifier header");
  if (!signature) throw new BadRequestError("missing Github-Public-Key-Signature header");
  if (!KEY_ID.test(keyId)) throw new BadRequestError("malformed Github-Public-Key-Identifier header");
  if (!BASE64.test(signature))
    throw new BadRequestError("malformed Github-Public-Key-Signature header: not base64");

  const key = await input.keys.get(keyId);
  let valid = false;
  try {
    valid = verify("sha256", input.body, { key, dsaEncoding: "der" }, Buffer.from(signature, "base64"));
  } catch {
    valid = false; // not DER at all: same answer as a wrong signature
  }
  if (!valid) throw new SignatureError("signature does not verify for this body and key");
}
