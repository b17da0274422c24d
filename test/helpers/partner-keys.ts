import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PublishedKey } from "./fake-github-keys-server.js";

// Partner signing keys for tests: GitHub's published fixtures, and fresh P-256 key pairs that sign
// the way GitHub does (ECDSA SHA-256, DER, base64).

/** The repository's own copy (test/fixtures/README.md says where it came from). */
const FIXTURES = new URL("../fixtures/github-partner/", import.meta.url);

export interface DocsSample {
  headers: { "Github-Public-Key-Identifier": string; "Github-Public-Key-Signature": string };
  body: string;
  expected_token_hash: string;
}

export function readDocsSample(): DocsSample {
  return JSON.parse(readFileSync(fileURLToPath(new URL("docs-sample.json", FIXTURES)), "utf8")) as DocsSample;
}

/** The raw JSON of GitHub's published key set (two real keys, one with is_current:false). */
export function readPublishedKeySet(): { public_keys: PublishedKey[] } {
  return JSON.parse(readFileSync(fileURLToPath(new URL("public-keys.json", FIXTURES)), "utf8")) as {
    public_keys: PublishedKey[];
  };
}

export interface PartnerSigner {
  keyId: string;
  published: PublishedKey;
  /** Base64 DER ECDSA P-256/SHA-256 signature over the exact bytes. */
  sign(body: Buffer | string): string;
}

export function createPartnerSigner(options: { keyId?: string; isCurrent?: boolean } = {}): PartnerSigner {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const keyId = options.keyId ?? randomBytes(32).toString("hex");
  return {
    keyId,
    published: {
      key_identifier: keyId,
      key: publicKey.export({ type: "spki", format: "pem" }).toString(),
      is_current: options.isCurrent ?? true,
    },
    sign: (body) =>
      sign("sha256", Buffer.from(body), { key: privateKey, dsaEncoding: "der" }).toString("base64"),
  };
}
