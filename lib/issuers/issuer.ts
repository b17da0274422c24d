// The issuer port: the service that issued a token knows whether it is live, whose it is, and can kill it.

export interface Owner {
  id?: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
}

export type TokenValidity = "active" | "inactive" | "unknown";

export interface Verification {
  status: TokenValidity;
  keyId?: string | undefined;
  owner?: Owner | undefined;
  /** What the issuer can tell about the key (creation, last use…); never the token. */
  evidence?: Record<string, unknown> | undefined;
}

export interface Revocation {
  keyId: string;
  /** True when the key was already revoked before this call (the call was a no-op). */
  alreadyRevoked: boolean;
  revokedAt?: string | undefined;
}

export interface Rotation {
  keyId: string;
  replacementKeyId: string;
  /** True when the issuer gave the new secret to the owner itself: Tourniquet never sees it. */
  deliveredToOwner: boolean;
  /** Only from adapters that must hand the secret over; it goes straight into the secret store. */
  secret?: string | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface Issuer {
  /** Name from the config, recorded on every leak it handles. */
  readonly name: string;
  verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification>;
  /** Idempotent: revoking a revoked key succeeds with `alreadyRevoked: true`. */
  revoke(
    request: { keyId: string; type: string; leakId: string },
    options?: CallOptions,
  ): Promise<Revocation>;
  /** Optional: creates a replacement key for the same owner. */
  rotate?(request: { keyId: string; type: string; leakId: string }, options?: CallOptions): Promise<Rotation>;
}
