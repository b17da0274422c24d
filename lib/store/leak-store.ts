import type { Leak, LeakDetails, LeakStatus, Sighting, TimelineEvent } from "./leak.js";

// The leak repository port. Every state change is one conditional write on the leak's version, so
// retries and concurrent workers are safe without transactions.

export interface NewSighting {
  url: string;
  source: string;
}

export interface LeakQuery {
  /** Any of these statuses (none or empty: any status). */
  statuses?: readonly LeakStatus[] | undefined;
  tokenType?: string | undefined;
  fingerprint?: string | undefined;
  owner?: string | undefined;
  /** The redacted preview exactly as stored and shown (`ghp_…wxyz`). */
  preview?: string | undefined;
  /** Inclusive ISO-8601 bounds on first seen. */
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface LeakPage {
  /** Matches only, at most `limit` of them, newest first. */
  items: Leak[];
  /** Where the next page starts; null when no match is left. */
  nextCursor: string | null;
  /**
   * True when the page stopped at its search budget (too many non-matching leaks in a row) rather
   * than at `limit` matches: it may be short, even empty, while `nextCursor` goes on searching.
   */
  partial: boolean;
}

/** Where a leak was seen, in two figures (an export's columns). */
export interface SightingSummary {
  /** Distinct places (url and source). */
  places: number;
  /** The url of the earliest sighting; null when none is known. */
  firstUrl: string | null;
}

export interface SightingPage {
  sightings: Sighting[];
  /** Where the next page starts; null when this page holds the last sightings. */
  nextCursor: string | null;
}

/** What the admin overview counts a leak by: a few fields, not the leak. */
export interface LeakSummary {
  id: string;
  firstSeen: string;
  status: LeakStatus;
  tokenType: string;
  timeToRevokeMs?: number | undefined;
  notificationStatus?: string | undefined;
}

export interface SummaryQuery {
  /** Inclusive ISO-8601 bounds on first seen. */
  since: string;
  until: string;
  tokenType?: string | undefined;
  /** Leaks read at most; beyond, the newest `max` are kept and the answer is partial. */
  max: number;
}

export type LeakChanges = Partial<Omit<Leak, "id" | "fingerprint" | "timeline" | "version">>;

export interface LeakStore {
  /** Creates the leak unless one with its id exists; returns the stored leak either way. */
  createLeak(leak: Leak): Promise<{ leak: Leak; created: boolean }>;
  /** One sighting per distinct url+source; repeated reports bump its count and last seen. */
  recordSighting(leakId: string, sighting: NewSighting, at: string): Promise<Sighting>;
  getLeak(id: string): Promise<Leak | undefined>;
  /** The leaks of these ids that exist (strongly consistent), read in batches: one call per 100. */
  getLeaks(ids: readonly string[]): Promise<Map<string, Leak>>;
  /** The leak with all its sightings (a notification names every place). */
  getLeakDetails(id: string): Promise<LeakDetails | undefined>;
  /**
   * One page of the leak's sightings, its own item's included, in a stable order across pages (oldest
   * first within one); `cursor` is the previous page's `nextCursor`.
   */
  listSightings(leak: Leak, page: { limit: number; cursor?: string | undefined }): Promise<SightingPage>;
  /** The sighting summary of each of these leaks, by leak id (one small query per leak, in parallel). */
  summarizeSightings(leaks: readonly Leak[]): Promise<Map<string, SightingSummary>>;
  /**
   * Applies `changes` and appends `events` if the stored version is still `leak.version`.
   * Throws ConflictError otherwise. Returns the leak as written.
   */
  updateLeak(leak: Leak, changes: LeakChanges, events: TimelineEvent[]): Promise<Leak>;
  listLeaks(query: LeakQuery): Promise<LeakPage>;
  /** Every leak first seen in the window (of one token type), newest first, as summaries. */
  summarizeLeaks(query: SummaryQuery): Promise<{ items: LeakSummary[]; partial: boolean }>;
  /**
   * Leaks the worker still owes a step (leak-lifecycle.ts) whose last activity is at or before
   * `until`, least recently active first.
   */
  listOwingWork(query: { until: string; limit: number; cursor?: string | undefined }): Promise<LeakPage>;
}
