import type { Leak, LeakDetails, LeakStatus, Sighting, TimelineEvent } from "./leak.js";

// The leak repository port. Every state change is one conditional write on the leak's version, so
// retries and concurrent workers are safe without transactions.

export interface NewSighting {
  url: string;
  source: string;
}

export interface LeakQuery {
  status?: LeakStatus | undefined;
  tokenType?: string | undefined;
  fingerprint?: string | undefined;
  owner?: string | undefined;
  /** Inclusive ISO-8601 bounds on first seen. */
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface LeakPage {
  items: Leak[];
  nextCursor: string | null;
}

export type LeakChanges = Partial<Omit<Leak, "id" | "fingerprint" | "timeline" | "version">>;

export interface LeakStore {
  /** Creates the leak unless one with its id exists; returns the stored leak either way. */
  createLeak(leak: Leak): Promise<{ leak: Leak; created: boolean }>;
  /** One sighting per distinct url+source; repeated reports bump its count and last seen. */
  recordSighting(leakId: string, sighting: NewSighting, at: string): Promise<Sighting>;
  getLeak(id: string): Promise<Leak | undefined>;
  getLeakDetails(id: string): Promise<LeakDetails | undefined>;
  /**
   * Applies `changes` and appends `events` if the stored version is still `leak.version`.
   * Throws ConflictError otherwise. Returns the leak as written.
   */
  updateLeak(leak: Leak, changes: LeakChanges, events: TimelineEvent[]): Promise<Leak>;
  listLeaks(query: LeakQuery): Promise<LeakPage>;
  /**
   * Leaks the worker still owes a step (leak-lifecycle.ts) whose last activity is at or before
   * `until`, least recently active first.
   */
  listOwingWork(query: { until: string; limit: number; cursor?: string | undefined }): Promise<LeakPage>;
}
