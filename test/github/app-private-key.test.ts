import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { createAppAuth } from "@octokit/auth-app";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/errors.js";
import { appPrivateKey } from "../../lib/github/app-private-key.js";

// The App's private key, read forgivingly and checked at config load, and the JWT @octokit/auth-app signs
// with it: RS256, claims GitHub accepts, a signature the App's public key verifies.

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pkcs1 = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicPem = publicKey.export({ type: "spki", format: "pem" });

const decode = (part: string | undefined) =>
  JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));

describe("appPrivateKey", () => {
  it("reads PKCS#1 and PKCS#8, and a PEM whose line breaks came through the environment as \\n", () => {
    for (const pem of [pkcs1, pkcs8, pkcs1.replace(/\n/g, "\\n"), `\n  ${pkcs1}  \n`]) {
      const key = appPrivateKey(pem);
      expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/); // PKCS#8, the format auth-app signs with
      expect(createPublicKey(key).export({ type: "spki", format: "pem" })).toBe(publicPem);
    }
  });

  it("names the field when the key is not a PEM or not RSA", () => {
    expect(() => appPrivateKey("check")).toThrow(ConfigError);
    expect(() => appPrivateKey("check")).toThrow(/github_app\.private_key/);
    expect(() => appPrivateKey(publicPem.toString())).toThrow(
      /github_app\.private_key: not a PEM private key/,
    );
    const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
    expect(() => appPrivateKey(ec.export({ type: "pkcs8", format: "pem" }).toString())).toThrow(/RSA/);
  });
});

describe("the App JWT @octokit/auth-app signs with it", () => {
  const appJwt = async (appId: number | string) =>
    (await createAppAuth({ appId, privateKey: appPrivateKey(pkcs1) })({ type: "app" })).token;

  it("is RS256, verifies with the App's public key, and lives at most 10 minutes from a past iat", async () => {
    const now = Math.floor(Date.now() / 1000);
    const [head, body, signature] = (await appJwt(4242)).split(".");
    expect(decode(head)).toEqual({ alg: "RS256", typ: "JWT" });
    const claims = decode(body);
    expect(claims.iss).toBe(4242);
    expect(claims.iat).toBeLessThanOrEqual(now);
    expect(claims.exp).toBeGreaterThan(now);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(600);
    const signed = Buffer.from(`${head}.${body}`);
    expect(verify("sha256", signed, publicKey, Buffer.from(signature ?? "", "base64url"))).toBe(true);
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    expect(verify("sha256", signed, other, Buffer.from(signature ?? "", "base64url"))).toBe(false);
  });

  it("keeps a client id as a string iss", async () => {
    expect(decode((await appJwt("Iv23liABC")).split(".")[1]).iss).toBe("Iv23liABC");
  });
});
