import { REPORT_KINDS, type ReportKind } from "../../bench/load/load-plan.js";

/** A load mix that sends only reports of `kind`. */
export const onlyKind = (kind: ReportKind): Record<ReportKind, number> =>
  Object.fromEntries(REPORT_KINDS.map((k) => [k, k === kind ? 1 : 0])) as Record<ReportKind, number>;
