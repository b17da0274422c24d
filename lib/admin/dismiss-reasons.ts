// Why, and which leaks, an administrator may dismiss: one list each for the admin API, the CLI and the
// browser console (a module with no imports, so the console's bundle can take it).

export const DISMISS_REASONS = [
  "false_positive",
  "accepted_risk",
  "test_token",
  "duplicate",
  "other",
] as const;

/** Statuses an administrator may close by dismissal: nothing is running and nothing was revoked. */
export const DISMISSABLE_STATUSES = [
  "failed",
  "unroutable",
  "false_positive",
  "inactive",
  "notified",
  "dry_run",
  "allowlisted",
] as const;
