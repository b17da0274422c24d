import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as z from "zod";
import type { Verification } from "../../lib/issuers/issuer.js";
import { generateSandboxToken, isWellFormedSandboxToken } from "./sandbox-token.js";

// The sandbox's key store: a tiny API provider's key service. Like a real one it keeps only token
// hashes, so a leaked state file leaks no keys, and it hands new secrets to owners, never to callers.

export interface SandboxOwner {
  id: string;
  email: string;
  name: string;
}

export interface SandboxKey {
  keyId: string;
  /** SHA-256 hex of the token; the raw token is never stored. */
  tokenHash: string;
  status: "active" | "revoked";
  owner: SandboxOwner;
  createdAt: string;
  lastUsedAt?: string | undefined;
  revokedAt?: string | undefined;
  /** Actual revocations: an idempotent second revoke leaves it at 1. */
  revocations: number;
  /** Key id of the replacement created by `rotate`. */
  replacedBy?: string | undefined;
}

/** How a rotated key's new secret reaches its owner (email, dashboard…). */
export type DeliverSecret = (owner: SandboxOwner, keyId: string, token: string) => void | Promise<void>;

export interface SandboxKeyServiceOptions {
  /** JSON file to load state from and save it to after each change. In memory only when absent. */
  file?: string | undefined;
  deliverSecret?: DeliverSecret | undefined;
  now?: (() => number) | undefined;
  /** How long changes wait before the file is written (default SAVE_DELAY_MS). */
  saveDelayMs?: number | undefined;
}

export const DEFAULT_SANDBOX_OWNER: SandboxOwner = {
  id: "user_demo",
  email: "owner@example.test",
  name: "Demo Owner",
};

const ownerSchema = z.object({ id: z.string(), email: z.string(), name: z.string() });
const keySchema = z.object({
  keyId: z.string(),
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  status: z.enum(["active", "revoked"]),
  owner: ownerSchema,
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional(),
  revocations: z.number().int().nonnegative(),
  replacedBy: z.string().optional(),
});
const stateSchema = z.object({ version: z.literal(1), keys: z.array(keySchema) });

/**
 * How long changes may wait before they are written to the state file. A second: the whole state is
 * rewritten each time, and at 50 ms a benchmark revoking thousands of keys spent a tenth of the stack's
 * main thread rewriting the sandbox's file. The stack flushes it when it closes.
 */
const SAVE_DELAY_MS = 1_000;

export class SandboxKeyService {
  private readonly keys = new Map<string, SandboxKey>();
  private readonly saveDelayMs: number;
  private readonly byHash = new Map<string, string>();
  /** One rotation per key at a time, so concurrent retries cannot create two replacements. */
  private readonly rotating = new Map<string, Promise<{ keyId: string; replacementKeyId: string }>>();
  private readonly file: string | undefined;
  private readonly deliverSecret: DeliverSecret;
  private readonly now: () => number;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(options: SandboxKeyServiceOptions = {}) {
    this.file = options.file;
    this.deliverSecret = options.deliverSecret ?? (() => {});
    this.now = options.now ?? Date.now;
    this.saveDelayMs = options.saveDelayMs ?? SAVE_DELAY_MS;
    if (this.file && existsSync(this.file)) this.load(this.file);
  }

  issue(owner?: Partial<SandboxOwner>): { token: string; keyId: string; status: "active" } {
    const { token, key } = this.newKey(resolveOwner(owner));
    this.add(key);
    this.save();
    return { token, keyId: key.keyId, status: "active" };
  }

  /** A copy, so callers cannot change the service's state behind its back. */
  get(keyId: string): SandboxKey | undefined {
    const key = this.keys.get(keyId);
    return key && structuredClone(key);
  }

  list(): SandboxKey[] {
    return [...this.keys.values()].map((key) => structuredClone(key));
  }

  verify(token: string): Verification {
    const key = this.find(token);
    if (!key) return { status: "unknown" };
    return {
      status: key.status === "active" ? "active" : "inactive",
      keyId: key.keyId,
      owner: { ...key.owner },
      evidence: {
        created_at: key.createdAt,
        last_used_at: key.lastUsedAt ?? null,
        ...(key.revokedAt && { revoked_at: key.revokedAt }),
        ...(key.replacedBy && { replaced_by: key.replacedBy }),
      },
    };
  }

