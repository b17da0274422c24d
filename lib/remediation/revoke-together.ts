import { randomUUID } from "node:crypto";
import { BusyError, ConflictError, DeadLetterError, SealError } from "../errors.js";
import type { Issuer } from "../issuers/issuer.js";
import { type Delivery, type RemediationMessage, togetherMessages } from "../queue/remediation-queue.js";
import type { Leak } from "../store/leak.js";
import { owedStep } from "../store/leak-lifecycle.js";
import { concurrencyLimit, mapSettledWithConcurrency } from "../util/concurrency.js";
import { isTransient } from "../util/retry.js";
import {
  confirmRevocation,
  keyIdToRevoke,
  modeOf,
  openToken,
  recordFailure,
  recordUnsealFailure,
  remediateLeak,
} from "./remediate-leak.js";
import { type Run, takeLease, type WorkerDeps } from "./worker-run.js";

// Revoking together, for issuers whose revocation call takes many tokens and may be made only rarely
// (GitHub's POST /credentials/revoke: 1,000 tokens a call, 60 calls an hour). Intake and the sweep
// queue such an issuer's leaks in one message per `maxTokens` (its `together` field), so a report of
// 1,000 GitHub tokens is one message, wherever and however many workers run. Its delivery:
//
// 1. takes each leak up to its revocation as its own delivery would (verification; a token found
//    inactive goes on to its notification), a bounded number at once;
// 2. revokes the leaks now due all at once — each under its own lease, so a leak is never revoked by
//    two deliveries — which the issuer's adapter sends as one call; then re-verifies each on its own and
//    records it revoked, exactly as a single revocation is;
// 3. hands each revoked leak's next step (notify) to the queue as a message of its own, so the
//    notifications spread over the workers instead of holding this delivery.
//
// Nothing is lost: a leak's failure is recorded on it as any delivery's is, and a transient one makes
// this message come again (SQS's visibility timeout, then its dead-letter queue), when the leaks already
// done cost one read each. Leaks not reached before the delivery's time runs short go back to the
// queue together in a message of their own.

/** Verifications, re-verifications and lease writes at once. */
const CONCURRENCY = 16;

export async function remediateTogether(deps: WorkerDeps, delivery: Delivery): Promise<void> {
  const { leakId, sealedToken, together = [] } = delivery.message;
  const ids = [...new Set([leakId, ...together])];
  const deadline = deps.deadline?.();
  // Verifying may take half the time left: the revocation and its re-verifications need the rest.
  const verifyBy = deadline === undefined ? Number.POSITIVE_INFINITY : (Date.now() + deadline) / 2;
  const sealedCopy = (leak: Leak) => (leak.id === leakId ? sealedToken : (leak.sealedToken ?? ""));
  const single = (leak: Leak): Delivery => ({
    ...delivery,
    message: { leakId: leak.id, sealedToken: sealedCopy(leak) },
  });
  const retry = new Set<string>();
  const later: Leak[] = [];

  // 1. Up to the revocation. A leak another delivery holds is that delivery's (BusyError).
  const stored = await deps.store.getLeaks(ids);
  const missing = ids.filter((id) => !stored.has(id));
  if (missing.length > 0) deps.log.warn("leaks to remediate together do not exist", { leakIds: missing });
  const present = ids.flatMap((id) => stored.get(id) ?? []);
  await mapSettledWithConcurrency(present, CONCURRENCY, async (leak) => {
    if (Date.now() > verifyBy) return void later.push(leak);
    await remediateLeak(deps, single(leak), { holdRevocation: true }).catch((error: unknown) => {
      if (!(error instanceof BusyError || error instanceof DeadLetterError)) retry.add(leak.id);
    });
  });

  // 2. The revocations due, at once.
  const skip = new Set(later.map((leak) => leak.id));
  const current = await deps.store.getLeaks(present.flatMap((leak) => (skip.has(leak.id) ? [] : [leak.id])));
  const due = [...current.values()].filter((leak) => owesRevocation(deps, leak));
  const run: Run = { ...deps, holder: `${deps.workerId}:together:${randomUUID()}` };
  // Every lease taken and token opened first, so that the revoke calls are all made in one moment.
  const claims = await mapSettledWithConcurrency(due, CONCURRENCY, (leak) =>
    claim(run, leak, sealedCopy(leak), delivery),
  );
  const outcomes = await Promise.all(
    claims.map((claimed) => {
      if (claimed.status === "rejected") return "retry" as const;
      if (typeof claimed.value === "string") return claimed.value;
      return revokeClaimed(run, claimed.value, delivery).catch(() => "retry" as const);
    }),
  );
  due.forEach((leak, i) => {
    if (outcomes[i] === "retry") retry.add(leak.id);
  });
  const revoked = due.filter((_, i) => outcomes[i] === "revoked");
  if (due.length > 0) {
    deps.log.info("revoked together", {
      leaks: due.length,
      revoked: revoked.length,
      retrying: outcomes.filter((o) => o === "retry").length,
    });
  }

  // 3. What follows each revocation, and what was not reached in time, back to the queue.
  const next: RemediationMessage[] = [
    ...revoked.map((leak) => single(leak).message),
    ...togetherMessages(later.map((leak) => ({ id: leak.id, sealedToken: sealedCopy(leak) }))),
  ];
  if (next.length > 0) await deps.queue.send(next);
  if (retry.size > 0) {
    throw new BusyError(
      `${retry.size} of ${ids.length} leaks remediated together will be tried again: ${[...retry].slice(0, 5).join(", ")}${retry.size > 5 ? ", …" : ""}`,
    );
  }
}

