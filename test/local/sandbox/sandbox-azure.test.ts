import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SandboxAzure } from "../../../local/sandbox/sandbox-azure.js";
import { AZURE_APP, startFakeAzure, TEST_TLS } from "../../helpers/fake-azure.js";

// The fake Azure's wire shapes, checked with plain HTTPS requests (no SDK in between): what Entra ID
// and ARM answer, documented in vendor-contracts §4 and azure-rest-api-specs.

const SUB = "00000000-0000-0000-0000-0000000000aa";
const API = "api-version=2023-05-01";

let azure: SandboxAzure;
let token: string;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

function call(
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      new URL(path, azure.url),
      { method, ca: TEST_TLS.cert, headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const form = (fields: Record<string, string>) => ({
  body: new URLSearchParams(fields).toString(),
  headers: { "content-type": "application/x-www-form-urlencoded" },
});
const bearer = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

beforeAll(async () => {
  azure = await startFakeAzure({ pageSize: 1 });
  azure.addAccount({ subscriptionId: SUB, resourceGroup: "rg", name: "one", keyFormat: "hex32" });
  azure.addAccount({ subscriptionId: SUB, resourceGroup: "rg", name: "two", kind: "AIServices" });
  const reply = await call(
    "POST",
    `/${AZURE_APP.tenantId}/oauth2/v2.0/token`,
    form({
      client_id: AZURE_APP.clientId,
      client_secret: AZURE_APP.clientSecret,
      grant_type: "client_credentials",
      scope: `${azure.url}/.default`,
    }),
  );
  token = String(reply.body.access_token);
});

afterAll(() => azure.close());

describe("Entra ID", () => {
  it("publishes the tenant's OpenID metadata with the endpoints MSAL requires", async () => {
    const reply = await call("GET", `/${AZURE_APP.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      token_endpoint: `${azure.url}/${AZURE_APP.tenantId}/oauth2/v2.0/token`,
      issuer: `${azure.url}/${AZURE_APP.tenantId}/v2.0`,
      authorization_endpoint: expect.any(String),
      jwks_uri: expect.any(String),
    });
  });

  it("issues a bearer token for client credentials", async () => {
    expect(token.split(".")).toHaveLength(3);
  });

  it("answers a wrong secret with 401 invalid_client AADSTS7000215, not echoing it", async () => {
    const reply = await call(
      "POST",
      `/${AZURE_APP.tenantId}/oauth2/v2.0/token`,
      form({
        client_id: AZURE_APP.clientId,
        client_secret: "nope-wrong-secret",
        grant_type: "client_credentials",
        scope: `${azure.url}/.default`,
      }),
    );
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ error: "invalid_client", error_codes: [7000215] });
    expect(String(reply.body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(JSON.stringify(reply.body)).not.toContain("nope-wrong-secret");
  });
});

describe("Azure Resource Manager", () => {
  it("refuses a call without a bearer token, or with a token for another audience", async () => {
    const path = `/subscriptions/${SUB}/providers/Microsoft.CognitiveServices/accounts?${API}`;
    const none = await call("GET", path);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: "AuthenticationFailed", message: expect.any(String) } });
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer /);

    const other = await call(
      "POST",
      `/${AZURE_APP.tenantId}/oauth2/v2.0/token`,
      form({
        client_id: AZURE_APP.clientId,
        client_secret: AZURE_APP.clientSecret,
        grant_type: "client_credentials",
        scope: "https://graph.microsoft.com/.default",
      }),
    );
    const wrongAudience = await call("GET", path, {
      headers: { authorization: `Bearer ${String(other.body.access_token)}` },
    });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.body).toMatchObject({ error: { code: "InvalidAuthenticationTokenAudience" } });
  });

  it("pages the accounts list through nextLink until it is absent", async () => {
    const first = await call(
      "GET",
      `/subscriptions/${SUB}/providers/Microsoft.CognitiveServices/accounts?${API}`,
      {
        headers: bearer(),
      },
    );
    expect(first.status).toBe(200);
    expect(first.body.value).toEqual([
      expect.objectContaining({
        name: "one",
        type: "Microsoft.CognitiveServices/accounts",
        kind: "OpenAI",
        properties: expect.objectContaining({
          endpoint: "https://one.openai.azure.com/",
          provisioningState: "Succeeded",
        }),
      }),
    ]);
    const second = await call("GET", String(first.body.nextLink), { headers: bearer() });
    expect(second.body.value).toEqual([expect.objectContaining({ name: "two", kind: "AIServices" })]);
    expect(second.body).not.toHaveProperty("nextLink");
  });

  it("regenerateKey takes exactly Key1 or Key2 and mints a new value for that slot", async () => {
    const account = azure.account(
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/one`,
    );
    const path = `${account?.id}/regenerateKey?${API}`;
    const json = bearer({ "content-type": "application/json" });

    const lower = await call("POST", path, { body: '{"keyName":"key1"}', headers: json });
    expect(lower.status).toBe(400);

    const before = { key1: account?.key1, key2: account?.key2 };
    const reply = await call("POST", path, { body: '{"keyName":"Key1"}', headers: json });
    expect(reply.status).toBe(200);
    expect(reply.body.key2).toBe(before.key2);
    expect(reply.body.key1).toMatch(/^[a-f0-9]{32}$/);
    expect(reply.body.key1).not.toBe(before.key1);
  });

  it("answers an injected 403 with AuthorizationFailed naming the action and scope", async () => {
    azure.fail("listKeys", { status: 403 });
    const id = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/two`;
    const reply = await call("POST", `${id}/listKeys?${API}`, { headers: bearer() });
    expect(reply.status).toBe(403);
    const error = reply.body.error as { code: string; message: string };
    expect(error.code).toBe("AuthorizationFailed");
    expect(error.message).toContain("'Microsoft.CognitiveServices/accounts/listKeys/action' over scope");
    expect(error.message).toContain(id);
  });

  it("answers an injected 429 with Retry-After", async () => {
    azure.fail("listAccounts", { status: 429, retryAfter: 9 });
    const reply = await call(
      "GET",
      `/subscriptions/${SUB}/providers/Microsoft.CognitiveServices/accounts?${API}`,
      {
        headers: bearer(),
      },
    );
    expect(reply.status).toBe(429);
    expect(reply.headers["retry-after"]).toBe("9");
    expect(reply.body).toMatchObject({ error: { code: "TooManyRequests" } });
  });
});

describe("Azure Monitor", () => {
  it("answers metrics in Microsoft.Insights/metrics' shape, split by deployment", async () => {
    const id = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/two`;
    azure.addMetricPoints(id, "AzureOpenAIRequests", [
      { timeStamp: "2026-01-01T00:30:00Z", total: 3, deployment: "gpt-4o" },
    ]);
    const query = new URLSearchParams({
      "api-version": "2018-01-01",
      timespan: "2026-01-01T00:00:00Z/2026-01-01T02:00:00Z",
      interval: "PT1H",
      metricnames: "AzureOpenAIRequests",
      aggregation: "Total",
      $filter: "ModelDeploymentName eq '*'",
    });
    const reply = await call("GET", `${id}/providers/Microsoft.Insights/metrics?${query}`, {
      headers: bearer(),
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      timespan: "2026-01-01T00:00:00Z/2026-01-01T02:00:00Z",
      interval: "PT1H",
      namespace: "Microsoft.CognitiveServices/accounts",
      value: [
        {
          id: `${id}/providers/Microsoft.Insights/metrics/AzureOpenAIRequests`,
          type: "Microsoft.Insights/metrics",
          name: { value: "AzureOpenAIRequests" },
          unit: "Count",
          timeseries: [
            {
              metadatavalues: [{ name: { value: "modeldeploymentname" }, value: "gpt-4o" }],
              data: [{ timeStamp: "2026-01-01T00:00:00Z", total: 3 }, { timeStamp: "2026-01-01T01:00:00Z" }],
            },
          ],
        },
      ],
    });
  });

  it("answers an unknown metric name with Monitor's 400 BadRequest", async () => {
    const id = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/two`;
    const query =
      "api-version=2018-01-01&timespan=2026-01-01T00:00:00Z/2026-01-01T01:00:00Z&interval=PT1H&metricnames=Nope&aggregation=Total";
    const reply = await call("GET", `${id}/providers/Microsoft.Insights/metrics?${query}`, {
      headers: bearer(),
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({
      code: "BadRequest",
      message: expect.stringContaining("metric: Nope"),
    });
  });
});
