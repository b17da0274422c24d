import { createHash } from "node:crypto";

// What the store keeps instead of the token: its SHA-256 (the same hash GitHub expects in feedback)
// and a preview too short to be useful to an attacker.

export function fingerprintToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** `tqs_…9f2a`: the token's prefix (up to its first `_`/`-`, at most 8 chars) and last 4 chars. */
export function redactToken(token: string): string {
  // Short tokens would give away too large a share of their entropy.
  if (token.length < 16) return "…";
  const prefix = /^[A-Za-z0-9]{1,7}[_-]/.exec(token)?.[0] ?? "";
  return `${prefix}…${token.slice(-4)}`;
}
