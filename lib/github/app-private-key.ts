import { createPrivateKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../errors.js";

// The GitHub App's private key, checked when the config is loaded so that a bad key stops the service
// with a message naming the field instead of failing the first webhook. @octokit/auth-app signs the
// App's JWTs with it; it wants PKCS#8 (WebCrypto's only format), so the key is handed over as that.

/**
 * The App's private key as a PKCS#8 PEM, from a PEM as GitHub hands it out (PKCS#1) or PKCS#8. A PEM
 * passed through an environment variable often arrives with literal `\n`; those are turned back into
 * line breaks.
 */
export function appPrivateKey(pem: string): string {
  const text = pem.includes("\\n") ? pem.replace(/\\n/g, "\n") : pem;
  let key: KeyObject;
  try {
    key = createPrivateKey(text.trim());
  } catch (cause) {
    throw new ConfigError("github_app.private_key: not a PEM private key", { cause });
  }
  if (key.asymmetricKeyType !== "rsa")
    throw new ConfigError("github_app.private_key: must be an RSA key (GitHub issues App keys as RSA)");
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}
