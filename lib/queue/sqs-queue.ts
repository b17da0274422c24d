import { createHash } from "node:crypto";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { AwsJsonClient } from "../aws/aws-json-client.js";
import { TourniquetError } from "../errors.js";
import {
  type Delivery,
  decodeRemediationMessage,
  encodeRemediationMessage,
  type RemediationConsumer,
  type RemediationMessage,
  type RemediationQueue,
} from "./remediation-queue.js";

// The queue in AWS: intake sends in batches, the remediate Lambda receives SQS events and answers
// with a partial batch response so one failing leak does not redeliver its neighbours.

/** SendMessageBatch takes at most 10 entries. */
const BATCH_SIZE = 10;
/** Batches in flight at once; one intake call may queue 1,000 messages (100 batches). */
const PARALLEL_BATCHES = 5;

/** SendMessageBatch in the awsJson1_0 protocol (target AmazonSQS.SendMessageBatch). */
interface SendMessageBatchEntry {
  Id: string;
  MessageBody: string;
}
interface SendMessageBatchOutput {
  Successful?: { Id?: string; MessageId?: string; MD5OfMessageBody?: string }[];
  Failed?: { Id?: string; SenderFault?: boolean; Code?: string; Message?: string }[];
}

export interface SqsRemediationQueueOptions {
  /** A client for the SQS service (awsClientFromEnv(SQS, env)). */
  sqs: AwsJsonClient;
  queueUrl: string;
}

export class SqsRemediationQueue implements RemediationQueue {
  private readonly sqs: AwsJsonClient;
  private readonly queueUrl: string;

  constructor(options: SqsRemediationQueueOptions) {
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
  }

  async send(messages: readonly RemediationMessage[]): Promise<void> {
    const chunks: RemediationMessage[][] = [];
    for (let i = 0; i < messages.length; i += BATCH_SIZE) chunks.push(messages.slice(i, i + BATCH_SIZE));

    let next = 0;
    let failed = 0;
    const codes = new Set<string>();
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++] as RemediationMessage[];
        const result = await this.sendChunk(chunk);
        failed += result.failed;
        for (const code of result.codes) codes.add(code);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_BATCHES, chunks.length) }, worker));

    if (failed > 0) {
      // Error codes only: SQS's free-text messages are not ours to vouch for.
      throw new TourniquetError(
        `${failed} of ${messages.length} remediation messages could not be queued` +
          (codes.size > 0 ? ` (${[...codes].join(", ")})` : ""),
      );
    }
  }

  /** Sends one batch, then resends only the entries SQS reported as failed, once. */
  private async sendChunk(
    chunk: readonly RemediationMessage[],
  ): Promise<{ failed: number; codes: string[] }> {
    let entries: SendMessageBatchEntry[] = chunk.map((message, index) => ({
      Id: String(index),
      MessageBody: encodeRemediationMessage(message),
    }));
    let codes: string[] = [];
    for (let attempt = 0; attempt < 2 && entries.length > 0; attempt++) {
      const out = await this.sqs.call<SendMessageBatchOutput>("SendMessageBatch", {
        QueueUrl: this.queueUrl,
        Entries: entries,
      });
      checkBodyDigests(entries, out);
      const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
      codes = (out.Failed ?? []).map((f) => f.Code ?? "unknown");
      entries = entries.filter((entry) => failedIds.has(entry.Id));
    }
    return { failed: entries.length, codes };
  }
}

/**
 * SQS answers the MD5 of each body it accepted; a mismatch means the body was altered on the way. The
 * SDK's client refused such an answer (Invalid MD5 checksum), and so do we: the caller sees an error.
 */
function checkBodyDigests(entries: readonly SendMessageBatchEntry[], out: SendMessageBatchOutput): void {
  const bodies = new Map(entries.map((entry) => [entry.Id, entry.MessageBody]));
  const altered: string[] = [];
  for (const entry of out.Successful ?? []) {
    const body = entry.Id === undefined ? undefined : bodies.get(entry.Id);
    if (body === undefined) continue;
    if (entry.MD5OfMessageBody !== createHash("md5").update(body, "utf8").digest("hex")) {
      altered.push(entry.MessageId ?? `entry ${entry.Id}`);
    }
  }
  if (altered.length > 0) {
    throw new TourniquetError(`SQS acknowledged messages with a wrong body MD5: ${altered.join(", ")}`);
  }
}

/** One SQS record as a delivery. Throws TourniquetError when the body is not a remediation message. */
export function deliveryFromSqsRecord(record: SQSRecord, maxReceives: number): Delivery {
  let message: RemediationMessage;
  try {
    message = decodeRemediationMessage(record.body);
  } catch {
    // No cause: a JSON.parse error quotes the body, and the body is not ours to put in logs.
    throw new TourniquetError(`SQS message ${record.messageId} is not a remediation message`);
  }
  const count = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? "", 10);
  return { message, receiveCount: Number.isFinite(count) && count >= 1 ? count : 1, maxReceives };
}

/** Every record of an event as a delivery; throws if any body does not decode (see consumeSqsEvent). */
export function deliveriesFromSqsEvent(
  event: SQSEvent,
  maxReceives: number,
): { messageId: string; delivery: Delivery }[] {
  return event.Records.map((record) => ({
    messageId: record.messageId,
    delivery: deliveryFromSqsRecord(record, maxReceives),
  }));
}

/**
 * Runs every record of an event through the consumer, concurrently (a standard queue has no order),
 * and reports the ones that threw, or did not decode, as batch item failures: SQS redelivers them
 * and, after maxReceives, moves them to the dead-letter queue instead of losing them.
 */
export async function consumeSqsEvent(
  event: SQSEvent,
  consumer: RemediationConsumer,
  maxReceives: number,
): Promise<SQSBatchResponse> {
  const results = await Promise.allSettled(
    event.Records.map(async (record) => consumer(deliveryFromSqsRecord(record, maxReceives))),
  );
  const batchItemFailures = event.Records.flatMap((record, i) =>
    results[i]?.status === "rejected" ? [{ itemIdentifier: record.messageId }] : [],
  );
  return { batchItemFailures };
}
