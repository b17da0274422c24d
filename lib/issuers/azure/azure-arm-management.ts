import { rootCertificates } from "node:tls";
import { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { createMonitor, type MonitorContext } from "@azure/arm-monitor/api";
import type { HttpClient } from "@azure/core-rest-pipeline";
import { ClientSecretCredential } from "@azure/identity";
import { createRestError } from "@azure-rest/core-client";
import { ConfigError, IssuerError } from "../../errors.js";
import { outboundUrl } from "../../http/outbound.js";
import { withDeadline } from "../../util/deadline.js";
import { toIssuerError } from "./azure-arm-errors.js";
import type {
  AzureAccount,
  AzureKeys,
  AzureManagement,
  CallOptions,
  KeySlot,
  MetricSeries,
  MetricsQuery,
} from "./azure-management.js";

// The Azure management port over Microsoft's SDKs: @azure/identity's ClientSecretCredential for Entra
// ID, @azure/arm-cognitiveservices for accounts and keys, @azure/arm-monitor for metrics. The SDKs'
// own retries are off (the worker retries, honouring Retry-After, and a retry inside a time-boxed
// verification would only burn its budget); every call has its own timeout.
//
// Metrics go through @azure/arm-monitor's modular context (createMonitor: its pipeline, bearer scope and
// endpoint) with the one GET written here: the package exports its metrics operation only through
// MonitorClient, which pulls every Monitor operation group into the bundle (~200 KiB against ~20 KiB).

/** Microsoft.Insights/metrics api-version: what @azure/arm-monitor 8 sends; same shape as 2018-01-01. */
export const METRICS_API_VERSION = "2024-02-01";

export const DEFAULT_AZURE_TIMEOUT_MS = 10_000;

export interface AzureArmManagementOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Entra ID's host, e.g. https://login.microsoftonline.com (sovereign clouds: their own). */
  authorityUrl: string;
  /** ARM's URL, e.g. https://management.azure.com; also the token scope `<managementUrl>/.default`. */
  managementUrl: string;
  /** Time allowed for one call, token included. Default 10 s. */
  timeoutMs?: number | undefined;
  /**
   * Extra certificate authorities (PEM) trusted by every SDK pipeline besides Node's own, for HTTPS
   * test servers and the local stack's fake Azure; scoped to this adapter, unlike NODE_EXTRA_CA_CERTS.
   */
  trustedCaPem?: string | undefined;
  /** Replaces the SDKs' HTTP client (core-rest-pipeline `HttpClient`), e.g. to record requests. */
  httpClient?: HttpClient | undefined;
}

const ACTIONS = {
  listAccounts: "Microsoft.CognitiveServices/accounts/read",
  listKeys: "Microsoft.CognitiveServices/accounts/listKeys/action",
  regenerateKey: "Microsoft.CognitiveServices/accounts/regenerateKey/action",
  metrics: "Microsoft.Insights/metrics/read",
} as const;

const ACCOUNT_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.CognitiveServices\/accounts\/([^/]+)$/i;

export class AzureArmManagement implements AzureManagement {
  private readonly credential: ClientSecretCredential;
  private readonly managementUrl: string;
  private readonly timeoutMs: number;
  private readonly pipelineOptions: Record<string, unknown>;
  private readonly accountClients = new Map<string, CognitiveServicesManagementClient>();
  private monitorContext: MonitorContext | undefined;

  constructor(options: AzureArmManagementOptions) {
    const authority = outboundUrl("azure authority_url", options.authorityUrl).toString().replace(/\/+$/, "");
    this.managementUrl = outboundUrl("azure management_url", options.managementUrl)
      .toString()
      .replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_AZURE_TIMEOUT_MS;
    if (!options.tenantId || !options.clientId || !options.clientSecret) {
      throw new ConfigError("azure: tenant_id, client_id and client_secret are required");
    }
    this.pipelineOptions = {
      retryOptions: { maxRetries: 0 },
      userAgentOptions: { userAgentPrefix: "tourniquet" },
      // Node's `ca` replaces its root store: the roots are added back so public clouds still verify.
      ...(options.trustedCaPem ? { tlsOptions: { ca: [...rootCertificates, options.trustedCaPem] } } : {}),
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    };
    this.credential = new ClientSecretCredential(options.tenantId, options.clientId, options.clientSecret, {
      authorityHost: authority,
      // The authority is configured, not discovered: without this MSAL asks login.microsoftonline.com
      // to validate any host it does not know (a test server, a private cloud) before each first token.
      disableInstanceDiscovery: true,
      ...this.pipelineOptions,
    });
  }

  async listAccounts(subscriptionId: string, options?: CallOptions): Promise<AzureAccount[]> {
    const call = `accounts list of subscription ${subscriptionId}`;
    return this.run(call, ACTIONS.listAccounts, options, async (abortSignal) => {
      const accounts: AzureAccount[] = [];
      for await (const account of this.accounts(subscriptionId).accounts.list({ abortSignal })) {
        const parsed = account.id ? ACCOUNT_ID.exec(account.id) : null;
        if (!parsed?.[1] || !parsed[2] || !account.id) continue;
        accounts.push({
          id: account.id,
          name: account.name ?? parsed[3] ?? "",
          subscriptionId: parsed[1],
          resourceGroup: parsed[2],
          kind: account.kind ?? "",
          location: account.location ?? "",
          endpoint: account.properties?.endpoint,
          tags: { ...(account.tags ?? {}) },
        });
      }
      return accounts;
    });
  }

