import type { AlertLink } from "../github/alert-record.js";
import type { Leak } from "./leak.js";

// What the worker still owes a leak: the one rule. The worker runs the step it names, intake queues a
// leak it names a step for, the sweep finds stuck leaks through the index it keeps (`owes-work` keys in
// leak-keys.ts), and an admin's retry re-queues by it. A leak it names no step for is done.

export type Step = "verify" | "revoke" | "rotate" | "dry_run" | "notify" | "resolve_alerts";

/** How a settled leak's GitHub alerts are resolved: `revoked` covers keys found dead already, too. */
export type AlertResolutionOwed = "revoked" | "false_positive";

/**
 * The step the worker owes the leak next, or undefined when it owes nothing. `mode` is the policy
 * fixed at verification; `fallbackMode` is used only for a leak verified before modes were recorded.
 */
export function owedStep(leak: Leak, fallbackMode = "revoke"): Step | undefined {
  const mode = leak.mode ?? fallbackMode;
  const told = leak.notification !== undefined;
  switch (leak.status) {
    case "pending":
      return "verify";
    case "active":
      if (mode === "dry_run") return "dry_run";
      if (mode === "notify_only") return told ? undefined : "notify";
      return "revoke";
    case "revoked":
      // A replacement is owed once; a rotation that failed for good is not tried again by itself.
      if (mode === "revoke_and_rotate" && !leak.replacement && leak.failure?.step !== "rotate")
        return "rotate";
      if (!told) return "notify";
      // GitHub hears last, once everything else the leak was owed is done.
      return unresolvedAlerts(leak).length > 0 ? "resolve_alerts" : undefined;
    case "inactive":
    case "false_positive":
      return alertResolutionOwed(leak) && unresolvedAlerts(leak).length > 0 ? "resolve_alerts" : undefined;
    case "failed":
      // Remediation gave up: the owner or security contact still hears of it, once.
      return told ? undefined : "notify";
    default:
      return undefined;
  }
}

/**
 * The resolution the leak's GitHub alerts get, or undefined when they stay open: a revoked key, and a
 * key found dead already, as `revoked`; a token its issuer does not know as `false_positive` only when
 * the policy fixed at its verification said so. Never for a key left live (notified, dry_run), a failed
 * remediation, or a leak an admin or the config closed (dismissed, allowlisted, paired, unroutable).
 */
export function alertResolutionOwed(leak: Leak): AlertResolutionOwed | undefined {
  switch (leak.status) {
    case "revoked":
    case "inactive":
      return "revoked";
    case "false_positive":
      return leak.resolveFalsePositiveAlerts === true ? "false_positive" : undefined;
    default:
      return undefined;
  }
}

/** Alert links not yet resolved nor given up on. A resolved link is never resolved again. */
export function unresolvedAlerts(leak: Leak): AlertLink[] {
  return (leak.alerts ?? []).filter((link) => !link.resolved && !link.leftOpen);
}

/** Last time anything happened to the leak: its newest timeline event, else when it was first seen. */
export function lastActivity(leak: Leak): string {
  return leak.timeline.at(-1)?.at ?? leak.firstSeen;
}

/** Owed a step, and no worker holds it now: its queue message may have been lost. */
export function awaitsWorker(leak: Leak, now: number): boolean {
  return owedStep(leak) !== undefined && !(leak.lease && leak.lease.until > now);
}
