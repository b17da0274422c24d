import type { KeyObject } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
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
  /**
   * Global rate limit on fetches that requests cause: at most one refetch for unknown key ids, and one
   * retry of a failed cold load, per interval (default 5 s), so random ids cannot cause a fetch storm.
   * A request with an unknown id waits for the next allowed refetch (at most this long) for its answer.
   */
  unknownKeyRefetchMs?: number;
  /** Pause before GitHub is tried again after a failed refresh with keys in hand (default 60 s). */
  outageRetryMs?: number;
  now?: () => number;
  /** How a request waits for the next allowed refetch (tests move a fake clock). */
  sleep?: (ms: number) => Promise<void>;
  onRefreshError?: (error: unknown) => void;
}

/**
 * Caches GitHub's signing keys. An unknown key id triggers one shared refetch (single flight), at most
 * one per few seconds, so a flood of random ids cannot cause a fetch storm. An id is refused (401) only
 * when a fetch begun after the request arrived lacks it: GitHub may have published the key since any
 * earlier fetch, and drops reports answered 401. Until such a fetch is allowed the request waits for it
 * (a few seconds at most) rather than answering 503: a random id is the sender's fault, not an outage,
 * and GitHub's retry of a 503 would only wait longer. 503 is kept for the key endpoint being down.
 * An outage of the key endpoint with a warm cache does not stop intake.
 */
export class PartnerKeyCache {
  private keys: PartnerKeys | undefined;
  /** The keys came from the saved copy, not from GitHub. */
  private fromFallback = false;
  private loadedAt = 0;
  /** Fetches begun so far; `loadedFetch` is the number of the one that produced `keys`. */
  private fetchesBegun = 0;
  private loadedFetch = 0;
  private lastUnknownRefetchAt = Number.NEGATIVE_INFINITY;
  /** A failed cold load is not retried before this time. */
  private coldRetryAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<PartnerKeys> | undefined;
  private readonly ttlMs: number;
  private readonly unknownKeyRefetchMs: number;
  private readonly outageRetryMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: PartnerKeyCacheOptions) {
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.unknownKeyRefetchMs = options.unknownKeyRefetchMs ?? 5_000;
    this.outageRetryMs = options.outageRetryMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
  }

  async get(keyId: string): Promise<KeyObject> {
    // Only a fetch numbered above this one can tell that GitHub does not publish the id.
    const askedAfter = this.fetchesBegun;
    if (!this.keys) {
      if (!this.inflight && this.now() < this.coldRetryAt) {
        throw new KeySetUnavailableError(
          "partner signing keys unavailable; the key endpoint failed moments ago",
        );
      }
      await this.refresh().catch((error: unknown) => {
        this.coldRetryAt = this.now() + this.unknownKeyRefetchMs;
        return this.fallBack(error);
      });
    } else if (this.now() - this.loadedAt > this.ttlMs) {
      await this.refresh().catch((error: unknown) => {
        // Keep serving the cached set, and try again after a pause rather than on every request.
        this.loadedAt = this.now() - this.ttlMs + this.outageRetryMs;
        this.options.onRefreshError?.(error);
      });
    }
    for (;;) {
      const known = this.keys?.get(keyId);
      if (known) return known;
      if (this.fromFallback) {
        // The key may be newer than the saved set: GitHub should retry, not be told the signature is bad.
        throw new KeySetUnavailableError(
          `public key identifier ${keyId} is not in the saved key set and GitHub's key endpoint is unavailable`,
        );
      }
      if (this.loadedFetch > askedAfter) throw new SignatureError(`unknown public key identifier ${keyId}`);
      if (this.inflight) {
        // A fetch under way began before this request: wait for it, then look again.
        await this.inflight.catch(() => undefined);
        continue;
      }
      const waitMs = this.lastUnknownRefetchAt + this.unknownKeyRefetchMs - this.now();
      if (waitMs > 0) {
        // Waiters wake together: the first begins the refetch, the others wait for it above.
        await this.sleep(waitMs);
        continue;
      }
      this.lastUnknownRefetchAt = this.now();
      await this.refresh();
    }
  }

  /**
   * Cold cache, `load` failed: the saved key set if there is one (GitHub is tried again after a
   * pause), else the caller's 503.
   */
  private async fallBack(error: unknown): Promise<void> {
    const saved = await this.options.coldFallback?.().catch(() => undefined);
    if (!saved) throw error;
    this.options.onRefreshError?.(error);
    if (!this.keys) {
      this.keys = saved;
      this.fromFallback = true;
      this.loadedAt = this.now() - this.ttlMs + this.outageRetryMs;
    }
  }

  /** Fetches the key set, sharing one request among concurrent callers. */
  refresh(): Promise<PartnerKeys> {
    if (this.inflight) return this.inflight;
    const fetchNumber = ++this.fetchesBegun;
    this.inflight = this.options
      .load()
      .then((keys) => {
        this.keys = keys;
        this.fromFallback = false;
        this.loadedAt = this.now();
        this.loadedFetch = fetchNumber;
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
