import { ConflictError } from "../errors.js";
import type { Issuer } from "../issuers/issuer.js";
import { describeError } from "../log.js";
import type { Leak } from "../store/leak.js";
import type { LeakStore } from "../store/leak-store.js";

// An hour after a key is revoked, the sweep asks its issuer how the key's account was used since, and
// records it on the leak's timeline (`usage_after_revoke`): the owner and the admins see whether the
// abuse stopped. Once per leak; only issuers that can tell (usageSince) are asked.

export const USAGE_AFTER_REVOKE = "usage_after_revoke";
const HOUR_MS = 3_600_000;

export interface UsageAfterRevokeDeps {
  store: LeakStore;
  issuers: { forType(tokenType: string): Issuer | undefined };
  now: () => number;
}

export interface UsageAfterRevokeOptions {
  /** How long after revocation the figures are read. Default 1 hour. */
  afterMs?: number;
  /** Leaks revoked longer ago than this are left alone. Default 7 days. */
  withinMs?: number;
  /** Leaks examined in one run. Default 200. */
  maxPerRun?: number;
}

export interface UsageAfterRevokeResult {
  recorded: number;
  failed: { leakId: string; reason: string }[];
}

export async function recordUsageAfterRevoke(
  deps: UsageAfterRevokeDeps,
  options: UsageAfterRevokeOptions = {},
): Promise<UsageAfterRevokeResult> {
  const now = deps.now();
  const afterMs = options.afterMs ?? HOUR_MS;
  const withinMs = options.withinMs ?? 7 * 24 * HOUR_MS;
  const maxPerRun = options.maxPerRun ?? 200;
  const result: UsageAfterRevokeResult = { recorded: 0, failed: [] };
  let examined = 0;
  let cursor: string | undefined;
  do {
    // Newest first: recently revoked leaks come first, and the cap bounds the rest.
    const page = await deps.store.listLeaks({
      statuses: ["revoked"],
      limit: Math.min(100, maxPerRun - examined),
      cursor,
    });
    examined += page.items.length;
    for (const leak of page.items.filter((l) => due(l, now, afterMs, withinMs))) {
      const issuer = deps.issuers.forType(leak.tokenType);
      if (!issuer?.usageSince || issuer.name !== leak.issuer) continue;
      try {
        await record(deps, issuer, leak, now);
        result.recorded++;
      } catch (error) {
        if (error instanceof ConflictError) continue; // the leak moved on: the next run looks again
        result.failed.push({ leakId: leak.id, reason: describeError(error) });
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && examined < maxPerRun);
  return result;
}

function due(leak: Leak, now: number, afterMs: number, withinMs: number): boolean {
  const revokedAt = leak.revokedAt ? Date.parse(leak.revokedAt) : Number.NaN;
  return (
    leak.keyId !== undefined &&
    revokedAt <= now - afterMs &&
    revokedAt >= now - withinMs &&
    !leak.timeline.some((e) => e.step === USAGE_AFTER_REVOKE)
  );
}

async function record(deps: UsageAfterRevokeDeps, issuer: Issuer, leak: Leak, now: number) {
  const since = leak.revokedAt as string;
  const usage = await (issuer.usageSince as NonNullable<Issuer["usageSince"]>)({
    keyId: leak.keyId as string,
    since,
  });
  const shown = Object.entries(usage.figures)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`)
    .join(", ");
  await deps.store.updateLeak(leak, {}, [
    {
      at: new Date(now).toISOString(),
      step: USAGE_AFTER_REVOKE,
      outcome: "ok",
      actor: "sweep",
      detail: `use since revocation (${usage.since} to ${usage.until}): ${shown || "no figures"}`,
      data: { since: usage.since, until: usage.until, ...usage.figures },
    },
  ]);
}
