import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { type LoopbackServer, serve } from "./loopback-server.js";

/** The credentials tests sign with; the fakes that check signatures expect them. */
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

export interface FakeClientOptions {
  /** Attempts per call, the first included (the SDK's default: 3). */
  maxAttempts?: number;
  /** Per-attempt wait for an answer, ms. */
  requestTimeout?: number;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * SDK client options for one of the loopback fakes: `new SQSClient(fakeAwsClientConfig(sqs.url))`.
 * Test credentials, the SDK's own retry rules with a 1 ms backoff instead of real waiting.
 */
export function fakeAwsClientConfig(endpoint: string, options: FakeClientOptions = {}) {
  const maxAttempts = options.maxAttempts ?? 3;
  return {
    region: "us-east-1",
    endpoint,
    credentials: options.credentials ?? TEST_CREDENTIALS,
    maxAttempts,
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, 1),
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: options.requestTimeout ?? 5_000,
      throwOnRequestTimeout: true,
    },
  };
}

// Just enough of SQS and KMS on 127.0.0.1 for the bundled handlers and the queue tests to run against:
// the Lambdas' clients find them through AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_KMS. Both speak the
// AWS JSON protocols as documented (SQS: awsJson1_0, target AmazonSQS.*; KMS: awsJson1_1, target
// TrentService.*), errors included: `{"__type": ..., "message": ...}` with the documented status.
// Failures are injected per request through `faults` (a FIFO of canned answers, delays and dropped
// connections); SQS also takes `failEntry` for partial batch failures.

type Route = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

/** A route that gets the whole request body. */
export function listen(route: Route): Promise<LoopbackServer> {
  return serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      Promise.resolve(route(req, res, Buffer.concat(chunks))).catch((error) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  });
}