  async listKeys(accountId: string, options?: CallOptions): Promise<AzureKeys> {
    const { subscriptionId, resourceGroup, name } = parseAccountId(accountId);
    return this.run(`listKeys of ${accountId}`, ACTIONS.listKeys, options, async (abortSignal) =>
      keysOf(
        await this.accounts(subscriptionId).accounts.listKeys(resourceGroup, name, { abortSignal }),
        accountId,
      ),
    );
  }

  async regenerateKey(accountId: string, slot: KeySlot, options?: CallOptions): Promise<AzureKeys> {
    const { subscriptionId, resourceGroup, name } = parseAccountId(accountId);
    return this.run(
      `regenerateKey ${slot} of ${accountId}`,
      ACTIONS.regenerateKey,
      options,
      async (abortSignal) =>
        keysOf(
          await this.accounts(subscriptionId).accounts.regenerateKey(resourceGroup, name, slot, {
            abortSignal,
          }),
          accountId,
        ),
    );
  }

  async getMetrics(accountId: string, query: MetricsQuery, options?: CallOptions): Promise<MetricSeries[]> {
    parseAccountId(accountId);
    return this.run(`metrics of ${accountId}`, ACTIONS.metrics, options, async (abortSignal) => {
      const response = await this.monitor()
        .path(`${accountId}/providers/Microsoft.Insights/metrics`)
        .get({
          abortSignal,
          headers: { accept: "application/json" },
          queryParameters: {
            "api-version": METRICS_API_VERSION,
            timespan: `${query.start}/${query.end}`,
            interval: query.interval,
            metricnames: query.metricNames.join(","),
            aggregation: "Total",
            ...(query.splitBy ? { $filter: `${query.splitBy} eq '*'` } : {}),
          },
        });
      if (response.status !== "200") throw createRestError(response);
      const body = response.body as MetricsResponse;
      const series: MetricSeries[] = [];
      for (const metric of body.value ?? []) {
        const name = metric.name?.value ?? "";
        // A metric Azure could not answer comes back inside a 200 with an errorCode and no timeseries.
        for (const element of metric.timeseries ?? []) {
          const dimension = element.metadatavalues?.[0]?.value;
          series.push({
            metric: name,
            dimension: dimension || undefined,
            points: (element.data ?? []).map((point) => ({
              timeStamp: isoSeconds(point.timeStamp),
              total: point.total ?? 0,
            })),
          });
        }
      }
      return series;
    });
  }

  /** One classic ARM client per subscription (the SDK binds the subscription at construction). */
  private accounts(subscriptionId: string): CognitiveServicesManagementClient {
    let client = this.accountClients.get(subscriptionId);
    if (!client) {
      client = new CognitiveServicesManagementClient(this.credential, subscriptionId, {
        ...this.pipelineOptions,
        endpoint: this.managementUrl,
        $host: this.managementUrl,
        credentialScopes: [`${this.managementUrl}/.default`],
      });
      this.accountClients.set(subscriptionId, client);
    }
    return client;
  }

  private monitor(): MonitorContext {
    // Metrics are read by resource id: the context's subscription is never part of their path.
    this.monitorContext ??= createMonitor(this.credential, "", {
      ...this.pipelineOptions,
      endpoint: this.managementUrl,
      credentials: { scopes: [`${this.managementUrl}/.default`] },
    });
    return this.monitorContext;
  }

  /**
   * Runs one SDK call under its timeout and the caller's signal, and maps any failure. The race makes the
   * bound hold even where a layer (MSAL's token request) does not watch the signal.
   */
  private async run<T>(
    call: string,
    action: string,
    options: CallOptions | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return withDeadline(fn, { timeoutMs: this.timeoutMs, signal: options?.signal }, (error, ending) => {
      if (error instanceof IssuerError) throw error;
      throw toIssuerError(error, {
        call,
        action,
        timeoutMs: this.timeoutMs,
        timedOut: ending.timedOut,
        callerAborted: ending.callerAborted,
      });
    });
  }
}

function parseAccountId(accountId: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const m = ACCOUNT_ID.exec(accountId);
  if (!m?.[1] || !m[2] || !m[3]) {
    throw new IssuerError(`Azure: '${accountId}' is not a Cognitive Services account resource id`, {
      transient: false,
    });
  }
  return { subscriptionId: m[1], resourceGroup: m[2], name: m[3] };
}

function keysOf(keys: { key1?: string; key2?: string }, accountId: string): AzureKeys {
  if (typeof keys.key1 !== "string" || typeof keys.key2 !== "string") {
    throw new IssuerError(`Azure keys of ${accountId}: the answer lacks key1 or key2`, { transient: false });
  }
  return { key1: keys.key1, key2: keys.key2 };
}

/** Microsoft.Insights/metrics' `Response`, the parts read here. */
interface MetricsResponse {
  value?: {
    name?: { value?: string };
    timeseries?: {
      metadatavalues?: { value?: string }[];
      data?: { timeStamp: string; total?: number }[];
    }[];
  }[];
}

/** `2025-01-01T00:00:00Z`, as Azure writes timestamps. */
function isoSeconds(value: string): string {
  return new Date(value).toISOString().replace(/\.000Z$/, "Z");
}
