import { randomBytes, randomInt } from "node:crypto";

// Key values for the fake Azure in the documented formats (vendor-contracts §4.1), so a minted key looks
// to a detector like the real thing: the 84-character "legacy common annotated security key" with the
// Cognitive Services signature `ACOG` and the service in its provider data (AAAB Azure OpenAI, AAAA AI
// Services, AAAE other Cognitive Services), or the older 32 lowercase hex characters.

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const A_TO_L = "ABCDEFGHIJKL";

const PROVIDER_DATA: Record<string, string> = { OpenAI: "AAAB", AIServices: "AAAA" };

export type KeyFormat = "cask" | "hex32";

export function newAccountKey(kind: string, format: KeyFormat = "cask"): string {
  if (format === "hex32") return randomBytes(16).toString("hex");
  const provider = PROVIDER_DATA[kind] ?? "AAAE";
  return `${chars(ALNUM, 52)}JQQJ99${chars(ALNUM, 1)}${chars(A_TO_L, 1)}${chars(ALNUM, 12)}${provider}ACOG${chars(ALNUM, 4)}`;
}

function chars(alphabet: string, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
