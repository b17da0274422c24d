// The issuer port: the service that issued a token knows whether it is live, whose it is, and can kill it.

export interface Owner {
  id?: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
}

export type TokenValidity = "active" | "inactive" | "unknown";

/** One line the key's owner reads about the key in the message ("Account", "contoso-openai"). */
export interface KeyDetail {
  label: string;
  value: string;
}

export interface Verification {
  status: TokenValidity;
  keyId?: string | undefined;
  owner?: Owner | undefined;
  /** What the issuer can tell about the key (creation, last use…); never the token. */
  evidence?: Record<string, unknown> | undefined;
  /** The evidence in a few lines for the owner's message (where the key lives, how it was used). */
  details?: KeyDetail[] | undefined;
}

export interface Revocation {
  keyId: string;
  /** True when the key was already revoked before this call (the call was a no-op). */
  alreadyRevoked: boolean;
  revokedAt?: string | undefined;
  /** What the issuer did beyond killing the key (a user quarantined), each with its undo; for the timeline. */
  actions?: string[] | undefined;
}

export interface Rotation {
  keyId: string;
  replacementKeyId: string;
  /** True when the issuer gave the new secret to the owner itself: Tourniquet never sees it. */
  deliveredToOwner: boolean;
  /** Only from adapters that must hand the secret over; it goes straight into the secret store. */
  secret?: string | undefined;
  /**
   * Where the owner can read the replacement at the vendor (a console page, a CLI command), for when
   * no secret store is configured: the handed-over `secret` is then dropped, never kept.
   */
  where?: string | undefined;
  /** What the owner should know about the replacement (it is limited until a quarantine is lifted). */
  note?: string | undefined;
}

/** What the worker tells the issuer about the key to act on. */
export interface KeyRequest {
  keyId: string;
  type: string;
  leakId: string;
  /**
   * SHA-256 hex of the leaked token (the leak's fingerprint): lets an issuer that cannot revoke by id
   * alone (Azure's key slots) tell whether the slot still holds the leaked key.
   */
  fingerprint?: string | undefined;
  /**
   * The raw token, opened from its sealed copy for this call only: for services that revoke a token only
   * when shown it (GitHub's credentials API, Slack's auth.revoke). Never stored, logged or put in an error.
   */
  token?: string | undefined;
}

/** Use of a key's account over a period, as far as the issuer can tell (Azure Monitor metrics). */
export interface UsageReport {
  since: string;
  until: string;
  /** Figures by name (tokens, requests), for the timeline. */
  figures: Record<string, unknown>;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/**
 * For a service whose revocation call takes many tokens at once and may be called only rarely (GitHub's
 * POST /credentials/revoke): intake and the sweep queue this issuer's leaks in messages of `maxTokens`,
 * and the worker revokes each message's leaks at once (remediation/revoke-together.ts), which the
 * issuer's adapter sends as one call.
 */
export interface RevocationBatching {
  /** Tokens one revocation call takes. */
  maxTokens: number;
}

export interface Issuer {
  /** Name from the config, recorded on every leak it handles. */
  readonly name: string;
  /** Present when revocations are best made together (see RevocationBatching). */
  readonly revocationBatching?: RevocationBatching | undefined;
  /**
   * Present when a revocation is accepted before it takes effect (GitHub's 202): how long the token may
   * still verify live afterwards. The re-verification asks again until then.
   */
  readonly revocationSettlesWithinMs?: number | undefined;
  verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification>;
  /** Idempotent: revoking a revoked key succeeds with `alreadyRevoked: true`. */
  revoke(request: KeyRequest, options?: CallOptions): Promise<Revocation>;
  /** Optional: creates a replacement key for the same owner. */
  rotate?(request: KeyRequest, options?: CallOptions): Promise<Rotation>;
  /** Optional: re-reads what the issuer caches (Azure's key fingerprints); the sweep calls it. */
  refresh?(options?: CallOptions): Promise<unknown>;
  /** Optional: how the key (or its account) was used since a time, e.g. since its revocation. */
  usageSince?(request: { keyId: string; since: string }, options?: CallOptions): Promise<UsageReport>;
}
