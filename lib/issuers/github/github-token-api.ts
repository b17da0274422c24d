// The GitHub tokens port: what the GitHub tokens issuer needs of GitHub's REST API. The adapter
// (octokit-github-token-api.ts) speaks to it through @octokit/core; the issuer (github-token-issuer.ts)
// holds the logic and is table-tested over an in-memory adapter.
//
// Adapters throw IssuerError: `transient` for rate limits (403/429 with `x-ratelimit-remaining: 0`, a
// Retry-After or GitHub's secondary-limit message; `retryAfterSeconds` from Retry-After, else from
// `x-ratelimit-reset`), for /credentials/revoke's 422 ("Validation failed, or the endpoint has been
// spammed"), 5xx, timeouts and network errors; permanent for the rest. Never a token in a message.

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** What `GET /user` said about the token it was called with. */
export type UserLookup =
  | {
      kind: "user";
      login: string;
      id: number;
      /** `User`, `Bot`, `Organization`. */
      type?: string | undefined;
      name?: string | undefined;
      /** Public email only (GitHub shows no other). */
      email?: string | undefined;
      /** `X-OAuth-Scopes` (classic PATs and OAuth tokens; absent for fine-grained ones). */
      scopes?: string | undefined;
      /** `X-GitHub-SSO` (e.g. `partial-results; organizations=…`). */
      sso?: string | undefined;
      /** `github-authentication-token-expiration`, when the token expires. */
      expiresAt?: string | undefined;
    }
  /** 401 Bad credentials: the token is dead (revoked, expired or never issued). */
  | { kind: "bad_credentials" }
  /** 403 with `X-GitHub-SSO: required; url=…`: a live token not yet authorised for an org's SAML SSO. */
  | { kind: "sso_required"; sso: string }
  /** Another 403 (an installation token: "Resource not accessible by integration"): the token is live. */
  | { kind: "forbidden"; message: string };

export interface GithubTokenApi {
  /** `GET /user` with `Authorization: token <token>`. */
  user(token: string, options?: CallOptions): Promise<UserLookup>;
  /**
   * The unauthenticated `POST /credentials/revoke` `{"credentials": [...]}` (1 to 1,000 tokens): resolves
   * on 202. GitHub does not say which tokens it knew.
   */
  revokeCredentials(credentials: readonly string[], options?: CallOptions): Promise<void>;
}
