import { randomUUID } from "node:crypto";
import { BusyError, ConflictError } from "../errors.js";
import type { Issuer, RevocationBatching } from "../issuers/issuer.js";
import { describeError } from "../log.js";
import type { Leak } from "../store/leak.js";
import { owedStep } from "../store/leak-lifecycle.js";
import { mapSettledWithConcurrency, sleep } from "../util/concurrency.js";
import { confirmRevocation, keyIdToRevoke } from "./remediate-leak.js";
import { ACTOR, isoNow, type Run, takeLease, type WorkerDeps } from "./worker-run.js";

// Revoking together, for issuers whose revocation call takes many tokens and may be made only rarely
// (GitHub's POST /credentials/revoke: 1,000 tokens a call, 60 calls an hour). The worker handles one
// leak per delivery with limited concurrency, so batching revoke() calls alone would cost a call per
// handful of leaks. Instead, the first delivery of a process that owes such a revocation gathers: it
// watches the store's sparse index of leaks owing work (gsi6) until the number of this issuer's leaks
// due for revocation stops growing for `quietMs` (intake is still recording the report), reaches
// `maxTokens`, or `maxWaitMs` passed. It then claims them — each with a lease, one conditional write, so
// a leak is never in two batches — opens each leak's own sealed copy of its token, and makes the
// issuer's revoke calls all at once (the issuer coalesces them into one call per `maxTokens`). Each leak
// is then re-verified and recorded on its own, exactly as a single revocation is. Other deliveries of
// this process for a claimed leak wait for its outcome; another process's deliveries meet the lease
// (BusyError) and come back later to find the leak revoked.
//
// Nothing is lost if the process dies: a claimed leak keeps owing its revocation, its lease runs out,
// and its message (or the sweep) brings it back; a token GitHub did not revoke fails its re-verification
// and the step is retried.

interface Entry {
  leak: Leak;
  token: string;
  /** The worker view the leak is leased under (the delivery's own, or the gatherer's). */
  run: Run;
  /** Settles the waiting delivery; absent for a leak claimed from the store. */
  settle?: { resolve: () => void; reject: (error: unknown) => void };
}

interface Gathering {
  entries: Map<string, Entry>;
}

/** The open gathering per issuer (per process), and the leaks claimed by one being revoked. */
const open = new WeakMap<Issuer, Gathering>();
const claimed = new WeakMap<Issuer, Map<string, Promise<void>>>();

/** Leak pages read per look at the index. */
const PAGE = 500;
/** Re-verifications (GET /user with each token) at once. */
const CONFIRM_CONCURRENCY = 16;

/** The outcome of a leak this process claimed for a batch, if it did. */
export function claimedRevocation(issuer: Issuer, leakId: string): Promise<void> | undefined {
  return claimed.get(issuer)?.get(leakId);
}

/** Revokes `leak` (leased by this delivery) with every other leak of its issuer due for revocation. */
export function revokeTogether(deps: Run, issuer: Issuer, leak: Leak, token: string): Promise<void> {
  const batching = issuer.revocationBatching as RevocationBatching;
  let gathering = open.get(issuer);
  const started = !gathering;
  if (!gathering) {
    gathering = { entries: new Map() };
    open.set(issuer, gathering);
  }
  const outcome = new Promise<void>((resolve, reject) => {
    gathering.entries.set(leak.id, { leak, token, run: deps, settle: { resolve, reject } });
  });
  if (started) {
    const current = gathering;
    void gather(deps, issuer, batching, current).catch((error: unknown) => {
      // The gathering itself failed (the store): its deliveries fail and are delivered again.
      if (open.get(issuer) === current) open.delete(issuer);
      for (const entry of current.entries.values()) entry.settle?.reject(error);
    });
  }
  return outcome;
}

async function gather(deps: Run, issuer: Issuer, batching: RevocationBatching, gathering: Gathering) {
  const startedAt = Date.now();
  const deadline = deps.deadline?.();
  // Never gather for more than a third of what the delivery has left: the revocation must fit too.
  const maxWait =
    deadline === undefined ? batching.maxWaitMs : Math.min(batching.maxWaitMs, (deadline - startedAt) / 3);
  let seen = -1;
  for (;;) {
    await sleep(batching.quietMs);
    const due = await dueLeaks(deps, issuer, batching.maxTokens);
    const count = Math.max(due.length, gathering.entries.size);
    if (count >= batching.maxTokens || count === seen || Date.now() - startedAt >= maxWait) break;
    seen = count;
  }
  // Closed: a delivery arriving from now on starts the next gathering.
  if (open.get(issuer) === gathering) open.delete(issuer);
  const leader: Run = { ...deps, holder: `${deps.workerId}:batch:${randomUUID()}` };
  const room = batching.maxTokens - gathering.entries.size;
  for (const entry of room > 0 ? await claimDue(leader, issuer, gathering, room) : []) {
    gathering.entries.set(entry.leak.id, entry);
  }
  await revokeAll(issuer, [...gathering.entries.values()]);
}

