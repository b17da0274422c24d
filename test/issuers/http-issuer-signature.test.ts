import { describe, expect, it } from "vitest";
import {
  checkIssuerRequestSignature,
  SIGNATURE_TOLERANCE_SECONDS,
  signIssuerRequest,
} from "../../lib/issuers/http-issuer-signature.js";

const secret = "example-shared-secret";
const body = '{"token":"tqs_JSBIE3fv52h3yqrfyNtzLP0k5DHQf93YQYbr","type":"tourniquet_sandbox_token"}';
const ts = 1767225600;

function check(overrides: Partial<Parameters<typeof checkIssuerRequestSignature>[0]>) {
  return checkIssuerRequestSignature({
    secret,
    signature: signIssuerRequest(secret, ts, body),
    timestamp: String(ts),
    body,
    nowSeconds: ts,
    ...overrides,
  });
}

describe("signIssuerRequest", () => {
  it("matches the worked example in docs/http-issuer-protocol.md", () => {
    expect(signIssuerRequest(secret, ts, body)).toBe(
      "v1=7a9193e09848de027629894592c17c9c911c910e87787d72b6e2d8f0d5a0340c",
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
  });
});
