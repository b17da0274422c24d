import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { TourniquetError } from "../errors.js";
import { describeError, type Log } from "../log.js";
import {
  type Delivery,
  decodeRemediationMessage,
  type QueueMessage,
  type RemediationConsumer,
  subjectOf,
} from "./remediation-queue.js";

/**
 * Runs every record of an event through the consumer, concurrently (a standard queue has no order),
 * with Powertools' batch processor: the records that threw, or did not decode, are reported as batch
 * item failures, so SQS redelivers only them and, after maxReceives, moves them to the dead-letter
 * queue instead of losing them. A batch where every record failed is answered the same way rather
 * than thrown, so the invocation's metrics are still flushed and nothing is retried twice over. Each
 * failure is logged with the message, its receive count and why, for an operator reading the DLQ.
 */
export async function consumeSqsEvent(
  event: SQSEvent,
  consumer: RemediationConsumer,
  maxReceives: number,
  log: Log,
): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const handle = async (record: SQSRecord) => {
    let subject: string | undefined;
    try {
      const delivery = deliveryFromSqsRecord(record, maxReceives);
      subject = subjectOf(delivery.message);
      await consumer(delivery);
    } catch (error) {
      log.warn("remediation message not done; SQS delivers it again or dead-letters it", {
        messageId: record.messageId,
        subject,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        maxReceives,
        error: describeError(error),
      });
      throw error;
    }
  };
  return processPartialResponse(event, handle, processor, {
    throwOnFullBatchFailure: false,
    processInParallel: true,
  });
}

/** One SQS record as a delivery. Throws TourniquetError when the body is not a remediation message. */
export function deliveryFromSqsRecord(record: SQSRecord, maxReceives: number): Delivery<QueueMessage> {
  let message: QueueMessage;
  try {
    message = decodeRemediationMessage(record.body);
  } catch {
    // No cause: a JSON.parse error quotes the body, and the body is not ours to put in logs.
    throw new TourniquetError(`SQS message ${record.messageId} is not a remediation message`);
  }
  const count = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? "", 10);
  return { message, receiveCount: Number.isFinite(count) && count >= 1 ? count : 1, maxReceives };
}
