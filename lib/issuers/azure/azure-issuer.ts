import { IssuerError } from "../../errors.js";
import { fingerprintToken } from "../../intake/fingerprint.js";
import { describeError } from "../../log.js";
import { mapSettledWithConcurrency, mapWithConcurrency } from "../../util/concurrency.js";
import { KeyedMutex } from "../../util/keyed-mutex.js";
import { type RetryPolicy, retryTransient } from "../../util/retry.js";
import type {
  CallOptions,
  Issuer,
  KeyRequest,
  Revocation,
  Rotation,
  UsageReport,
  Verification,
} from "../issuer.js";
import { ownerFromTags } from "../owner-tags.js";
import type { AzureAccount, AzureManagement, KeySlot, MetricSeries } from "./azure-management.js";
import { type AzureOperation, explainAzureError } from "./azure-permissions.js";
import { azureKeyDetails } from "./key-details.js";
import { type IndexedAccount, KeyFingerprintIndex, keyFingerprints } from "./key-fingerprint-index.js";
import { formatKeyId, parseKeyId, slotValue } from "./key-id.js";
import { PER_ACCOUNT_NOTE, summarizeUsage, totalsSince, USAGE_METRICS } from "./usage-summary.js";

// The Azure AI issuer: a leaked key names no resource, so it is found by comparing fingerprints with
// the keys of every Cognitive Services account of the configured subscriptions, and killed by
// regenerating its slot (the other slot keeps working). Keys are held only for the comparison or the
// hand-over; the cache keeps their SHA-256.

export interface AzureIssuerOptions {
  name: string;
  management: AzureManagement;
  subscriptions: readonly string[];
  /** Account tags read, in order, for the owner's email. */
  ownerTags: readonly string[];
  /** listKeys calls in flight during a search. Default 8. */
  concurrency?: number | undefined;
  /** A miss searches again only if the last search started longer ago than this. Default 60 s. */
  searchFreshMs?: number | undefined;
  retry?: RetryPolicy | undefined;
  now?: (() => number) | undefined;
}

const DAY_MS = 86_400_000;

/**
 * ARM throttles per subscription and region (429 + Retry-After): a search over hundreds of accounts
 * waits as told, up to 30 s, rather than fail; a longer wait is left to the next attempt of the step.
 */
const AZURE_RETRY: RetryPolicy = { attempts: 4, baseMs: 250, maxDelayMs: 30_000, random: () => 1 };

export interface RefreshResult {
  accounts: number;
  /** Why some accounts' keys could not be read (each message names its account). */
  failed: string[];
}

interface Search {
  startedAt: number;
  done: Promise<IssuerError[]>;
}

export class AzureIssuer implements Issuer {
  readonly name: string;
  private readonly azure: AzureManagement;
  private readonly subscriptions: readonly string[];
  private readonly ownerTags: readonly string[];
  private readonly concurrency: number;
  private readonly searchFreshMs: number;
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private readonly index = new KeyFingerprintIndex();
  private readonly slots = new KeyedMutex();
  private search: Search | undefined;

  constructor(options: AzureIssuerOptions) {
    this.name = options.name;
    this.azure = options.management;
    this.subscriptions = options.subscriptions;
    this.ownerTags = options.ownerTags;
    this.concurrency = options.concurrency ?? 8;
    this.searchFreshMs = options.searchFreshMs ?? 60_000;
    this.retry = options.retry ?? AZURE_RETRY;
    this.now = options.now ?? Date.now;
  }

  async verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification> {
    const fingerprint = fingerprintToken(request.token);
    const askedAt = this.now();
    const cached = this.index.lookup(fingerprint);
    // Warm: one listKeys confirms the cached slot still holds the key.
    if (cached && (await this.confirm(cached.account, cached.slot, fingerprint, options))) {
      return this.found(cached.account, cached.slot, options);
    }
    // A key this issuer saw replaced (the re-verification after a revocation): one listKeys proves it
    // gone from its slot. Keys are unique, so a key gone from its slot is dead everywhere.
    const retired = cached ? undefined : this.index.retired(fingerprint);
    if (retired) {
      const { accountId, slot } = retired;
      const now = keyFingerprints(
        await this.call("listKeys", accountId, () => this.azure.listKeys(accountId, options)),
      );
      this.remember(accountId, now);
      if (now.Key1 !== fingerprint && now.Key2 !== fingerprint) {
        return { status: "inactive", keyId: formatKeyId({ accountId, slot }) };
      }
    }
    const failures = await this.searchAfter(askedAt - this.searchFreshMs, options);
    const hit = this.index.lookup(fingerprint);
    if (hit) return this.found(hit.account, hit.slot, options);
    // Not among the accounts read; where some could not be read, "unknown" would be a guess.
    const first = failures[0];
    if (first) throw first;
    return { status: "unknown" };
  }

