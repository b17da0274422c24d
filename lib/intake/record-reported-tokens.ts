import { policyFor, type TourniquetConfig } from "../config.js";
import { ConflictError } from "../errors.js";
import type { Issuer } from "../issuers/issuer.js";
import type { IssuerRegistry } from "../issuers/issuer-registry.js";
import { keyHalfOf } from "../issuers/token-pairs.js";
import { describeError, type Log } from "../log.js";
import { batchingSender } from "../queue/batching-sender.js";
import { type RemediationQueue, togetherMessages } from "../queue/remediation-queue.js";
import type { TokenSealer } from "../queue/token-sealer.js";
import { applyVerification, type FeedbackLabel, feedbackLabel } from "../remediation/verification.js";
import { boundSighting } from "../store/field-limits.js";
import { type Leak, leakIdFor, type TimelineEvent } from "../store/leak.js";
import { owedStep } from "../store/leak-lifecycle.js";
import type { LeakChanges, LeakStore, NewSighting } from "../store/leak-store.js";
import { mapSettledWithConcurrency } from "../util/concurrency.js";
import { fingerprintToken, redactToken } from "./fingerprint.js";
import type { IntakeMetrics, IntakeSource } from "./intake-metrics.js";
import { type Pairs, pairReportedTokens } from "./pair-reported-tokens.js";

// The part every intake path shares once it holds reported tokens (a partner report, a GitHub App
// alert): one leak per fingerprint with one sighting per url+source, inline verification until the
// time box closes, and the token queued sealed for the remediation worker.

export interface RecordDeps {
  config: TourniquetConfig;
  store: LeakStore;
  queue: RemediationQueue;
  sealer: TokenSealer;
  issuers: IssuerRegistry;
  log: Log;
  now?: (() => number) | undefined;
  /** Counts each accepted report or alert (the handler publishes them). */
  metrics?: Pick<IntakeMetrics, "reported"> | undefined;
}

/** One distinct token of a report, with every place it was seen. */
export interface ReportedToken {
  token: string;
  fingerprint: string;
  /** As reported; routing matches it case-insensitively. */
  type: string;
  sightings: NewSighting[];
}

export interface RecordedToken {
  fingerprint: string;
  type: string;
  leak: Leak;
  /** Known only when the issuer answered (now or before). */
  label: FeedbackLabel | undefined;
}

export interface RecordOptions {
  /** When the report arrived (epoch ms): the leak's first seen and the start of time-to-revoke. */
  receivedAt: number;
  /** Epoch ms after which no inline verification starts; what is left is the worker's. */
  verifyDeadline: number;
  /** Who reported the tokens, for the timeline: "GitHub secret scanning", "GitHub App alert o/r#3". */
  reporter: string;
  source: IntakeSource;
  /** Which tokens are two halves of one credential, when decided on a larger report than `tokens`. */
  pairs?: Pairs | undefined;
  /**
   * Epoch ms after which no token's recording starts: those left are returned as `late` for the caller
   * to keep elsewhere (report parts), so a slow store cannot hold the answer past the sender's wait.
   */
  startBy?: number | undefined;
}

/** Groups reported tokens by fingerprint, keeping each distinct url+source (within size limits) once. */
export function groupReportedTokens(
  reports: readonly { token: string; type: string; url: string; source: string }[],
): ReportedToken[] {
  const groups = new Map<string, ReportedToken>();
  const places = new Set<string>(); // fingerprint + url + source seen: linear in a report of any size
  for (const report of reports) {
    const fingerprint = fingerprintToken(report.token);
    let group = groups.get(fingerprint);
    if (!group) {
      group = { token: report.token, fingerprint, type: report.type, sightings: [] };
      groups.set(fingerprint, group);
    }
    const sighting = boundSighting(report);
    const place = JSON.stringify([fingerprint, sighting.url, sighting.source]);
    if (!places.has(place)) {
      places.add(place);
      group.sightings.push(sighting);
    }
  }
  return [...groups.values()];
}

/** Sightings a new leak's own item carries; more are written as sighting items (the 400 KB item limit). */
export const EMBEDDED_SIGHTINGS = 10;

