import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { DEFAULT_CONFIG_PATH } from "../../local/local-stack.js";
import type { SandboxAzure, SandboxAzureAccount } from "../../local/sandbox/sandbox-azure.js";
import { AZURE_APP, startFakeAzure, TEST_TLS } from "../helpers/fake-azure.js";
import { readJson, startTestStack, type TestStack } from "../helpers/test-stack.js";

// The case that started it, end to end: a partner report of a leaked Azure OpenAI key reaches the
// local stack, whose Azure issuer (Microsoft's SDKs, over HTTPS to a loopback fake of Entra ID, ARM
// and Azure Monitor) finds the account, regenerates exactly the leaked slot once, records the usage
// evidence, and tells the owner named by the account's tags. No key value, leaked or new, is kept.

const SUBSCRIPTION = "3f2b6c1e-9a7d-4e52-8c0b-1d2e3f4a5b6c";
const OTHER_SUBSCRIPTION = "8e1d2c3b-4a59-4687-9a0b-c1d2e3f4a5b6";
let azure: SandboxAzure;
let t: TestStack;
let victim: SandboxAzureAccount;

beforeAll(async () => {
  azure = await startFakeAzure({ pageSize: 2 });
  for (let i = 0; i < 5; i++) {
    azure.addAccount({ subscriptionId: OTHER_SUBSCRIPTION, resourceGroup: "rg-other", name: `other-${i}` });
  }
  victim = azure.addAccount({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: "rg-ai",
    name: "contoso-openai",
    kind: "OpenAI",
    tags: { env: "prod", owner: "ai-team@contoso.example" },
  });
  const now = Date.now();
  azure.addMetricPoints(
    victim.id,
    "ProcessedPromptTokens",
    Array.from({ length: 48 }, (_, h) => ({
      timeStamp: new Date(now - (h + 1) * 3_600_000).toISOString(),
      total: h < 24 ? 90_000 : 1_000,
      deployment: "gpt-4o",
    })),
  );
  const base = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, "utf8"));
  t = await startTestStack({
    env: { AZURE_CLIENT_SECRET: AZURE_APP.clientSecret, AZURE_WRONG_SECRET: "not-the-app-secret~0123456789" },
    // A loaded machine (CI, parallel test files) can take seconds over a loopback call: the evidence
    // (metrics) must not time out into "unavailable" for want of CPU.
    azureTransport: { trustedCaPem: TEST_TLS.cert, timeoutMs: 15_000 },
    configOverrides: {
      issuers: {
        ...base.issuers,
        azure: {
          kind: "azure_ai",
          tenant_id: AZURE_APP.tenantId,
          client_id: AZURE_APP.clientId,
          client_secret: { env: "AZURE_CLIENT_SECRET" },
          subscriptions: [OTHER_SUBSCRIPTION, SUBSCRIPTION],
          authority_url: azure.url,
          management_url: azure.url,
        },
        // The same app with a secret Entra ID refuses: a rotated-away or mistyped client secret.
        azure_wrong_secret: {
          kind: "azure_ai",
          tenant_id: AZURE_APP.tenantId,
          client_id: AZURE_APP.clientId,
          client_secret: { env: "AZURE_WRONG_SECRET" },
          subscriptions: [SUBSCRIPTION],
          authority_url: azure.url,
          management_url: azure.url,
        },
      },
      token_types: {
        ...base.token_types,
        azure_openai_key: { issuer: "azure" },
        azure_ai_services_key: { issuer: "azure_wrong_secret" },
      },
    },
  });
});
afterAll(async () => {
  await t?.close();
  await azure?.close();
});

const report = (token: string) =>
  t.report([{ token, type: "azure_openai_key", url: "https://gist.example/leak", source: "gist" }]);

