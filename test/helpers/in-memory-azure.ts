import { randomBytes } from "node:crypto";
import { IssuerError } from "../../lib/errors.js";
import type {
  AzureAccount,
  AzureKeys,
  AzureManagement,
  CallOptions,
  KeySlot,
  MetricSeries,
  MetricsQuery,
} from "../../lib/issuers/azure/azure-management.js";

// An in-memory Azure behind the management port: accounts with keys and tags, metric series, counted
// calls (with the most in flight at once), and failures injected per operation.

export type AzureOp = "listAccounts" | "listKeys" | "regenerateKey" | "getMetrics";

/** A fresh key shaped like a legacy Azure key (32 hex). */
export const newAzureKey = () => randomBytes(16).toString("hex");

interface Failure {
  op: AzureOp;
  error: () => IssuerError;
  times: number;
  target?: string | undefined;
}

export class InMemoryAzure implements AzureManagement {
  readonly accounts: AzureAccount[] = [];
  readonly keys = new Map<string, AzureKeys>();
  readonly metrics = new Map<string, MetricSeries[]>();
  readonly calls: { op: AzureOp; target: string; query?: MetricsQuery }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private failures: Failure[] = [];

  addAccount(options: {
    subscription: string;
    name: string;
    kind?: string;
    resourceGroup?: string;
    tags?: Record<string, string>;
  }): AzureAccount {
    const resourceGroup = options.resourceGroup ?? "rg-ai";
    const account: AzureAccount = {
      id: `/subscriptions/${options.subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${options.name}`,
      name: options.name,
      subscriptionId: options.subscription,
      resourceGroup,
      kind: options.kind ?? "OpenAI",
      location: "eastus",
      endpoint: `https://${options.name}.openai.azure.com/`,
      tags: options.tags ?? {},
    };
    this.accounts.push(account);
    this.keys.set(account.id, { key1: newAzureKey(), key2: newAzureKey() });
    return account;
  }

  key(account: AzureAccount, slot: KeySlot): string {
    const keys = this.keys.get(account.id);
    if (!keys) throw new Error(`no account ${account.id}`);
    return slot === "Key1" ? keys.key1 : keys.key2;
  }

  /** The next `times` calls of `op` (on `target`, when given) throw the error. */
  fail(op: AzureOp, error: () => IssuerError, options: { times?: number; target?: string } = {}): void {
    this.failures.push({
      op,
      error,
      times: options.times ?? Number.POSITIVE_INFINITY,
      target: options.target,
    });
  }

  count(op?: AzureOp): number {
    return op ? this.calls.filter((c) => c.op === op).length : this.calls.length;
  }

  resetCalls(): void {
    this.calls.length = 0;
    this.maxInFlight = 0;
  }

  listAccounts(subscriptionId: string, options?: CallOptions): Promise<AzureAccount[]> {
    return this.run(
      "listAccounts",
      subscriptionId,
      () => this.accounts.filter((a) => a.subscriptionId === subscriptionId).map((a) => ({ ...a })),
      undefined,
      options,
    );
  }

  listKeys(accountId: string, options?: CallOptions): Promise<AzureKeys> {
    return this.run("listKeys", accountId, () => ({ ...this.existing(accountId) }), undefined, options);
  }

  regenerateKey(accountId: string, slot: KeySlot, options?: CallOptions): Promise<AzureKeys> {
    return this.run(
      "regenerateKey",
      accountId,
      () => {
        const keys = this.existing(accountId);
        const next = slot === "Key1" ? { ...keys, key1: newAzureKey() } : { ...keys, key2: newAzureKey() };
        this.keys.set(accountId, next);
        return { ...next };
      },
      undefined,
      options,
    );
  }

  getMetrics(accountId: string, query: MetricsQuery, options?: CallOptions): Promise<MetricSeries[]> {
    return this.run(
      "getMetrics",
      accountId,
      () => {
        const series = (this.metrics.get(accountId) ?? []).filter((s) =>
          query.metricNames.includes(s.metric),
        );
        const from = Date.parse(query.start);
        const to = Date.parse(query.end);
        const inRange = (s: MetricSeries) => ({
          ...s,
          points: s.points.filter((p) => Date.parse(p.timeStamp) >= from && Date.parse(p.timeStamp) <= to),
        });
        if (query.splitBy) return series.map(inRange);
        // Unsplit: one series per metric, the deployments summed.
        return query.metricNames.map((metric) => {
          const totals = new Map<string, number>();
          for (const s of series.filter((x) => x.metric === metric).map(inRange)) {
            for (const p of s.points) totals.set(p.timeStamp, (totals.get(p.timeStamp) ?? 0) + p.total);
          }
          return { metric, points: [...totals].map(([timeStamp, total]) => ({ timeStamp, total })) };
        });
      },
      query,
      options,
    );
  }

  private existing(accountId: string): AzureKeys {
    const keys = this.keys.get(accountId);
    if (!keys)
      throw new IssuerError(`account ${accountId} not found (HTTP 404)`, {
        transient: false,
        httpStatus: 404,
      });
    return keys;
  }

  private async run<T>(
    op: AzureOp,
    target: string,
    answer: () => T,
    query?: MetricsQuery,
    options?: CallOptions,
  ): Promise<T> {
    // As the real adapter: a caller that gave up gets no call.
    if (options?.signal?.aborted)
      throw new IssuerError(`Azure ${op}: aborted by caller`, { transient: true });
    this.calls.push({ op, target, ...(query ? { query } : {}) });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // A turn of the event loop, so concurrent calls overlap as real ones do.
      await new Promise((resolve) => setImmediate(resolve));
      const failure = this.failures.find(
        (f) => f.op === op && f.times > 0 && (!f.target || f.target === target),
      );
      if (failure) {
        failure.times--;
        throw failure.error();
      }
      return answer();
    } finally {
      this.inFlight--;
    }
  }
}
