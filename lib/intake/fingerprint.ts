import { createHash } from "node:crypto";

// What the store keeps instead of the token: its SHA-256 (the same hash GitHub expects in feedback)
// and a preview too short to be useful to an attacker.

export function fingerprintToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * `tqs_…9f2a`: the token's type prefix and last 4 chars. Only a short lowercase prefix followed by `_`
 * or `-` counts (tqs_, ghp_, xoxb-, sk-), so random characters of an unprefixed token are not shown.
 */
export function redactToken(token: string): string {
  // Short tokens would give away too large a share of their entropy.
  if (token.length < 16) return "…";
  const prefix = /^[a-z]{2,6}[_-]/.exec(token)?.[0] ?? "";
  return `${prefix}…${token.slice(-4)}`;
}
