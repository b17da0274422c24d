import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Log } from "../lib/log.js";
import { consumeSqsEvent } from "../lib/queue/sqs-consumer.js";
import { remediateLeak, type WorkerDeps } from "../lib/remediation/remediate-leak.js";
import { noMetrics, type RemediationMetrics } from "../lib/remediation/remediation-metrics.js";
import { awsWorkerDeps } from "../lib/runtime/aws-worker.js";
import { createLogger } from "../lib/runtime/logger.js";
import { createRemediationMetrics } from "../lib/runtime/metrics.js";
import { once } from "../lib/util/concurrency.js";

/** Time kept back from the Lambda's deadline so a step can record its outcome before the end. */
const DEADLINE_MARGIN_MS = 3_000;

/** SQS → remediation worker, with partial batch failures so one stuck leak does not hold the others. */
export function createRemediateHandler(
  deps: () => Promise<WorkerDeps>,
  metrics: RemediationMetrics & { flush(): void } = { ...noMetrics, flush() {} },
) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event, context) => {
    const worker = await deps();
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline = remaining === undefined ? undefined : Date.now() + remaining - DEADLINE_MARGIN_MS;
    // The queue's own maxReceiveCount (set by the stack) decides when a message dead-letters, so the
    // worker's "last attempt" must be counted against the same number.
    const maxReceives = Number(process.env.MAX_RECEIVE_COUNT) || worker.config.remediation.max_receives;
    try {
      return await consumeSqsEvent(
        event,
        (delivery) => remediateLeak({ ...worker, metrics, deadline: () => deadline }, delivery),
        maxReceives,
        worker.log,
      );
    } finally {
      metrics.flush(); // one EMF record per invocation, whatever happened
    }
  });
}

const log: Log = createLogger();
export const handler = createRemediateHandler(
  once(() => awsWorkerDeps(log)),
  createRemediationMetrics(),
);
