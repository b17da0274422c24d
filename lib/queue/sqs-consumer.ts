import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { RemediationConsumer } from "./remediation-queue.js";
import { deliveryFromSqsRecord } from "./sqs-queue.js";

/**
 * Runs every record of an event through the consumer, concurrently (a standard queue has no order),
 * with Powertools' batch processor: the records that threw, or did not decode, are reported as batch
 * item failures, so SQS redelivers only them and, after maxReceives, moves them to the dead-letter
 * queue instead of losing them. A batch where every record failed is answered the same way rather
 * than thrown, so the invocation's metrics are still flushed and nothing is retried twice over.
 */
export async function consumeSqsEvent(
  event: SQSEvent,
  consumer: RemediationConsumer,
  maxReceives: number,
): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    (record: SQSRecord) => consumer(deliveryFromSqsRecord(record, maxReceives)),
    processor,
    { throwOnFullBatchFailure: false, processInParallel: true },
  );
}
