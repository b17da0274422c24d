import type { AlertReceipt, AlertRecord } from "./alert-record.js";

// The port the App path keeps its alerts through (DynamoDB: store/dynamo-alert-store.ts).

export type AlertChanges = Partial<Omit<AlertRecord, "id" | "version">>;

export interface AlertStore {
  /**
   * Records a webhook delivery of an alert, owing its fetch. `duplicate` when this delivery id was
   * recorded before (GitHub's or an operator's redelivery, or the same delivery at once): nothing
   * changes. Without a delivery id (the sweep found the alert), only an alert not recorded yet is.
   */
  recordAlert(
    receipt: AlertReceipt,
    options: { delivery?: string | undefined; at: number },
  ): Promise<{ alert: AlertRecord; duplicate: boolean }>;
  getAlert(id: string): Promise<AlertRecord | undefined>;
  /** Versioned: throws ConflictError when the alert changed since it was read. */
  updateAlert(alert: AlertRecord, changes: AlertChanges): Promise<AlertRecord>;
  /** Alerts whose fetch is owed, least recently active first, up to `until` (ISO). */
  listOwedAlerts(query: {
    until: string;
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: AlertRecord[]; nextCursor: string | null }>;
  /** Where the sweep's listing of an installation's alerts stopped (ISO), and setting it. */
  getSweepMark(installationId: number): Promise<string | undefined>;
  /** Never moves the mark back, nor sets one from a listing that started before the last clear. */
  setSweepMark(installationId: number, at: string): Promise<void>;
  /**
   * Forgets the mark (the installation gained repositories or permissions), so the next sweep lists all
   * its open alerts; a listing that started before `at` (ISO) and ends after cannot set it again.
   */
  clearSweepMark(installationId: number, at: string): Promise<void>;
}
