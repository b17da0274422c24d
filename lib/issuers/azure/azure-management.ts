// The Azure management port: what the Azure issuer needs of Entra ID, Azure Resource Manager and Azure
// Monitor. The adapter (azure-arm-management.ts) speaks the documented REST API through Microsoft's SDKs;
// the issuer (azure-issuer.ts) holds the logic and is table-tested over an in-memory adapter.
//
// Adapters throw IssuerError: `transient` for 429 / 5xx / timeouts (with `retryAfterSeconds` from
// Retry-After), permanent for 400/401/403/404, with a message that names the call and, for 403, the
// permission (Azure RBAC action) that is missing. Never a key value in a message.

/** Azure's two key slots, as regenerateKey names them. */
export type KeySlot = "Key1" | "Key2";

export interface AzureAccount {
  /** ARM resource id: /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name} */
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** OpenAI, AIServices, CognitiveServices, ComputerVision, Face, SpeechServices, … */
  kind: string;
  location: string;
  endpoint?: string | undefined;
  tags: Record<string, string>;
}

/** The account's two keys. Held only for the comparison or hand-over at hand; never stored or logged. */
export interface AzureKeys {
  key1: string;
  key2: string;
}

export interface MetricsQuery {
  /** e.g. ProcessedPromptTokens, GeneratedTokens, AzureOpenAIRequests */
  metricNames: string[];
  /** ISO-8601 bounds of the timespan. */
  start: string;
  end: string;
  /** ISO-8601 duration of one point; the issuer asks for PT1H. */
  interval: string;
  /** A dimension to split by (ModelDeploymentName), when per-deployment figures are wanted. */
  splitBy?: string | undefined;
}

export interface MetricSeries {
  metric: string;
  /** The dimension value of this series when split (a deployment name); undefined for the whole account. */
  dimension?: string | undefined;
  /** One point per interval, oldest first; `total` is the interval's sum (0 where Azure gave none). */
  points: { timeStamp: string; total: number }[];
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface AzureManagement {
  /** Every Cognitive Services account of the subscription (ARM pages followed through nextLink). */
  listAccounts(subscriptionId: string, options?: CallOptions): Promise<AzureAccount[]>;
  listKeys(accountId: string, options?: CallOptions): Promise<AzureKeys>;
  /** Replaces the slot's key with a new one; answers the account's keys afterwards. */
  regenerateKey(accountId: string, slot: KeySlot, options?: CallOptions): Promise<AzureKeys>;
  /** Azure Monitor metrics of the account (Microsoft.Insights/metrics). */
  getMetrics(accountId: string, query: MetricsQuery, options?: CallOptions): Promise<MetricSeries[]>;
}
