import * as z from "zod";
import { BadRequestError, ConflictError } from "../errors.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import type { Leak, LeakStatus } from "../store/leak.js";
import { alertResolutionOwed, awaitsWorker } from "../store/leak-lifecycle.js";
import type { LeakChanges, LeakStore } from "../store/leak-store.js";
import type { AdminIdentity } from "./admin-auth.js";
import { DISMISS_REASONS, DISMISSABLE_STATUSES } from "./dismiss-reasons.js";
import { findLeak, getLeak } from "./leak-queries.js";

// What an administrator can do to a leak: retry a failed remediation from the step that failed, or
// dismiss it with a reason. Both record who acted (the verified identity as the actor), and both are
// idempotent.

export interface AdminActionDeps {
  store: LeakStore;
  queue: RemediationQueue;
  now?: () => number;
}

/** The state a leak resumes from when the step that failed is tried again. */
function resumeFrom(leak: Leak, step: string): { status: LeakStatus; needsToken: boolean } | undefined {
  switch (step) {
    case "verify":
      return { status: "pending", needsToken: true };
    case "revoke":
      return { status: "active", needsToken: true };
    case "rotate":
      return { status: "revoked", needsToken: false };
    case "notify":
      // A notify-only leak is told from `active`; others keep the status the message is about.
      return {
        status: leak.mode === "notify_only" ? "active" : leak.revokedAt ? "revoked" : leak.status,
        needsToken: false,
      };
    default:
      return undefined;
  }
}

/**
 * Resumes a failed leak from the step that failed. A leak that is not failed but still needs the
 * worker (its message lost, say) and that no worker holds is sent to the worker again; any other
 * leak is left as it is, so asking twice changes nothing.
 */
export async function retryLeak(deps: AdminActionDeps, id: string | undefined, admin: AdminIdentity) {
  const leak = await findLeak(deps.store, id);
  const now = (deps.now ?? Date.now)();
  refuseWhileLeased(leak, now);
  if (leak.status === "false_positive" || leak.status === "unroutable")
    return verifyAgain(deps, leak, admin, now);
  const step = leak.failure?.step;
  const failed =
    step !== undefined &&
    (leak.status === "failed" || leak.notification?.status === "failed" || step === "rotate");
  const reopened = reopenAlerts(leak);
  if (!failed && reopened) return retryAlerts(deps, leak, reopened, admin, now);
  if (!failed) {
    const stalled = awaitsWorker(leak, now);
    if (stalled) await deps.queue.send([{ leakId: leak.id, sealedToken: leak.sealedToken ?? "" }]);
    return { retried: stalled, leak: await getLeak(deps.store, leak.id) };
  }
  const resume = resumeFrom(leak, step);
  if (!resume) throw new ConflictError(`leak ${leak.id} failed at step ${step}, which cannot be retried`);
  if (resume.needsToken && !leak.sealedToken) {
    throw new ConflictError(`leak ${leak.id} no longer holds its token sealed; it cannot be retried`);
  }
  const at = new Date(now).toISOString();
  const changes: LeakChanges = {
    status: resume.status,
    failure: undefined,
    lease: undefined,
    notification: undefined,
    // Alerts left open are tried again too, once the leak is settled again.
    ...(reopened ? { alerts: reopened } : {}),
  };
  const updated = await deps.store.updateLeak(leak, changes, [
    {
      at,
      step: "retry",
      outcome: "ok",
      actor: admin.id,
      detail: `${admin.display} asked to retry; resuming from ${step} (it had failed: ${leak.failure?.reason ?? "unknown reason"})`,
      data: { from_step: step },
    },
  ]);
  // Should this send fail, the leak now needs the worker and is not failed: a second retry resends it.
  await deps.queue.send([{ leakId: updated.id, sealedToken: leak.sealedToken ?? "" }]);
  return { retried: true, leak: await getLeak(deps.store, leak.id) };
}

/**
 * The leak's alert links with those the worker left open cleared, or undefined when none is, or the
 * leak owes its alerts no resolution (left live, failed, closed another way).
 */
function reopenAlerts(leak: Leak): Leak["alerts"] {
  if (!alertResolutionOwed(leak) || !leak.alerts?.some((link) => link.leftOpen)) return undefined;
  return leak.alerts.map(({ leftOpen: _, ...link }) => link);
}

