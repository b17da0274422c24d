import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { awsError, awsJson, listen, TEST_CREDENTIALS } from "./fake-aws.js";
import type { LoopbackServer } from "./loopback-server.js";

// SSM (GetParameter) and Secrets Manager (GetSecretValue, CreateSecret, PutSecretValue) on 127.0.0.1,
// in memory, speaking awsJson1_1 as the services document it: one signed POST to `/` with the
// operation in X-Amz-Target, errors as {"__type", "message"} with their HTTP status. Requests are
// authenticated like AWS does (SigV4, scoped to the service and region, signature checked against the
// fake's credentials), so a client that signs wrongly fails here as it would in AWS. Failures
// (AWS errors, throttling, 5xx, a proxy's HTML page, dropped connections, hangs) are injected per
// operation with `failNext`.

export interface FakeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface FakeAwsOptions {
  region?: string;
  credentials?: FakeCredentials;
}

/** One injected failure, used by the next request for its operation. */
export type Failure =
  /** An AWS error answer: `{"__type": error, "message"}` with `status` (400 unless told). */
  | { error: string; status?: number; message?: string }
  /** A non-JSON answer (a load balancer's or proxy's page). */
  | { status: number; raw: string }
  /** The connection is closed without an answer; `afterApplying` performs the operation first (answer lost). */
  | { drop: true; afterApplying?: boolean }
  /** No answer at all: the client's timeout must fire. */
  | { hang: true };

export const THROTTLED: Failure = { error: "ThrottlingException", status: 400, message: "Rate exceeded" };
export const ACCESS_DENIED: Failure = {
  error: "AccessDeniedException",
  status: 400,
  message: "User: arn:aws:sts::000000000000:assumed-role/test is not authorized to perform this action",
};

export interface FakeCall {
  operation: string;
  input: Record<string, unknown>;
}

export interface FakeAwsService extends LoopbackServer {
  /** Every authenticated request, failed ones included (one per attempt), in order. */
  calls: FakeCall[];
  /** The inputs of `operation`'s calls. */
  callsOf(operation: string): Record<string, unknown>[];
  /** The next `times` calls of `operation` fail with `failure` (`Infinity`: until `clearFailures`). */
  failNext(operation: string, failure: Failure, times?: number): void;
  clearFailures(): void;
}

type Input = Record<string, unknown>;

/** An operation's outcome: an answer to send. */
interface Answer {
  status: number;
  body: unknown;
}

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const epochSeconds = () => Date.now() / 1000;

// --- SSM ----------------------------------------------------------------------------------------

export interface FakeParameter {
  name: string;
  value: string;
  type: "String" | "StringList" | "SecureString";
  version: number;
}

export interface FakeSsm extends FakeAwsService {
  parameters: Map<string, FakeParameter>;
  /** Like `aws ssm put-parameter --overwrite`: a new version. */
  putParameter(name: string, value: string, type?: FakeParameter["type"]): void;
  deleteParameter(name: string): void;
}

export async function startFakeSsm(options: FakeAwsOptions = {}): Promise<FakeSsm> {
  const region = options.region ?? "us-east-1";
  const parameters = new Map<string, FakeParameter>();
  const service = await startFakeService(
    { signingName: "ssm", targetPrefix: "AmazonSSM", region, credentials: options.credentials },
    {
      GetParameter(input) {
        const name = requiredString(input, "Name");
        const parameter = parameters.get(name);
        if (!parameter) throw new ServiceError("ParameterNotFound", "");
        // A SecureString read without decryption answers the ciphertext.
        const value =
          parameter.type === "SecureString" && input.WithDecryption !== true
            ? Buffer.from(`kms:${parameter.value}`).toString("base64")
            : parameter.value;
        return ok({
          Parameter: {
            Name: parameter.name,
            Type: parameter.type,
            Value: value,
            Version: parameter.version,
            LastModifiedDate: epochSeconds(),
            ARN: `arn:aws:ssm:${region}:000000000000:parameter${parameter.name.startsWith("/") ? "" : "/"}${parameter.name}`,
            DataType: "text",
          },
        });
      },
    },
  );
  return {
    ...service,
    parameters,
    putParameter(name, value, type = "String") {
      const version = (parameters.get(name)?.version ?? 0) + 1;
      parameters.set(name, { name, value, type, version });
    },
    deleteParameter(name) {
      parameters.delete(name);
    },
  };
}

