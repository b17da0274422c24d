import { createHash, createHmac } from "node:crypto";

// AWS Signature Version 4 for the JSON-protocol calls the Lambdas make (lib/aws/aws-json-client.ts).
// A few dozen lines of node:crypto instead of the SDK's signer keeps the intake's cold start small.
// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface RequestToSign {
  method: string;
  url: URL;
  /** Headers to send and sign; `host` and `x-amz-date` are added. */
  headers: Record<string, string>;
  body: string;
}

export interface SigningScope {
  credentials: AwsCredentials;
  region: string;
  /** Signing name of the service (`dynamodb`, `sqs`, `kms`, `ssm`, `secretsmanager`). */
  service: string;
  now?: Date;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** RFC 3986 escaping, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const uriEscape = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The derived key depends only on the secret, the day, the region and the service: computed once a day. */
const signingKeys = new Map<string, Buffer>();

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${secret}\n${day}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), "aws4_request");
    if (signingKeys.size > 32) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/** `20150830T123600Z` */
export const amzDate = (now: Date) => now.toISOString().replace(/[-:]|\.\d{3}/g, "");

/** The headers to send: the request's own (lower-cased), plus host, x-amz-date, the token and authorization. */
export function signRequest(request: RequestToSign, scope: SigningScope): Record<string, string> {
  const date = amzDate(scope.now ?? new Date());
  const day = date.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = value.trim().replace(/\s+/g, " ");
  }
  headers.host = request.url.host;
  headers["x-amz-date"] = date;
  if (scope.credentials.sessionToken) headers["x-amz-security-token"] = scope.credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  // Non-S3 services sign each path segment escaped once more than the URL carries it, and sign the
  // normalized path: URL has already resolved `.` and `..`; empty segments (`//`) are dropped too.
  const pathname = request.url.pathname;
  const segments = pathname.split("/").filter((segment) => segment !== "");
  const path =
    segments.length === 0 ? "/" : `/${segments.map(uriEscape).join("/")}${pathname.endsWith("/") ? "/" : ""}`;
  const query = [...request.url.searchParams]
    .map(([name, value]) => [uriEscape(name), uriEscape(value)])
    .sort(([a = "", x = ""], [b = "", y = ""]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalRequest = [
    request.method.toUpperCase(),
    path,
    query,
    names.map((name) => `${name}:${headers[name]}\n`).join(""),
    signedHeaders,
    sha256Hex(request.body),
  ].join("\n");
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, date, credentialScope, sha256Hex(canonicalRequest)].join("\n");
  const key = signingKey(scope.credentials.secretAccessKey, day, scope.region, scope.service);
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  headers.authorization = `${ALGORITHM} Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
