import type { FeedbackLabel } from "../remediation/verification.js";

// The intake's metrics port: how many reports and tokens arrive, and what inline verification made of
// them. Powertools' EMF metrics in Lambda (lib/runtime/metrics.ts); nothing locally.

/** Where tokens come from: GitHub's partner program, or a GitHub App's secret scanning alert. */
export type IntakeSource = "partner_report" | "app_alert";

export interface IntakeMetrics {
  /** One accepted report or alert, and each distinct token in it (labelled when verification answered). */
  reported(tokens: readonly { label: FeedbackLabel | undefined }[], source: IntakeSource): void;
  /** One invocation's metrics are complete. */
  flush(): void;
}

export const noIntakeMetrics: IntakeMetrics = { reported() {}, flush() {} };
