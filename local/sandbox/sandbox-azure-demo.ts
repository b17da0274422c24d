import type { IncomingMessage, ServerResponse } from "node:http";
import type { MetricPoint, SandboxAzure, SandboxAzureAccount } from "./sandbox-azure.js";

// The local stack's fake Azure, seeded for a demo: one subscription of Azure OpenAI / AI Services
// accounts whose tags name an owner, each with a week of hourly Azure Monitor usage that jumps in the
// last 24 hours (a leaked key being resold), and the route `simulate` takes a live key from.

/** The service principal config/local.json names (the client secret is generated into the data dir). */
export const DEMO_AZURE_APP = {
  tenantId: "5d2c6b1a-0e4f-4a8b-9c3d-7e6f5a4b3c2d",
  clientId: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
};
export const DEMO_SUBSCRIPTION = "6b1f0c2e-3d4a-4b5c-8d6e-7f8091a2b3c4";
const RESOURCE_GROUP = "rg-demo-ai";
const OWNER = "ai-team@example.test";
const HOUR = 3_600_000;
const DEPLOYMENTS = ["gpt-4o", "dall-e-3"];

export const DEMO_KINDS = ["OpenAI", "AIServices", "CognitiveServices"] as const;
export type DemoKind = (typeof DEMO_KINDS)[number];
const NAME_PREFIX: Record<DemoKind, string> = {
  OpenAI: "demo-openai",
  AIServices: "demo-ai",
  CognitiveServices: "demo-cog",
};

/** What `POST /sandbox/azure/keys` answers: a live key of a new demo account, as its owner would copy it. */
export interface DemoAzureKey {
  account_id: string;
  name: string;
  kind: string;
  endpoint: string;
  owner: string;
  key_name: "Key1";
  key: string;
}

export class SandboxAzureDemo {
  private created = 0;

  constructor(
    private readonly azure: SandboxAzure,
    private readonly now: () => number = Date.now,
  ) {
    azure.addSubscription(DEMO_SUBSCRIPTION);
  }

  /** The accounts a freshly started stack has. */
  seed(): SandboxAzureAccount[] {
    return [this.createAccount("OpenAI"), this.createAccount("AIServices")];
  }

  /** A new account with its own week of usage, so each simulate run starts from a live, abused key. */
  createAccount(kind: DemoKind = "OpenAI"): SandboxAzureAccount {
    this.created += 1;
    const suffix = `${this.now().toString(36)}${this.created}`;
    const account = this.azure.addAccount({
      subscriptionId: DEMO_SUBSCRIPTION,
      resourceGroup: RESOURCE_GROUP,
      name: `${NAME_PREFIX[kind]}-${suffix}`,
      kind,
      tags: { env: "demo", owner: OWNER },
    });
    for (const [metric, perHour] of Object.entries({
      ProcessedPromptTokens: 1_200,
      GeneratedTokens: 400,
      AzureOpenAIRequests: 12,
    })) {
      this.azure.addMetricPoints(account.id, metric, weekOfUsage(this.now(), perHour));
    }
    return account;
  }

  /** `POST /keys` (mounted at /sandbox/azure): a new demo account's Key1. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path !== "/keys") return send(res, 404, { error: "not_found", message: `no sandbox route ${path}` });
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return send(res, 405, { error: "method_not_allowed", message: `${req.method} is not allowed` });
    }
    let kind: DemoKind = "OpenAI";
    const text = await readSmallBody(req);
    if (text.trim()) {
      const body = safeJson(text) as { kind?: unknown } | undefined;
      if (body === undefined || typeof body !== "object")
        return send(res, 400, { error: "invalid_json", message: "body must be a JSON object" });
      if (body.kind !== undefined && !DEMO_KINDS.includes(body.kind as DemoKind)) {
        return send(res, 400, {
          error: "invalid_kind",
          message: `kind must be one of ${DEMO_KINDS.join(", ")}`,
        });
      }
      kind = (body.kind as DemoKind | undefined) ?? kind;
    }
    const account = this.createAccount(kind);
    const answer: DemoAzureKey = {
      account_id: account.id,
      name: account.name,
      kind: account.kind,
      endpoint: account.endpoint,
      owner: OWNER,
      key_name: "Key1",
      key: account.key1,
    };
    return send(res, 201, answer);
  }
}

/**
 * Hourly points for the 7 days before `now`, per deployment: about `perHour` (a daily rhythm) until the
 * last 24 hours, then 60× that, so the evidence shows the spike a resold key makes.
 */
export function weekOfUsage(now: number, perHour: number): MetricPoint[] {
  const points: MetricPoint[] = [];
  const lastHour = Math.floor(now / HOUR) * HOUR;
  for (let h = 1; h <= 7 * 24; h++) {
    const start = lastHour - h * HOUR;
    const rhythm = 0.5 + Math.abs(Math.sin((new Date(start).getUTCHours() / 24) * Math.PI));
    const total = Math.round(perHour * rhythm * (h <= 24 ? 60 : 1));
    DEPLOYMENTS.forEach((deployment, i) => {
      points.push({
        timeStamp: new Date(start).toISOString(),
        total: i === 0 ? total : Math.round(total / 4),
        deployment,
      });
    });
  }
  return points;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function readSmallBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 4096) break;
  }
  return text;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