/** This issuer's leaks that owe a revocation now (as the index says; it may lag a little). */
async function dueLeaks(deps: WorkerDeps, issuer: Issuer, max: number): Promise<Leak[]> {
  const due: Leak[] = [];
  let cursor: string | undefined;
  const until = new Date(Date.now() + 60_000).toISOString();
  do {
    const page = await deps.store.listOwingWork({ until, limit: PAGE, cursor });
    for (const leak of page.items) {
      if (leak.issuer === issuer.name && leak.status === "active" && owedStep(leak) === "revoke")
        due.push(leak);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && due.length < max * 2);
  return due;
}

/** Leases the due leaks no one holds, up to `room`, with their tokens opened from their sealed copies. */
async function claimDue(leader: Run, issuer: Issuer, gathering: Gathering, room: number): Promise<Entry[]> {
  const now = Date.now();
  const candidates = (await dueLeaks(leader, issuer, room + gathering.entries.size))
    .filter((leak) => !gathering.entries.has(leak.id) && leak.sealedToken)
    .slice(0, room);
  // Read again, strongly consistent: the index lags, and a lease is taken on the current version.
  const current = await leader.store.getLeaks(candidates.map((leak) => leak.id));
  const results = await mapSettledWithConcurrency([...current.values()], 16, async (leak) => {
    if (leak.status !== "active" || owedStep(leak) !== "revoke" || !leak.sealedToken) return undefined;
    if (leak.lease && leak.lease.until > now) return undefined; // another delivery or process has it
    const token = await leader.sealer.open(leak.sealedToken, leak.id);
    const leased = await takeLease(leader, leak, "revoke");
    return { leak: leased, token, run: leader } satisfies Entry;
  });
  const entries: Entry[] = [];
  for (const result of results) {
    if (result.status === "fulfilled" && result.value) entries.push(result.value);
    else if (
      result.status === "rejected" &&
      !(result.reason instanceof ConflictError || result.reason instanceof BusyError)
    ) {
      // A token that does not open stays with its own delivery, which records why.
      leader.log.warn("leak not claimed for a batched revocation", { error: describeError(result.reason) });
    }
  }
  return entries;
}

/** The issuer's revoke calls all at once (they coalesce), then each leak re-verified and recorded. */
async function revokeAll(issuer: Issuer, entries: Entry[]): Promise<void> {
  let waiting = claimed.get(issuer);
  if (!waiting) {
    waiting = new Map();
    claimed.set(issuer, waiting);
  }
  const outcomes = new Map<string, Promise<void>>();
  for (const entry of entries) {
    const outcome = revokeEntry(issuer, entry);
    outcomes.set(entry.leak.id, outcome);
    if (!entry.settle) waiting.set(entry.leak.id, outcome);
  }
  await Promise.allSettled(outcomes.values());
  for (const entry of entries)
    if (waiting.get(entry.leak.id) === outcomes.get(entry.leak.id)) waiting.delete(entry.leak.id);
}

const confirmSlots = slots(CONFIRM_CONCURRENCY);

async function revokeEntry(issuer: Issuer, entry: Entry): Promise<void> {
  const { leak, token, run } = entry;
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
    await confirmSlots(() => confirmRevocation(run, issuer, leak, token, revocation));
    entry.settle?.resolve();
  } catch (error) {
    if (entry.settle) return entry.settle.reject(error);
    await releaseClaim(run, leak, error).catch(() => undefined);
    throw error;
  }
}

/** A claimed leak whose revocation failed: the lease goes, with why; its own delivery tries again. */
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

/** Runs at most `n` of the given tasks at once. */
function slots(n: number) {
  let busy = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (busy >= n) await new Promise<void>((resolve) => queue.push(resolve));
    busy++;
    try {
      return await task();
    } finally {
      busy--;
      queue.shift()?.();
    }
  };
}
