import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { readBody } from "../api-gateway-adapter.js";
import { SandboxEntra } from "./sandbox-azure-entra.js";
import {
  type AzureFault,
  AzureFaultPlan,
  type AzureOperation,
  armError,
  REQUIRED_ACTION,
} from "./sandbox-azure-faults.js";
import { type KeyFormat, newAccountKey } from "./sandbox-azure-keys.js";
import { type MetricPoint, SandboxMetrics } from "./sandbox-azure-metrics.js";
import { closeServer } from "./sandbox-server.js";

// A loopback fake of the Azure a leaked Azure AI key lives in: Entra ID's v2.0 token endpoint and OpenID
// metadata, Azure Resource Manager's Cognitive Services accounts (list with nextLink paging, listKeys,
// regenerateKey) and Azure Monitor metrics, in the documented shapes (docs: /work/shared/vendor-contracts.md
// §4; azure-rest-api-specs cognitiveservices 2023-05-01, monitor 2018-01-01/2024-02-01). One server
// answers both hosts (the authority and the management URL are its own URL). Served over HTTPS when
// given a key and certificate: MSAL refuses a plain-http authority and the ARM pipeline refuses to send a
// bearer token over http. Key values never appear in the record of calls.

export type { AzureFault, AzureOperation } from "./sandbox-azure-faults.js";
export { REQUIRED_ACTION } from "./sandbox-azure-faults.js";
export type { MetricPoint } from "./sandbox-azure-metrics.js";

const BODY_LIMIT_BYTES = 64 * 1024;
const PROVIDER = "Microsoft.CognitiveServices/accounts";

export interface SandboxAzureOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string } | undefined;
  /** Accounts per page of the accounts list before a nextLink (ARM's own is larger). Default 100. */
  pageSize?: number | undefined;
  now?: (() => number) | undefined;
}

export interface NewAzureAccount {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** OpenAI, AIServices, CognitiveServices, … Default OpenAI. */
  kind?: string | undefined;
  location?: string | undefined;
  /** Default https://{name}.openai.azure.com/ for OpenAI, https://{name}.cognitiveservices.azure.com/ else. */
  endpoint?: string | undefined;
  tags?: Record<string, string> | undefined;
  key1?: string | undefined;
  key2?: string | undefined;
  /** Format of generated keys (given ones are kept as they are). Default cask (84 characters). */
  keyFormat?: KeyFormat | undefined;
}

export interface SandboxAzureAccount {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  kind: string;
  location: string;
  endpoint: string;
  tags: Record<string, string>;
  keyFormat: KeyFormat;
  key1: string;
  key2: string;
}

