import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BadRequestError, SignatureError } from "../../lib/errors.js";
import { verifyWebhookSignature } from "../../lib/github/webhook-signature.js";
import { rejection } from "../helpers/rejection.js";

// X-Hub-Signature-256 over the raw body, keyed with the App's webhook secret.

const SECRET = "It's a Secret to Everybody";
const BODY = Buffer.from('{"action":"created","alert":{"number":3}}');
const sign = (body: Buffer | string, secret = SECRET) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("verifyWebhookSignature", () => {
  it("accepts the HMAC-SHA256 of the exact body under the App's secret", async () => {
    await expect(
      verifyWebhookSignature({ secret: SECRET, signature: sign(BODY), body: BODY }),
    ).resolves.toBeUndefined();
  });

  it("matches GitHub's documented example", async () => {
    // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", body "Hello, World!"
    const body = Buffer.from("Hello, World!");
    await expect(
      verifyWebhookSignature({
        secret: SECRET,
        signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        body,
      }),
    ).resolves.toBeUndefined();
  });

  it("accepts upper-case hex", async () => {
    const signature = `sha256=${sign(BODY).slice(7).toUpperCase()}`;
    await expect(verifyWebhookSignature({ secret: SECRET, signature, body: BODY })).resolves.toBeUndefined();
  });

  it("rejects a signature made with another secret with a 401", async () => {
    const error = await rejection(
      verifyWebhookSignature({ secret: SECRET, signature: sign(BODY, "another secret"), body: BODY }),
      SignatureError,
    );
    expect(error.status).toBe(401);
  });

  it("rejects a body changed by one byte", async () => {
    const tampered = Buffer.from(BODY);
    tampered[tampered.indexOf("3")] = "4".charCodeAt(0);
    await rejection(
      verifyWebhookSignature({ secret: SECRET, signature: sign(BODY), body: tampered }),
      SignatureError,
    );
  });

  it("rejects a body that is not UTF-8 rather than verifying something else", async () => {
    const body = Buffer.from([0x7b, 0xff, 0x7d]);
    await rejection(verifyWebhookSignature({ secret: SECRET, signature: sign(body), body }), SignatureError);
  });

  it("answers a missing header with a 400 naming it", async () => {
    const error = await rejection(
      verifyWebhookSignature({ secret: SECRET, signature: undefined, body: BODY }),
      BadRequestError,
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain("X-Hub-Signature-256");
  });

  it.each([
    ["the SHA-1 header's format", `sha1=${"a".repeat(40)}`],
    ["no prefix", createHmac("sha256", SECRET).update(BODY).digest("hex")],
    ["a short digest", "sha256=abcd"],
    ["non-hex", `sha256=${"z".repeat(64)}`],
  ])("answers a malformed header (%s) with a 400", async (_, signature) => {
    const error = await rejection(
      verifyWebhookSignature({ secret: SECRET, signature, body: BODY }),
      BadRequestError,
    );
    expect(error.message).toMatch(/malformed X-Hub-Signature-256/);
  });

  it("cannot be satisfied with an empty secret", async () => {
    await rejection(
      verifyWebhookSignature({ secret: "", signature: sign(BODY, ""), body: BODY }),
      SignatureError,
    );
  });
});
