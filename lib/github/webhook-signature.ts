import type { Webhooks } from "@octokit/webhooks";
import { BadRequestError, SignatureError } from "../errors.js";

// GitHub App webhooks carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` keyed with
// the App's webhook secret. @octokit/webhooks computes and compares it (in constant time); this file
// only answers a missing or malformed header with a 400, and makes sure the bytes checked are the bytes
// received. There is no way to skip it.

export const WEBHOOK_SIGNATURE_HEADER = "x-hub-signature-256";

const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;

export async function verifyWebhookSignature(input: {
  webhooks: Pick<Webhooks, "verify">;
  signature: string | undefined;
  body: Buffer;
}): Promise<void> {
  const { signature, body } = input;
  if (!signature) throw new BadRequestError("missing X-Hub-Signature-256 header");
  if (!SIGNATURE.test(signature))
    throw new BadRequestError("malformed X-Hub-Signature-256 header: expected sha256=<64 hex digits>");
  // The HMAC is over the bytes; Octokit takes a string, so the body must survive UTF-8 unchanged.
  const text = body.toString("utf8");
  if (body.length === 0 || !Buffer.from(text, "utf8").equals(body))
    throw new SignatureError("signature does not verify for this body");
  // Octokit compares against its own lower-case hex.
  if (!(await input.webhooks.verify(text, signature.toLowerCase())))
    throw new SignatureError("signature does not verify for this body");
}