describe("a leaked Azure OpenAI key", () => {
  it("is found, its slot regenerated once, the usage recorded and the owner told; no key is kept", async () => {
    const leaked = victim.key2;
    const otherSlot = victim.key1;
    // Ten concurrent reports of one key: one leak, one regeneration.
    const answers = await Promise.all(Array.from({ length: 10 }, () => report(leaked)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    await t.stack.queue.drain();

    expect(azure.armCalls("regenerateKey").length).toBe(1);
    const now = azure.account(victim.id);
    expect(now?.key2).not.toBe(leaked);
    expect(now?.key1).toBe(otherSlot); // the other slot keeps the applications running

    const leak = await t.leakByFingerprint(fingerprintToken(leaked));
    expect(leak).toMatchObject({ status: "revoked", key_id: `${victim.id}#Key2` });
    expect(leak?.timeline.find((e) => e.step === "re-verify")?.detail).toMatch(/inactive/);
    const detail = await readJson(await t.admin(`/v1/admin/leaks/${leak?.id}`));
    expect(JSON.stringify(detail.evidence)).toMatch(/contoso-openai/);
    expect(JSON.stringify(detail.evidence)).toMatch(/per account, not per key/);
    // The abuse shows: 90,000 prompt tokens an hour in the last day against 1,000 before.
    expect(detail.evidence.usage).toMatchObject({
      available: true,
      unusual_last_24h: true,
      busiest_hour: { tokens: 90_000 },
      per_deployment: [expect.objectContaining({ deployment: "gpt-4o" })],
    });
    expect(leak?.deliveries.map((d) => d.recipient)).toContain("owner ai-team@contoso.example");

    // The owner's message names where the key lives and shows the abuse.
    const messages = readdirSync(join(t.stack.dataDir, "outbox")).map((f) =>
      readFileSync(join(t.stack.dataDir, "outbox", f), "utf8"),
    );
    const toOwner = messages.find(
      (m) => m.includes("ai-team@contoso.example") && m.includes(leak?.id ?? "?"),
    );
    for (const fact of [
      "Account: contoso-openai (OpenAI, eastus)",
      "Resource group: rg-ai",
      `Subscription: ${SUBSCRIPTION}`,
      "Endpoint: https://contoso-openai.openai.azure.com/",
      "Key slot: Key2: revoking regenerates only this slot",
      "az cognitiveservices account keys list --name contoso-openai --resource-group rg-ai",
      "Usage, last 24 hours:",
      "Unusual use: yes",
      "per account, not per key",
    ]) {
      expect(toOwner).toContain(fact);
    }

    // Neither key value is in the table (every item, raw), the admin API, the logs, the queue messages or
    // the outbox.
    const table = await t.tableItems();
    const outbox = join(t.stack.dataDir, "outbox");
    const written = [
      JSON.stringify(detail),
      JSON.stringify(table),
      t.logLines.join("\n"),
      JSON.stringify(t.sentMessages),
      ...readdirSync(outbox).map((f) => readFileSync(join(outbox, f), "utf8")),
    ].join("\n");
    for (const key of [leaked, now?.key2 ?? "?"]) expect(written).not.toContain(key);
  });

  it("regenerates nothing for a key no configured account holds", async () => {
    const before = azure.armCalls("regenerateKey").length;
    const unknown = "Zm9yZ2VkLWtleS1ub3QtaW4tYW55LWFjY291bnQwMDAwMDAwMDAwMDAwMDAwMDAw";
    expect((await report(unknown)).status).toBe(200);
    await t.stack.queue.drain();
    expect(azure.armCalls("regenerateKey").length).toBe(before);
    expect((await t.leakByFingerprint(fingerprintToken(unknown)))?.status).toBe("false_positive");
  });

  it("fails the step with a clear reason when Entra ID refuses the client secret, and regenerates nothing", async () => {
    const before = azure.armCalls().length;
    const token = victim.key1;
    const response = await t.report([{ token, type: "azure_ai_services_key", url: "", source: "commit" }]);
    expect(response.status).toBe(200);
    await t.stack.queue.drain();

    const leak = await t.leakByFingerprint(fingerprintToken(token));
    expect(leak).toMatchObject({ status: "failed", failure: { step: "verify" } });
    expect(leak?.failure?.reason).toMatch(/AADSTS7000215/);
    expect(azure.armCalls().length).toBe(before); // no token, no ARM call
    expect(JSON.stringify(leak)).not.toContain("not-the-app-secret");
    expect(t.logLines.join("\n")).not.toContain("not-the-app-secret");
  });
});
