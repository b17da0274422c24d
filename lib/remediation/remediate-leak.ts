import { randomUUID } from "node:crypto";
import { type Policy, type PolicyMode, policyFor, type TourniquetConfig } from "../config.js";
import {
  BusyError,
  ConflictError,
  DeadLetterError,
  IssuerError,
  NotFoundError,
  SealError,
} from "../errors.js";
import { fetchReportedAlert } from "../intake/fetch-reported-alert.js";
import { recordReportPart } from "../intake/record-report-part.js";
import type { Issuer, Revocation } from "../issuers/issuer.js";
import { describeError } from "../log.js";
import { type Delivery, isAlertFetch, isReportPart, type QueueMessage } from "../queue/remediation-queue.js";
import type { Leak, TimelineEvent } from "../store/leak.js";
import { owedStep, type Step } from "../store/leak-lifecycle.js";
import type { LeakChanges } from "../store/leak-store.js";
import { once, sleep } from "../util/concurrency.js";
import { isTransient } from "../util/retry.js";
import { notifyLeak, planDeliveries } from "./notify-leak.js";
import { leaveAlertsOpen, resolveAlerts } from "./resolve-alerts.js";
import { remediateTogether } from "./revoke-together.js";
import { applyVerification } from "./verification.js";
import { ACTOR, isoNow, type Run, takeLease, type WorkerDeps, withRetries } from "./worker-run.js";

export type { WorkerDeps } from "./worker-run.js";

export const modeOf = (leak: Leak, config: TourniquetConfig): PolicyMode =>
  (leak.mode as PolicyMode | undefined) ?? policyFor(config, leak.tokenType).mode;

export interface RemediateOptions {
  /** Stops at the revocation, for the caller to make it together with others' (revoke-together.ts). */
  holdRevocation?: boolean | undefined;
}

/** Enough loop turns for verify → revoke → rotate → notify → resolve_alerts plus a few lost races. */
const MAX_TURNS = 10;

/**
 * The remediation worker: verify → revoke → re-verify → (rotate) → notify → (resolve the GitHub
 * alerts), as the token type's policy says; each step one conditional write with its timeline event. Redeliveries and concurrent workers
 * converge: side effects run under a lease, the issuer's revoke is idempotent, and every notification
 * delivery is recorded by its deterministic id before another is attempted.
 */
export async function remediateLeak(
  deps: WorkerDeps,
  anyDelivery: Delivery<QueueMessage>,
  options: RemediateOptions = {},
): Promise<void> {
  // A GitHub App alert: its secret is fetched and recorded first, which queues its leak.
  if (isAlertFetch(anyDelivery.message)) {
    return fetchReportedAlert(deps, { ...anyDelivery, message: anyDelivery.message });
  }
  // A part of a mass report: its tokens are recorded, which queues their leaks.
  if (isReportPart(anyDelivery.message)) {
    return recordReportPart(deps, { ...anyDelivery, message: anyDelivery.message });
  }
  const delivery = { ...anyDelivery, message: anyDelivery.message };
  // Several leaks whose revocations go in one call (revoke-together.ts).
  if (delivery.message.together?.length) return remediateTogether(deps, delivery);
  const { leakId, sealedToken } = delivery.message;
  // Opened only when a step needs it: a redelivery of a settled leak costs no decryption (KMS call).
  const token = once(() => openToken(deps, sealedToken, leakId));
  // Each delivery holds its own leases, so two deliveries in one process cannot share one.
  const run: Run = { ...deps, holder: `${deps.workerId}:${randomUUID()}` };
  // The leak as this delivery's last step wrote it: the next turn starts from it without reading it back
  // (every step begins with a conditional write, so a change made meanwhile still surfaces as a conflict).
  let written: Leak | undefined;
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const leak = written ?? (await deps.store.getLeak(leakId));
    written = undefined;
    if (!leak) throw new NotFoundError(`leak ${leakId} does not exist`);
    const step = owedStep(leak, modeOf(leak, deps.config));
    if (!step && leak.status === "failed") {
      // Failed for good and everyone told: the message is kept where operators look, like SQS's DLQ.
      throw new DeadLetterError(
        `leak ${leak.id} failed at ${leak.failure?.step ?? "a step"}; message kept for inspection`,
      );
    }
    if (!step || (step === "revoke" && options.holdRevocation)) return;
    // GitHub's writes are paced: a resolution whose turn has not come goes back to the queue, delayed.
    if (step === "resolve_alerts" && (await deferredResolution(deps, leak, sealedToken))) return;
    try {
      written = await runStep(run, step, leak, token);
      if (
        step === "revoke" &&
        deps.revokeFirst &&
        written &&
        owedStep(written, modeOf(written, deps.config))
      ) {
        // Sent after the revocation is recorded: should the send fail, this message comes again instead.
        await deps.queue.send([{ leakId, sealedToken }]);
        return;
      }
    } catch (error) {
      if (error instanceof ConflictError) continue; // another writer moved the leak on: look again
      if (error instanceof BusyError) throw error; // another worker is on it: come back later
      if (error instanceof SealError) {
        // Neither the message's copy nor the leak's own opens (key replaced, local key lost): no retry
        // can ever act on this token, so the leak fails once, its people are told, and it settles.
        await recordUnsealFailure(run, leak, error).catch((e: unknown) => {
          if (!(e instanceof ConflictError)) throw e; // moved on meanwhile: look again
        });
        continue;
      }
      await recordFailure(run, leak, step, error, delivery);
      if (isTransient(error) && delivery.receiveCount < delivery.maxReceives) throw error;
    }
  }
  throw new BusyError(`leak ${leakId} kept changing under the worker`);
}