/** One request as received: the operation, method and path; never a header, a body or a key. */
export interface AzureCall {
  operation: AzureOperation | "openidConfiguration" | "unknown";
  method: string;
  path: string;
  status: number;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export class SandboxAzure {
  readonly calls: AzureCall[] = [];
  /** RBAC actions the service principal lacks (403 AuthorizationFailed naming them). */
  readonly deniedActions = new Set<string>();
  private readonly accounts = new Map<string, SandboxAzureAccount>();
  private readonly subscriptions = new Set<string>();
  private readonly metricStore = new SandboxMetrics();
  private readonly faults = new AzureFaultPlan();
  private readonly entra: SandboxEntra;
  private readonly now: () => number;
  private server: Server | undefined;
  /** Where the fake is reached: the authority URL and the management URL both. */
  url = "";

  constructor(private readonly options: SandboxAzureOptions) {
    this.now = options.now ?? Date.now;
    this.entra = new SandboxEntra(options, this.now);
  }

  /** Starts a fake on 127.0.0.1 (`port` 0 picks a free one). */
  static async start(options: SandboxAzureOptions & { port?: number | undefined }): Promise<SandboxAzure> {
    const azure = new SandboxAzure(options);
    const handler = (req: IncomingMessage, res: ServerResponse) => void azure.handle(req, res);
    const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    azure.server = server;
    azure.url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
    return azure;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  /** A subscription the service principal can read, even with no accounts in it. */
  addSubscription(subscriptionId: string): void {
    this.subscriptions.add(subscriptionId.toLowerCase());
  }

  addAccount(input: NewAzureAccount): SandboxAzureAccount {
    const kind = input.kind ?? "OpenAI";
    const keyFormat = input.keyFormat ?? "cask";
    const id = `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}/providers/${PROVIDER}/${input.name}`;
    const host = kind === "OpenAI" ? "openai.azure.com" : "cognitiveservices.azure.com";
    const account: SandboxAzureAccount = {
      id,
      subscriptionId: input.subscriptionId,
      resourceGroup: input.resourceGroup,
      name: input.name,
      kind,
      location: input.location ?? "eastus",
      endpoint: input.endpoint ?? `https://${input.name.toLowerCase()}.${host}/`,
      tags: input.tags ?? {},
      keyFormat,
      key1: input.key1 ?? newAccountKey(kind, keyFormat),
      key2: input.key2 ?? newAccountKey(kind, keyFormat),
    };
    this.addSubscription(input.subscriptionId);
    this.accounts.set(id.toLowerCase(), account);
    return account;
  }

  /** The account as it stands now (its keys after any regeneration). */
  account(id: string): SandboxAzureAccount | undefined {
    return this.accounts.get(id.toLowerCase());
  }

  addMetricPoints(accountId: string, metric: string, points: MetricPoint[]): void {
    this.metricStore.add(accountId, metric, points);
  }

  /** The next `times` calls of `operation` fail (or are delayed) as `fault` says. */
  fail(operation: AzureOperation, fault: AzureFault, times = 1): void {
    this.faults.add(operation, fault, times);
  }

  recover(): void {
    this.faults.clear();
    this.deniedActions.clear();
  }

  /** Calls to Azure Resource Manager (the token endpoint and OpenID metadata excluded). */
  armCalls(operation?: AzureOperation): AzureCall[] {
    return this.calls.filter(
      (c) =>
        c.operation !== "token" &&
        c.operation !== "openidConfiguration" &&
        (!operation || c.operation === operation),
    );
  }

  /** Serves one request; `path` lets a host server mount the fake under a prefix (default: the URL's path). */
  async handle(req: IncomingMessage, res: ServerResponse, path?: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const route = this.route(req.method ?? "GET", path ?? url.pathname);
    let answer: Answer;
    try {
      const body = (await readBody(req, BODY_LIMIT_BYTES)).toString("utf8");
      answer = await this.answer(route, req, url, body);
    } catch {
      answer = {
        status: 400,
        body: { error: { code: "InvalidRequestContent", message: "The request content is invalid." } },
      };
    }
    this.calls.push({
      operation: route.operation,
      method: req.method ?? "GET",
      path: url.pathname,
      status: answer.status,
    });
    if (res.destroyed) return;
    res.writeHead(answer.status, {
      "content-type": "application/json; charset=utf-8",
      "x-ms-request-id": crypto.randomUUID(),
      ...answer.headers,
    });
    res.end(JSON.stringify(answer.body));
  }

  private route(method: string, path: string): Route {
    let m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (m?.[1] && method === "GET")
      return { operation: "openidConfiguration", tenant: decodeURIComponent(m[1]) };
    m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (m?.[1] && method === "POST") return { operation: "token", tenant: decodeURIComponent(m[1]) };
    m = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.CognitiveServices\/accounts$/i.exec(path);
    if (m?.[1] && method === "GET") return { operation: "listAccounts", subscriptionId: m[1] };
    m =
      /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^/]+)(\/.*)?$/i.exec(
        path,
      );
    if (m?.[1]) {
      const accountId = decodeURIComponent(m[1]);
      const rest = (m[2] ?? "").toLowerCase();
      if (rest === "/listkeys" && method === "POST") return { operation: "listKeys", accountId };
      if (rest === "/regeneratekey" && method === "POST") return { operation: "regenerateKey", accountId };
      if (rest === "/providers/microsoft.insights/metrics" && method === "GET")
        return { operation: "metrics", accountId };
    }
    return { operation: "unknown" };
  }

