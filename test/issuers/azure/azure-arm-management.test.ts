import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import type { AzureArmManagement } from "../../../lib/issuers/azure/azure-arm-management.js";
import {
  REQUIRED_ACTION,
  type SandboxAzure,
  type SandboxAzureAccount,
} from "../../../local/sandbox/sandbox-azure.js";
import { AZURE_APP, azureManagement, startFakeAzure } from "../../helpers/fake-azure.js";
import { rejection } from "../../helpers/rejection.js";

// The adapter through Microsoft's SDKs against the fake Azure over real HTTPS: Entra ID's token
// endpoint, ARM's accounts/keys and Azure Monitor metrics, with failures injected by the fake.

const SUB = "9b1d3c52-6f0e-4c41-8a8a-0d5b8e8f1a01";
const OTHER_SUB = "3f2a7c10-1d4b-4e8e-9c6f-7b2e4a9d5c02";

let azure: SandboxAzure;
let management: AzureArmManagement;
let accounts: SandboxAzureAccount[];
/** Every key value the fake ever held, to prove none reaches an error. */
const keysSeen = new Set<string>();
/** Every error the adapter threw in these tests. */
const errors: IssuerError[] = [];

async function failure(call: Promise<unknown>): Promise<IssuerError> {
  const error = await rejection(call, IssuerError);
  errors.push(error);
  return error;
}

function remember(...accountsNow: (SandboxAzureAccount | undefined)[]) {
  for (const a of accountsNow) {
    if (a) keysSeen.add(a.key1).add(a.key2);
  }
}

beforeAll(async () => {
  azure = await startFakeAzure({ pageSize: 2 });
  accounts = [];
  for (let i = 0; i < 5; i++) {
    accounts.push(
      azure.addAccount({
        subscriptionId: SUB,
        resourceGroup: i < 3 ? "rg-ai" : "rg-other",
        name: `contoso-openai-${i}`,
        kind: i === 4 ? "AIServices" : "OpenAI",
        location: "swedencentral",
        tags: { owner: `team${i}@contoso.example` },
      }),
    );
  }
  azure.addAccount({ subscriptionId: OTHER_SUB, resourceGroup: "rg", name: "elsewhere" });
  remember(...accounts);
  management = azureManagement(azure);
});

afterEach(() => azure.recover());

afterAll(async () => {
  await azure.close();
});

describe("listAccounts", () => {
  it("follows nextLink across pages and maps every account of the subscription", async () => {
    azure.calls.length = 0;
    const listed = await management.listAccounts(SUB);

    expect(listed.map((a) => a.name)).toEqual(accounts.map((a) => a.name));
    expect(azure.armCalls("listAccounts")).toHaveLength(3); // pages of 2, 2 and 1
    expect(listed[4]).toEqual({
      id: accounts[4]?.id,
      name: "contoso-openai-4",
      subscriptionId: SUB,
      resourceGroup: "rg-other",
      kind: "AIServices",
      location: "swedencentral",
      endpoint: "https://contoso-openai-4.cognitiveservices.azure.com/",
      tags: { owner: "team4@contoso.example" },
    });
  });

  it("gets one token for many calls", async () => {
    const fresh = azureManagement(azure);
    azure.calls.length = 0;
    await fresh.listAccounts(SUB);
    await fresh.listAccounts(OTHER_SUB);
    expect(azure.calls.filter((c) => c.operation === "token")).toHaveLength(1);
  });
});

describe("listKeys and regenerateKey", () => {
  it("answers the account's two keys", async () => {
    const account = accounts[0] as SandboxAzureAccount;
    expect(await management.listKeys(account.id)).toEqual({ key1: account.key1, key2: account.key2 });
  });

  it("regenerateKey replaces only the named slot, with a new value", async () => {
    const account = accounts[1] as SandboxAzureAccount;
    const before = { key1: account.key1, key2: account.key2 };

    const after = await management.regenerateKey(account.id, "Key2");
    remember(azure.account(account.id));

    expect(after.key1).toBe(before.key1);
    expect(after.key2).not.toBe(before.key2);
    expect(after.key2).toMatch(
      /^[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9][A-L][A-Za-z0-9]{12}AAABACOG[A-Za-z0-9]{4}$/,
    );
    expect(await management.listKeys(account.id)).toEqual(after);
  });
});