/** True when the leak's alert resolution was put back on the queue until GitHub's pacing allows it. */
async function deferredResolution(deps: WorkerDeps, leak: Leak, sealedToken: string): Promise<boolean> {
  // Without an App nothing is written to GitHub: the step records that at once.
  if (!deps.githubApp || !deps.githubWritePace) return false;
  const delaySeconds = deps.githubWritePace.delaySeconds();
  if (delaySeconds === undefined) return false;
  await deps.queue.send([{ leakId: leak.id, sealedToken }], { delaySeconds });
  deps.log.info("alert resolution deferred: GitHub's writes are paced", { leakId: leak.id, delaySeconds });
  return true;
}

/** Opens the message's sealed token, else the leak's own copy (the message may be the bad one). */
export async function openToken(deps: WorkerDeps, sealedToken: string, leakId: string): Promise<string> {
  try {
    return await deps.sealer.open(sealedToken, leakId);
  } catch (error) {
    if (!(error instanceof SealError)) throw error;
    const stored = (await deps.store.getLeak(leakId))?.sealedToken;
    if (!stored || stored === sealedToken) throw error;
    return deps.sealer.open(stored, leakId);
  }
}

/** Runs one step; returns the leak as the step last wrote it, when the step knows it. */
async function runStep(
  deps: Run,
  step: Step,
  leak: Leak,
  token: () => Promise<string>,
): Promise<Leak | undefined> {
  const policy = { ...policyFor(deps.config, leak.tokenType), mode: modeOf(leak, deps.config) };
  // The notify step claims its lease with its first write (notify-leak.ts).
  if (step === "notify") return notifyLeak(deps, leak, policy);
  if (step === "dry_run") return recordDryRun(deps, leak, policy);
  if (step === "resolve_alerts") {
    await (deps.githubWritePace
      ? deps.githubWritePace.run(() => resolveAlerts(deps, leak))
      : resolveAlerts(deps, leak));
    return undefined;
  }
  const issuer = deps.issuers.forType(leak.tokenType);
  if (!issuer && step === "verify") return recordUnroutable(deps, leak);
  if (!issuer)
    throw new IssuerError(`no issuer handles type "${leak.tokenType}" any more`, { transient: false });
  if (step === "rotate") return rotate(deps, issuer, await takeLease(deps, leak, step));
  if (step === "verify") {
    const raw = await token();
    const verification = await withRetries(deps, (signal) =>
      issuer.verify({ token: raw, type: leak.tokenType }, { signal }),
    );
    const { changes, event } = applyVerification(verification, isoNow(deps), ACTOR, policy);
    return deps.store.updateLeak(leak, { ...changes, issuer: issuer.name }, [event]);
  }
  // The lease first: a failure to open the token must not touch another delivery's lease.
  const leased = await takeLease(deps, leak, step);
  return revoke(deps, issuer, leased, await token());
}

async function revoke(deps: WorkerDeps, issuer: Issuer, leak: Leak, token: string): Promise<Leak> {
  const keyId = keyIdToRevoke(leak);
  const revocation = await withRetries(deps, (signal) =>
    issuer.revoke(
      { keyId, type: leak.tokenType, leakId: leak.id, fingerprint: leak.fingerprint, token },
      { signal },
    ),
  );
  return confirmRevocation(deps, issuer, leak, token, revocation);
}

export function keyIdToRevoke(leak: Leak): string {
  if (!leak.keyId)
    throw new IssuerError("issuer reported the key active without a key id", { transient: false });
  return leak.keyId;
}

/**
 * After the issuer's revoke call: the token must now fail verification (proof, not trust); then the
 * leak is recorded revoked, with both events, releasing the lease. `leak` is as its lease left it;
 * the leak as recorded revoked is returned.
 */
