import { randomUUID } from "node:crypto";
import type { TourniquetConfig } from "../config.js";
import { BusyError, ConflictError, IssuerError, NotFoundError, SealError } from "../errors.js";
import type { Issuer } from "../issuers/issuer.js";
import type { IssuerRegistry } from "../issuers/issuer-registry.js";
import { describeError, type Log } from "../log.js";
import { renderLeakNotification } from "../notify/leak-notification.js";
import type { Notifier } from "../notify/notifier.js";
import type { Delivery } from "../queue/remediation-queue.js";
import type { TokenSealer } from "../queue/token-sealer.js";
import type { Leak, TimelineEvent } from "../store/leak.js";
import type { LeakChanges, LeakStore } from "../store/leak-store.js";
import { once } from "../util/concurrency.js";
import { isTransient, retryTransient } from "./retry.js";
import { applyVerification } from "./verification.js";

export interface WorkerDeps {
  config: TourniquetConfig;
  store: LeakStore;
  issuers: IssuerRegistry;
  sealer: TokenSealer;
  notifier: Notifier;
  log: Log;
  /** Names this worker (process or Lambda container) in the leases it holds. */
  workerId: string;
  now?: () => number;
  /** How long a side effect (revoke, notify) may take before another worker may try it. */
  leaseMs?: number;
}

type Step = "verify" | "revoke" | "notify";

/** One delivery's view of the worker: its dependencies and the id its leases carry. */
interface Run extends WorkerDeps {
  holder: string;
}

function nextStep(leak: Leak): Step | undefined {
  if (leak.status === "pending") return "verify";
  if (leak.status === "active") return "revoke";
  if (leak.status === "revoked" && !leak.notification) return "notify";
  return undefined;
}

const ACTOR = "worker";
/** Enough loop turns for verify → revoke → notify plus a few lost races. */
const MAX_TURNS = 8;

/**
 * The remediation worker: verify → revoke → re-verify → notify, each step one conditional write with its
 * timeline event. Redeliveries and concurrent workers converge: side effects run under a lease, the
 * issuer's revoke is idempotent, and the notifier recognises a message it already sent.
 */
export async function remediateLeak(deps: WorkerDeps, delivery: Delivery): Promise<void> {
  const { leakId, sealedToken } = delivery.message;
  // Opened only when a step needs it: a redelivery of a settled leak costs no decryption (KMS call).
  const token = once(() => deps.sealer.open(sealedToken, leakId));
  // Each delivery holds its own leases, so two deliveries in one process cannot share one.
  const run: Run = { ...deps, holder: `${deps.workerId}:${randomUUID()}` };
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const leak = await deps.store.getLeak(leakId);
    if (!leak) throw new NotFoundError(`leak ${leakId} does not exist`);
    const step = nextStep(leak);
    if (!step) return;
    try {
      await runStep(run, step, leak, token);
    } catch (error) {
      if (error instanceof ConflictError) continue; // another writer moved the leak on: look again
      if (error instanceof BusyError) throw error; // another worker is on it: come back later
      if (error instanceof SealError) throw error; // a bad message, not a bad leak: dead-letter it
      await recordFailure(deps, leak, step, error, delivery);
      if (isTransient(error) && delivery.receiveCount < delivery.maxReceives) throw error;
      return;
    }
  }
  throw new BusyError(`leak ${leakId} kept changing under the worker`);
}

async function runStep(deps: Run, step: Step, leak: Leak, token: () => Promise<string>): Promise<void> {
  const issuer = leak.issuer ? deps.issuers.forType(leak.tokenType) : undefined;
  if (step === "notify") return notifyOwner(deps, await takeLease(deps, leak, step));
  if (!issuer)
    throw new IssuerError(`no issuer handles type "${leak.tokenType}" any more`, { transient: false });
  const raw = await token();
  if (step === "verify") {
    const verification = await withRetries(deps, () => issuer.verify({ token: raw, type: leak.tokenType }));
    const { changes, event } = applyVerification(verification, isoNow(deps), ACTOR);
    await deps.store.updateLeak(leak, changes, [event]);
    return;
  }
  await revoke(deps, issuer, await takeLease(deps, leak, step), raw);
}

