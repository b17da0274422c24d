import { randomUUID } from "node:crypto";
import { BusyError, ConflictError } from "../errors.js";
import type { Issuer, RevocationBatching } from "../issuers/issuer.js";
import { describeError } from "../log.js";
import type { Delivery } from "../queue/remediation-queue.js";
import type { Leak } from "../store/leak.js";
import { owedStep } from "../store/leak-lifecycle.js";
import { concurrencyLimit, mapSettledWithConcurrency, sleep } from "../util/concurrency.js";
import { confirmRevocation, keyIdToRevoke, remediateLeak } from "./remediate-leak.js";
import { ACTOR, isoNow, type Run, takeLease, type WorkerDeps } from "./worker-run.js";

// Revoking together, for issuers whose revocation call takes many tokens and may be made only rarely
// (GitHub's POST /credentials/revoke: 1,000 tokens a call, 60 calls an hour). The worker handles one
// leak per delivery with limited concurrency, so coalescing revoke() calls alone would cost a call per
// handful of leaks. Instead:
//
// - The first delivery of a process that owes such a revocation leads a gathering. It watches the
//   store's sparse index of leaks owing work (gsi6) until the number of this issuer's leaks due for
//   revocation stops growing for `quietMs` (intake is still recording and verifying the report),
//   reaches `maxTokens`, or `maxWaitMs` passed.
// - A delivery of the same process owing such a revocation while a gathering is open (or for a leak the
//   leader has claimed) hands its leak over and is done: it holds no worker slot, so the verifications
//   still running can finish and join.
// - The leader then claims the due leaks — each with a lease, one conditional write, so a leak is never
//   in two batches — opens each leak's own sealed copy of its token, and makes the issuer's revoke calls
//   all at once (the issuer coalesces them into one call per `maxTokens`). Each leak is re-verified and
//   recorded on its own, exactly as a single revocation is, and its remaining steps (notify) run on.
//
// Nothing is lost if the process dies or a revocation fails: the leak keeps owing its revocation; a
// failed one is released with a "retrying" event, a claimed one's lease runs out, and the sweep sends
// it to the worker again (the leader's own leak is retried by its own message). A token GitHub did not
// revoke fails its re-verification, so it is never recorded revoked. Another process's deliveries meet
// the leases (BusyError) and come back later to find their leaks revoked.

interface Entry {
  leak: Leak;
  token: string;
}

/** Per issuer (per process): whether a leader is at work (gathering or revoking). */
const leading = new WeakSet<Issuer>();

/** Leaks read per page of the index. */
const PAGE = 500;
/** Time a leak's next step (notify) needs before the deadline, or it is left to the sweep. */
const CARRY_ON_MARGIN_MS = 5_000;
/** Re-verifications (one GET /user each) and continued leaks at once. */
const CONCURRENCY = 16;

/** True when a leader of this process will revoke the leak: its delivery may hand it over. */
export function handedOver(issuer: Issuer): boolean {
  return leading.has(issuer);
}

/**
 * Leads: revokes `leak` (leased by this delivery) with every other leak of its issuer due for
 * revocation, in rounds until none is left that no one holds (or the delivery's time runs short).
 * Resolves once its own leak is revoked (or throws its failure).
 */
export async function revokeTogether(
  deps: Run,
  issuer: Issuer,
  leak: Leak,
  token: string,
  delivery: Delivery,
): Promise<void> {
  const batching = issuer.revocationBatching as RevocationBatching;
  leading.add(issuer);
  let own: Promise<void> | undefined;
  try {
    for (let round = 0; ; round++) {
      await waitWhileGrowing(deps, issuer, batching);
      const leader: Run = { ...deps, holder: `${deps.workerId}:batch:${randomUUID()}` };
      const room = batching.maxTokens - (round === 0 ? 1 : 0);
      const others = await claimDue(leader, issuer, leak.id, room).catch((error: unknown) => {
        deps.log.warn("due revocations not claimed", { error: describeError(error) });
        return [] as Entry[];
      });
      if (round === 0) own = revokeEntry(deps, issuer, { leak, token });
      await revokeRound(deps, leader, issuer, others, delivery, own);
      // Done when no due leak is left unheld. Checked with the role given up, so a delivery that saw
      // this leader at work had its leak in the store by then, and is found here.
      leading.delete(issuer);
      const deadline = deps.deadline?.();
      if (deadline !== undefined && deadline - Date.now() < batching.maxWaitMs) break;
      if ((await unheldDue(deps, issuer, leak.id)) === 0 || leading.has(issuer)) break;
      leading.add(issuer);
    }
  } finally {
    leading.delete(issuer);
  }
  await own;
}

/** One round: the claimed leaks revoked with the leader's own (in round 0), re-verified, carried on. */
async function revokeRound(
  deps: Run,
  leader: Run,
  issuer: Issuer,
  others: Entry[],
  delivery: Delivery,
  own: Promise<void> | undefined,
): Promise<void> {
  const outcomes = others.map((entry) =>
    revokeEntry(leader, issuer, entry).then(
      () => true,
      async (error: unknown) => {
        await releaseClaim(leader, entry.leak, error).catch(() => undefined);
        return false;
      },
    ),
  );
  const revoked = await Promise.all(outcomes);
  await own?.catch(() => undefined);
  // The leaks handed over go on to their next step (notify) here; a failure there is theirs to record.
  const carryOn = others.filter((_, i) => revoked[i]);
  const deadline = deps.deadline?.();
  await mapSettledWithConcurrency(carryOn, CONCURRENCY, async (entry) => {
    // Out of time (a Lambda's deadline): the leak owes its next step, and the sweep sends it again.
    if (deadline !== undefined && deadline - Date.now() < CARRY_ON_MARGIN_MS) return;
    await remediateLeak(deps, {
      message: { leakId: entry.leak.id, sealedToken: entry.leak.sealedToken ?? "" },
      receiveCount: 1,
      maxReceives: delivery.maxReceives,
    }).catch((error: unknown) => {
      deps.log.warn("leak revoked together with others; its next step failed", {
        leakId: entry.leak.id,
        error: describeError(error),
      });
    });
  });
  if (others.length > 0) {
    deps.log.info("revoked together", {
      issuer: issuer.name,
      leaks: others.length + (own ? 1 : 0),
      failed: revoked.filter((ok) => !ok).length,
    });
  }
}

