import { describe, expect, it } from "vitest";
import {
  checkIssuerRequestSignature,
  SIGNATURE_TOLERANCE_SECONDS,
  signIssuerRequest,
} from "../../lib/issuers/http-issuer-signature.js";

const secret = "example-shared-secret";
const body = '{"token":"tqs_JSBIE3fv52h3yqrfyNtzLP0k5DHQf93YQYbr","type":"tourniquet_sandbox_token"}';
const ts = 1767225600;
const requestId = "3b1f8c2e-5d4a-4e7b-9c0d-2a6f1e8b7c94";

function check(overrides: Partial<Parameters<typeof checkIssuerRequestSignature>[0]>) {
  return checkIssuerRequestSignature({
    secret,
    signature: signIssuerRequest(secret, ts, requestId, body),
    timestamp: String(ts),
    requestId,
    body,
    nowSeconds: ts,
    ...overrides,
  });
}

describe("signIssuerRequest", () => {
  it("matches the worked example in docs/http-issuer-protocol.md", () => {
    expect(signIssuerRequest(secret, ts, requestId, body)).toBe(
      "v1=65f9e95928360b874b119e1b6cdd2cdd432993c1f1fed83db6105c7d4f4ff561",
    );
  });
});

describe("checkIssuerRequestSignature", () => {
  it("accepts a fresh, matching signature", () => {
    expect(check({})).toEqual({ ok: true });
    expect(check({ nowSeconds: ts + SIGNATURE_TOLERANCE_SECONDS })).toEqual({ ok: true });
  });

  it("rejects missing headers", () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: "missing" });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: "missing" });
    expect(check({ requestId: undefined })).toEqual({ ok: false, reason: "missing" });
  });

  it("rejects malformed headers", () => {
    expect(check({ signature: "sha256=abc" })).toEqual({ ok: false, reason: "malformed" });
    expect(check({ signature: `v2=${"0".repeat(64)}` })).toEqual({ ok: false, reason: "malformed" });
    expect(check({ timestamp: "2026-01-01T00:00:00Z" })).toEqual({ ok: false, reason: "malformed" });
  });

  it("rejects a timestamp more than the tolerance away, in either direction", () => {
    expect(check({ nowSeconds: ts + SIGNATURE_TOLERANCE_SECONDS + 1 })).toEqual({
      ok: false,
      reason: "stale",
    });
    expect(check({ nowSeconds: ts - SIGNATURE_TOLERANCE_SECONDS - 1 })).toEqual({
      ok: false,
      reason: "stale",
    });
  });

  it("rejects a signature made with another secret, over another body or timestamp", () => {
    expect(check({ secret: "other" })).toEqual({ ok: false, reason: "mismatch" });
    expect(check({ body: `${body} ` })).toEqual({ ok: false, reason: "mismatch" });
    expect(check({ timestamp: String(ts + 1) })).toEqual({ ok: false, reason: "mismatch" });
    // The request id is signed, so a captured request cannot be replayed under a fresh id.
    expect(check({ requestId: "a-fresh-id" })).toEqual({ ok: false, reason: "mismatch" });
  });
});
