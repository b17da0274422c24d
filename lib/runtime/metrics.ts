import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { RemediationMetrics } from "../remediation/remediation-metrics.js";

/**
 * Powertools metrics (CloudWatch embedded metric format, written to the log) under the namespace and
 * service the stack sets (POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME); the stack's alarms
 * read `TimeToRevoke` and `LeaksFailed`. `flush()` publishes what one invocation recorded.
 */
export function createRemediationMetrics(): RemediationMetrics & { flush(): void } {
  const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "Tourniquet" });
  return {
    revoked: (ms) => {
      metrics.addMetric("TimeToRevoke", MetricUnit.Milliseconds, ms);
      metrics.addMetric("LeaksRevoked", MetricUnit.Count, 1);
    },
    failed: () => metrics.addMetric("LeaksFailed", MetricUnit.Count, 1),
    flush: () => metrics.publishStoredMetrics(),
  };
}
