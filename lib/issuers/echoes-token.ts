// Whether an issuer's answer repeats the token it was sent: in its raw text, or in any parsed string
// or field name, so a JSON escape (`\/`, `\u0061`) cannot smuggle it into evidence, owners or the store.

/** Tokens shorter than this are not looked for: they would match ordinary words. */
const MIN_TOKEN_LENGTH = 8;

export function echoesToken(raw: string, parsed: unknown, token: string): boolean {
  if (token.length < MIN_TOKEN_LENGTH) return false;
  if (raw.includes(token)) return true;
  // Iterative: an issuer's answer can nest deeper than the call stack.
  const pending: unknown[] = [parsed];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") {
      if (value.includes(token)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item); // not push(...value): too many arguments for a wide array
    } else if (value !== null && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (key.includes(token)) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}
