import { signedDeliveryRoute } from "../lib/http/signed-delivery-route.js";
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
  return signedDeliveryRoute({
    deps,
    log,
    metrics,
    receive: async (intake, report) => ({ status: 200, body: await receivePartnerReport(intake, report) }),
  });
}

const log = createLogger();
export const handler = createPartnerReportHandler(
  once(() => awsIntakeDeps(log)),
  log,
  createIntakeMetrics(),
);
