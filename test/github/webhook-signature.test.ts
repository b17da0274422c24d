import { Webhooks } from "@octokit/webhooks";
import { describe, expect, it, vi } from "vitest";
import { BadRequestError, SignatureError } from "../../lib/errors.js";
import { verifyWebhookSignature } from "../../lib/github/webhook-signature.js";
import { rejection } from "../helpers/rejection.js";

// X-Hub-Signature-256 over the raw body, keyed with the App's webhook secret, checked by @octokit/webhooks.

const SECRET = "It's a Secret to Everybody";
const webhooks = new Webhooks({ secret: SECRET });
const BODY = Buffer.from('{"action":"created","alert":{"number":3}}');
const sign = (body: Buffer | string, secret = SECRET) => new Webhooks({ secret }).sign(body.toString());
const check = (signature: string | undefined, body = BODY, hooks = webhooks) =>
  verifyWebhookSignature({ webhooks: hooks, signature, body });

describe("verifyWebhookSignature", () => {
  it("accepts the HMAC-SHA256 of the exact body under the App's secret", async () => {
    await expect(check(await sign(BODY))).resolves.toBeUndefined();
  });

  it("matches GitHub's documented example", async () => {
    // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", body "Hello, World!"
    const body = Buffer.from("Hello, World!");
    const documented = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    await expect(check(documented, body)).resolves.toBeUndefined();
    expect(await webhooks.sign("Hello, World!")).toBe(documented);
  });

  it("leaves the comparison to @octokit/webhooks (constant time), with the body as received", async () => {
    const hooks = new Webhooks({ secret: SECRET });
    const verify = vi.spyOn(hooks, "verify");
    const signature = await sign(BODY);
    await check(signature.toUpperCase().replace("SHA256=", "sha256="), BODY, hooks);
    expect(verify).toHaveBeenCalledExactlyOnceWith(BODY.toString("utf8"), signature);
  });

  it("accepts upper-case hex", async () => {
    const signature = `sha256=${(await sign(BODY)).slice(7).toUpperCase()}`;
    await expect(check(signature)).resolves.toBeUndefined();
  });

  it("rejects a signature made with another secret with a 401", async () => {
    const error = await rejection(check(await sign(BODY, "another secret")), SignatureError);
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/does not verify/);
  });

  it("rejects a body changed by one byte", async () => {
    const tampered = Buffer.from(BODY);
    tampered[tampered.indexOf("3")] = "4".charCodeAt(0);
    await rejection(check(await sign(BODY), tampered), SignatureError);
  });

  it("rejects a body that is not UTF-8 rather than verifying something else", async () => {
    const body = Buffer.from([0x7b, 0xff, 0x7d]);
    // Signed over what the bytes decode to, which is not what was received.
    await rejection(check(await sign(body.toString("utf8")), body), SignatureError);
  });

  it("rejects an empty body", async () => {
    await rejection(check(`sha256=${"0".repeat(64)}`, Buffer.alloc(0)), SignatureError);
  });

  it("answers a missing header with a 400 naming it", async () => {
    const error = await rejection(check(undefined), BadRequestError);
    expect(error.status).toBe(400);
    expect(error.message).toContain("X-Hub-Signature-256");
  });

  it.each([
    ["the SHA-1 header's format", `sha1=${"a".repeat(40)}`],
    ["no prefix", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"],
    ["a short digest", "sha256=abcd"],
    ["non-hex", `sha256=${"z".repeat(64)}`],
  ])("answers a malformed header (%s) with a 400", async (_, signature) => {
    const error = await rejection(check(signature), BadRequestError);
    expect(error.message).toMatch(/malformed X-Hub-Signature-256/);
  });
});