describe("getMetrics", () => {
  const query = {
    metricNames: ["ProcessedPromptTokens", "GeneratedTokens"],
    start: "2026-11-20T00:00:00Z",
    end: "2026-11-20T03:00:00Z",
    interval: "PT1H",
  };

  beforeAll(() => {
    const id = (accounts[2] as SandboxAzureAccount).id;
    azure.addMetricPoints(id, "ProcessedPromptTokens", [
      { timeStamp: "2026-11-20T00:10:00Z", total: 100, deployment: "gpt-4o" },
      { timeStamp: "2026-11-20T00:50:00Z", total: 50, deployment: "gpt-4o" },
      { timeStamp: "2026-11-20T02:05:00Z", total: 7, deployment: "gpt-4o-mini" },
    ]);
    azure.addMetricPoints(id, "GeneratedTokens", [
      { timeStamp: "2026-11-20T01:00:00Z", total: 900, deployment: "gpt-4o" },
    ]);
  });

  it("answers one series per metric, an hourly point per interval, 0 where Azure has none", async () => {
    const series = await management.getMetrics((accounts[2] as SandboxAzureAccount).id, query);

    expect(series).toEqual([
      {
        metric: "ProcessedPromptTokens",
        dimension: undefined,
        points: [
          { timeStamp: "2026-11-20T00:00:00Z", total: 150 },
          { timeStamp: "2026-11-20T01:00:00Z", total: 0 },
          { timeStamp: "2026-11-20T02:00:00Z", total: 7 },
        ],
      },
      {
        metric: "GeneratedTokens",
        dimension: undefined,
        points: [
          { timeStamp: "2026-11-20T00:00:00Z", total: 0 },
          { timeStamp: "2026-11-20T01:00:00Z", total: 900 },
          { timeStamp: "2026-11-20T02:00:00Z", total: 0 },
        ],
      },
    ]);
  });

  it("splits by model deployment with $filter ModelDeploymentName eq '*'", async () => {
    const series = await management.getMetrics((accounts[2] as SandboxAzureAccount).id, {
      ...query,
      splitBy: "ModelDeploymentName",
    });

    const totals = series.map((s) => [s.metric, s.dimension, s.points.reduce((sum, p) => sum + p.total, 0)]);
    expect(totals).toEqual([
      ["ProcessedPromptTokens", "gpt-4o", 150],
      ["ProcessedPromptTokens", "gpt-4o-mini", 7],
      ["GeneratedTokens", "gpt-4o", 900],
    ]);
  });
});

