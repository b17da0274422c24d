import { BusyError, ConflictError, NotConfiguredError, SealError } from "../errors.js";
import { describeError } from "../log.js";
import type { Delivery, ReportPartMessage } from "../queue/remediation-queue.js";
import type { WorkerDeps } from "../remediation/worker-run.js";
import { recordReportedTokens } from "./record-reported-tokens.js";
import { openPartTokens } from "./report-part.js";

// The worker's half of a mass report (report-parts.ts): a part's tokens go through the same intake as
// a report's first tokens (one leak per fingerprint, a sighting per place, pairs linked), without
// inline verification: each leak is queued, and its remediation verifies it. The part is leased while
// it is recorded, so a second delivery waits instead of counting its sightings twice, and deleted once
// recorded. A failure leaves it owed: the message comes again, and the sweep sends it again if lost.

export async function recordReportPart(
  deps: WorkerDeps,
  delivery: Delivery<ReportPartMessage>,
): Promise<void> {
  const { parts } = deps;
  if (!parts) throw new NotConfiguredError("a report part was queued but this worker has no part store");
  const { partId } = delivery.message;
  const part = await parts.getPart(partId);
  if (!part || part.failure) return; // recorded by an earlier delivery, or kept for inspection
  const now = (deps.now ?? Date.now)();
  if (part.leaseUntil !== undefined && part.leaseUntil > now) {
    throw new BusyError(`report part ${partId} is being recorded elsewhere`);
  }
  const claimed = await parts
    .updatePart(part, {
      leaseUntil: now + (deps.leaseMs ?? 60_000),
      attempts: part.attempts + 1,
      lastActivity: new Date(now).toISOString(),
    })
    .catch((error: unknown) => {
      if (error instanceof ConflictError) throw new BusyError(`report part ${partId} was taken meanwhile`);
      throw error;
    });

  // Any failure but an unopenable seal lets the next delivery begin at once rather than wait the lease.
  const release = async (error: unknown): Promise<never> => {
    await parts.updatePart(claimed, { leaseUntil: undefined }).catch(() => undefined);
    throw error;
  };
  const opened = await openPartTokens(deps.sealer, claimed).catch(async (error: unknown) => {
    if (!(error instanceof SealError)) return release(error);
    // No delivery can ever open it (key replaced or lost, item altered): kept, out of the owed index.
    deps.log.error("report part cannot be opened; its tokens are not recorded", {
      partId,
      tokens: claimed.tokens,
      error: describeError(error),
    });
    await parts.updatePart(claimed, { failure: describeError(error), leaseUntil: undefined });
    return undefined;
  });
  if (!opened) return;
  await recordReportedTokens({ ...deps, metrics: undefined }, opened.tokens, {
    receivedAt: claimed.receivedAtMs,
    verifyDeadline: 0, // the remediation of each leak verifies it
    reporter: claimed.reporter,
    source: claimed.source,
    pairs: opened.pairs,
  })
    .then(() => parts.deletePart(claimed))
    .catch(release);
  deps.log.info("report part recorded", {
    partId,
    of: claimed.of,
    tokens: opened.tokens.length,
  });
}