  /** Simulates the key calling the provider's API, so verify has "last used" evidence to show. */
  recordUse(token: string): boolean {
    const key = this.find(token);
    if (key?.status !== "active") return false;
    key.lastUsedAt = this.isoNow();
    this.save();
    return true;
  }

  revoke(keyId: string): { keyId: string; alreadyRevoked: boolean; revokedAt: string } | undefined {
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    if (key.status === "revoked" && key.revokedAt) {
      return { keyId, alreadyRevoked: true, revokedAt: key.revokedAt };
    }
    key.status = "revoked";
    key.revokedAt = this.isoNow();
    key.revocations += 1;
    this.save();
    return { keyId, alreadyRevoked: false, revokedAt: key.revokedAt };
  }

  /**
   * Creates a replacement key for the same owner and delivers its secret to the owner. A key is
   * replaced at most once: rotating again returns the same replacement, so retries are safe.
   * The replacement is recorded only after delivery succeeds, so a failed delivery can be retried.
   */
  async rotate(keyId: string): Promise<{ keyId: string; replacementKeyId: string } | undefined> {
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    if (key.replacedBy) return { keyId, replacementKeyId: key.replacedBy };
    const inFlight = this.rotating.get(keyId);
    if (inFlight) return inFlight;
    const rotation = (async () => {
      const { token, key: replacement } = this.newKey(key.owner);
      await this.deliverSecret({ ...key.owner }, replacement.keyId, token);
      this.add(replacement);
      key.replacedBy = replacement.keyId;
      this.save();
      return { keyId, replacementKeyId: replacement.keyId };
    })();
    this.rotating.set(keyId, rotation);
    try {
      return await rotation;
    } finally {
      this.rotating.delete(keyId);
    }
  }

  private find(token: string): SandboxKey | undefined {
    if (!isWellFormedSandboxToken(token)) return undefined;
    const keyId = this.byHash.get(hashToken(token));
    return keyId === undefined ? undefined : this.keys.get(keyId);
  }

  private newKey(owner: SandboxOwner): { token: string; key: SandboxKey } {
    const token = generateSandboxToken();
    const key: SandboxKey = {
      keyId: `key_${randomBytes(12).toString("hex")}`,
      tokenHash: hashToken(token),
      status: "active",
      owner: { ...owner },
      createdAt: this.isoNow(),
      revocations: 0,
    };
    return { token, key };
  }

  private add(key: SandboxKey): void {
    this.keys.set(key.keyId, key);
    this.byHash.set(key.tokenHash, key.keyId);
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  private load(file: string): void {
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) throw new Error(`sandbox key file ${file} is not valid: ${parsed.error.message}`);
    for (const key of parsed.data.keys) this.add(key);
  }

  /**
   * Marks the state dirty and writes it soon: a burst of changes (a benchmark issuing a thousand keys)
   * becomes one write instead of a thousand rewrites of a growing file. `flush()` writes at once.
   */
  private save(): void {
    if (!this.file || this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), this.saveDelayMs);
    this.flushTimer.unref();
  }

  /** Write to a temporary file then rename, so a crash never leaves a half-written state file. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const state = { version: 1, keys: [...this.keys.values()] };
    writeFileSync(temp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    renameSync(temp, this.file);
  }
}

/** How the service stores a token. Plain SHA-256 suffices: tokens carry 178 bits of randomness. */
export function hashToken(token: string): string {
  return sha256Hex(token);
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Fills in what the caller left out; the same email always maps to the same owner id. */
function resolveOwner(owner: Partial<SandboxOwner> | undefined): SandboxOwner {
  if (!owner) return { ...DEFAULT_SANDBOX_OWNER };
  const email = owner.email ?? DEFAULT_SANDBOX_OWNER.email;
  return {
    id:
      owner.id ??
      (owner.email ? `user_${sha256Hex(email.toLowerCase()).slice(0, 12)}` : DEFAULT_SANDBOX_OWNER.id),
    email,
    name: owner.name ?? owner.email ?? DEFAULT_SANDBOX_OWNER.name,
  };
}
