import { createHmac, timingSafeEqual } from "node:crypto";

// The HTTP issuer protocol's request signature (docs/http-issuer-protocol.md): HMAC-SHA256 over
// "<unix seconds>.<request id>.<raw body>", sent as `Tourniquet-Signature: v1=<hex>` with
// `Tourniquet-Timestamp` and `Tourniquet-Request-Id`. Signing the id makes the issuer's replay check
// binding: a captured request cannot be resent under a fresh id.

export const SIGNATURE_HEADER = "tourniquet-signature";
export const TIMESTAMP_HEADER = "tourniquet-timestamp";
export const REQUEST_ID_HEADER = "tourniquet-request-id";
/** How far a request's timestamp may be from the receiver's clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function signIssuerRequest(
  secret: string,
  timestamp: number,
  requestId: string,
  body: string,
): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${requestId}.${body}`).digest("hex")}`;
}

export type SignatureCheck =
  | { ok: true }
  | { ok: false; reason: "missing" | "malformed" | "stale" | "mismatch" };

export function checkIssuerRequestSignature(input: {
  secret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  requestId: string | undefined;
  body: string;
  nowSeconds: number;
}): SignatureCheck {
  const { signature, timestamp, requestId } = input;
  if (!signature || !timestamp || !requestId) return { ok: false, reason: "missing" };
  if (!/^\d{1,12}$/.test(timestamp) || !/^v1=[0-9a-f]{64}$/.test(signature) || !REQUEST_ID.test(requestId)) {
    return { ok: false, reason: "malformed" };
  }
  const ts = Number(timestamp);
  if (Math.abs(input.nowSeconds - ts) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: "stale" };
  const expected = Buffer.from(signIssuerRequest(input.secret, ts, requestId, input.body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given)
    ? { ok: true }
    : { ok: false, reason: "mismatch" };
}
