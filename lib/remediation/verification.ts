import type { Policy } from "../config.js";
import type { Verification } from "../issuers/issuer.js";
import { boundEvidence } from "../store/bound-evidence.js";
import { boundKeyDetails, boundOwner } from "../store/field-limits.js";
import type { Leak, LeakStatus, TimelineEvent } from "../store/leak.js";
import type { LeakChanges } from "../store/leak-store.js";

// What a verification answer means for a leak; shared by inline verification at intake and the worker.

const STATUS_BY_VALIDITY: Record<Verification["status"], LeakStatus> = {
  active: "active",
  inactive: "inactive",
  unknown: "false_positive",
};

const DETAIL_BY_VALIDITY: Record<Verification["status"], string> = {
  active: "issuer reports the key live",
  inactive: "issuer reports the key already inactive: nothing to revoke",
  unknown: "issuer does not know this token: false positive",
};

/** The parts of the token type's policy fixed on the leak when it is verified. */
export type VerifiedPolicy = Pick<Policy, "mode" | "resolve_false_positive_alerts">;

export function applyVerification(
  verification: Verification,
  at: string,
  actor: string,
  policy: VerifiedPolicy,
): { changes: LeakChanges; event: TimelineEvent } {
  // Whatever size the issuer's answer, the leak's item must still fit: see store/field-limits.ts.
  const owner = boundOwner(verification.owner);
  const evidence = boundEvidence(verification.evidence);
  const { mode } = policy;
  const status = STATUS_BY_VALIDITY[verification.status];
  const changes: LeakChanges = {
    mode,
    status,
    // Fixed now, with the answer it is about; cleared when a later verification answers otherwise.
    resolveFalsePositiveAlerts:
      status === "false_positive" && policy.resolve_false_positive_alerts ? true : undefined,
    verifiedAt: at,
    keyId: verification.keyId,
    owner: owner.owner,
    evidence,
    keyDetails: boundKeyDetails(verification.details),
  };
  const data: Record<string, unknown> = { validity: verification.status, mode };
  if (verification.keyId) data.key_id = verification.keyId;
  if (evidence) data.evidence = evidence;
  if (owner.dropped.length > 0) data.dropped_owner_fields = owner.dropped;
  return {
    changes,
    event: {
      at,
      step: "verify",
      outcome: "ok",
      actor,
      detail: DETAIL_BY_VALIDITY[verification.status],
      data,
    },
  };
}

export type FeedbackLabel = "true_positive" | "false_positive";

/** GitHub feedback for a leak, when its answer is known: issued by the issuer, or not. */
export function feedbackLabel(leak: Leak): FeedbackLabel | undefined {
  switch (leak.status) {
    case "active":
    case "revoked":
    case "inactive":
      return "true_positive";
    case "false_positive":
      return "false_positive";
    case "failed":
      return leak.keyId ? "true_positive" : undefined;
    default:
      return undefined;
  }
}
