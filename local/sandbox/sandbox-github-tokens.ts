import { randomInt } from "node:crypto";

// The user tokens of the local fake GitHub (sandbox-github-api.ts): what GET /user and the
// unauthenticated POST /credentials/revoke see. Tokens have GitHub's shape: a prefix, 30 random base62
// characters and a 6-character base62 CRC32 checksum of them (GitHub's "Behind GitHub's new
// authentication token formats", 2021). The call log names calls and counts, never a token.

export type SandboxTokenPrefix = "ghp" | "gho" | "ghu";

export interface SandboxGithubUser {
  login: string;
  id: number;
}

interface TokenState extends SandboxGithubUser {
  prefix: SandboxTokenPrefix;
  scopes: string;
  /** Behind an organisation's SAML SSO it is not authorised for: GET /user answers 403. */
  ssoRequired: boolean;
  /** When a revocation accepted for it takes effect (epoch ms). */
  revokedFrom?: number | undefined;
}

export interface RevokeCall {
  at: number;
  /** Tokens in the call's body (how many, never which). */
  count: number;
  status: number;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, "utf8"))
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function base62(value: number, width: number): string {
  let out = "";
  let rest = value;
  while (rest > 0) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, "0");
}

/** Whether `token` has GitHub's shape with a valid checksum. */
export function hasValidChecksum(token: string): boolean {
  const match = /^(ghp|gho|ghu|ghs|ghr)_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/.exec(token);
  return match !== null && base62(crc32(match[2] as string), 6) === match[3];
}

export class SandboxGithubTokens {
  private readonly tokens = new Map<string, TokenState>();
  private readonly users = new Map<string, SandboxGithubUser>();
  private nextUserId = 583_231;
  /** Every POST /credentials/revoke, answered or refused. */
  readonly revokeCalls: RevokeCall[] = [];
  /**
   * How long an accepted revocation takes to take effect: GitHub answers 202 Accepted and revokes
   * asynchronously, so GET /user may still answer 200 for a moment. 0 by default.
   */
  revocationDelayMs = 0;

  constructor(
    private readonly now: () => number,
    /** Unauthenticated revoke calls allowed per hour (github.com: 60). */
    readonly revokeLimitPerHour = 60,
  ) {}

  issue(input: { login?: string | undefined; prefix?: SandboxTokenPrefix; ssoRequired?: boolean } = {}) {
    const login = input.login ?? `octo-${randomInt(1_000_000)}`;
    let user = this.users.get(login.toLowerCase());
    if (!user) {
      user = { login, id: this.nextUserId++ };
      this.users.set(login.toLowerCase(), user);
    }
    const prefix = input.prefix ?? "ghp";
    let random = "";
    for (let i = 0; i < 30; i++) random += BASE62[randomInt(62)];
    const token = `${prefix}_${random}${base62(crc32(random), 6)}`;
    this.tokens.set(token, {
      ...user,
      prefix,
      scopes: prefix === "ghu" ? "" : "repo, read:org",
      ssoRequired: input.ssoRequired ?? false,
    });
    return { token, login: user.login, id: user.id };
  }

  /** The live token's user and state; undefined when it is unknown or revoked. */
  live(token: string): TokenState | undefined {
    const state = this.tokens.get(token);
    return state && (state.revokedFrom === undefined || this.now() < state.revokedFrom) ? state : undefined;
  }

  /** Whether a revocation of the token was accepted (it may not have taken effect yet). */
  isRevoked(token: string): boolean {
    return this.tokens.get(token)?.revokedFrom !== undefined;
  }

  /** Revokes the known ones (GitHub answers 202 without saying which it knew). */
  revoke(credentials: readonly string[]): number {
    let revoked = 0;
    for (const token of credentials) {
      const state = this.tokens.get(token);
      if (state && state.revokedFrom === undefined) {
        state.revokedFrom = this.now() + this.revocationDelayMs;
        revoked++;
      }
    }
    return revoked;
  }

  /** The unauthenticated revoke limit's window: calls this hour, and when it resets (epoch s). */
  revokeWindow(): { used: number; remaining: number; reset: number } {
    const hourStart = Math.floor(this.now() / 3_600_000) * 3_600_000;
    const used = this.revokeCalls.filter((c) => c.at >= hourStart && c.status !== 429).length;
    return {
      used,
      remaining: Math.max(0, this.revokeLimitPerHour - used),
      reset: Math.floor((hourStart + 3_600_000) / 1000),
    };
  }
}
