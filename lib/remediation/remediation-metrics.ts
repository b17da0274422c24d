// The worker's metrics port: what operators alarm on. Powertools' EMF metrics in Lambda
// (lib/runtime/metrics.ts); nothing locally, where the admin API already shows each leak's figures.

export interface RemediationMetrics {
  /** A live key was revoked and re-verified dead this long after its report arrived. */
  revoked(timeToRevokeMs: number): void;
  /** A leak failed for good at this step. */
  failed(step: string): void;
}

export const noMetrics: RemediationMetrics = { revoked() {}, failed() {} };