  /** Re-reads every account's key fingerprints (the sweep calls it, so verifications stay warm). */
  async refresh(options?: CallOptions): Promise<RefreshResult> {
    const failures = await this.searchAfter(Number.POSITIVE_INFINITY, options);
    return { accounts: this.index.size, failed: failures.map((e) => e.message) };
  }

  /**
   * Regenerates the slot if it still holds the leaked key (by the leak's fingerprint); otherwise the
   * key is already dead and nothing is regenerated. Revocations of one slot run one at a time here.
   */
  async revoke(request: KeyRequest, options?: CallOptions): Promise<Revocation> {
    const { accountId, slot } = parseKeyId(request.keyId);
    const fingerprint = this.requireFingerprint(request, "revoke");
    return this.slots.run(request.keyId, async () => {
      const current = keyFingerprints(
        await this.call("listKeys", accountId, () => this.azure.listKeys(accountId, options)),
      );
      this.remember(accountId, current);
      if (current[slot] !== fingerprint) {
        this.index.retire(fingerprint, accountId, slot);
        return { keyId: request.keyId, alreadyRevoked: true };
      }
      const after = keyFingerprints(
        await this.call("regenerateKey", `${accountId} ${slot}`, () =>
          this.azure.regenerateKey(accountId, slot, options),
        ),
      );
      this.remember(accountId, after);
      this.index.retire(fingerprint, accountId, slot);
      if (after[slot] === fingerprint) {
        throw new IssuerError(
          `issuer "${this.name}" regenerateKey: ${request.keyId} still holds the leaked key`,
          {
            transient: true,
          },
        );
      }
      return { keyId: request.keyId, alreadyRevoked: false, revokedAt: new Date(this.now()).toISOString() };
    });
  }

  /** The regenerated slot's value is the replacement: handed over for the secret store, never kept. */
  async rotate(request: KeyRequest, options?: CallOptions): Promise<Rotation> {
    const { accountId, slot } = parseKeyId(request.keyId);
    const fingerprint = this.requireFingerprint(request, "rotate");
    const keys = await this.call("listKeys", accountId, () => this.azure.listKeys(accountId, options));
    const secret = slotValue(keys, slot);
    const fingerprints = keyFingerprints(keys);
    this.remember(accountId, fingerprints);
    if (fingerprints[slot] === fingerprint) {
      throw new IssuerError(
        `issuer "${this.name}" rotate: ${request.keyId} still holds the leaked key; revoke it first`,
        {
          transient: false,
        },
      );
    }
    const account = this.index.account(accountId);
    const name = account?.name ?? accountId.split("/").pop() ?? accountId;
    const group =
      account?.resourceGroup ?? /\/resourceGroups\/([^/]+)/i.exec(accountId)?.[1] ?? "<resource group>";
    return {
      keyId: request.keyId,
      // The slot is the same; the suffix says which generation of it (the new key's fingerprint prefix).
      replacementKeyId: `${request.keyId}@sha256:${fingerprints[slot].slice(0, 8)}`,
      deliveredToOwner: false,
      secret,
      where: `the Azure portal (account ${name}, Keys and Endpoint, ${slot === "Key1" ? "KEY 1" : "KEY 2"}) or \`az cognitiveservices account keys list --name ${name} --resource-group ${group}\``,
    };
  }

  /** The account's use since `since` (an hour after revocation: did the abuse stop?). */
  async usageSince(request: { keyId: string; since: string }, options?: CallOptions): Promise<UsageReport> {
    const { accountId } = parseKeyId(request.keyId);
    const until = new Date(this.now()).toISOString();
    const series = await this.metrics(accountId, Date.parse(request.since), this.now(), options);
    return {
      since: request.since,
      until,
      figures: { ...totalsSince(series, Date.parse(request.since)), note: PER_ACCOUNT_NOTE },
    };
  }

  private requireFingerprint(request: KeyRequest, op: string): string {
    if (!request.fingerprint) {
      // Without it an Azure slot cannot tell a leaked key from its replacement: never regenerate blind.
      throw new IssuerError(`issuer "${this.name}" ${op}: the leak's fingerprint is required`, {
        transient: false,
      });
    }
    return request.fingerprint;
  }