async function revoke(deps: WorkerDeps, issuer: Issuer, leak: Leak, token: string): Promise<void> {
  const keyId = leak.keyId;
  if (!keyId) throw new IssuerError("issuer reported the key active without a key id", { transient: false });
  const revocation = await withRetries(deps, () =>
    issuer.revoke({ keyId, type: leak.tokenType, leakId: leak.id }),
  );
  const revokedAt = isoNow(deps);
  const events: TimelineEvent[] = [
    {
      at: revokedAt,
      step: "revoke",
      outcome: "ok",
      actor: ACTOR,
      detail: revocation.alreadyRevoked
        ? `issuer ${issuer.name} confirmed key ${keyId} revoked (an earlier attempt had already revoked it)`
        : `issuer ${issuer.name} revoked key ${keyId}`,
      data: { key_id: keyId, already_revoked: revocation.alreadyRevoked },
    },
  ];
  // Proof, not trust: the token itself must now fail verification.
  const after = await withRetries(deps, () => issuer.verify({ token, type: leak.tokenType }));
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
  await deps.store.updateLeak(
    leak,
    {
      status: "revoked",
      revokedAt: confirmedAt,
      timeToRevokeMs: Date.parse(confirmedAt) - leak.receivedAtMs,
      lease: undefined,
    },
    events,
  );
}

async function notifyOwner(deps: WorkerDeps, leak: Leak): Promise<void> {
  const to = leak.owner?.email ?? deps.config.notifications.security_contact;
  const at = isoNow(deps);
  if (!to) {
    await deps.store.updateLeak(leak, { notification: { status: "no_recipient", at }, lease: undefined }, [
      {
        at,
        step: "notify",
        outcome: "skipped",
        actor: ACTOR,
        detail: "no owner email and no security contact configured",
      },
    ]);
    return;
  }
  const details = await deps.store.getLeakDetails(leak.id);
  const message = renderLeakNotification(
    { leak, sightings: details?.sightings ?? [] },
    { to, name: leak.owner?.email ? leak.owner.name : "security team" },
    { channel: deps.notifier.channel, adminUrl: deps.config.notifications.admin_url },
  );
  const { duplicate } = await withRetries(deps, () => deps.notifier.send(message));
  await deps.store.updateLeak(
    leak,
    { notification: { status: "sent", at, channel: deps.notifier.channel, recipient: to }, lease: undefined },
    [
      {
        at,
        step: "notify",
        outcome: "ok",
        actor: ACTOR,
        detail: `${leak.owner?.email ? "owner" : "security contact"} ${to} notified via ${deps.notifier.channel}${duplicate ? " (already delivered by an earlier attempt)" : ""}`,
        data: { message_id: message.id },
      },
    ],
  );
}

/**
 * Claims the step for this delivery; throws BusyError while another delivery's lease runs. The claim
 * is a conditional write, so of two deliveries that read the same leak only one gets it.
 */
async function takeLease(deps: Run, leak: Leak, step: Step): Promise<Leak> {
  const now = (deps.now ?? Date.now)();
  const lease = leak.lease;
  if (lease && lease.until > now) {
    throw new BusyError(`leak ${leak.id}: ${lease.step} is in progress elsewhere`);
  }
  const until = now + (deps.leaseMs ?? 60_000);
  return deps.store.updateLeak(leak, { lease: { step, holder: deps.holder, until } }, []);
}

async function recordFailure(deps: WorkerDeps, leak: Leak, step: Step, error: unknown, delivery: Delivery) {
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
  if (final && step === "notify") {
    // The key is revoked whatever happens to the message: the leak keeps its status.
    Object.assign(changes, { notification: { status: "failed", at }, failure: { step, reason, at } });
  } else if (final) {
    Object.assign(changes, { status: "failed", failure: { step, reason, at } });
  }
  await deps.store.updateLeak(current, changes, [event]).catch((writeError: unknown) => {
    deps.log.error("cannot record remediation failure", {
      leakId: leak.id,
      error: describeError(writeError),
    });
  });
}

function withRetries<T>(deps: WorkerDeps, fn: () => Promise<T>): Promise<T> {
  const { step_attempts, step_backoff_ms } = deps.config.remediation;
  return retryTransient(fn, { attempts: step_attempts, baseMs: step_backoff_ms });
}

const isoNow = (deps: WorkerDeps) => new Date((deps.now ?? Date.now)()).toISOString();