export async function confirmRevocation(
  deps: WorkerDeps,
  issuer: Issuer,
  leak: Leak,
  token: string,
  revocation: Revocation,
): Promise<Leak> {
  const keyId = keyIdToRevoke(leak);
  const revokedAt = isoNow(deps);
  const events: TimelineEvent[] = [
    {
      at: revokedAt,
      step: "revoke",
      outcome: "ok",
      actor: ACTOR,
      detail: [
        revocation.alreadyRevoked
          ? `issuer ${issuer.name} confirmed key ${keyId} revoked (an earlier attempt had already revoked it)`
          : `issuer ${issuer.name} revoked key ${keyId}`,
        ...(revocation.actions ?? []),
      ].join("; "),
      data: {
        key_id: keyId,
        already_revoked: revocation.alreadyRevoked,
        mode: leak.mode ?? "revoke",
        ...(revocation.actions?.length ? { actions: revocation.actions } : {}),
      },
    },
  ];
  // Proof, not trust: the token itself must now fail verification.
  const after = await verifyRevoked(deps, issuer, leak, token);
  if (after.status === "active") {
    throw new IssuerError(`issuer ${issuer.name} still reports key ${keyId} live after revocation`, {
      transient: true,
    });
  }
  const confirmedAt = isoNow(deps);
  events.push({
    at: confirmedAt,
    step: "re-verify",
    outcome: "ok",
    actor: ACTOR,
    detail: `token re-verified after revocation: ${after.status}`,
    data: { validity_before: "active", validity_after: after.status },
  });
  const timeToRevokeMs = Date.parse(confirmedAt) - leak.receivedAtMs;
  const revoked = await deps.store.updateLeak(
    leak,
    { status: "revoked", revokedAt: confirmedAt, timeToRevokeMs, lease: undefined },
    events,
  );
  deps.metrics?.revoked(timeToRevokeMs);
  return revoked;
}

/**
 * The token's verification after its revocation. An issuer that revokes asynchronously (GitHub answers
 * 202 Accepted) is asked again, with growing pauses, for as long as it says revocation may take.
 */
async function verifyRevoked(deps: WorkerDeps, issuer: Issuer, leak: Leak, token: string) {
  const settleBy = Date.now() + (issuer.revocationSettlesWithinMs ?? 0);
  const deadline = deps.deadline?.() ?? Number.POSITIVE_INFINITY;
  for (let pause = 250; ; pause *= 2) {
    const after = await withRetries(deps, (signal) =>
      issuer.verify({ token, type: leak.tokenType }, { signal }),
    );
    const wait = Math.min(pause, settleBy - Date.now(), deadline - Date.now());
    if (after.status !== "active" || wait <= 0) return after;
    await sleep(wait);
  }
}

/**
 * revoke_and_rotate: the issuer makes a replacement. An issuer that gives the secret to the owner
 * itself keeps Tourniquet out of it; an adapter that hands it over has it put straight into the
 * secret store, and the owner is told where to fetch it.
 */
async function rotate(deps: WorkerDeps, issuer: Issuer, leak: Leak): Promise<Leak> {
  const keyId = leak.keyId ?? "";
  const rotateKey = issuer.rotate?.bind(issuer);
  if (!rotateKey) {
    throw new IssuerError(`issuer ${issuer.name} cannot rotate keys (policy revoke_and_rotate)`, {
      transient: false,
    });
  }
  const rotation = await withRetries(deps, () =>
    rotateKey({ keyId, type: leak.tokenType, leakId: leak.id, fingerprint: leak.fingerprint }),
  );
  let replacement: NonNullable<Leak["replacement"]>;
  const at = isoNow(deps);
  if (rotation.secret !== undefined && !deps.secrets && rotation.where) {
    // The vendor keeps the new key readable to its owner (Azure's portal): the handed-over copy is dropped.
    replacement = { keyId: rotation.replacementKeyId, deliveredBy: "issuer", where: rotation.where, at };
  } else if (rotation.secret !== undefined) {
    if (!deps.secrets)
      throw new IssuerError("a replacement secret was handed over but no secret store is configured", {
        transient: false,
      });
    const stored = await deps.secrets.put({
      leakId: leak.id,
      keyId: rotation.replacementKeyId,
      secret: rotation.secret,
    });
    replacement = { keyId: rotation.replacementKeyId, deliveredBy: "secret_store", where: stored.where, at };
  } else {
    replacement = {
      keyId: rotation.replacementKeyId,
      deliveredBy: "issuer",
      where: rotation.deliveredToOwner
        ? `delivered to you directly by ${issuer.name}`
        : (rotation.where ?? `available from ${issuer.name} (ask your administrator)`),
      at,
    };
  }
  return deps.store.updateLeak(leak, { replacement, lease: undefined }, [
    {
      at,
      step: "rotate",
      outcome: "ok",
      actor: ACTOR,
      detail: `issuer ${issuer.name} created replacement key ${rotation.replacementKeyId}; ${replacement.where}${rotation.note ? `. ${rotation.note}` : ""}`,
      data: {
        replacement_key_id: rotation.replacementKeyId,
        delivered_by: replacement.deliveredBy,
        ...(rotation.note ? { note: rotation.note } : {}),
      },
    },
  ]);
}