describe("failures", () => {
  it("a wrong client secret is a permanent failure naming Entra's AADSTS code, never the secret", async () => {
    const wrongSecret = "wrong-secret~0123456789abcdefghij";
    const bad = azureManagement(azure, { clientSecret: wrongSecret });
    azure.calls.length = 0;

    const error = await failure(bad.listKeys((accounts[0] as SandboxAzureAccount).id));

    expect(error.transient).toBe(false);
    expect(error.message).toContain("AADSTS7000215");
    expect(error.message).toContain("client secret");
    expect(error.message).not.toContain(wrongSecret);
    expect(error.message).not.toContain(AZURE_APP.clientSecret);
    expect(azure.armCalls()).toHaveLength(0);
  });

  it("a 403 names the call and the RBAC action the service principal lacks", async () => {
    const account = accounts[3] as SandboxAzureAccount;
    azure.deniedActions.add(REQUIRED_ACTION.regenerateKey);

    const error = await failure(management.regenerateKey(account.id, "Key1"));

    expect(error.transient).toBe(false);
    expect(error.message).toContain("regenerateKey Key1");
    expect(error.message).toContain("403 AuthorizationFailed");
    expect(error.message).toContain("Microsoft.CognitiveServices/accounts/regenerateKey/action");
    expect(azure.account(account.id)?.key1).toBe(account.key1);
  });

  it("a 404 for an account that does not exist is permanent", async () => {
    const gone = `/subscriptions/${SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/deleted`;
    const error = await failure(management.listKeys(gone));
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/listKeys of .*\/deleted: 404 ResourceNotFound/);
  });

  it("a 429 is transient with the Retry-After seconds", async () => {
    azure.fail("listAccounts", { status: 429, retryAfter: 17 });
    const error = await failure(management.listAccounts(SUB));
    expect(error.transient).toBe(true);
    expect(error.retryAfterSeconds).toBe(17);
    expect(error.message).toContain("429 TooManyRequests");
  });

  it.each([500, 503])("a %i from ARM or Azure Monitor is transient", async (status) => {
    azure.fail("metrics", { status, retryAfter: 3 });
    const error = await failure(
      management.getMetrics((accounts[2] as SandboxAzureAccount).id, {
        metricNames: ["GeneratedTokens"],
        start: "2026-11-20T00:00:00Z",
        end: "2026-11-20T01:00:00Z",
        interval: "PT1H",
      }),
    );
    expect(error.transient).toBe(true);
    expect(error.message).toContain(`metrics of ${(accounts[2] as SandboxAzureAccount).id}: ${status}`);
  });

  it("a 5xx from Entra ID's token endpoint is transient", async () => {
    const fresh = azureManagement(azure);
    azure.fail("token", { status: 503 });
    const error = await failure(fresh.listAccounts(SUB));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("Entra ID");
  });

  it("a slow answer times out as a transient failure", async () => {
    // A bound with room for a loaded machine's token and first call, and an answer far past it.
    const quick = azureManagement(azure, { timeoutMs: 1_000 });
    await quick.listAccounts(OTHER_SUB); // token first, so the timeout below is ARM's
    azure.fail("listKeys", { delayMs: 6_000 });

    const started = Date.now();
    const error = await failure(quick.listKeys((accounts[0] as SandboxAzureAccount).id));

    expect(Date.now() - started).toBeLessThan(4_000);
    expect(error.transient).toBe(true);
    expect(error.message).toContain("no answer within 1000 ms");
  });

  it("the caller's signal aborts the call", async () => {
    azure.fail("listKeys", { delayMs: 1_000 });
    const controller = new AbortController();
    const call = management.listKeys((accounts[0] as SandboxAzureAccount).id, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failure(call);
    expect(error.message).toContain("aborted by caller");
  });

  it("an HTTPS server the adapter was not told to trust is refused", async () => {
    const untrusting = azureManagement(azure, { trustedCaPem: undefined });
    const error = await failure(untrusting.listAccounts(SUB));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("certificate not trusted");
  });

  it("trusts a test server through NODE_EXTRA_CA_CERTS too (read at process start)", async () => {
    const { stdout } = await promisify(execFile)(
      join(process.cwd(), "node_modules/.bin/tsx"),
      ["test/helpers/azure-list-accounts-child.ts"],
      {
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: join(process.cwd(), "test/fixtures/tls/localhost-cert.pem"),
          AZURE_TENANT_ID: AZURE_APP.tenantId,
          AZURE_CLIENT_ID: AZURE_APP.clientId,
          AZURE_CLIENT_SECRET: AZURE_APP.clientSecret,
          AZURE_URL: azure.url,
          AZURE_SUBSCRIPTION: OTHER_SUB,
        },
      },
    );
    expect(JSON.parse(stdout)).toEqual(["elsewhere"]);
  });

  it("no key value appears in any error message", () => {
    expect(errors.length).toBeGreaterThanOrEqual(9);
    remember(...accounts.map((a) => azure.account(a.id)));
    for (const error of errors) {
      const text = `${error.message} ${String(error.cause ?? "")}`;
      for (const key of keysSeen) expect(text).not.toContain(key);
    }
  });
});
