import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";

// Just enough of SQS and KMS on 127.0.0.1 for the bundled handlers to run against: the SDK v3 finds
// them through AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_KMS. Both speak the AWS JSON protocols the
// clients use (SQS: awsJson1_0, target AmazonSQS.*; KMS: awsJson1_1, target TrentService.*).

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

function awsJson(res: ServerResponse, version: "1.0" | "1.1", status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": `application/x-amz-json-${version}`,
    "x-amzn-requestid": randomUUID(),
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

const awsError = (type: string, message: string) => ({ __type: type, message });

export interface SentSqsMessage {
  queueUrl: string;
  messageId: string;
  body: string;
}

export interface FakeSqs extends LoopbackServer {
  /** Queue URL on this server, to put in QUEUE_URL. */
  queueUrl: string;
  sent: SentSqsMessage[];
}

/** SendMessageBatch only, answered as SQS does: Successful entries with their body's MD5 (the SDK checks it). */
export async function startFakeSqs(): Promise<FakeSqs> {
  const sent: SentSqsMessage[] = [];
  const server = await listen((req, res, raw) => {
    const target = req.headers["x-amz-target"];
    if (target !== "AmazonSQS.SendMessageBatch") {
      return awsJson(res, "1.0", 400, awsError("com.amazonaws.sqs#InvalidAction", `unsupported ${target}`));
    }
    const input = JSON.parse(raw.toString("utf8")) as {
      QueueUrl: string;
      Entries: { Id: string; MessageBody: string }[];
    };
    const successful = input.Entries.map((entry) => {
      const messageId = randomUUID();
      sent.push({ queueUrl: input.QueueUrl, messageId, body: entry.MessageBody });
      return {
        Id: entry.Id,
        MessageId: messageId,
        MD5OfMessageBody: createHash("md5").update(entry.MessageBody, "utf8").digest("hex"),
      };
    });
    awsJson(res, "1.0", 200, { Successful: successful, Failed: [] });
  });
  return { ...server, queueUrl: `${server.url}/000000000000/tourniquet-remediation`, sent };
}

export interface FakeKms extends LoopbackServer {
  keyArn: string;
  /** Operation names (GenerateDataKey, Decrypt) in the order they were called. */
  calls: string[];
}

/**
 * GenerateDataKey and Decrypt for one symmetric key. Data keys are really wrapped (AES-256-GCM under
 * a key only this fake holds, bound to the encryption context), so a forged blob fails as in KMS.
 */
export async function startFakeKms(): Promise<FakeKms> {
  const masterKey = randomBytes(32);
  const keyArn = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000";
  const calls: string[] = [];
  const aad = (context: Record<string, string> | undefined) =>
    Buffer.from(
      JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    );
  const server = await listen((req, res, raw) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const input = JSON.parse(raw.toString("utf8")) as {
      KeyId?: string;
      KeySpec?: string;
      CiphertextBlob?: string;
      EncryptionContext?: Record<string, string>;
    };
    const operation = target.replace(/^TrentService\./, "");
    calls.push(operation);
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
      const blob = Buffer.from(input.CiphertextBlob ?? "", "base64");
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
  return { ...server, keyArn, calls };
}
