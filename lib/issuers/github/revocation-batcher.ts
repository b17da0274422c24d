import { IssuerError } from "../../errors.js";
import { sleep as realSleep } from "../../util/concurrency.js";
import { isTransient } from "../../util/retry.js";

// GitHub's POST /credentials/revoke takes up to 1,000 tokens a call and allows very few calls an hour
// (60 unauthenticated on github.com), so tokens pending revocation together are sent together: the
// revoke() calls made while a batch is open coalesce into one POST. A batch is sent once it holds
// `maxBatch` tokens, or when no token joined it for `quietMs`, and never later than `maxWaitMs` after
// its first token. Batches go one at a time. A rate limit or a 422 ("the endpoint has been spammed")
// waits as GitHub says (Retry-After, x-ratelimit-reset) and sends the whole batch again: no call is made
// before that time, by this batch or the next. A wait longer than `maxRetryWaitMs` is not done here:
// the batch's callers are rejected with a transient IssuerError carrying `retryAfterSeconds`, and their
// steps are retried by the queue. Each caller's promise settles with its own token's outcome; the same
// token revoked twice at once is sent once. No token ever appears in an error.

export interface RevocationBatcherOptions {
  /** Sends one batch (POST /credentials/revoke); resolves on 202. */
  send: (tokens: readonly string[]) => Promise<void>;
  /** Tokens per call; GitHub's maximum is 1,000. */
  maxBatch?: number | undefined;
  /** Sent when no token joined for this long. */
  quietMs?: number | undefined;
  /** Sent at the latest this long after its first token joined. */
  maxWaitMs?: number | undefined;
  /** Sends of one batch before its callers are rejected. */
  maxAttempts?: number | undefined;
  /** The longest wait for a rate limit done in process. */
  maxRetryWaitMs?: number | undefined;
  /** Backoff before resending after a failure GitHub named no wait for. */
  backoffMs?: number | undefined;
  now?: (() => number) | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

interface Caller {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export const GITHUB_MAX_CREDENTIALS_PER_CALL = 1_000;

export class RevocationBatcher {
  private readonly send: (tokens: readonly string[]) => Promise<void>;
  private readonly maxBatch: number;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly maxAttempts: number;
  private readonly maxRetryWaitMs: number;
  private readonly backoffMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  /** Tokens of the open batch, each with its callers, in arrival order. */
  private pending = new Map<string, Caller[]>();
  private openedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Batches go one after the other. */
  private chain: Promise<void> = Promise.resolve();
  /** No call before this (epoch ms): GitHub's rate limit. */
  private blockedUntil = 0;

  constructor(options: RevocationBatcherOptions) {
    this.send = options.send;
    this.maxBatch = Math.min(
      options.maxBatch ?? GITHUB_MAX_CREDENTIALS_PER_CALL,
      GITHUB_MAX_CREDENTIALS_PER_CALL,
    );
    this.quietMs = options.quietMs ?? 50;
    this.maxWaitMs = options.maxWaitMs ?? 1_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? 20_000;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Resolves once GitHub accepted a batch holding `token` (202). */
  revoke(token: string, signal?: AbortSignal): Promise<void> {
    const outcome = new Promise<void>((resolve, reject) => {
      const callers = this.pending.get(token);
      if (callers) callers.push({ resolve, reject });
      else {
        if (this.pending.size === 0) this.openedAt = this.now();
        this.pending.set(token, [{ resolve, reject }]);
      }
    });
    if (this.pending.size >= this.maxBatch) this.flush();
    else this.schedule();
    if (!signal) return outcome;
    // The caller may stop waiting; its token stays in the batch (revoking is idempotent).
    return new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(new IssuerError("GitHub revocation: aborted by caller", { transient: true }));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      outcome.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** Tokens waiting for their batch to be sent (tests, metrics). */
  get waiting(): number {
    return this.pending.size;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const latest = this.openedAt + this.maxWaitMs - this.now();
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.min(this.quietMs, latest)));
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.size > 0) {
      const batch = new Map<string, Caller[]>();
      for (const [token, callers] of this.pending) {
        if (batch.size >= this.maxBatch) break;
        batch.set(token, callers);
      }
      for (const token of batch.keys()) this.pending.delete(token);
      this.chain = this.chain.then(() => this.sendBatch(batch));
      if (this.pending.size < this.maxBatch) break;
    }
    if (this.pending.size > 0) {
      this.openedAt = this.now();
      this.schedule();
    }
  }

  private async sendBatch(batch: Map<string, Caller[]>): Promise<void> {
    const tokens = [...batch.keys()];
    const settle = (error?: unknown) => {
      for (const callers of batch.values()) {
        for (const caller of callers) error === undefined ? caller.resolve() : caller.reject(error);
      }
    };
    const what = `GitHub POST /credentials/revoke of a batch of ${tokens.length} tokens`;
    for (let attempt = 1; ; attempt++) {
      const wait = this.blockedUntil - this.now();
      if (wait > this.maxRetryWaitMs) {
        return settle(
          new IssuerError(`${what}: rate limited for ${Math.ceil(wait / 1000)} s more; will retry`, {
            transient: true,
            retryAfterSeconds: Math.ceil(wait / 1000),
          }),
        );
      }
      if (wait > 0) await this.sleep(wait);
      try {
        await this.send(tokens);
        return settle();
      } catch (error) {
        const reason = error instanceof Error ? error.message : "unknown error";
        if (!isTransient(error)) {
          return settle(new IssuerError(`${what} failed: ${reason}`, { transient: false, cause: error }));
        }
        const retryAfterSeconds = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
        const delayMs =
          retryAfterSeconds !== undefined ? retryAfterSeconds * 1_000 : this.backoffMs * 2 ** (attempt - 1);
        this.blockedUntil = Math.max(this.blockedUntil, this.now() + delayMs);
        if (attempt >= this.maxAttempts) {
          return settle(
            new IssuerError(`${what} failed ${attempt} times: ${reason}`, {
              transient: true,
              retryAfterSeconds: Math.ceil(delayMs / 1000),
              cause: error,
            }),
          );
        }
      }
    }
  }
}
