import { generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/errors.js";
import { appPrivateKey, createAppJwt } from "../../lib/github/app-jwt.js";

// The App's RS256 JWT: claims GitHub accepts and a signature its public key verifies.

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pkcs1 = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const NOW = Date.parse("2025-03-01T12:00:00Z");

const decode = (part: string | undefined) =>
  JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));

describe("createAppJwt", () => {
  it("signs RS256 with iss = App id, iat 60 s back and exp within 10 minutes", () => {
    const { jwt, expiresAt } = createAppJwt({ appId: "4242", privateKey: appPrivateKey(pkcs1), nowMs: NOW });
    const [head, body, signature] = jwt.split(".");
    expect(decode(head)).toEqual({ alg: "RS256", typ: "JWT" });
    const claims = decode(body);
    const now = NOW / 1000;
    expect(claims).toEqual({ iss: 4242, iat: now - 60, exp: expiresAt });
    expect(claims.exp).toBeGreaterThan(now);
    expect(claims.exp).toBeLessThanOrEqual(now + 600);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(600);
    expect(
      verify("sha256", Buffer.from(`${head}.${body}`), publicKey, Buffer.from(signature ?? "", "base64url")),
    ).toBe(true);
  });

  it("does not verify with another key", () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const { jwt } = createAppJwt({ appId: "1", privateKey: appPrivateKey(pkcs1), nowMs: NOW });
    const [head, body, signature] = jwt.split(".");
    expect(
      verify("sha256", Buffer.from(`${head}.${body}`), other, Buffer.from(signature ?? "", "base64url")),
    ).toBe(false);
  });

  it("keeps a client id as a string iss", () => {
    const { jwt } = createAppJwt({ appId: "Iv23liABC", privateKey: appPrivateKey(pkcs1), nowMs: NOW });
    expect(decode(jwt.split(".")[1]).iss).toBe("Iv23liABC");
  });
});

describe("appPrivateKey", () => {
  it("reads PKCS#1 and PKCS#8, and a PEM whose line breaks came through the environment as \\n", () => {
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(appPrivateKey(pkcs1).asymmetricKeyType).toBe("rsa");
    expect(appPrivateKey(pkcs8).asymmetricKeyType).toBe("rsa");
    expect(appPrivateKey(pkcs1.replace(/\n/g, "\\n")).asymmetricKeyType).toBe("rsa");
  });

  it("names the field when the key is not a PEM or not RSA", () => {
    expect(() => appPrivateKey("check")).toThrow(ConfigError);
    expect(() => appPrivateKey("check")).toThrow(/github_app\.private_key/);
    const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
    expect(() => appPrivateKey(ec.export({ type: "pkcs8", format: "pem" }).toString())).toThrow(/RSA/);
  });
});
