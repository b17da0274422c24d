import { policyFor, type TourniquetConfig } from "../config.js";
import { ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError } from "../errors.js";
import type { PartnerKeyCache } from "../github/partner-key-cache.js";
import { verifyPartnerSignature } from "../github/partner-signature.js";
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
import { type Leak, leakIdFor, type TimelineEvent } from "../store/leak.js";
import type { LeakStore } from "../store/leak-store.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { fingerprintToken, redactToken } from "./fingerprint.js";
import { type PartnerMatch, parsePartnerReport } from "./partner-report.js";

export interface IntakeDeps {
  config: TourniquetConfig;
  store: LeakStore;
  queue: RemediationQueue;
  sealer: TokenSealer;
  keys: PartnerKeyCache;
  issuers: IssuerRegistry;
  log: Log;
  now?: () => number;
}

export interface PartnerReportRequest {
  /** Header lookup, case-insensitive. */
  header(name: string): string | undefined;
  body: Buffer;
}

export interface Feedback {
  token_hash: string;
  token_type: string;
  label: FeedbackLabel;
}

/** One distinct token of a report, with every place it was seen. */
interface TokenGroup {
  token: string;
  fingerprint: string;
  type: string;
  sightings: { url: string; source: string }[];
}

const JSON_CONTENT_TYPE = /^application\/json\s*(;.*)?$/i;

/**
 * GitHub's partner report: check size, type and signature; record each distinct token as one leak with
 * its sightings; verify inline until the time box closes; queue remediation; answer with feedback.
 */
export async function receivePartnerReport(
  deps: IntakeDeps,
  request: PartnerReportRequest,
): Promise<Feedback[]> {
  const now = deps.now ?? Date.now;
  const receivedAt = now();
  const { intake } = deps.config;

  if (request.body.length > intake.max_body_bytes) {
    throw new PayloadTooLargeError(
      `body is ${request.body.length} bytes; the limit is ${intake.max_body_bytes}`,
    );
  }
  const contentType = request.header("content-type");
  if (contentType !== undefined && !JSON_CONTENT_TYPE.test(contentType.trim())) {
    throw new UnsupportedMediaTypeError(
      `content-type must be application/json, not ${contentType.slice(0, 80)}`,
    );
  }
  await verifyPartnerSignature({
    keyId: request.header("github-public-key-identifier"),
    signature: request.header("github-public-key-signature"),
    body: request.body,
    keys: deps.keys,
  });
  const report = parsePartnerReport(request.body);
  const groups = groupByToken(report.matches);
  deps.log.info("partner report received", {
    matches: report.matches.length,
    tokens: groups.length,
    skipped: report.skipped,
  });

  const deadline = receivedAt + intake.inline_verify_budget_ms;
  const messages: RemediationMessage[] = [];
  const feedback: Feedback[] = [];
  await mapWithConcurrency(groups, intake.concurrency, async (group) => {
    const { leak, sealedToken } = await recordToken(deps, group, receivedAt, deadline);
    if (sealedToken && needsRemediation(leak)) messages.push({ leakId: leak.id, sealedToken });
    const label = feedbackLabel(leak);
    if (label) feedback.push({ token_hash: group.fingerprint, token_type: group.type, label });
  });
  // Answering only after the queue took the work means a failure here is a 5xx GitHub retries.
  await deps.queue.send(messages);
  return feedback;
}

function groupByToken(matches: readonly PartnerMatch[]): TokenGroup[] {
  const groups = new Map<string, TokenGroup>();
  for (const match of matches) {
    const fingerprint = fingerprintToken(match.token);
    let group = groups.get(fingerprint);
    if (!group) {
      group = { token: match.token, fingerprint, type: match.type, sightings: [] };
      groups.set(fingerprint, group);
    }
    if (!group.sightings.some((s) => s.url === match.url && s.source === match.source)) {
      group.sightings.push({ url: match.url, source: match.source });
    }
  }
  return [...groups.values()];
}

/**
 * Verifies first, then records: a new token's leak is written once, already verified. Only a token
 * reported before (the leak exists) costs a second write, when its verification was still open.
 */
async function recordToken(
  deps: IntakeDeps,
  group: TokenGroup,
  receivedAt: number,
  deadline: number,
): Promise<{ leak: Leak; sealedToken?: string | undefined }> {
  const allowlisted = deps.config.allowlist.includes(group.fingerprint);
  const issuer = allowlisted ? undefined : deps.issuers.forType(group.type);
  const at = new Date(receivedAt).toISOString();
  const first = group.sightings[0];
  const id = leakIdFor(group.fingerprint);
  // Sealed once: for the queue message, and kept on the leak while an admin retry may need it.
  const sealedToken = issuer ? await deps.sealer.seal(group.token, id) : undefined;
  const verified = issuer ? await verifyInline(deps, issuer, id, group, deadline) : undefined;
  const where = `${first?.source}${first?.url ? ` at ${first.url}` : ""}`;
  const reported: TimelineEvent = {
    at,
    step: "report",
    outcome: "ok",
    actor: "intake",
    detail: allowlisted
      ? `reported by GitHub secret scanning (${where}); allowlisted as a known test token: no action`
      : issuer
        ? `reported by GitHub secret scanning (${where})`
        : `reported by GitHub secret scanning (${where}); no issuer handles type "${group.type}"`,
  };
  // The sightings do not depend on the leak item, so they are written alongside it.
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
      timeline: verified ? [reported, verified.event] : [reported],
      version: 1,
    }),
    ...group.sightings.map((sighting) => deps.store.recordSighting(id, sighting, at)),
  ]);
  if (created) return { leak, sealedToken };
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
  deps: IntakeDeps,
  issuer: Issuer,
  leakId: string,
  group: TokenGroup,
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
