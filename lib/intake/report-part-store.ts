import type { ReportPart, ReportPartChanges } from "./report-part.js";

// The port mass reports' parts are kept through until recorded (DynamoDB: store/dynamo-report-part-store.ts).

export interface ReportPartStore {
  /** Writes the parts, replacing any of the same id (the same report sent again). */
  putParts(parts: readonly ReportPart[]): Promise<void>;
  getPart(id: string): Promise<ReportPart | undefined>;
  /** Versioned: throws ConflictError when the part changed since it was read. */
  updatePart(part: ReportPart, changes: ReportPartChanges): Promise<ReportPart>;
  /** Removes a recorded part; a part written again since (another version) is kept. */
  deletePart(part: ReportPart): Promise<void>;
  /** Parts still to record, least recently active first, up to `until` (ISO). */
  listOwedParts(query: {
    until: string;
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: ReportPart[]; nextCursor: string | null }>;
}