// --- Secrets Manager ----------------------------------------------------------------------------

export interface FakeSecretVersion {
  versionId: string;
  secretString: string;
  stages: string[];
}

export interface FakeSecret {
  name: string;
  arn: string;
  kmsKeyId: string | undefined;
  description: string | undefined;
  tags: { Key: string; Value: string }[];
  versions: FakeSecretVersion[];
}

export interface FakeSecretsManager extends FakeAwsService {
  secrets: Map<string, FakeSecret>;
  /**
   * Stores `value` as the secret's new current version, creating the secret if needed. `id` is a name,
   * or a full ARN (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>`) kept as is.
   */
  putSecret(id: string, value: string): FakeSecret;
  /** The secret by name or ARN. */
  secret(id: string): FakeSecret | undefined;
  /** Its AWSCURRENT value. */
  currentValue(id: string): string | undefined;
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

export async function startFakeSecretsManager(options: FakeAwsOptions = {}): Promise<FakeSecretsManager> {
  const region = options.region ?? "us-east-1";
  const secrets = new Map<string, FakeSecret>();

  const find = (id: string): FakeSecret | undefined => {
    for (const secret of secrets.values()) {
      // A name, the full ARN, or the partial ARN (without the random suffix).
      if (id === secret.name || id === secret.arn || id === secret.arn.replace(/-[A-Za-z0-9]{6}$/, "")) {
        return secret;
      }
    }
    return undefined;
  };
  const create = (name: string, arn?: string): FakeSecret => {
    const secret: FakeSecret = {
      name,
      arn:
        arn ??
        `arn:aws:secretsmanager:${region}:000000000000:secret:${name}-${randomBytes(3).toString("hex")}`,
      kmsKeyId: undefined,
      description: undefined,
      tags: [],
      versions: [],
    };
    secrets.set(name, secret);
    return secret;
  };
  const current = (secret: FakeSecret) => secret.versions.find((v) => v.stages.includes("AWSCURRENT"));
  const addVersion = (secret: FakeSecret, versionId: string, secretString: string): FakeSecretVersion => {
    for (const version of secret.versions) {
      version.stages = version.stages.includes("AWSCURRENT") ? ["AWSPREVIOUS"] : [];
    }
    const version = { versionId, secretString, stages: ["AWSCURRENT"] };
    secret.versions.push(version);
    return version;
  };
  /** ClientRequestToken semantics: a known token with the same value is a no-op, with another an error. */
  const existingVersion = (secret: FakeSecret, token: string, value: string) => {
    const version = secret.versions.find((v) => v.versionId === token);
    if (version && version.secretString !== value) {
      throw new ServiceError(
        "ResourceExistsException",
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    return version;
  };
  const versionOutput = (secret: FakeSecret, version: FakeSecretVersion) =>
    ok({ ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages });

  const service = await startFakeService(
    {
      signingName: "secretsmanager",
      targetPrefix: "secretsmanager",
      region,
      credentials: options.credentials,
    },
    {
      GetSecretValue(input) {
        const secret = find(requiredString(input, "SecretId"));
        const version = secret && current(secret);
        if (!secret)
          throw new ServiceError(
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
          );
        if (!version) {
          throw new ServiceError(
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
          );
        }
        return ok({
          ARN: secret.arn,
          Name: secret.name,
          VersionId: version.versionId,
          SecretString: version.secretString,
          VersionStages: version.stages,
          CreatedDate: epochSeconds(),
        });
      },
      CreateSecret(input) {
        const name = requiredString(input, "Name");
        if (!SECRET_NAME.test(name)) throw new ServiceError("ValidationException", "Invalid name.");
        const token = clientRequestToken(input);
        const value = requiredString(input, "SecretString");
        const tags = input.Tags ?? [];
        if (
          !Array.isArray(tags) ||
          !tags.every((t) => typeof t?.Key === "string" && typeof t?.Value === "string")
        ) {
          throw new ServiceError("ValidationException", "Tags must be a list of {Key, Value} strings.");
        }
        const existing = find(name);
        if (existing) {
          const version = existingVersion(existing, token, value);
          if (version) return versionOutput(existing, version);
          throw new ServiceError(
            "ResourceExistsException",
            `The operation failed because the secret ${name} already exists.`,
          );
        }
        const secret = create(name);
        secret.kmsKeyId = optionalString(input, "KmsKeyId");
        secret.description = optionalString(input, "Description");
        secret.tags = tags as FakeSecret["tags"];
        const version = addVersion(secret, token, value);
        return ok({ ARN: secret.arn, Name: secret.name, VersionId: version.versionId });
      },
      PutSecretValue(input) {
        const secret = find(requiredString(input, "SecretId"));
        if (!secret)
          throw new ServiceError(
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
          );
        const token = clientRequestToken(input);
        const value = requiredString(input, "SecretString");
        const version = existingVersion(secret, token, value) ?? addVersion(secret, token, value);
        return versionOutput(secret, version);
      },
    },
  );
  return {
    ...service,
    secrets,
    putSecret(id, value) {
      let secret = find(id);
      if (!secret) {
        const arn = /^arn:aws:secretsmanager:[^:]+:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/.exec(id);
        secret = arn ? create(arn[1] ?? "", id) : create(id);
      }
      addVersion(secret, randomUUID(), value);
      return secret;
    },
    secret: find,
    currentValue(id) {
      const secret = find(id);
      return secret && current(secret)?.secretString;
    },
  };
}

// --- The protocol ---------------------------------------------------------------------------------

type Operation = (input: Input) => Answer;

interface ServiceShape {
  signingName: string;
  targetPrefix: string;
  region: string;
  credentials: FakeCredentials | undefined;
}

async function startFakeService(
  shape: ServiceShape,
  operations: Record<string, Operation>,
): Promise<FakeAwsService> {
  const credentials = shape.credentials ?? TEST_CREDENTIALS;
  const calls: FakeCall[] = [];
  const failures = new Map<string, { failure: Failure; times: number }[]>();

  const nextFailure = (operation: string): Failure | undefined => {
    const queue = failures.get(operation);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.times -= 1;
    if (head.times <= 0) queue.shift();
    return head.failure;
  };

  const server = await listen((req, res, raw) => {
    const reply = (status: number, body: unknown) => awsJson(res, "1.1", status, body);
    const fail = (status: number, type: string, message: string) => reply(status, awsError(type, message));

    if (req.method !== "POST" || new URL(req.url ?? "/", "http://fake").pathname !== "/") {
      return fail(404, "UnknownOperationException", `${req.method} ${req.url} is not an operation`);
    }
    const denied = authenticate(req, raw, shape, credentials);
    if (denied) return fail(denied.status, denied.type, denied.message);
    if (req.headers["content-type"] !== "application/x-amz-json-1.1") {
      return fail(400, "SerializationException", `unexpected content-type ${req.headers["content-type"]}`);
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    const operationName = target.startsWith(`${shape.targetPrefix}.`)
      ? target.slice(shape.targetPrefix.length + 1)
      : "";
    const operation = Object.hasOwn(operations, operationName) ? operations[operationName] : undefined;
    if (!operation) {
      return fail(400, "com.amazon.coral.service#UnknownOperationException", `unknown target ${target}`);
    }
    let input: Input;
    try {
      const parsed: unknown = JSON.parse(raw.toString("utf8"));
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      input = parsed as Input;
    } catch {
      return fail(400, "SerializationException", "the body is not a JSON object");
    }
    calls.push({ operation: operationName, input });

    const run = (): Answer => {
      try {
        return operation(input);
      } catch (error) {
        if (error instanceof ServiceError) {
          return { status: error.status, body: awsError(error.type, error.message) };
        }
        throw error;
      }
    };
    const failure = nextFailure(operationName);
    if (!failure) {
      const answer = run();
      return reply(answer.status, answer.body);
    }
    // No answer at all; the server's close() ends the request.
    if ("hang" in failure) return;
    if ("drop" in failure) {
      if (failure.afterApplying) run();
      req.socket.destroy();
      return;
    }
    if ("raw" in failure) {
      res.writeHead(failure.status, { "content-type": "text/html" }).end(failure.raw);
      return;
    }
    fail(failure.status ?? 400, failure.error, failure.message ?? "");
  });

  return {
    ...server,
    calls,
    callsOf: (operation) => calls.filter((c) => c.operation === operation).map((c) => c.input),
    failNext(operation, failure, times = 1) {
      const queue = failures.get(operation) ?? [];
      queue.push({ failure, times });
      failures.set(operation, queue);
    },
    clearFailures: () => failures.clear(),
  };
}

function requiredString(input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== "string" || value === "") {
    throw new ServiceError("ValidationException", `1 validation error detected: ${field} must not be null`);
  }
  return value;
}

function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ServiceError("ValidationException", `${field} must be a string`);
  return value;
}

/** Raw HTTP callers must send one (the SDKs fill it in): 32 to 64 characters. */
function clientRequestToken(input: Input): string {
  const token = input.ClientRequestToken;
  if (typeof token !== "string" || token.length < 32 || token.length > 64) {
    throw new ServiceError(
      "ValidationException",
      "ClientRequestToken must be 32 to 64 characters (raw requests must generate one)",
    );
  }
  return token;
}

// --- SigV4, checked as AWS checks it ----------------------------------------------------------------
// Written from the spec (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
// independently of the AWS SDK's signer, so the two agreeing means something.

interface Denial {
  status: number;
  type: string;
  message: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function authenticate(
  req: IncomingMessage,
  body: Buffer,
  shape: ServiceShape,
  credentials: FakeCredentials,
): Denial | undefined {
  const authorization = req.headers.authorization;
  if (!authorization) {
    return {
      status: 400,
      type: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
    };
  }
  const match = AUTHORIZATION.exec(authorization);
  const date = String(req.headers["x-amz-date"] ?? "");
  if (!match || !/^\d{8}T\d{6}Z$/.test(date)) {
    return {
      status: 400,
      type: "IncompleteSignatureException",
      message: "Authorization header requires Credential, SignedHeaders and Signature, and X-Amz-Date",
    };
  }
  const [, accessKeyId, day, region, service, signedHeaders = "", signature] = match;
  if (accessKeyId !== credentials.accessKeyId) {
    return {
      status: 400,
      type: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    };
  }
  if (service !== shape.signingName || region !== shape.region || day !== date.slice(0, 8)) {
    return {
      status: 400,
      type: "InvalidSignatureException",
      message: `Credential should be scoped to a valid region and to the service '${shape.signingName}'.`,
    };
  }
  const names = signedHeaders.split(";");
  if (!names.includes("host") || !names.includes("x-amz-date") || !names.includes("x-amz-target")) {
    return {
      status: 400,
      type: "InvalidSignatureException",
      message: "host, x-amz-date and x-amz-target must be signed",
    };
  }
  const url = new URL(req.url ?? "/", "http://fake");
  const canonical = [
    req.method ?? "",
    url.pathname
      .split("/")
      .map((segment) => encodeRfc3986(segment))
      .join("/"),
    [...url.searchParams]
      .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
      .sort()
      .join("&"),
    names.map((name) => `${name}:${headerValue(req, name)}\n`).join(""),
    signedHeaders,
    createHash("sha256").update(body).digest("hex"),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    date,
    scope,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
  let key: Buffer = Buffer.from(`AWS4${credentials.secretAccessKey}`);
  for (const part of [day, region, service, "aws4_request"])
    key = createHmac("sha256", key)
      .update(part ?? "")
      .digest();
  const expected = createHmac("sha256", key).update(stringToSign).digest("hex");
  if (expected !== signature) {
    return {
      status: 400,
      type: "InvalidSignatureException",
      message: "The request signature we calculated does not match the signature you provided.",
    };
  }
  return undefined;
}

function headerValue(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value.join(",") : (value ?? "")).trim().replace(/\s+/g, " ");
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
