import { createHash } from "node:crypto";
import type { PartnerKeyCache } from "../github/partner-key-cache.js";
import { verifyPartnerSignature } from "../github/partner-signature.js";
import { checkJsonRequest } from "../http/json-request.js";
import type { SignedDelivery } from "../http/signed-delivery-route.js";
import { describeError } from "../log.js";
import type { FeedbackLabel } from "../remediation/verification.js";
import { type DeferOptions, deferReportParts, LATE_PARTS } from "./defer-report-parts.js";
import { type Pairs, pairReportedTokens } from "./pair-reported-tokens.js";
import { parsePartnerReport } from "./partner-report.js";
import {
  groupReportedTokens,
  type RecordDeps,
  type ReportedToken,
  recordTokensBy,
} from "./record-reported-tokens.js";
import type { ReportPartStore } from "./report-part-store.js";
import { splitReport } from "./report-parts.js";

export interface IntakeDeps extends RecordDeps {
  keys: PartnerKeyCache;
  /** Where a mass report's tokens beyond `intake.inline_max_tokens` wait for the worker. */
  parts: ReportPartStore;
}

export type PartnerReportRequest = SignedDelivery;

export interface Feedback {
  token_hash: string;
  token_type: string;
  label: FeedbackLabel;
}

/**
 * GitHub's partner report: check size, type and signature; record each distinct token as one leak with
 * its sightings; verify inline until the time box closes; queue remediation; answer with feedback.
 * Tokens beyond `intake.inline_max_tokens` (a mass leak) are kept in sealed parts for the worker,
 * written and queued before the answer; they get no label (GitHub's feedback is optional per token).
 */
export async function receivePartnerReport(
  deps: IntakeDeps,
  request: PartnerReportRequest,
): Promise<Feedback[]> {
  const now = deps.now ?? Date.now;
  const receivedAt = now();
  const { intake } = deps.config;

  checkJsonRequest(request.body, request.header("content-type"), {
    maxBytes: intake.max_body_bytes,
    contentTypeRequired: false,
  });
  await verifyPartnerSignature({
    keyId: request.header("github-public-key-identifier"),
    signature: request.header("github-public-key-signature"),
    body: request.body,
    keys: deps.keys,
  });
  const report = parsePartnerReport(request.body, { maxMatches: intake.max_matches });
  const groups = groupReportedTokens(report.matches);
  const pairs = pairReportedTokens(groups);
  const { inline, parts } = splitReport(groups, pairs, { inlineMax: intake.inline_max_tokens });
  deps.log.info("partner report received", {
    matches: report.matches.length,
    tokens: groups.length,
    skipped: report.skipped,
    ...(parts.length > 0 ? { inline: inline.length, parts: parts.length } : {}),
  });

  const kept: DeferOptions = {
    reportDigest: createHash("sha256").update(request.body).digest("hex"),
    receivedAt,
    reporter: "GitHub secret scanning",
    source: "partner_report",
  };
  // Both run to their end, so whatever was written is queued; then a failure is the sender's 5xx.
  const [recorded, deferred] = await Promise.allSettled([
    recordShare(deps, inline, pairs, kept),
    deferReportParts(deps, parts, pairs, kept),
  ]);
  if (deferred.status === "rejected") {
    deps.log.error("a mass report's parts could not be kept; the sender should retry", {
      parts: parts.length,
      reason: describeError(deferred.reason),
    });
    throw deferred.reason;
  }
  if (recorded.status === "rejected") throw recorded.reason;
  return recorded.value.flatMap(({ fingerprint, type, label }) =>
    label ? [{ token_hash: fingerprint, token_type: type, label }] : [],
  );
}

/**
 * The intake's own share, verified inline until its time box closes; what the store was too slow to
 * start within `intake.record_budget_ms` goes to parts as well.
 */
async function recordShare(deps: IntakeDeps, inline: ReportedToken[], pairs: Pairs, kept: DeferOptions) {
  const { intake } = deps.config;
  const { receivedAt } = kept;
  const { recorded, late } = await recordTokensBy(deps, inline, {
    ...kept,
    verifyDeadline: receivedAt + intake.inline_verify_budget_ms,
    pairs,
    startBy: receivedAt + intake.record_budget_ms,
  });
  const first = late[0];
  if (first) {
    deps.log.warn("report recording ran out of time; the rest is kept for the worker", { late: late.length });
    const lateParts = splitReport(late, pairs, { inlineMax: 0 }).parts;
    await deferReportParts(deps, lateParts, pairs, {
      ...kept,
      firstIndex: LATE_PARTS + inline.indexOf(first),
    });
  }
  return recorded;
}
