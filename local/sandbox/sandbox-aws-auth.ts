import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsPrincipal, AwsWorld } from "./sandbox-aws-state.js";
import type { AwsService } from "./sandbox-aws-xml.js";

// SigV4 as AWS checks it, by signing the request again with @smithy/signature-v4 (with the SHA-256 the
// SDK clients use) and the secret the fake knows for the access key id in the Authorization header:
// unknown id, Inactive key or a session token that does not match → InvalidClientTokenId; another
// signature → SignatureDoesNotMatch; an expired session → ExpiredToken; a credential scoped to the other
// service → SignatureDoesNotMatch.

export interface AuthFailure {
  status: number;
  code: string;
  message: string;
}

const INVALID_TOKEN: AuthFailure = {
  status: 403,
  code: "InvalidClientTokenId",
  message: "The security token included in the request is invalid.",
};

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export interface SignedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The principal that signed the request, or why AWS would refuse it. */
export async function authenticate(
  world: AwsWorld,
  request: SignedRequest,
  service: AwsService,
  now: number,
): Promise<{ principal: AwsPrincipal } | { failure: AuthFailure }> {
  const m = AUTHORIZATION.exec(String(request.headers.authorization ?? ""));
  const amzDate = String(request.headers["x-amz-date"] ?? "");
  if (!m || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    return {
      failure: {
        status: 403,
        code: "MissingAuthenticationToken",
        message: "Request is missing Authentication Token",
      },
    };
  }
  const [, accessKeyId = "", , region = "", scopeService = "", signedHeaders = "", signature = ""] = m;
  const token = request.headers["x-amz-security-token"];
  let principal: AwsPrincipal;
  let secret: string;
  const session = world.session(accessKeyId);
  if (session) {
    if (token !== session.sessionToken) return { failure: INVALID_TOKEN };
    if (session.expiresAt <= now) {
      return {
        failure: {
          status: 403,
          code: "ExpiredToken",
          message: "The security token included in the request is expired",
        },
      };
    }
    principal = { kind: "session", account: world.account(session.account), session, arn: session.arn };
    secret = session.secretAccessKey;
  } else {
    const found = world.findKey(accessKeyId);
    if (!found) return { failure: INVALID_TOKEN };
    if (found.key.status !== "Active" || token !== undefined) return { failure: INVALID_TOKEN };
    principal = { kind: "user", ...found, arn: found.user.arn };
    secret = found.key.secretAccessKey;
  }
  if (scopeService !== service) {
    return {
      failure: {
        status: 403,
        code: "SignatureDoesNotMatch",
        message: `Credential should be scoped to correct service: '${service}'. `,
      },
    };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(";")) {
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(",") : (value ?? "");
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret, sessionToken: session?.sessionToken },
    region,
    service: scopeService,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: String(request.headers.host ?? "").replace(/:\d+$/, ""),
      path: request.path,
      query: Object.fromEntries(request.query),
      headers,
      body: request.body,
    },
    { signingDate: parseAmzDate(amzDate), signingRegion: region, signingService: scopeService },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
  if (
    expected.length !== signature.length ||
    !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  ) {
    return {
      failure: {
        status: 403,
        code: "SignatureDoesNotMatch",
        message:
          "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      },
    };
  }
  return { principal };
}

function parseAmzDate(value: string): Date {
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`;
  return new Date(iso);
}