export function awsJson(res: ServerResponse, version: "1.0" | "1.1", status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": `application/x-amz-json-${version}`,
    "x-amzn-requestid": randomUUID(),
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export const awsError = (type: string, message: string) => ({ __type: type, message });

/** What the next request gets instead of (or before) the normal answer; consumed one per request, in order. */
export type AwsFault =
  /** Answers this status and JSON body (awsError(...) for an AWS error), with extra headers. */
  | { kind: "respond"; status: number; body: unknown; headers?: Record<string, string> }
  /** Answers a body that is not AWS JSON (a proxy's error page). */
  | { kind: "raw"; status: number; text: string; contentType?: string }
  /** Waits, then answers normally (if the client is still there): client timeouts. */
  | { kind: "delay"; ms: number }
  /** Holds the request until `until` settles, then answers normally (if the client is still there). */
  | { kind: "hold"; until: Promise<unknown> }
  /** Closes the connection without answering: network errors. */
  | { kind: "drop" };

/** An AWS error answer as a fault. */
export const errorFault = (
  status: number,
  type: string,
  message = type,
  headers?: Record<string, string>,
): AwsFault => ({
  kind: "respond",
  status,
  body: awsError(type, message),
  ...(headers ? { headers } : {}),
});

/** One request as the fake received it. */
export interface AwsRequest {
  /** X-Amz-Target, e.g. `AmazonSQS.SendMessageBatch`. */
  target: string;
  headers: IncomingMessage["headers"];
  /** The parsed JSON body (undefined when it did not parse). */
  input: unknown;
}

interface FaultState {
  faults: AwsFault[];
  requests: AwsRequest[];
}

/**
 * Records the request and applies the next fault. Answers true when the request is handled (a canned
 * answer, a dropped connection, a client that left during a delay); false to answer normally.
 */
async function applyFault(
  state: FaultState,
  req: IncomingMessage,
  res: ServerResponse,
  raw: Buffer,
  version: "1.0" | "1.1",
): Promise<boolean> {
  let input: unknown;
  try {
    input = JSON.parse(raw.toString("utf8"));
  } catch {
    input = undefined;
  }
  state.requests.push({ target: String(req.headers["x-amz-target"] ?? ""), headers: req.headers, input });
  const fault = state.faults.shift();
  if (!fault) return false;
  switch (fault.kind) {
    case "respond": {
      const text = JSON.stringify(fault.body);
      res.writeHead(fault.status, {
        "content-type": `application/x-amz-json-${version}`,
        "x-amzn-requestid": randomUUID(),
        "content-length": Buffer.byteLength(text),
        ...fault.headers,
      });
      res.end(text);
      return true;
    }
    case "raw":
      res.writeHead(fault.status, { "content-type": fault.contentType ?? "text/html" }).end(fault.text);
      return true;
    case "drop":
      req.socket.destroy();
      return true;
    case "delay":
    case "hold":
      await (fault.kind === "delay" ? sleep(fault.ms) : fault.until.catch(() => {}));
      return res.destroyed || req.socket.destroyed;
  }
}

/** AWS rejects unsigned requests before looking at them; so does the fake (SigV4 only, not verified). */
function unsigned(req: IncomingMessage, res: ServerResponse, version: "1.0" | "1.1"): boolean {
  if (String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 Credential=")) return false;
  awsJson(res, version, 400, awsError("MissingAuthenticationTokenException", "Missing Authentication Token"));
  return true;
}

export interface SentSqsMessage {
  queueUrl: string;
  messageId: string;
  body: string;
}

/** A Failed entry of a SendMessageBatch answer, as SQS documents it. */
export interface SqsFailedEntry {
  Id: string;
  SenderFault: boolean;
  Code: string;
  Message?: string;
}

export interface FakeSqs extends LoopbackServer {
  /** Queue URL on this server, to put in QUEUE_URL. */
  queueUrl: string;
  /** Messages SQS accepted (not the Failed entries). */
  sent: SentSqsMessage[];
  /** Every request received, faults included. */
  requests: AwsRequest[];
  /** The most requests this fake was answering at once (since the start or the last reset). */
  peakConcurrency: number;
  /** Answers for the next requests, first first (see AwsFault). */
  faults: AwsFault[];
  /**
   * Partial batch failures: called for each entry of each SendMessageBatch; an answer puts the entry
   * in Failed (with that Code) instead of queueing it. `call` counts the SendMessageBatch requests
   * that got this far (past faults and validation) from 1, since the start or the last reset.
   */
  failEntry?:
    | ((entry: { Id: string; MessageBody: string }, call: number) => Omit<SqsFailedEntry, "Id"> | undefined)
    | undefined;
  /** Forgets what was sent and received, the pending faults and failEntry. */
  reset(): void;
}

const sqsError = (res: ServerResponse, status: number, type: string, queryCode: string, message: string) => {
  const text = JSON.stringify(awsError(`com.amazonaws.sqs#${type}`, message));
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "x-amzn-requestid": randomUUID(),
    // SQS's JSON protocol also names the legacy query-protocol code.
    "x-amzn-query-error": `${queryCode};Sender`,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
};

/**
 * SendMessageBatch only, answered as SQS does: Successful entries with their body's MD5 (clients check
 * it), Failed entries for `failEntry`, and the documented errors for a bad request (unknown queue,
 * empty or oversized batch, repeated ids).
 */
export async function startFakeSqs(): Promise<FakeSqs> {
  let calls = 0;
  let active = 0;
  const fake = {} as FakeSqs;
  const server = await listen(async (req, res, raw) => {
    active++;
    fake.peakConcurrency = Math.max(fake.peakConcurrency, active);
    res.on("close", () => active--);
    if (unsigned(req, res, "1.0")) return;
    if (await applyFault(fake, req, res, raw, "1.0")) return;
    const target = req.headers["x-amz-target"];
    if (target !== "AmazonSQS.SendMessageBatch") {
      return awsJson(res, "1.0", 400, awsError("com.amazonaws.sqs#InvalidAction", `unsupported ${target}`));
    }
    const input = JSON.parse(raw.toString("utf8")) as {
      QueueUrl?: string;
      Entries?: { Id: string; MessageBody: string }[];
    };
    if (input.QueueUrl !== fake.queueUrl) {
      const message = "The specified queue does not exist.";
      return sqsError(res, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", message);
    }
    const entries = input.Entries ?? [];
    if (entries.length === 0) {
      const message = "There should be at least one SendMessageBatchRequestEntry in the request.";
      return sqsError(res, 400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", message);
    }
    if (entries.length > 10) {
      const message = "Maximum number of entries per request are 10.";
      return sqsError(
        res,
        400,
        "TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        message,
      );
    }
    if (new Set(entries.map((entry) => entry.Id)).size !== entries.length) {
      const message = "Id must be unique among the entries of a batch request.";
      return sqsError(
        res,
        400,
        "BatchEntryIdsNotDistinct",
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        message,
      );
    }
    const call = ++calls;
    const successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
    const failed: SqsFailedEntry[] = [];
    for (const entry of entries) {
      const failure = fake.failEntry?.(entry, call);
      if (failure) {
        failed.push({ Id: entry.Id, ...failure });
        continue;
      }
      const messageId = randomUUID();
      fake.sent.push({ queueUrl: input.QueueUrl, messageId, body: entry.MessageBody });
      successful.push({
        Id: entry.Id,
        MessageId: messageId,
        MD5OfMessageBody: createHash("md5").update(entry.MessageBody, "utf8").digest("hex"),
      });
    }
    awsJson(res, "1.0", 200, { Successful: successful, Failed: failed });
  });
  return Object.assign(fake, server, {
    queueUrl: `${server.url}/000000000000/tourniquet-remediation`,
    sent: [],
    requests: [],
    peakConcurrency: 0,
    faults: [],
    failEntry: undefined,
    reset() {
      calls = 0;
      fake.peakConcurrency = 0;
      fake.sent.length = 0;
      fake.requests.length = 0;
      fake.faults.length = 0;
      fake.failEntry = undefined;
    },
  });
}

export interface FakeKms extends LoopbackServer {
  keyArn: string;
  /** Operation names (GenerateDataKey, Decrypt) in the order they were called, faults included. */
  calls: string[];
  /** Every request received, faults included. */
  requests: AwsRequest[];
  /** Answers for the next requests, first first (see AwsFault). */
  faults: AwsFault[];
  /** Forgets the calls and requests received and the pending faults (the key stays). */
  reset(): void;
}

const isBase64 = (text: string) => text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);

export interface FakeKmsOptions {
  /** Other names of the key (`alias/...`, the bare key id) accepted as KeyId; the ARN always is. */
  aliases?: string[];
}

/**
 * GenerateDataKey and Decrypt for one symmetric key. Data keys are really wrapped (AES-256-GCM under
 * a key only this fake holds, bound to the encryption context), so a forged blob fails as in KMS
 * (InvalidCiphertextException); an unknown KeyId is a NotFoundException.
 */
export async function startFakeKms(options: FakeKmsOptions = {}): Promise<FakeKms> {
  const masterKey = randomBytes(32);
  const keyArn = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000";
  const keyIds = new Set([keyArn, ...(options.aliases ?? [])]);
  const fake = {} as FakeKms;
  const aad = (context: Record<string, string> | undefined) =>
    Buffer.from(
      JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    );
  const server = await listen(async (req, res, raw) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.replace(/^TrentService\./, "");
    fake.calls.push(operation);
    if (unsigned(req, res, "1.1")) return;
    if (await applyFault(fake, req, res, raw, "1.1")) return;
    const input = JSON.parse(raw.toString("utf8")) as {
      KeyId?: string;
      KeySpec?: string;
      CiphertextBlob?: string;
      EncryptionContext?: Record<string, string>;
    };
    if (input.KeyId !== undefined && !keyIds.has(input.KeyId)) {
      return awsJson(res, "1.1", 400, awsError("NotFoundException", `Key '${input.KeyId}' does not exist`));
    }
    if (operation === "GenerateDataKey") {
      if (input.KeySpec !== "AES_256") {
        return awsJson(res, "1.1", 400, awsError("ValidationException", "KeySpec must be AES_256"));
      }
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", masterKey, iv).setAAD(aad(input.EncryptionContext));
      const wrapped = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const blob = Buffer.concat([iv, cipher.getAuthTag(), wrapped]);
      return awsJson(res, "1.1", 200, {
        CiphertextBlob: blob.toString("base64"),
        Plaintext: plaintext.toString("base64"),
        KeyId: keyArn,
      });
    }
    if (operation === "Decrypt") {
      // Blobs travel as standard, padded base64; anything else does not deserialize.
      if (typeof input.CiphertextBlob !== "string" || !isBase64(input.CiphertextBlob)) {
        return awsJson(res, "1.1", 400, awsError("SerializationException", "CiphertextBlob is not base64"));
      }
      const blob = Buffer.from(input.CiphertextBlob, "base64");
      try {
        const decipher = createDecipheriv("aes-256-gcm", masterKey, blob.subarray(0, 12))
          .setAAD(aad(input.EncryptionContext))
          .setAuthTag(blob.subarray(12, 28));
        const plaintext = Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
        return awsJson(res, "1.1", 200, {
          Plaintext: plaintext.toString("base64"),
          KeyId: keyArn,
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        });
      } catch {
        return awsJson(res, "1.1", 400, awsError("InvalidCiphertextException", "invalid ciphertext"));
      }
    }
    awsJson(res, "1.1", 400, awsError("UnsupportedOperationException", `unsupported ${target}`));
  });
  return Object.assign(fake, server, {
    keyArn,
    calls: [],
    requests: [],
    faults: [],
    reset() {
      fake.calls.length = 0;
      fake.requests.length = 0;
      fake.faults.length = 0;
    },
  });
}
