import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { IntakeMetrics } from "../intake/intake-metrics.js";
import type { RemediationMetrics } from "../remediation/remediation-metrics.js";

const namespace = () => process.env.POWERTOOLS_METRICS_NAMESPACE ?? "Tourniquet";

/** Publishes what an invocation recorded; an invocation that recorded nothing writes nothing (no warning). */
const flushOf = (metrics: Metrics) => () => {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
};

/**
 * Powertools metrics (CloudWatch embedded metric format, written to the log) under the namespace and
 * service the stack sets (POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME); the stack's alarms
 * read `TimeToRevoke` and `LeaksFailed`. `flush()` publishes what one invocation recorded.
 */
export function createRemediationMetrics(): RemediationMetrics & { flush(): void } {
  const metrics = new Metrics({ namespace: namespace() });
  return {
    revoked: (ms) => {
      metrics.addMetric("TimeToRevoke", MetricUnit.Milliseconds, ms);
      metrics.addMetric("LeaksRevoked", MetricUnit.Count, 1);
    },
    failed: () => metrics.addMetric("LeaksFailed", MetricUnit.Count, 1),
    flush: flushOf(metrics),
  };
}

/**
 * The intake's: `ReportsReceived` (accepted partner reports) or `AlertsReceived` (App alerts recorded
 * for the worker's fetch), `TokensReported` (distinct tokens in a report; none yet in an alert, whose
 * secret the worker fetches), `TokensVerified` (those inline verification labelled), `TruePositives`
 * (labelled live or once live).
 */
export function createIntakeMetrics(): IntakeMetrics {
  const metrics = new Metrics({ namespace: namespace() });
  return {
    reported: (tokens, source) => {
      metrics.addMetric(source === "app_alert" ? "AlertsReceived" : "ReportsReceived", MetricUnit.Count, 1);
      metrics.addMetric("TokensReported", MetricUnit.Count, tokens.length);
      metrics.addMetric("TokensVerified", MetricUnit.Count, tokens.filter((t) => t.label).length);
      metrics.addMetric(
        "TruePositives",
        MetricUnit.Count,
        tokens.filter((t) => t.label === "true_positive").length,
      );
    },
    flush: flushOf(metrics),
  };
}

/**
 * `ConfigRejected`: a refreshed config that does not validate or construct was refused and the last
 * good one stays in use (the stack alarms on it). Published at once: it happens outside any invocation's
 * flush, in the background refresh.
 */
export function publishConfigRejected(): void {
  const metrics = new Metrics({ namespace: namespace() });
  metrics.addMetric("ConfigRejected", MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
