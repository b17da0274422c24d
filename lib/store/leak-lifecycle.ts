import type { Leak } from "./leak.js";

// What the worker still owes a leak: the one rule. The worker runs the step it names, intake queues a
// leak it names a step for, the sweep finds stuck leaks through the index it keeps (`owes-work` keys in
// leak-keys.ts), and an admin's retry re-queues by it. A leak it names no step for is done.

export type Step = "verify" | "revoke" | "rotate" | "dry_run" | "notify";

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
      return told ? undefined : "notify";
    case "failed":
      // Remediation gave up: the owner or security contact still hears of it, once.
      return told ? undefined : "notify";
    default:
      return undefined;
  }
}

/** Last time anything happened to the leak: its newest timeline event, else when it was first seen. */
export function lastActivity(leak: Leak): string {
  return leak.timeline.at(-1)?.at ?? leak.firstSeen;
}

/** Owed a step, and no worker holds it now: its queue message may have been lost. */
export function awaitsWorker(leak: Leak, now: number): boolean {
  return owedStep(leak) !== undefined && !(leak.lease && leak.lease.until > now);
}
