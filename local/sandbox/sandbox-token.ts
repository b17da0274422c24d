import { randomInt } from "node:crypto";
import { crc32 } from "node:zlib";

// Sandbox tokens follow GitHub's token format: a fixed prefix, random base62 and a base62 CRC32 of the
// random part. The prefix makes them easy to scan for; the checksum lets scanners (and our verify)
// throw out look-alikes without a database lookup.

export const SANDBOX_TOKEN_PREFIX = "tqs_";
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32, so any CRC32 fits.
export const SANDBOX_TOKEN_LENGTH = SANDBOX_TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SHAPE = new RegExp(`^${SANDBOX_TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** A fresh token; `randomInt` is unbiased, unlike `byte % 62`. */
export function generateSandboxToken(): string {
  let random = "";
  for (let i = 0; i < RANDOM_LENGTH; i++) random += BASE62[randomInt(BASE62.length)];
  return `${SANDBOX_TOKEN_PREFIX}${random}${checksum(random)}`;
}

/** Prefix, length, charset and checksum all match. Says nothing about whether the key exists. */
export function isWellFormedSandboxToken(token: string): boolean {
  if (!SHAPE.test(token)) return false;
  const body = token.slice(SANDBOX_TOKEN_PREFIX.length);
  return checksum(body.slice(0, RANDOM_LENGTH)) === body.slice(RANDOM_LENGTH);
}

function checksum(random: string): string {
  let n = crc32(random);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