  private async answer(route: Route, req: IncomingMessage, url: URL, body: string): Promise<Answer> {
    if (route.operation === "unknown") {
      return armFailure(404, {
        code: "NotFound",
        message: `No route for ${req.method} ${url.pathname} in the fake Azure.`,
      });
    }
    if (route.operation === "openidConfiguration") {
      const config = this.entra.openIdConfiguration(this.url, route.tenant);
      if (config) return { status: 200, body: config };
      return this.entraAnswer(
        this.entra.error(400, "invalid_tenant", 90002, `Tenant '${route.tenant}' not found.`),
      );
    }
    const fault = this.faults.next(route.operation);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (route.operation === "token") {
      if (fault?.status) return this.tokenFault(fault);
      const form = new URLSearchParams(body);
      return this.entraAnswer(this.entra.token(route.tenant, form, req.headers.authorization));
    }
    const denied = this.authenticate(req.headers.authorization);
    if (denied) return denied;
    const action = REQUIRED_ACTION[route.operation];
    const scope = "accountId" in route ? route.accountId : `/subscriptions/${route.subscriptionId}`;
    const status = fault?.status ?? (this.deniedActions.has(action) ? 403 : undefined);
    if (status) {
      const headers: Record<string, string> =
        fault?.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {};
      return armFailure(
        status,
        armError(status, { clientId: this.options.clientId, action, scope }),
        headers,
      );
    }
    if (!url.searchParams.get("api-version")) {
      return armFailure(400, {
        code: "MissingApiVersionParameter",
        message: "The api-version query parameter (?api-version=) is required for all requests.",
      });
    }
    switch (route.operation) {
      case "listAccounts":
        return this.listAccounts(route.subscriptionId, url);
      case "listKeys":
        return this.withAccount(route.accountId, (a) => ({
          status: 200,
          body: { key1: a.key1, key2: a.key2 },
        }));
      case "regenerateKey":
        return this.withAccount(route.accountId, (a) => this.regenerate(a, body));
      case "metrics":
        return this.withAccount(route.accountId, (a) =>
          this.metricStore.query({
            resourceId: a.id,
            region: a.location,
            timespan: url.searchParams.get("timespan") ?? "",
            interval: url.searchParams.get("interval") ?? "PT1H",
            metricnames: url.searchParams.get("metricnames") ?? "",
            aggregation: url.searchParams.get("aggregation") ?? "Total",
            filter: url.searchParams.get("$filter") ?? undefined,
          }),
        );
    }
  }

  /** ARM checks the bearer token: present, signed by the fake's Entra, unexpired, for this audience. */
  private authenticate(header: string | undefined): Answer | undefined {
    const challenge = {
      "www-authenticate": `Bearer authorization_uri="${this.url}/${this.options.tenantId}", error="invalid_token", error_description="The authentication failed."`,
    };
    if (!header?.startsWith("Bearer ")) {
      return armFailure(
        401,
        {
          code: "AuthenticationFailed",
          message: "Authentication failed. The 'Authorization' header is missing.",
        },
        challenge,
      );
    }
    const claims = this.entra.verify(header.slice("Bearer ".length));
    if (!claims) return armFailure(401, armError(401, { clientId: "", action: "", scope: "" }), challenge);
    if (claims.aud !== this.url) {
      return armFailure(
        401,
        {
          code: "InvalidAuthenticationTokenAudience",
          message: `The access token has been obtained for wrong audience or resource '${claims.aud}'. It should exactly match with one of the allowed audiences '${this.url}'.`,
        },
        challenge,
      );
    }
    return undefined;
  }

