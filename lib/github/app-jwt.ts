import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { ConfigError } from "../errors.js";

// The GitHub App's own credential: a JWT signed RS256 with the App's private key, `iss` the App id (or
// client id). GitHub accepts at most 10 minutes of lifetime; `iat` is set 60 s back for clock drift.

export const APP_JWT_BACKDATE_SECONDS = 60;
export const APP_JWT_LIFETIME_SECONDS = 9 * 60;

/**
 * The App's private key from its PEM (PKCS#1 as GitHub hands it out, or PKCS#8). A PEM passed through an
 * environment variable often arrives with literal `\n`; those are turned back into line breaks.
 */
export function appPrivateKey(pem: string): KeyObject {
  const text = pem.includes("\\n") ? pem.replace(/\\n/g, "\n") : pem;
  let key: KeyObject;
  try {
    key = createPrivateKey(text.trim());
  } catch (cause) {
    throw new ConfigError("github_app.private_key: not a PEM private key", { cause });
  }
  if (key.asymmetricKeyType !== "rsa")
    throw new ConfigError("github_app.private_key: must be an RSA key (GitHub Apps sign with RS256)");
  return key;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A fresh App JWT and when it expires (epoch seconds). */
export function createAppJwt(input: { appId: string; privateKey: KeyObject; nowMs: number }): {
  jwt: string;
  expiresAt: number;
} {
  const now = Math.floor(input.nowMs / 1000);
  const claims = {
    iat: now - APP_JWT_BACKDATE_SECONDS,
    exp: now + APP_JWT_LIFETIME_SECONDS,
    // A numeric App id goes out as a number, a client id (Iv23…) as a string, as GitHub shows them.
    iss: /^\d+$/.test(input.appId) ? Number(input.appId) : input.appId,
  };
  const signingInput = `${base64url({ alg: "RS256", typ: "JWT" })}.${base64url(claims)}`;
  const signature = sign("sha256", Buffer.from(signingInput), input.privateKey).toString("base64url");
  return { jwt: `${signingInput}.${signature}`, expiresAt: claims.exp };
}
