import type { Feedback } from "./receive-partner-report.js";

// The intake's metrics port: how many reports and tokens arrive, and what inline verification made of
// them. Powertools' EMF metrics in Lambda (lib/runtime/metrics.ts); nothing locally.

export interface IntakeMetrics {
  /** One accepted report and the feedback it was answered with (one entry per distinct token). */
  reported(feedback: readonly Feedback[]): void;
  /** One invocation's metrics are complete. */
  flush(): void;
}

export const noIntakeMetrics: IntakeMetrics = { reported() {}, flush() {} };