const slots = concurrencyLimit(CONCURRENCY);

type Outcome = "revoked" | "skipped" | "failed" | "retry";

interface Claimed {
  issuer: Issuer;
  leak: Leak;
  token: string;
}

/** The leak leased for its revocation by this delivery, with its token opened. */
async function claim(
  run: Run,
  leak: Leak,
  sealedToken: string,
  delivery: Delivery,
): Promise<Claimed | Outcome> {
  const issuer = run.issuers.forType(leak.tokenType);
  if (!issuer) return "retry"; // the config changed since step 1; a single delivery records why
  const leased = await leaseForRevocation(run, leak);
  if (!leased) return "skipped";
  try {
    return { issuer, leak: leased, token: await openToken(run, sealedToken, leak.id) };
  } catch (error) {
    return settle(run, leased, error, delivery);
  }
}

/**
 * The leak leased by this delivery; undefined when another delivery holds it or it no longer owes its
 * revocation (two deliveries of one message race for each leak: one wins, the other moves on).
 */
async function leaseForRevocation(run: Run, leak: Leak): Promise<Leak | undefined> {
  let current: Leak | undefined = leak;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!current || !owesRevocation(run, current)) return undefined;
    try {
      return await takeLease(run, current, "revoke");
    } catch (error) {
      if (error instanceof BusyError) return undefined;
      if (!(error instanceof ConflictError)) throw error;
      current = await run.store.getLeak(leak.id);
    }
  }
  throw new ConflictError(`leak ${leak.id} kept changing while it was leased for its revocation`);
}

const owesRevocation = (deps: WorkerDeps, leak: Leak) =>
  leak.status === "active" && owedStep(leak, modeOf(leak, deps.config)) === "revoke";

/**
 * The issuer's revoke call (made at the same moment as the batch's others: the adapter coalesces them),
 * then the re-verification and the record, as for a single revocation.
 */
async function revokeClaimed(
  run: Run,
  { issuer, leak, token }: Claimed,
  delivery: Delivery,
): Promise<Outcome> {
  try {
    const deadline = run.deadline?.();
    const signal =
      deadline === undefined ? undefined : AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    const revocation = await issuer.revoke(
      {
        keyId: keyIdToRevoke(leak),
        type: leak.tokenType,
        leakId: leak.id,
        fingerprint: leak.fingerprint,
        token,
      },
      { signal },
    );
    await slots(() => confirmRevocation(run, issuer, leak, token, revocation));
    return "revoked";
  } catch (error) {
    return settle(run, leak, error, delivery);
  }
}

/** A failure recorded on the leak as a single delivery records it; "retry" when this message should come again. */
async function settle(run: Run, leased: Leak, error: unknown, delivery: Delivery): Promise<Outcome> {
  if (error instanceof SealError) {
    await recordUnsealFailure(run, leased, error);
    return "failed";
  }
  await recordFailure(run, leased, "revoke", error, delivery);
  return isTransient(error) && delivery.receiveCount < delivery.maxReceives ? "retry" : "failed";
}
