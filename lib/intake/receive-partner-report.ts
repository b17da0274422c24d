import { createHash } from "node:crypto";
import type { PartnerKeyCache } from "../github/partner-key-cache.js";
import { verifyPartnerSignature } from "../github/partner-signature.js";
import { checkJsonRequest } from "../http/json-request.js";
import type { SignedDelivery } from "../http/signed-delivery-route.js";
import { describeError } from "../log.js";
import type { FeedbackLabel } from "../remediation/verification.js";
import { deferReportParts, LATE_PARTS } from "./defer-report-parts.js";
import { pairReportedTokens } from "./pair-reported-tokens.js";
import { parsePartnerReport } from "./partner-report.js";
import { groupReportedTokens, type RecordDeps, recordTokensBy } from "./record-reported-tokens.js";
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

  const reporter = "GitHub secret scanning";
  const kept = {
    reportDigest: createHash("sha256").update(request.body).digest("hex"),
    receivedAt,
    reporter,
  };
  // Both run to their end, so whatever was written is queued; then a failure is the sender's 5xx.
  const [recorded, deferred] = await Promise.allSettled([
    recordTokensBy(deps, inline, {
      receivedAt,
      verifyDeadline: receivedAt + intake.inline_verify_budget_ms,
      reporter,
      source: "partner_report",
      pairs,
      startBy: receivedAt + intake.record_budget_ms,
    }).then(async ({ recorded, late }) => {
      // The store was too slow for the intake's share: what did not start goes to parts as well.
      const first = late[0];
      if (first) {
        const lateParts = splitReport(late, pairs, { inlineMax: 0 }).parts;
        deps.log.warn("report recording ran out of time; the rest is kept for the worker", {
          late: late.length,
        });
        await deferReportParts(deps, lateParts, pairs, {
          ...kept,
          source: "partner_report",
          firstIndex: LATE_PARTS + inline.indexOf(first),
        });
      }
      return recorded;
    }),
    deferReportParts(deps, parts, pairs, { ...kept, source: "partner_report" }),
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
