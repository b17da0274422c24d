import { createHash } from "node:crypto";
import { IssuerError } from "../../errors.js";
import { type RetryPolicy, retryTransient } from "../../util/retry.js";
import { echoesToken } from "../echoes-token.js";
import type {
  CallOptions,
  Issuer,
  KeyRequest,
  Revocation,
  RevocationBatching,
  Verification,
} from "../issuer.js";
import type { GithubTokenApi, UserLookup } from "./github-token-api.js";
import { githubTokenKind } from "./github-token-kind.js";
import {
  GITHUB_MAX_CREDENTIALS_PER_CALL,
  RevocationBatcher,
  type RevocationBatcherOptions,
} from "./revocation-batcher.js";

// The GitHub tokens issuer. Verify: GET /user with the token (200 live, with its user's login and id;
// 401 dead; 403 asking for SAML SSO still live). Revoke: the unauthenticated POST /credentials/revoke,
// shown the token itself, batched (revocation-batcher.ts). Rotate: GitHub has no API that makes a
// personal access token for a user. GitHub tells the token's owner of the revocation itself.

export interface GithubTokenIssuerOptions {
  name: string;
  api: GithubTokenApi;
  /** GitHub's web address for the owner's message (https://github.com; GHES: its host). */
  webUrl?: string | undefined;
  retry?: RetryPolicy | undefined;
  batch?: Omit<RevocationBatcherOptions, "send"> | undefined;
  /** How long GET /user may still answer 200 after a 202 from POST /credentials/revoke. Default 10 s. */
  revocationSettlesWithinMs?: number | undefined;
}

/** A few quick tries of GET /user; a longer rate limit is the step's retry (the queue's). */
const GITHUB_RETRY: RetryPolicy = { attempts: 3, baseMs: 200, maxDelayMs: 5_000 };

export class GithubTokenIssuer implements Issuer {
  readonly name: string;
  readonly revocationBatching: RevocationBatching;
  readonly revocationSettlesWithinMs: number;
  private readonly api: GithubTokenApi;
  private readonly retry: RetryPolicy;
  private readonly batcher: RevocationBatcher;

  constructor(options: GithubTokenIssuerOptions) {
    this.name = options.name;
    this.api = options.api;
    this.retry = options.retry ?? GITHUB_RETRY;
    this.batcher = new RevocationBatcher({
      ...options.batch,
      send: (tokens) => this.api.revokeCredentials(tokens),
    });
    this.revocationBatching = {
      maxTokens: Math.min(
        options.batch?.maxBatch ?? GITHUB_MAX_CREDENTIALS_PER_CALL,
        GITHUB_MAX_CREDENTIALS_PER_CALL,
      ),
    };
    // 202 Accepted: GitHub revokes asynchronously, so the token may verify live for a moment.
    this.revocationSettlesWithinMs = options.revocationSettlesWithinMs ?? 10_000;
  }

  async verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification> {
    const kind = githubTokenKind(request.token);
    if (!kind) return { status: "unknown", evidence: { reason: "not a GitHub token format" } };
    if (!kind.verifiable) {
      throw new IssuerError(
        `GitHub ${kind.label}s cannot be verified with GET /user; this issuer handles personal access, OAuth and GitHub App user tokens`,
        { transient: false },
      );
    }
    const answer = await retryTransient(() => this.api.user(request.token, options), this.retry);
    if (echoesToken(JSON.stringify(answer), answer, request.token)) {
      throw new IssuerError("GitHub GET /user: the answer repeats the token; it is not kept", {
        transient: false,
      });
    }
    return this.verification(answer, request.token, kind.prefix);
  }

  async revoke(request: KeyRequest, options?: CallOptions): Promise<Revocation> {
    const token = request.token;
    if (!token) {
      throw new IssuerError(`GitHub revocation of ${request.keyId} needs the token itself; none was given`, {
        transient: false,
      });
    }
    const kind = githubTokenKind(token);
    if (!kind?.revocable) {
      throw new IssuerError(
        `GitHub's POST /credentials/revoke does not take ${kind?.label ?? "this kind of token"}s (key ${request.keyId})`,
        { transient: false },
      );
    }
    await this.batcher.revoke(token, options?.signal);
    return {
      keyId: request.keyId,
      // GitHub answers 202 whether or not it knew the token: re-verification tells.
      alreadyRevoked: false,
      revokedAt: new Date().toISOString(),
      actions: [
        "GitHub was asked to revoke the token (POST /credentials/revoke); GitHub tells the token's owner",
      ],
    };
  }

  private verification(answer: UserLookup, token: string, prefix: string): Verification {
    switch (answer.kind) {
      case "bad_credentials":
        return { status: "inactive", evidence: { answer: "401 Bad credentials", token_kind: prefix } };
      case "sso_required":
        // The token is live; an org's SAML SSO just has not authorised it. Its user is not named.
        return {
          status: "active",
          keyId: `github:unknown-user:${prefix}:${shortFingerprint(token)}`,
          evidence: {
            token_kind: prefix,
            saml_sso: "required: the token is live but not authorised for an organisation's SAML SSO",
          },
          details: [
            { label: "GitHub", value: "live token, blocked by an organisation's SAML single sign-on" },
          ],
        };
      case "forbidden":
        return {
          status: "active",
          keyId: `github:unknown-user:${prefix}:${shortFingerprint(token)}`,
          evidence: { token_kind: prefix, answer: `403 ${answer.message}`.trim() },
        };
      case "user": {
        const evidence: Record<string, unknown> = {
          login: answer.login,
          id: answer.id,
          type: answer.type,
          token_kind: prefix,
          scopes: answer.scopes,
          sso: answer.sso,
          expires_at: answer.expiresAt,
        };
        for (const [key, value] of Object.entries(evidence)) if (value === undefined) delete evidence[key];
        return {
          status: "active",
          keyId: `github:${answer.login}#${answer.id}:${prefix}:${shortFingerprint(token)}`,
          owner: { id: answer.login, email: answer.email, name: answer.name ?? answer.login },
          evidence,
          details: [
            { label: "GitHub user", value: `${answer.login} (id ${answer.id})` },
            ...(answer.scopes ? [{ label: "Scopes", value: answer.scopes }] : []),
          ],
        };
      }
    }
  }
}

/** 8 hex of the token's SHA-256: tells two tokens of one user apart; reveals nothing of either. */
const shortFingerprint = (token: string) => createHash("sha256").update(token).digest("hex").slice(0, 8);
