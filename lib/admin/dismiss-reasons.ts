// Why an administrator may dismiss a leak: one list for the admin API, the CLI and the browser console
// (a module with no imports, so the console's bundle can take it).

export const DISMISS_REASONS = [
  "false_positive",
  "accepted_risk",
  "test_token",
  "duplicate",
  "other",
] as const;
