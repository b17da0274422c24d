import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { awsCall } from "../aws/aws-call.js";
import { TourniquetError } from "../errors.js";
import {
  encodeRemediationMessage,
  MAX_DELAY_SECONDS,
  type QueueMessage,
  type RemediationQueue,
  type SendOptions,
} from "./remediation-queue.js";

// The queue in AWS: intake sends in batches (the SDK checks the MD5 SQS answers for each body, so an
// altered message is an error). The remediate Lambda's side is sqs-consumer.ts.

/** SendMessageBatch takes at most 10 entries… */
const BATCH_SIZE = 10;
/** …and at most 256 KiB of bodies in all (a message revoking 1,000 leaks together is ~31 KB). */
const BATCH_BYTES = 256 * 1024;
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

  async send(messages: readonly QueueMessage[], options: SendOptions = {}): Promise<void> {
    const delay = options.delaySeconds
      ? Math.min(Math.ceil(options.delaySeconds), MAX_DELAY_SECONDS)
      : undefined;
    const chunks = batchesOf(messages);

    let next = 0;
    let failed = 0;
    const codes = new Set<string>();
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++] as string[];
        const result = await this.sendChunk(chunk, delay);
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
    chunk: readonly string[],
    delaySeconds: number | undefined,
  ): Promise<{ failed: number; codes: string[] }> {
    let entries: SendMessageBatchRequestEntry[] = chunk.map((body, index) => ({
      Id: String(index),
      MessageBody: body,
      ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}),
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

/** Encoded messages in SendMessageBatch-sized groups: 10 a batch, 256 KiB of bodies at most. */
function batchesOf(messages: readonly QueueMessage[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const message of messages) {
    const body = encodeRemediationMessage(message);
    const size = Buffer.byteLength(body);
    if (batch.length === BATCH_SIZE || (batch.length > 0 && bytes + size > BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(body);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
