import { ConflictError } from "../errors.js";
import type { AlertRecord } from "./alert-record.js";
import type { AlertChanges, AlertStore } from "./alert-store.js";

/** Conflicting writes before giving up (the next delivery or sweep tries again). */
const RACES = 3;

/**
 * Writes `changes` to the alert while `holds` says it still should: a write lost to another writer
 * (a delivery, the sweep, the worker) reads the alert again and asks again. True when written.
 */
export async function updateAlertWhile(
  alerts: AlertStore,
  alert: AlertRecord,
  holds: (current: AlertRecord) => boolean,
  changes: (current: AlertRecord) => AlertChanges,
): Promise<boolean> {
  let current: AlertRecord | undefined = alert;
  for (let race = 0; current && holds(current) && race < RACES; race++) {
    try {
      await alerts.updateAlert(current, changes(current));
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      current = await alerts.getAlert(alert.id);
    }
  }
  return false;
}
