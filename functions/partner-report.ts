import middy from "@middy/core";
import { type ApiEvent, type ApiResult, header, jsonResponse, rawBody } from "../lib/http/api-event.js";
import { httpErrors } from "../lib/http/error-response.js";
import { type IntakeMetrics, noIntakeMetrics } from "../lib/intake/intake-metrics.js";
import { type IntakeDeps, receivePartnerReport } from "../lib/intake/receive-partner-report.js";
import type { Log } from "../lib/log.js";
import { awsIntakeDeps } from "../lib/runtime/aws-intake.js";
import { createLogger } from "../lib/runtime/logger.js";
import { createIntakeMetrics } from "../lib/runtime/metrics.js";
import { once } from "../lib/util/concurrency.js";

/** POST /v1/github/secret-scanning — GitHub's secret scanning partner reports. */
export function createPartnerReportHandler(
  deps: () => Promise<IntakeDeps>,
  log: Log,
  metrics: IntakeMetrics = noIntakeMetrics,
) {
  return middy<ApiEvent, ApiResult>()
    .use(httpErrors(log))
    .handler(async (event) => {
      try {
        const feedback = await receivePartnerReport(await deps(), {
          header: (name) => header(event, name),
          body: rawBody(event),
        });
        metrics.reported(feedback);
        return jsonResponse(200, feedback);
      } finally {
        metrics.flush();
      }
    });
}

const log = createLogger();
export const handler = createPartnerReportHandler(
  once(() => awsIntakeDeps(log)),
  log,
  createIntakeMetrics(),
);