/**
 * Records each token as one leak with its sightings, verifies inline until the deadline, and queues
 * each leak's remediation as soon as the leak is written; the leaks of an issuer whose revocations are
 * made together (GitHub's) are queued together once all are written, so one message revokes them in
 * one call (remediation/revoke-together.ts). Every token runs to its end even when another
 * fails, so what was written is queued; then any failure is thrown for the sender's 5xx and retry,
 * which is harmless (the leak's id derives from the fingerprint, and a pending leak is queued again).
 */
export async function recordReportedTokens(
  deps: RecordDeps,
  tokens: readonly ReportedToken[],
  options: Omit<RecordOptions, "startBy">,
): Promise<RecordedToken[]> {
  return (await recordTokensBy(deps, tokens, options)).recorded;
}

/** recordReportedTokens, leaving the tokens whose turn came after `options.startBy` as `late`. */
export async function recordTokensBy(
  deps: RecordDeps,
  tokens: readonly ReportedToken[],
  options: RecordOptions,
): Promise<{ recorded: RecordedToken[]; late: ReportedToken[] }> {
  const now = deps.now ?? Date.now;
  const late: ReportedToken[] = [];
  const queue = batchingSender(deps.queue);
  // Which tokens are known already, in one read per 100: a repeat costs no issuer call and no create.
  const known = await deps.store.getLeaks(tokens.map((group) => leakIdFor(group.fingerprint)));
  const pairs = options.pairs ?? pairReportedTokens(tokens);
  const together = new Map<Issuer, { id: string; sealedToken: string }[]>();
  const results = await mapSettledWithConcurrency(tokens, deps.config.intake.concurrency, async (group) => {
    if (options.startBy !== undefined && now() > options.startBy) {
      late.push(group);
      return undefined;
    }
    const { leak, sealedToken } = await recordToken(
      deps,
      group,
      options,
      known.get(leakIdFor(group.fingerprint)),
      pairs,
    );
    if (sealedToken && owedStep(leak) !== undefined) {
      const issuer = deps.issuers.forType(leak.tokenType);
      if (!issuer?.revocationBatching) await queue.send({ leakId: leak.id, sealedToken });
      else if (together.has(issuer)) together.get(issuer)?.push({ id: leak.id, sealedToken });
      else together.set(issuer, [{ id: leak.id, sealedToken }]);
    }
    return { fingerprint: group.fingerprint, type: group.type, leak, label: feedbackLabel(leak) };
  });
  const recorded = pairedLabels(
    results.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value] : [])),
    pairs,
  );
  const sent = await Promise.allSettled(
    [...together].map(([issuer, leaks]) =>
      deps.queue.send(togetherMessages(leaks, issuer.revocationBatching?.maxTokens)),
    ),
  );
  const failures = [...results, ...sent].flatMap((r) =>
    r.status === "rejected" ? [r.reason as unknown] : [],
  );
  if (failures.length > 0) {
    deps.log.error("tokens of a report could not be recorded or queued; the sender should retry", {
      failed: failures.length,
      recorded: recorded.length,
      reason: describeError(failures[0]),
    });
    throw failures[0];
  }
  deps.metrics?.reported(recorded, options.source);
  return { recorded, late };
}

/**
 * A token not seen before (`existing`, read with the report's others) is verified first, then written
 * once, already verified.
 * A token seen before costs no issuer call unless its leak is still pending or may now be verified again.
 */
