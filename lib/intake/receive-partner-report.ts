import type { PartnerKeyCache } from "../github/partner-key-cache.js";
import { verifyPartnerSignature } from "../github/partner-signature.js";
import { checkJsonRequest } from "../http/json-request.js";
import type { SignedDelivery } from "../http/signed-delivery-route.js";
import type { FeedbackLabel } from "../remediation/verification.js";
import { parsePartnerReport } from "./partner-report.js";
import { groupReportedTokens, type RecordDeps, recordReportedTokens } from "./record-reported-tokens.js";

export interface IntakeDeps extends RecordDeps {
  keys: PartnerKeyCache;
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
  deps.log.info("partner report received", {
    matches: report.matches.length,
    tokens: groups.length,
    skipped: report.skipped,
  });

  const recorded = await recordReportedTokens(deps, groups, {
    receivedAt,
    verifyDeadline: receivedAt + intake.inline_verify_budget_ms,
    reporter: "GitHub secret scanning",
    source: "partner_report",
  });
  return recorded.flatMap(({ fingerprint, type, label }) =>
    label ? [{ token_hash: fingerprint, token_type: type, label }] : [],
  );
}
