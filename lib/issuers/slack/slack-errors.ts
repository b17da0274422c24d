// What each of Slack's `ok: false` error codes means for a leaked token: the one table the issuer reads.
// Sources: Slack's method pages (auth.test, auth.revoke, users.info) and their shared error list.

/** The token no longer works: it is dead, whoever killed it. */
export const DEAD_TOKEN_ERRORS: ReadonlySet<string> = new Set([
  "invalid_auth", // "Either the provided token is invalid or the request originates from an IP address disallowed"
  "token_revoked", // "for a deleted user or workspace or the app has been removed when using a user token"
  "account_inactive", // "for a deleted user or workspace when using a bot token"
  "token_expired", // a rotating token (xoxe.…) past its expiry
  "not_authed", // "No authentication token provided": Slack did not take what was sent as a token
]);

/** Slack could not answer now; the same call may work later. */
export const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  "ratelimited",
  "rate_limited",
  "fatal_error",
  "internal_error",
  "request_timeout",
  "service_unavailable",
  "org_login_required", // "The workspace is undergoing an enterprise migration"
  "team_added_to_org", // the same migration, from the workspace's side
]);

/**
 * Slack authenticated the token and then refused the call for what the token may do: the token is
 * live. On auth.test (which needs no scope) this is rare; on auth.revoke it means Slack will not let
 * the token revoke itself, and someone must revoke it in Slack.
 */
export const LIVE_BUT_REFUSED_ERRORS: ReadonlySet<string> = new Set([
  "missing_scope",
  "no_permission",
  "not_allowed_token_type",
  "not_bearer_token",
  "access_denied",
  "ekm_access_denied",
  "two_factor_setup_required",
  "enterprise_is_restricted",
  "accesslimited",
]);

export type ErrorMeaning = "dead" | "transient" | "live_refused" | "unexpected";

export function meaningOf(code: string): ErrorMeaning {
  if (DEAD_TOKEN_ERRORS.has(code)) return "dead";
  if (TRANSIENT_ERRORS.has(code)) return "transient";
  if (LIVE_BUT_REFUSED_ERRORS.has(code)) return "live_refused";
  return "unexpected";
}