async function recordToken(
  deps: RecordDeps,
  group: ReportedToken,
  options: RecordOptions,
  existing: Leak | undefined,
  pairs: Pairs,
): Promise<{ leak: Leak; sealedToken?: string | undefined }> {
  const id = leakIdFor(group.fingerprint);
  const pairedWith = pairOf(group, pairs);
  if (existing) return recordRepeat(deps, existing, group, options, undefined, pairedWith);

  const { receivedAt, verifyDeadline, reporter } = options;
  const allowlisted = deps.config.allowlist.includes(group.fingerprint);
  // A secret half names no key: never verified or revoked, so never sealed either.
  const secretHalf = keyHalfOf(group.type) !== undefined;
  const issuer = allowlisted || secretHalf ? undefined : deps.issuers.forType(group.type);
  const at = new Date(receivedAt).toISOString();
  const first = group.sightings[0];
  // Sealed once: for the queue message, and kept on the leak while a retry or a later verification may
  // need it (an unroutable type may be routed by a later config).
  const sealedToken = allowlisted || secretHalf ? undefined : await deps.sealer.seal(group.token, id);
  const verified = issuer ? await verifyInline(deps, issuer, id, group, verifyDeadline) : undefined;
  const where = `${first?.source}${first?.url ? ` at ${first.url}` : ""}`;
  const reported: TimelineEvent = {
    at,
    step: "report",
    outcome: "ok",
    actor: "intake",
    detail: [
      `reported by ${reporter} (${where})`,
      allowlisted
        ? "allowlisted as a known test token: no action"
        : secretHalf
          ? secretHalfNote(group.type, pairedWith)
          : issuer
            ? undefined
            : `no issuer handles type "${group.type}"`,
      !secretHalf && pairedWith
        ? `reported with its ${pairedWith.tokenType} (leak ${pairedWith.leakId})`
        : undefined,
    ]
      .filter((part) => part !== undefined)
      .join("; "),
  };
  // A new leak carries the report's first sightings in its own item: one write. Sightings beyond those
  // are items of their own, written alongside.
  const embedded = group.sightings.slice(0, EMBEDDED_SIGHTINGS);
  const [{ leak, created }] = await Promise.all([
    deps.store.createLeak({
      id,
      fingerprint: group.fingerprint,
      tokenType: group.type.toLowerCase(),
      preview: redactToken(group.token),
      issuer: issuer?.name ?? null,
      status: allowlisted
        ? "allowlisted"
        : issuer
          ? "pending"
          : secretHalf && pairedWith
            ? "paired"
            : "unroutable",
      sealedToken,
      pairedWith,
      firstSeen: at,
      receivedAtMs: receivedAt,
      ...verified?.changes,
      firstSightings: embedded.map((s) => ({ ...s, firstSeen: at, lastSeen: at, reports: 1 })),
      timeline: verified ? [reported, verified.event] : [reported],
      version: 1,
    }),
    ...group.sightings
      .slice(EMBEDDED_SIGHTINGS)
      .map((sighting) => deps.store.recordSighting(id, sighting, at)),
  ]);
  if (created) return { leak, sealedToken };
  // Another report of the same token created it first: this one is a repeat.
  return recordRepeat(deps, leak, { ...group, sightings: embedded }, options, verified, pairedWith);
}

type PairedWith = NonNullable<Leak["pairedWith"]>;

function pairOf(group: ReportedToken, pairs: Pairs): PairedWith | undefined {
  const other = pairs.get(group.fingerprint);
  return other && { leakId: leakIdFor(other.fingerprint), tokenType: other.type.toLowerCase() };
}

function secretHalfNote(type: string, pairedWith: PairedWith | undefined): string {
  return pairedWith
    ? `the secret half of a pair: acted on through its ${pairedWith.tokenType} (leak ${pairedWith.leakId}), never alone`
    : `a ${type.toLowerCase()} names no key by itself and no ${keyHalfOf(type)} was reported with it: recorded and left alone`;
}

/** A secret half has no answer of its own for GitHub: its pair's, when known. */
function pairedLabels(recorded: RecordedToken[], pairs: Pairs): RecordedToken[] {
  const labels = new Map(recorded.map((r) => [r.fingerprint, r.label]));
  return recorded.map((r) => {
    const other = pairs.get(r.fingerprint);
    return r.label === undefined && other && keyHalfOf(r.type) !== undefined
      ? { ...r, label: labels.get(other.fingerprint) }
      : r;
  });
}

/**
 * A report of a token whose leak exists: its sightings are added, and the token is verified when the
 * leak still waits for its verification or may now be verified again (verifiesAgain).
 */