/** Due leaks no one holds (besides the leader's own). */
async function unheldDue(deps: WorkerDeps, issuer: Issuer, ownId: string): Promise<number> {
  const now = Date.now();
  const due = await dueLeaks(deps, issuer, Number.MAX_SAFE_INTEGER);
  return due.filter((l) => l.id !== ownId && !(l.lease && l.lease.until > now)).length;
}

/**
 * Until this issuer's leaks due for revocation stop coming: none of its leaks is still awaiting
 * verification and their number did not change for `quietMs`; or they reach `maxTokens`; or time is up.
 */
async function waitWhileGrowing(deps: WorkerDeps, issuer: Issuer, batching: RevocationBatching) {
  const startedAt = Date.now();
  const deadline = deps.deadline?.();
  // Never gather for more than a third of what the delivery has left: the revocation must fit too.
  const maxWait =
    deadline === undefined ? batching.maxWaitMs : Math.min(batching.maxWaitMs, (deadline - startedAt) / 3);
  let seen = -1;
  for (;;) {
    await sleep(batching.quietMs);
    const { due, verifying } = await issuerWork(deps, issuer, batching.maxTokens);
    const count = due.length + verifying;
    if (due.length >= batching.maxTokens || Date.now() - startedAt >= maxWait) return;
    if (verifying === 0 && count === seen) return;
    seen = count;
  }
}

/** This issuer's leaks that owe a revocation now, as the index says (it may lag a little). */
async function dueLeaks(deps: WorkerDeps, issuer: Issuer, max: number): Promise<Leak[]> {
  return (await issuerWork(deps, issuer, max)).due;
}

/** This issuer's leaks owing a revocation, and how many still await their verification. */
async function issuerWork(
  deps: WorkerDeps,
  issuer: Issuer,
  max: number,
): Promise<{ due: Leak[]; verifying: number }> {
  const due: Leak[] = [];
  let verifying = 0;
  let cursor: string | undefined;
  const until = new Date(Date.now() + 60_000).toISOString();
  do {
    const page = await deps.store.listOwingWork({ until, limit: PAGE, cursor });
    for (const leak of page.items) {
      if (leak.issuer !== issuer.name) continue;
      const step = owedStep(leak);
      if (step === "verify") verifying++;
      else if (step === "revoke" && leak.status === "active") due.push(leak);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && due.length < max);
  return { due, verifying };
}

/** Leases up to `room` due leaks no one holds, with their tokens opened from their sealed copies. */
async function claimDue(leader: Run, issuer: Issuer, ownId: string, room: number): Promise<Entry[]> {
  if (room <= 0) return [];
  const now = Date.now();
  const candidates = (await dueLeaks(leader, issuer, room + 1))
    .filter((leak) => leak.id !== ownId && leak.sealedToken)
    .slice(0, room);
  // Read again, strongly consistent: the index lags, and a lease is taken on the current version.
  const current = await leader.store.getLeaks(candidates.map((leak) => leak.id));
  const results = await mapSettledWithConcurrency([...current.values()], CONCURRENCY, async (leak) => {
    if (leak.status !== "active" || owedStep(leak) !== "revoke" || !leak.sealedToken) return undefined;
    if (leak.lease && leak.lease.until > now) return undefined; // another delivery or process has it
    const token = await leader.sealer.open(leak.sealedToken, leak.id);
    return { leak: await takeLease(leader, leak, "revoke"), token } satisfies Entry;
  });
  const entries: Entry[] = [];
  for (const result of results) {
    if (result.status === "fulfilled") {
      if (result.value) entries.push(result.value);
    } else if (!(result.reason instanceof ConflictError || result.reason instanceof BusyError)) {
      // A token that does not open stays with its own message, which records why.
      leader.log.warn("leak not claimed for a batched revocation", { error: describeError(result.reason) });
    }
  }
  return entries;
}

const confirmSlots = concurrencyLimit(CONCURRENCY);

/** The issuer's revoke call (made at once for every entry: they coalesce), then the re-verification. */
async function revokeEntry(run: Run, issuer: Issuer, { leak, token }: Entry): Promise<void> {
  const deadline = run.deadline?.();
  const signal = deadline === undefined ? undefined : AbortSignal.timeout(Math.max(1, deadline - Date.now()));
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
  await confirmSlots(() => confirmRevocation(run, issuer, leak, token, revocation));
}

/** A claimed leak whose revocation failed: the lease goes, with why; the sweep sends it again. */
async function releaseClaim(run: Run, leak: Leak, error: unknown): Promise<void> {
  const current = await run.store.getLeak(leak.id);
  if (!current || current.lease?.holder !== run.holder) return;
  await run.store.updateLeak(current, { lease: undefined }, [
    {
      at: isoNow(run),
      step: "revoke",
      outcome: "retrying",
      actor: ACTOR,
      detail: `revocation together with other leaks of issuer ${current.issuer} failed: ${describeError(error)}; will retry`,
    },
  ]);
}