/** Nothing to verify with: the leak waits, unroutable, for a config that names an issuer for its type. */
async function recordUnroutable(deps: Run, leak: Leak): Promise<Leak> {
  return deps.store.updateLeak(leak, { status: "unroutable", issuer: null }, [
    {
      at: isoNow(deps),
      step: "verify",
      outcome: "skipped",
      actor: ACTOR,
      detail: `no issuer handles type "${leak.tokenType}": left unroutable`,
    },
  ]);
}

/** dry_run: everything up to the issuer call, and a record of what would have been done. */
async function recordDryRun(deps: Run, leak: Leak, policy: Policy): Promise<Leak> {
  const at = isoNow(deps);
  const planned = planDeliveries(deps, leak, policy);
  return deps.store.updateLeak(leak, { status: "dry_run" }, [
    {
      at,
      step: "dry_run",
      outcome: "skipped",
      actor: ACTOR,
      detail: `dry run: would revoke key ${leak.keyId} with issuer ${leak.issuer}${planned.length ? ` and notify ${planned.map((p) => `${p.recipient.email ?? p.recipient.role} via ${p.channel.name}`).join(", ")}` : ""}; nothing was done`,
      data: {
        mode: "dry_run",
        key_id: leak.keyId,
        would_notify: planned.map((p) => ({
          channel: p.channel.name,
          recipient: p.recipient.email ?? p.recipient.role,
        })),
      },
    },
  ]);
}

export async function recordUnsealFailure(deps: Run, leak: Leak, error: SealError): Promise<void> {
  const at = isoNow(deps);
  const reason = `the sealed token does not open (${error.message}); it cannot be verified or revoked`;
  deps.log.error("remediation step failed", { leakId: leak.id, step: "unseal", reason, final: true });
  await deps.store.updateLeak(
    leak,
    { status: "failed", failure: { step: "unseal", reason, at }, lease: undefined, sealedToken: undefined },
    [{ at, step: "unseal", outcome: "failed", actor: ACTOR, detail: reason }],
  );
  deps.metrics?.failed("unseal");
}

/**
 * Records a failed attempt. Written only if the leak is still as this delivery left it (same status,
 * and no other delivery's live lease), so a slow delivery cannot undo what a faster one finished.
 */
export async function recordFailure(deps: Run, leak: Leak, step: Step, error: unknown, delivery: Delivery) {
  const at = isoNow(deps);
  const reason = describeError(error);
  const final = !isTransient(error) || delivery.receiveCount >= delivery.maxReceives;
  deps.log.warn("remediation step failed", {
    leakId: leak.id,
    step,
    reason,
    final,
    receiveCount: delivery.receiveCount,
  });
  const current = (await deps.store.getLeak(leak.id)) ?? leak; // the lease write bumped the version
  const now = (deps.now ?? Date.now)();
  const othersLease = current.lease && current.lease.holder !== deps.holder && current.lease.until > now;
  if (current.status !== leak.status || othersLease) return; // someone else moved the leak on
  const event: TimelineEvent = {
    at,
    step,
    outcome: final ? "failed" : "retrying",
    actor: ACTOR,
    detail: final
      ? `gave up after attempt ${delivery.receiveCount}: ${reason}`
      : `attempt ${delivery.receiveCount} of ${delivery.maxReceives} failed: ${reason}; will retry`,
  };
  const changes: LeakChanges = { lease: undefined };
  if (final && step === "resolve_alerts") {
    // GitHub's alerts are all a settled leak still owed: they stay open for a person, while the leak's
    // status and the failure an admin's retry resumes from are left as they are.
    changes.alerts = leaveAlertsOpen(current.alerts, { outcome: "failed", reason, at });
  } else if (final) {
    // An earlier failure (the revocation) stays the one an admin's retry resumes from.
    const failure = current.status === "failed" && current.failure ? current.failure : { step, reason, at };
    if (step === "notify") changes.notification = { status: "failed", at };
    // A revoked key stays revoked whatever happens to the message or the replacement.
    if (current.status !== "revoked") changes.status = "failed";
    changes.failure = failure;
  }
  await deps.store.updateLeak(current, changes, [event]);
  if (final && current.status !== "failed") deps.metrics?.failed(step);
}
