import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Log } from "../lib/log.js";
import { consumeSqsEvent } from "../lib/queue/sqs-queue.js";
import { remediateLeak, type WorkerDeps } from "../lib/remediation/remediate-leak.js";
import { awsWorkerDeps } from "../lib/runtime/aws-runtime.js";
import { createLogger } from "../lib/runtime/logger.js";
import { once } from "../lib/util/concurrency.js";

/** SQS → remediation worker, with partial batch failures so one stuck leak does not hold the others. */
export function createRemediateHandler(deps: () => Promise<WorkerDeps>) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    const worker = await deps();
    return consumeSqsEvent(
      event,
      (delivery) => remediateLeak(worker, delivery),
      worker.config.remediation.max_receives,
    );
  });
}

const log: Log = createLogger();
export const handler = createRemediateHandler(once(() => awsWorkerDeps(log)));