/** GitHub's alerts left open (an outage outlasted the retries, no App then): the worker tries them again. */
async function retryAlerts(
  deps: AdminActionDeps,
  leak: Leak,
  alerts: NonNullable<Leak["alerts"]>,
  admin: AdminIdentity,
  now: number,
) {
  const again = leak.alerts?.filter((link) => link.leftOpen).length ?? 0;
  const updated = await deps.store.updateLeak(leak, { alerts, lease: undefined }, [
    {
      at: new Date(now).toISOString(),
      step: "retry",
      outcome: "ok",
      actor: admin.id,
      detail: `${admin.display} asked to retry; resolving ${again} GitHub alert(s) left open`,
      data: { from_step: "resolve_alerts" },
    },
  ]);
  await deps.queue.send([{ leakId: updated.id, sealedToken: leak.sealedToken ?? "" }]);
  return { retried: true, leak: await getLeak(deps.store, leak.id) };
}

/**
 * An issuer that did not know the token, or a type that had no issuer, may answer differently now (a
 * config change, an issuer's own fix): the worker verifies the leak again from its sealed token.
 */
async function verifyAgain(deps: AdminActionDeps, leak: Leak, admin: AdminIdentity, now: number) {
  if (!leak.sealedToken) {
    throw new ConflictError(
      `leak ${leak.id} holds no sealed token (it was recorded before tokens were kept for a new verification); it is verified again when it is reported again`,
    );
  }
  const reopened = reopenAlerts(leak);
  const updated = await deps.store.updateLeak(
    leak,
    { status: "pending", failure: undefined, lease: undefined, ...(reopened ? { alerts: reopened } : {}) },
    [
      {
        at: new Date(now).toISOString(),
        step: "retry",
        outcome: "ok",
        actor: admin.id,
        detail: `${admin.display} asked to verify the token again (it was ${leak.status})`,
        data: { from_step: "verify", previous_status: leak.status },
      },
    ],
  );
  await deps.queue.send([{ leakId: updated.id, sealedToken: leak.sealedToken }]);
  return { retried: true, leak: await getLeak(deps.store, leak.id) };
}

/** A worker holding the leak is mid-step (a revocation, a message): an admin's write waits for it. */
function refuseWhileLeased(leak: Leak, now: number): void {
  if (leak.lease && leak.lease.until > now) {
    const seconds = Math.ceil((leak.lease.until - now) / 1_000);
    throw new ConflictError(
      `leak ${leak.id} is being worked on (${leak.lease.step}); try again in ${seconds} s`,
    );
  }
}

export { DISMISS_REASONS };

const dismissBody = z
  .object({ reason: z.enum(DISMISS_REASONS), note: z.string().trim().min(1).max(1_000).optional() })
  .strict();

export function parseDismissal(body: string | undefined) {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch {
    throw new BadRequestError(
      `body must be JSON {"reason": one of ${DISMISS_REASONS.join(", ")}, "note"?: text}`,
    );
  }
  const parsed = dismissBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadRequestError(`invalid ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

const DISMISSABLE: ReadonlySet<LeakStatus> = new Set(DISMISSABLE_STATUSES);

export async function dismissLeak(
  deps: AdminActionDeps,
  id: string | undefined,
  admin: AdminIdentity,
  dismissal: { reason: string; note?: string | undefined },
) {
  const leak = await findLeak(deps.store, id);
  if (leak.status === "dismissed") return { dismissed: false, leak: await getLeak(deps.store, leak.id) };
  refuseWhileLeased(leak, (deps.now ?? Date.now)());
  if (!DISMISSABLE.has(leak.status)) {
    throw new ConflictError(
      `leak ${leak.id} is ${leak.status}; only a settled, unrevoked leak can be dismissed`,
    );
  }
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  await deps.store.updateLeak(
    leak,
    { status: "dismissed", dismissal: { ...dismissal, by: admin.id, at }, lease: undefined },
    [
      {
        at,
        step: "dismiss",
        outcome: "ok",
        actor: admin.id,
        detail: `dismissed by ${admin.display} as ${dismissal.reason}${dismissal.note ? `: ${dismissal.note}` : ""} (was ${leak.status})`,
        data: { reason: dismissal.reason, previous_status: leak.status },
      },
    ],
  );
  return { dismissed: true, leak: await getLeak(deps.store, leak.id) };
}
