// A leak's statuses, in one module with no imports: the store, the admin API and the browser console
// (console/) all read them from here.

export const LEAK_STATUSES = [
  "pending", // recorded, not yet verified with its issuer
  "active", // verified live: revocation under way
  "revoked", // live key that Tourniquet revoked (re-verified dead)
  "inactive", // already dead when reported: nothing to revoke
  "false_positive", // the issuer does not know the token
  "unroutable", // no issuer handles this token type
  "failed", // remediation gave up; `failure` says where and why
  "notified", // live key left alone by policy (notify_only); its owner was told
  "dry_run", // policy dry_run: what would have been done is in the timeline; nothing was done
  "allowlisted", // a known test token (config allowlist): recorded, never acted on
  "paired", // the secret half of a key pair (AWS secret access key): acted on through its key id's leak
  "dismissed", // closed by an administrator, with a reason
] as const;

export type LeakStatus = (typeof LEAK_STATUSES)[number];
