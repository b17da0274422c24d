import type { KeyObject } from "node:crypto";
import { KeySetUnavailableError, SignatureError } from "../errors.js";
import type { PartnerKeys } from "./partner-key-set.js";

export interface PartnerKeyCacheOptions {
  load: () => Promise<PartnerKeys>;
  /**
   * A last known key set (saved by the scheduled sweep) for a cold cache when `load` fails, so a new
   * container can take reports while GitHub's key endpoint is down.
   */
  coldFallback?: () => Promise<PartnerKeys | undefined>;
  /** Age after which the set is refreshed on next use; a failed refresh keeps the old set. */
  ttlMs?: number;
  /** At most one refetch per interval for key ids the cache does not know (negative cache). */
  unknownKeyRefetchMs?: number;
  now?: () => number;
  onRefreshError?: (error: unknown) => void;
}

/**
 * Caches GitHub's signing keys. An unknown key id triggers one shared refetch (single flight), and
 * at most one such refetch per minute, so a flood of random ids cannot cause a fetch storm. An outage
 * of the key endpoint with a warm cache does not stop intake.
 */
export class PartnerKeyCache {
  private keys: PartnerKeys | undefined;
  /** The keys came from the saved copy, not from GitHub. */
  private fromFallback = false;
  private loadedAt = 0;
  private lastUnknownRefetch = Number.NEGATIVE_INFINITY;
  private inflight: Promise<PartnerKeys> | undefined;
  private readonly ttlMs: number;
  private readonly unknownKeyRefetchMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PartnerKeyCacheOptions) {
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.unknownKeyRefetchMs = options.unknownKeyRefetchMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async get(keyId: string): Promise<KeyObject> {
    let justLoaded = false;
    if (!this.keys) {
      justLoaded = await this.refresh().then(
        () => true,
        (error: unknown) => this.fallBack(error),
      );
    } else if (this.now() - this.loadedAt > this.ttlMs) {
      await this.refresh().catch((error: unknown) => {
        // Keep serving the cached set, and try again after a pause rather than on every request.
        this.loadedAt = this.now() - this.ttlMs + this.unknownKeyRefetchMs;
        this.options.onRefreshError?.(error);
      });
    }
    const known = this.keys?.get(keyId);
    if (known) return known;
    if (justLoaded) throw new SignatureError(`unknown public key identifier ${keyId}`);
    if (this.fromFallback) {
      // The key may be newer than the saved set: GitHub should retry, not be told the signature is bad.
      throw new KeySetUnavailableError(
        `public key identifier ${keyId} is not in the saved key set and GitHub's key endpoint is unavailable`,
      );
    }

    if (this.inflight) {
      // A refetch for another unknown id is under way: the new key may be in it.
      await this.inflight.catch(() => undefined);
    } else if (this.now() - this.lastUnknownRefetch >= this.unknownKeyRefetchMs) {
      this.lastUnknownRefetch = this.now();
      await this.refresh();
    }
    const fresh = this.keys?.get(keyId);
    if (!fresh) throw new SignatureError(`unknown public key identifier ${keyId}`);
    return fresh;
  }

  /**
   * Cold cache, `load` failed: the saved key set if there is one (GitHub is tried again after a
   * pause), else the caller's 503. Answers false: the keys were not just fetched from GitHub.
   */
  private async fallBack(error: unknown): Promise<false> {
    const saved = await this.options.coldFallback?.().catch(() => undefined);
    if (!saved) throw error;
    this.options.onRefreshError?.(error);
    if (!this.keys) {
      this.keys = saved;
      this.fromFallback = true;
      this.loadedAt = this.now() - this.ttlMs + this.unknownKeyRefetchMs;
    }
    return false;
  }

  /** Fetches the key set, sharing one request among concurrent callers. */
  refresh(): Promise<PartnerKeys> {
    this.inflight ??= this.options
      .load()
      .then((keys) => {
        this.keys = keys;
        this.fromFallback = false;
        this.loadedAt = this.now();
        return keys;
      })
      .catch((error: unknown) => {
        throw error instanceof KeySetUnavailableError
          ? error
          : new KeySetUnavailableError("partner signing keys unavailable", { cause: error });
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
