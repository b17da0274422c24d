import type { Log } from "../log.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import type { TokenSealer } from "../queue/token-sealer.js";
import type { IntakeSource } from "./intake-metrics.js";
import type { Pairs } from "./pair-reported-tokens.js";
import type { ReportedToken } from "./record-reported-tokens.js";
import { type ReportPart, reportPartId, sealPartTokens } from "./report-part.js";
import type { ReportPartStore } from "./report-part-store.js";

// The intake's half of a mass report (report-parts.ts): the tokens it does not record itself are
// sealed in parts, written, and queued for the worker before the report is answered, so an accepted
// report is never lost. A failure is the sender's 5xx; its retry writes the same parts again.

export interface DeferDeps {
  parts: ReportPartStore;
  sealer: TokenSealer;
  queue: RemediationQueue;
  log: Log;
  now?: (() => number) | undefined;
}

export interface DeferOptions {
  /** SHA-256 (hex) of the report's body: the parts' ids derive from it. */
  reportDigest: string;
  /**
   * Where these parts' tokens start in the report's order (see LATE_PARTS): a part's index is that
   * plus its first token's position among them, so a retried report names the same tokens alike.
   */
  firstIndex?: number;
  receivedAt: number;
  reporter: string;
  source: IntakeSource;
}

/**
 * Parts of tokens the intake meant to record itself but did not start in time are numbered from here
 * (plus their position in the intake's share), apart from the report's other parts.
 */
export const LATE_PARTS = 100_000;

export async function deferReportParts(
  deps: DeferDeps,
  parts: readonly ReportedToken[][],
  pairs: Pairs,
  options: DeferOptions,
): Promise<ReportPart[]> {
  if (parts.length === 0) return [];
  const lastActivity = new Date((deps.now ?? Date.now)()).toISOString();
  const starts = parts.map((_, i) => parts.slice(0, i).reduce((sum, part) => sum + part.length, 0));
  const records = await Promise.all(
    parts.map(async (tokens, i): Promise<ReportPart> => {
      const index = (options.firstIndex ?? 0) + (starts[i] ?? 0);
      const id = reportPartId(options.reportDigest, index);
      return {
        id,
        index,
        of: parts.length,
        tokens: tokens.length,
        sealed: await sealPartTokens(deps.sealer, id, tokens, pairs),
        receivedAtMs: options.receivedAt,
        reporter: options.reporter,
        source: options.source,
        lastActivity,
        attempts: 0,
        version: 1,
      };
    }),
  );
  await deps.parts.putParts(records);
  await deps.queue.send(records.map((part) => ({ partId: part.id })));
  deps.log.info("report parts kept for the worker", {
    parts: records.length,
    tokens: records.reduce((sum, part) => sum + part.tokens, 0),
  });
  return records;
}