async function recordRepeat(
  deps: RecordDeps,
  leak: Leak,
  group: ReportedToken,
  { receivedAt, verifyDeadline, reporter }: RecordOptions,
  verifiedBefore?: Verified,
  pairedWith?: PairedWith,
): Promise<{ leak: Leak; sealedToken?: string | undefined }> {
  const at = new Date(receivedAt).toISOString();
  await Promise.all(group.sightings.map((sighting) => deps.store.recordSighting(leak.id, sighting, at)));
  deps.log.info("token reported again", { leakId: leak.id, status: leak.status });
  // The pair arrived together for the first time: linked now (an orphan secret half becomes paired).
  const link = pairedWith && !leak.pairedWith ? linkPair(leak, pairedWith, at, reporter) : undefined;
  const issuer = leak.status === "allowlisted" ? undefined : deps.issuers.forType(group.type);
  const again = issuer ? verifiesAgain(leak, receivedAt, deps.config.intake.reverify_after_ms) : undefined;
  const verifies = issuer !== undefined && (leak.status === "pending" || again !== undefined);
  const sealedToken =
    verifies && !leak.sealedToken ? await deps.sealer.seal(group.token, leak.id) : leak.sealedToken;
  const verified =
    verifies && issuer
      ? (verifiedBefore ?? (await verifyInline(deps, issuer, leak.id, group, verifyDeadline)))
      : undefined;
  const changes: LeakChanges = { ...link?.changes };
  const events: TimelineEvent[] = link ? [link.event] : [];
  if (again && issuer) {
    Object.assign(changes, { status: "pending", issuer: issuer.name, sealedToken });
    events.push({
      at,
      step: "reverify",
      outcome: "ok",
      actor: "intake",
      detail: `reported again by ${reporter}; ${again}`,
    });
  }
  if (verified) {
    Object.assign(changes, verified.changes);
    events.push(verified.event);
  }
  if (events.length === 0) return { leak, sealedToken };
  const updated = await deps.store.updateLeak(leak, changes, events).catch(async (error: unknown) => {
    if (!(error instanceof ConflictError)) throw error;
    return (await deps.store.getLeak(leak.id)) ?? leak; // the worker or another report got there first
  });
  return { leak: updated, sealedToken };
}

function linkPair(leak: Leak, pairedWith: PairedWith, at: string, reporter: string) {
  const secretHalf = keyHalfOf(leak.tokenType) !== undefined;
  const changes: LeakChanges = { pairedWith };
  if (secretHalf && leak.status === "unroutable") changes.status = "paired";
  const event: TimelineEvent = {
    at,
    step: "pair",
    outcome: "ok",
    actor: "intake",
    detail: secretHalf
      ? `reported by ${reporter} with its ${pairedWith.tokenType}: ${secretHalfNote(leak.tokenType, pairedWith)}`
      : `reported by ${reporter} with its ${pairedWith.tokenType} (leak ${pairedWith.leakId})`,
    data: { paired_with: pairedWith.leakId },
  };
  return { changes, event };
}

/**
 * Why a settled leak's token is worth verifying again, or undefined: its type had no issuer and now
 * has one (a config change), or its issuer did not know it and that answer is older than `afterMs`
 * (so a scanner re-reporting a false positive for hours costs one issuer call per period, not one each).
 */
export function verifiesAgain(leak: Leak, now: number, afterMs: number): string | undefined {
  if (leak.status === "unroutable") return "its type now has an issuer: verifying it";
  if (leak.status !== "false_positive") return undefined;
  const answeredAt = Date.parse(leak.verifiedAt ?? leak.firstSeen);
  return now - answeredAt >= afterMs
    ? `its issuer did not know it at ${leak.verifiedAt ?? leak.firstSeen}: verifying it again`
    : undefined;
}

type Verified = ReturnType<typeof applyVerification>;

/** Verifies within what is left of the time box; whatever does not finish is the worker's. */
async function verifyInline(
  deps: RecordDeps,
  issuer: Issuer,
  leakId: string,
  group: ReportedToken,
  deadline: number,
) {
  const now = deps.now ?? Date.now;
  const remaining = deadline - now();
  if (remaining <= 0) return undefined;
  try {
    const verification = await issuer.verify(
      { token: group.token, type: group.type.toLowerCase() },
      { signal: AbortSignal.timeout(remaining) },
    );
    const policy = policyFor(deps.config, group.type);
    return applyVerification(verification, new Date(now()).toISOString(), "intake", policy);
  } catch (error) {
    deps.log.warn("inline verification did not finish; the worker will verify", {
      leakId,
      error: describeError(error),
    });
    return undefined;
  }
}
