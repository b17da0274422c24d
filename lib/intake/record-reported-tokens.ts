import { policyFor, type TourniquetConfig } from "../config.js";
import { ConflictError } from "../errors.js";
import type { Issuer } from "../issuers/issuer.js";
import type { IssuerRegistry } from "../issuers/issuer-registry.js";
import { describeError, type Log } from "../log.js";
import type { RemediationMessage, RemediationQueue } from "../queue/remediation-queue.js";
import type { TokenSealer } from "../queue/token-sealer.js";
import {
  applyVerification,
  type FeedbackLabel,
  feedbackLabel,
  needsRemediation,
} from "../remediation/verification.js";
import { boundSighting } from "../store/field-limits.js";
import { type Leak, leakIdFor, type TimelineEvent } from "../store/leak.js";
import type { LeakStore, NewSighting } from "../store/leak-store.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { fingerprintToken, redactToken } from "./fingerprint.js";
import type { IntakeMetrics, IntakeSource } from "./intake-metrics.js";

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
}

/** Groups reported tokens by fingerprint, keeping each distinct url+source (within size limits) once. */
export function groupReportedTokens(
  reports: readonly { token: string; type: string; url: string; source: string }[],
): ReportedToken[] {
  const groups = new Map<string, ReportedToken>();
  for (const report of reports) {
    const fingerprint = fingerprintToken(report.token);
    let group = groups.get(fingerprint);
    if (!group) {
      group = { token: report.token, fingerprint, type: report.type, sightings: [] };
      groups.set(fingerprint, group);
    }
    const sighting = boundSighting(report);
    if (!group.sightings.some((s) => s.url === sighting.url && s.source === sighting.source)) {
      group.sightings.push(sighting);
    }
  }
  return [...groups.values()];
}

/** Sightings a new leak's own item carries; more are written as sighting items (the 400 KB item limit). */
export const EMBEDDED_SIGHTINGS = 10;

/**
 * Records each token as one leak with its sightings, verifies inline until the deadline, and queues
 * remediation. Resolves only after the queue took the work, so a failure is the sender's 5xx to retry;
 * a retried report is harmless (the leak's id derives from the fingerprint).
 */
export async function recordReportedTokens(
  deps: RecordDeps,
  tokens: readonly ReportedToken[],
  options: RecordOptions,
): Promise<RecordedToken[]> {
  const messages: RemediationMessage[] = [];
  const recorded = await mapWithConcurrency(tokens, deps.config.intake.concurrency, async (group) => {
    const { leak, sealedToken } = await recordToken(deps, group, options);
    if (sealedToken && needsRemediation(leak)) messages.push({ leakId: leak.id, sealedToken });
    return { fingerprint: group.fingerprint, type: group.type, leak, label: feedbackLabel(leak) };
  });
  await deps.queue.send(messages);
  deps.metrics?.reported(recorded, options.source);
  return recorded;
}

/**
 * Verifies first, then records: a new token's leak is written once, already verified. Only a token
 * reported before (the leak exists) costs a second write, when its verification was still open.
 */
async function recordToken(
  deps: RecordDeps,
  group: ReportedToken,
  { receivedAt, verifyDeadline, reporter }: RecordOptions,
): Promise<{ leak: Leak; sealedToken?: string | undefined }> {
  const allowlisted = deps.config.allowlist.includes(group.fingerprint);
  const issuer = allowlisted ? undefined : deps.issuers.forType(group.type);
  const at = new Date(receivedAt).toISOString();
  const first = group.sightings[0];
  const id = leakIdFor(group.fingerprint);
  // Sealed once: for the queue message, and kept on the leak while an admin retry may need it.
  const sealedToken = issuer ? await deps.sealer.seal(group.token, id) : undefined;
  const verified = issuer ? await verifyInline(deps, issuer, id, group, verifyDeadline) : undefined;
  const where = `${first?.source}${first?.url ? ` at ${first.url}` : ""}`;
  const reported: TimelineEvent = {
    at,
    step: "report",
    outcome: "ok",
    actor: "intake",
    detail: allowlisted
      ? `reported by ${reporter} (${where}); allowlisted as a known test token: no action`
      : issuer
        ? `reported by ${reporter} (${where})`
        : `reported by ${reporter} (${where}); no issuer handles type "${group.type}"`,
  };
  // A new leak carries the report's first sightings in its own item: one write. Sightings beyond those
  // are items of their own, written alongside; so are all of them when the leak already exists.
  const embedded = group.sightings.slice(0, EMBEDDED_SIGHTINGS);
  const [{ leak, created }] = await Promise.all([
    deps.store.createLeak({
      id,
      fingerprint: group.fingerprint,
      tokenType: group.type.toLowerCase(),
      preview: redactToken(group.token),
      issuer: issuer?.name ?? null,
      status: allowlisted ? "allowlisted" : issuer ? "pending" : "unroutable",
      sealedToken,
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
  await Promise.all(embedded.map((sighting) => deps.store.recordSighting(id, sighting, at)));
  deps.log.info("token reported again", { leakId: leak.id, status: leak.status });
  if (leak.status !== "pending" || !verified) return { leak, sealedToken };
  const updated = await deps.store
    .updateLeak(leak, verified.changes, [verified.event])
    .catch(async (error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
      return (await deps.store.getLeak(leak.id)) ?? leak; // the worker got there first
    });
  return { leak: updated, sealedToken };
}

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
    const { mode } = policyFor(deps.config, group.type);
    return applyVerification(verification, new Date(now()).toISOString(), "intake", mode);
  } catch (error) {
    deps.log.warn("inline verification did not finish; the worker will verify", {
      leakId,
      error: describeError(error),
    });
    return undefined;
  }
}
