import { z } from "zod";
import { BadRequestError, ConflictError, NotFoundError } from "../errors.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import type { Leak, LeakStatus } from "../store/leak.js";
import type { LeakChanges, LeakStore } from "../store/leak-store.js";
import type { AdminIdentity } from "./admin-auth.js";
import { leakDetailView } from "./leak-view.js";

// What an administrator can do to a leak: retry a failed remediation from the step that failed, or
// dismiss it with a reason. Both record who acted, and both are idempotent.

export interface AdminActionDeps {
  store: LeakStore;
  queue: RemediationQueue;
  now?: () => number;
}

async function load(store: LeakStore, id: string | undefined): Promise<Leak> {
  const leak = id && /^lk_[0-9a-f]{24}$/.test(id) ? await store.getLeak(id) : undefined;
  if (!leak) throw new NotFoundError(`no leak with id ${String(id).slice(0, 40)}`);
  return leak;
}

async function detail(store: LeakStore, id: string) {
  const details = await store.getLeakDetails(id);
  if (!details) throw new NotFoundError(`no leak with id ${id}`);
  return leakDetailView(details);
}

/** The state a leak resumes from when the step that failed is tried again. */
const RESUME: Record<string, { status?: LeakStatus; clear: (keyof Leak)[] }> = {
  verify: { status: "pending", clear: ["notification"] },
  revoke: { status: "active", clear: ["notification"] },
  rotate: { clear: [] },
  notify: { clear: ["notification"] },
};

export async function retryLeak(deps: AdminActionDeps, id: string | undefined, admin: AdminIdentity) {
  const leak = await load(deps.store, id);
  const step = leak.failure?.step;
  const failed = leak.status === "failed" || leak.notification?.status === "failed" || step === "rotate";
  if (!failed || !step) {
    // Already retried, or never failed: nothing to do, and saying so twice changes nothing.
    return { retried: false, leak: await detail(deps.store, leak.id) };
  }
  const resume = RESUME[step];
  if (!resume) throw new ConflictError(`leak ${leak.id} failed at step ${step}, which cannot be retried`);
  if (!leak.sealedToken)
    throw new ConflictError(`leak ${leak.id} no longer holds its token sealed; it cannot be retried`);
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  const changes: LeakChanges = { failure: undefined, lease: undefined };
  if (resume.status) changes.status = resume.status;
  for (const field of resume.clear) (changes as Record<string, unknown>)[field] = undefined;
  const updated = await deps.store.updateLeak(leak, changes, [
    {
      at,
      step: "retry",
      outcome: "ok",
      actor: admin,
      detail: `${admin} asked to retry; resuming from ${step} (it had failed: ${leak.failure?.reason ?? "unknown reason"})`,
      data: { from_step: step },
    },
  ]);
  await deps.queue.send([{ leakId: updated.id, sealedToken: leak.sealedToken }]);
  return { retried: true, leak: await detail(deps.store, leak.id) };
}

export const DISMISS_REASONS = [
  "false_positive",
  "accepted_risk",
  "test_token",
  "duplicate",
  "other",
] as const;

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

/** Statuses an administrator may close by dismissal: nothing is running and nothing was revoked. */
const DISMISSABLE: ReadonlySet<LeakStatus> = new Set([
  "failed",
  "unroutable",
  "false_positive",
  "inactive",
  "notified",
  "dry_run",
  "allowlisted",
]);

export async function dismissLeak(
  deps: AdminActionDeps,
  id: string | undefined,
  admin: AdminIdentity,
  dismissal: { reason: string; note?: string | undefined },
) {
  const leak = await load(deps.store, id);
  if (leak.status === "dismissed") return { dismissed: false, leak: await detail(deps.store, leak.id) };
  if (!DISMISSABLE.has(leak.status)) {
    throw new ConflictError(
      `leak ${leak.id} is ${leak.status}; only a settled, unrevoked leak can be dismissed`,
    );
  }
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  await deps.store.updateLeak(
    leak,
    { status: "dismissed", dismissal: { ...dismissal, by: admin, at }, lease: undefined },
    [
      {
        at,
        step: "dismiss",
        outcome: "ok",
        actor: admin,
        detail: `dismissed by ${admin} as ${dismissal.reason}${dismissal.note ? `: ${dismissal.note}` : ""} (was ${leak.status})`,
        data: { reason: dismissal.reason, previous_status: leak.status },
      },
    ],
  );
  return { dismissed: true, leak: await detail(deps.store, leak.id) };
}