  private async confirm(account: AzureAccount, slot: KeySlot, fingerprint: string, options?: CallOptions) {
    try {
      const current = keyFingerprints(
        await this.call("listKeys", account.id, () => this.azure.listKeys(account.id, options)),
      );
      this.index.set(account, current);
      return current[slot] === fingerprint;
    } catch (error) {
      // A deleted account (404) makes the cache stale, not the verification wrong: search again.
      if (error instanceof IssuerError && error.httpStatus === 404) return false;
      throw error;
    }
  }

  private remember(accountId: string, fingerprints: Record<KeySlot, string>): void {
    const account = this.index.account(accountId);
    if (account) this.index.set(account, fingerprints);
  }

  /**
   * A full search, unless one that started at or after `notBefore` has run or is running: a burst of
   * unknown tokens (false positives) then costs one search, not one each. A key created after that
   * search started and already leaked and reported within `searchFreshMs` is the accepted blind spot.
   */
  private async searchAfter(notBefore: number, options?: CallOptions): Promise<IssuerError[]> {
    if (!this.search || this.search.startedAt < notBefore) {
      const startedAt = this.now();
      const search: Search = { startedAt, done: this.readAllKeys(options) };
      this.search = search;
      search.done.catch(() => {
        if (this.search === search) this.search = undefined; // a failed search is not reused
      });
    }
    return this.search.done;
  }

  private async readAllKeys(options?: CallOptions): Promise<IssuerError[]> {
    const lists = await mapWithConcurrency(this.subscriptions, 4, (subscription) =>
      this.call("listAccounts", `subscription ${subscription}`, () =>
        this.azure.listAccounts(subscription, options),
      ),
    );
    const accounts = lists.flat();
    const read = await mapSettledWithConcurrency(accounts, this.concurrency, async (account) => {
      const keys = await this.call("listKeys", account.id, () => this.azure.listKeys(account.id, options));
      return { account, fingerprints: keyFingerprints(keys) } satisfies IndexedAccount;
    });
    const entries: IndexedAccount[] = [];
    const failures: IssuerError[] = [];
    for (const r of read) {
      if (r.status === "fulfilled") entries.push(r.value);
      else failures.push(r.reason as IssuerError);
    }
    this.index.replaceAll(entries);
    // Permission problems first: they are what an admin must fix.
    return failures.sort((a, b) => Number(a.transient) - Number(b.transient));
  }

  private async found(account: AzureAccount, slot: KeySlot, options?: CallOptions): Promise<Verification> {
    const end = this.now();
    let usage: Record<string, unknown>;
    try {
      usage = summarizeUsage(await this.metrics(account.id, end - 7 * DAY_MS, end, options), {
        startMs: end - 7 * DAY_MS,
        endMs: end,
      });
    } catch (error) {
      // The caller's time is up (the intake's verification box): the verification is not done, and the
      // worker, verifying again with time of its own, records the usage rather than "unavailable".
      if (options?.signal?.aborted) throw error;
      // Evidence is a bonus: the key is live and must be revoked whatever Azure Monitor says.
      usage = { available: false, reason: describeError(error), note: PER_ACCOUNT_NOTE };
    }
    return {
      status: "active",
      keyId: formatKeyId({ accountId: account.id, slot }),
      owner: ownerFromTags(account.tags, this.ownerTags, account.id),
      evidence: {
        account: account.name,
        resource_group: account.resourceGroup,
        subscription: account.subscriptionId,
        kind: account.kind,
        location: account.location,
        endpoint: account.endpoint,
        slot,
        usage,
      },
      details: azureKeyDetails(account, slot, usage),
    };
  }

  /** Split by deployment where the account has them; the whole account otherwise. */
  private async metrics(
    accountId: string,
    startMs: number,
    endMs: number,
    options?: CallOptions,
  ): Promise<MetricSeries[]> {
    const query = {
      metricNames: USAGE_METRICS,
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      interval: "PT1H",
    };
    const get = (splitBy?: string) =>
      this.call("getMetrics", accountId, () =>
        this.azure.getMetrics(accountId, { ...query, splitBy }, options),
      );
    try {
      return await get("ModelDeploymentName");
    } catch (error) {
      if (error instanceof IssuerError && (error.httpStatus === 401 || error.httpStatus === 403)) throw error;
      if (options?.signal?.aborted) throw error; // no time left for the fallback
      return get();
    }
  }

  private async call<T>(op: AzureOperation, target: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await retryTransient(fn, this.retry);
    } catch (error) {
      throw explainAzureError(error, { issuer: this.name, op, target });
    }
  }
}
