import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { awsCall } from "../aws/aws-call.js";
import { TourniquetError } from "../errors.js";
import {
  type Delivery,
  decodeRemediationMessage,
  encodeRemediationMessage,
  type RemediationMessage,
  type RemediationQueue,
} from "./remediation-queue.js";

// The queue in AWS: intake sends in batches (the SDK checks the MD5 SQS answers for each body, so an
// altered message is an error); the remediate Lambda turns each SQS record into a delivery.

/** SendMessageBatch takes at most 10 entries. */
const BATCH_SIZE = 10;
/** Batches in flight at once; one intake call may queue 1,000 messages (100 batches). */
const PARALLEL_BATCHES = 5;

export interface SqsRemediationQueueOptions {
  sqs: SQSClient;
  queueUrl: string;
}

export class SqsRemediationQueue implements RemediationQueue {
  private readonly sqs: SQSClient;
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
    let entries: SendMessageBatchRequestEntry[] = chunk.map((message, index) => ({
      Id: String(index),
      MessageBody: encodeRemediationMessage(message),
    }));
    let codes: string[] = [];
    for (let attempt = 0; attempt < 2 && entries.length > 0; attempt++) {
      const send = new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries });
      const out = await awsCall("sqs:SendMessageBatch", () => this.sqs.send(send));
      const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
      codes = (out.Failed ?? []).map((f) => f.Code ?? "unknown");
      entries = entries.filter((entry) => failedIds.has(entry.Id));
    }
    return { failed: entries.length, codes };
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
