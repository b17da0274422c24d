import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SealError } from "../errors.js";

// AES-256-GCM with the leak id as additional authenticated data; shared by both sealers.

export interface GcmBox {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function gcmSeal(key: Buffer, plaintext: string, aad: string): GcmBox {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

export function gcmOpen(key: Buffer, box: GcmBox, aad: string): string {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, box.iv);
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(box.tag);
    return Buffer.concat([decipher.update(box.ciphertext), decipher.final()]).toString("utf8");
  } catch (cause) {
    throw new SealError("sealed token does not open: wrong key, wrong leak or tampered", { cause });
  }
}

const b64 = (b: Buffer) => b.toString("base64url");
const unb64 = (s: string) => Buffer.from(s, "base64url");

/** `prefix.iv.ciphertext.tag` with base64url parts. */
export function formatBox(prefix: string, box: GcmBox): string {
  return [prefix, b64(box.iv), b64(box.ciphertext), b64(box.tag)].join(".");
}

/** Parses what formatBox wrote; `parts` are the leading fields before iv (e.g. the version and mode). */
export function parseBox(sealed: string, leading: number): { head: string[]; box: GcmBox } {
  const parts = sealed.split(".");
  if (parts.length !== leading + 3) throw new SealError("sealed token is malformed");
  const [iv, ciphertext, tag] = parts.slice(leading).map(unb64) as [Buffer, Buffer, Buffer];
  if (iv.length !== 12 || tag.length !== 16) throw new SealError("sealed token is malformed");
  return { head: parts.slice(0, leading), box: { iv, ciphertext, tag } };
}
