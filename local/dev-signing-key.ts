import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

// The local stack's stand-in for GitHub's partner signing key: generated once per data dir, so
// `tourniquet simulate` can sign reports exactly as GitHub does (ECDSA P-256, SHA-256, base64 DER).

/** The key's file in the data dir: the stack and the CLI (simulate, report) read the same one. */
export const DEV_SIGNING_KEY_FILE = "dev-github-signing-key.pem";

export interface DevSigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function loadDevSigningKey(path: string): DevSigningKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  const privateKey = createPrivateKey(readFileSync(path, "utf8"));
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: "spki", format: "der" });
  return {
    // GitHub's identifiers are the SHA-256 of the key; ours follow suit.
    keyId: createHash("sha256").update(der).digest("hex"),
    privateKey,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** The key set document, shaped like GitHub's /meta/public_keys/secret_scanning. */
export function devKeySet(key: DevSigningKey) {
  return { public_keys: [{ key_identifier: key.keyId, key: key.publicKeyPem, is_current: true }] };
}

/** Signs a report body; returns the two headers GitHub sends. */
export function signPartnerReport(key: DevSigningKey, body: string | Buffer): Record<string, string> {
  const signature = sign("sha256", Buffer.from(body), { key: key.privateKey, dsaEncoding: "der" });
  return {
    "Github-Public-Key-Identifier": key.keyId,
    "Github-Public-Key-Signature": signature.toString("base64"),
  };
}

export interface ReportedMatch {
  token: string;
  type: string;
  url: string;
  source: string;
}

/** A partner report of `matches` as GitHub POSTs it: the JSON body and its headers, signed with `key`. */
export function signedPartnerReport(
  key: DevSigningKey,
  matches: readonly ReportedMatch[],
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(matches);
  return { body, headers: { "content-type": "application/json", ...signPartnerReport(key, body) } };
}