  private listAccounts(subscriptionId: string, url: URL): Answer {
    if (!this.subscriptions.has(subscriptionId.toLowerCase())) {
      return armFailure(404, {
        code: "SubscriptionNotFound",
        message: `The subscription '${subscriptionId}' could not be found.`,
      });
    }
    const all = [...this.accounts.values()].filter(
      (a) => a.subscriptionId.toLowerCase() === subscriptionId.toLowerCase(),
    );
    const size = this.options.pageSize ?? 100;
    const skip = Number(url.searchParams.get("$skipToken") ?? "0") || 0;
    const page = all.slice(skip, skip + size);
    const next = new URL(`${this.url}${url.pathname}`);
    next.searchParams.set("api-version", url.searchParams.get("api-version") ?? "");
    next.searchParams.set("$skipToken", String(skip + size));
    return {
      status: 200,
      body: {
        value: page.map((a) => this.resource(a)),
        ...(skip + size < all.length ? { nextLink: next.toString() } : {}),
      },
    };
  }

  private regenerate(account: SandboxAzureAccount, body: string): Answer {
    let keyName: unknown;
    try {
      keyName = (JSON.parse(body) as { keyName?: unknown }).keyName;
    } catch {
      keyName = undefined;
    }
    // The spec's enum is exactly "Key1" | "Key2" (modelAsString false).
    if (keyName !== "Key1" && keyName !== "Key2") {
      return armFailure(400, {
        code: "InvalidRequestContent",
        message: "The request content was invalid: keyName must be 'Key1' or 'Key2'.",
      });
    }
    if (keyName === "Key1") account.key1 = newAccountKey(account.kind, account.keyFormat);
    else account.key2 = newAccountKey(account.kind, account.keyFormat);
    return { status: 200, body: { key1: account.key1, key2: account.key2 } };
  }

  private withAccount(id: string, answer: (account: SandboxAzureAccount) => Answer): Answer {
    const account = this.accounts.get(id.toLowerCase());
    if (account) return answer(account);
    const [, , , , rg, , , , name] = id.split("/");
    return armFailure(404, {
      code: "ResourceNotFound",
      message: `The Resource '${PROVIDER}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    });
  }

  /** The account as ARM lists it (Account in cognitiveservices.json). */
  private resource(a: SandboxAzureAccount): Record<string, unknown> {
    return {
      id: a.id,
      name: a.name,
      type: PROVIDER,
      location: a.location,
      sku: { name: "S0" },
      kind: a.kind,
      tags: a.tags,
      etag: `"${a.name.length.toString(16).padStart(8, "0")}-0000-0000-0000-000000000000"`,
      properties: {
        endpoint: a.endpoint,
        customSubDomainName: a.name.toLowerCase(),
        provisioningState: "Succeeded",
        disableLocalAuth: false,
        publicNetworkAccess: "Enabled",
      },
    };
  }

  private tokenFault(fault: AzureFault): Answer {
    const status = fault.status ?? 500;
    const headers: Record<string, string> =
      fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {};
    if (status === 401)
      return this.entraAnswer(
        this.entra.error(401, "invalid_client", 7000215, "Invalid client secret provided."),
      );
    if (status === 400)
      return this.entraAnswer(this.entra.error(400, "invalid_request", 900144, "The request is invalid."));
    const base = this.entra.error(
      400,
      status === 429 ? "temporarily_unavailable" : "server_error",
      90033,
      "A transient error has occurred. Please try again.",
    );
    return { status, body: base.body, headers };
  }

  private entraAnswer(answer: { status: number; body: unknown }): Answer {
    return { status: answer.status, body: answer.body, headers: { "cache-control": "no-store, no-cache" } };
  }
}

type Route =
  | { operation: "openidConfiguration"; tenant: string }
  | { operation: "token"; tenant: string }
  | { operation: "listAccounts"; subscriptionId: string }
  | { operation: "listKeys" | "regenerateKey" | "metrics"; accountId: string }
  | { operation: "unknown" };

function armFailure(
  status: number,
  error: { code: string; message: string },
  headers?: Record<string, string>,
): Answer {
  return { status, body: { error }, ...(headers ? { headers } : {}) };
}
