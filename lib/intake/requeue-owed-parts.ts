import type { Log } from "../log.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import { type RequeueOwedOptions, type RequeueOwedResult, requeueOwed } from "../schedule/requeue-owed.js";
import type { ReportPart } from "./report-part.js";
import type { ReportPartStore } from "./report-part-store.js";

// Mass reports' safety net (schedule/requeue-owed.ts): a part still in the table with nothing happening
// to it for a while lost its message, or the queue gave up on it; it is sent to the worker again. A part
// leased by a worker is left alone until its lease ends.

export function requeueOwedParts(
  deps: { parts: ReportPartStore; queue: RemediationQueue; log: Log },
  options: RequeueOwedOptions,
): Promise<RequeueOwedResult> {
  return requeueOwed(
    deps,
    {
      name: "report part",
      list: (query) => deps.parts.listOwedParts(query),
      isStuck: (part: ReportPart, cutoff, now) =>
        !part.failure &&
        part.lastActivity <= cutoff &&
        !(part.leaseUntil !== undefined && part.leaseUntil > now),
      message: (part) => ({ partId: part.id }),
      touch: (part, lastActivity) => deps.parts.updatePart(part, { lastActivity }),
    },
    options,
  );
}
