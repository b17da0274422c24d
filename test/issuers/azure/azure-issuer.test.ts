import { describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import { fingerprintToken } from "../../../lib/intake/fingerprint.js";
import { AzureIssuer } from "../../../lib/issuers/azure/azure-issuer.js";
import type { AzureAccount, KeySlot, MetricSeries } from "../../../lib/issuers/azure/azure-management.js";
import { InMemoryAzure, newAzureKey } from "../../helpers/in-memory-azure.js";

const SUB_A = "00000000-0000-4000-8000-00000000000a";
const SUB_B = "00000000-0000-4000-8000-00000000000b";
const NOW = Date.parse("2025-03-08T12:30:00Z");
const HOUR = 3_600_000;
const TYPE = "azure_openai_key";

function setup(options: { accounts?: number; subscriptions?: string[] } = {}) {
  const azure = new InMemoryAzure();
  const subscriptions = options.subscriptions ?? [SUB_A, SUB_B];
  const count = options.accounts ?? 6;
  for (let i = 0; i < count; i++) {
    azure.addAccount({ subscription: subscriptions[i % subscriptions.length] as string, name: `acct-${i}` });
  }
  const waits: number[] = [];
  const clock = { now: NOW };
  const issuer = new AzureIssuer({
    name: "azure",
    management: azure,
    subscriptions,
    ownerTags: ["owner", "contact", "email"],
    now: () => clock.now,
    retry: { attempts: 4, baseMs: 10, maxDelayMs: 30_000, sleep: async (ms) => void waits.push(ms) },
  });
  return { azure, issuer, waits, clock };
}

const leak = (account: AzureAccount, slot: KeySlot, token: string) => ({
  keyId: `${account.id}#${slot}`,
  type: TYPE,
  leakId: "leak-1",
  fingerprint: fingerprintToken(token),
});

const permanent = (status: number, message: string) => () =>
  new IssuerError(message, { transient: false, httpStatus: status });

async function rejection(promise: Promise<unknown>): Promise<IssuerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(IssuerError);
    return error as IssuerError;
  }
  throw new Error("expected a rejection");
}

describe("verify", () => {
  it.each([
    ["Key1", 0],
    ["Key2", 0],
    ["Key1", 5],
    ["Key2", 3],
  ] as const)("finds a key held in %s of account %i across subscriptions", async (slot, index) => {
    const { azure, issuer } = setup();
    const account = azure.accounts[index] as AzureAccount;
    const verification = await issuer.verify({ token: azure.key(account, slot), type: TYPE });
    expect(verification).toMatchObject({
      status: "active",
      keyId: `${account.id}#${slot}`,
      evidence: {
        account: account.name,
        resource_group: "rg-ai",
        subscription: account.subscriptionId,
        kind: "OpenAI",
        location: "eastus",
        endpoint: account.endpoint,
        slot,
      },
    });
    expect(azure.count("listAccounts")).toBe(2);
  });

  it("answers unknown for a key no account holds, regenerating nothing", async () => {
    const { azure, issuer } = setup();
    expect(await issuer.verify({ token: newAzureKey(), type: TYPE })).toEqual({ status: "unknown" });
    expect(azure.count("regenerateKey")).toBe(0);
    expect(azure.count("listKeys")).toBe(6);
  });

  it("costs at most 3 ARM calls on a warm cache, among 300 accounts", async () => {
    const { azure, issuer } = setup({ accounts: 300 });
    await issuer.refresh();
    expect(azure.count("listKeys")).toBe(300);
    azure.resetCalls();
    const account = azure.accounts[217] as AzureAccount;
    const verification = await issuer.verify({ token: azure.key(account, "Key2"), type: TYPE });
    expect(verification.keyId).toBe(`${account.id}#Key2`);
    expect(azure.count()).toBeLessThanOrEqual(3);
    expect(azure.count("listKeys")).toBe(1);
    expect(azure.count("listAccounts")).toBe(0);
  });

  it("searches again for a key made after the last search", async () => {
    const { azure, issuer, clock } = setup({ accounts: 4 });
    await issuer.refresh();
    const account = azure.accounts[1] as AzureAccount;
    // Regenerated behind the cache's back, and the new key leaked two minutes later.
    await azure.regenerateKey(account.id, "Key1");
    clock.now += 120_000;
    const fresh = azure.key(account, "Key1");
    expect((await issuer.verify({ token: fresh, type: TYPE })).keyId).toBe(`${account.id}#Key1`);
  });

  it("answers a burst of misses from one recent search", async () => {
    const { azure, issuer, clock } = setup({ accounts: 4 });
    await issuer.refresh();
    azure.resetCalls();
    clock.now += 30_000;
    expect((await issuer.verify({ token: newAzureKey(), type: TYPE })).status).toBe("unknown");
    expect(azure.count()).toBe(0);
  });

  it("stops trusting a cached slot whose key was regenerated elsewhere", async () => {
    const { azure, issuer, clock } = setup({ accounts: 4 });
    const account = azure.accounts[3] as AzureAccount;
    const token = azure.key(account, "Key2");
    await issuer.refresh();
    await azure.regenerateKey(account.id, "Key2");
    clock.now += 120_000;
    azure.resetCalls();
    expect((await issuer.verify({ token, type: TYPE })).status).toBe("unknown");
    expect(azure.count("listKeys")).toBe(1 + 4); // the confirmation, then the full search
  });

  it("reads keys with bounded concurrency on a cold cache", async () => {
    const { azure, issuer } = setup({ accounts: 60 });
    await issuer.verify({ token: azure.key(azure.accounts[59] as AzureAccount, "Key1"), type: TYPE });
    expect(azure.count("listKeys")).toBe(60);
    expect(azure.maxInFlight).toBeLessThanOrEqual(8);
    expect(azure.maxInFlight).toBeGreaterThan(1);
  });

  it("shares one search between concurrent misses", async () => {
    const { azure, issuer } = setup({ accounts: 10 });
    await Promise.all(Array.from({ length: 5 }, () => issuer.verify({ token: newAzureKey(), type: TYPE })));
    expect(azure.count("listKeys")).toBe(10);
  });

  it("waits as long as a 429's Retry-After says, then goes on", async () => {
    const { azure, issuer, waits } = setup({ accounts: 3 });
    const target = (azure.accounts[2] as AzureAccount).id;
    azure.fail(
      "listKeys",
      () =>
        new IssuerError("throttled (HTTP 429)", { transient: true, retryAfterSeconds: 7, httpStatus: 429 }),
      { times: 2, target },
    );
    const token = azure.key(azure.accounts[2] as AzureAccount, "Key1");
    expect((await issuer.verify({ token, type: TYPE })).status).toBe("active");
    expect(waits).toEqual([7_000, 7_000]);
  });

  it("fails a 403 on listKeys with the missing permission named, rather than guessing unknown", async () => {
    const { azure, issuer } = setup({ accounts: 3 });
    azure.fail("listKeys", permanent(403, "AuthorizationFailed (HTTP 403)"), {
      target: (azure.accounts[1] as AzureAccount).id,
    });
    const error = await rejection(issuer.verify({ token: newAzureKey(), type: TYPE }));
    expect(error.transient).toBe(false);
    expect(error.message).toContain("Microsoft.CognitiveServices/accounts/listKeys/action");
  });

  it("fails a 401 naming the credentials to check", async () => {
    const { azure, issuer } = setup({ accounts: 2 });
    azure.fail("listAccounts", permanent(401, "invalid_client (HTTP 401)"));
    const error = await rejection(issuer.verify({ token: newAzureKey(), type: TYPE }));
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/tenant_id, client_id and client_secret/);
  });

  it("takes the owner from the first owner tag holding an email", async () => {
    const { azure, issuer } = setup({ accounts: 0 });
    const account = azure.addAccount({
      subscription: SUB_A,
      name: "tagged",
      tags: { Owner: "team ai", Contact: "ai-team@example.com", email: "other@example.com" },
    });
    const verification = await issuer.verify({ token: azure.key(account, "Key1"), type: TYPE });
    expect(verification.owner).toEqual({ id: account.id, email: "ai-team@example.com" });
    const untagged = azure.addAccount({ subscription: SUB_A, name: "untagged" });
    await issuer.refresh();
    const plain = await issuer.verify({ token: azure.key(untagged, "Key2"), type: TYPE });
    expect(plain.owner).toEqual({ id: untagged.id });
  });
});

describe("revoke and rotate", () => {
  it("regenerates exactly the leaked slot, once; a second revoke is a no-op", async () => {
    const { azure, issuer } = setup();
    const account = azure.accounts[2] as AzureAccount;
    const token = azure.key(account, "Key2");
    const other = azure.key(account, "Key1");
    const first = await issuer.revoke(leak(account, "Key2", token));
    expect(first).toMatchObject({ keyId: `${account.id}#Key2`, alreadyRevoked: false });
    expect(azure.key(account, "Key2")).not.toBe(token);
    expect(azure.key(account, "Key1")).toBe(other);
    const second = await issuer.revoke(leak(account, "Key2", token));
    expect(second).toEqual({ keyId: `${account.id}#Key2`, alreadyRevoked: true });
    expect(azure.calls.filter((c) => c.op === "regenerateKey")).toEqual([
      { op: "regenerateKey", target: account.id },
    ]);
    // Re-verification after the revocation: one listKeys proves the key gone from its slot, no search.
    azure.resetCalls();
    expect(await issuer.verify({ token, type: TYPE })).toEqual({
      status: "inactive",
      keyId: `${account.id}#Key2`,
    });
    expect(azure.calls).toEqual([{ op: "listKeys", target: account.id }]);
  });

  it("regenerates once for ten concurrent revocations of one key", async () => {
    const { azure, issuer } = setup();
    const account = azure.accounts[0] as AzureAccount;
    const token = azure.key(account, "Key1");
    const results = await Promise.all(
      Array.from({ length: 10 }, () => issuer.revoke(leak(account, "Key1", token))),
    );
    expect(azure.count("regenerateKey")).toBe(1);
    expect(results.filter((r) => !r.alreadyRevoked)).toHaveLength(1);
  });

  it("refuses to regenerate without the leak's fingerprint", async () => {
    const { azure, issuer } = setup();
    const account = azure.accounts[0] as AzureAccount;
    const error = await rejection(issuer.revoke({ keyId: `${account.id}#Key1`, type: TYPE, leakId: "l" }));
    expect(error.transient).toBe(false);
    expect(azure.count("regenerateKey")).toBe(0);
  });

  it("fails a 403 on regenerateKey with the missing permission named", async () => {
    const { azure, issuer } = setup();
    const account = azure.accounts[0] as AzureAccount;
    azure.fail("regenerateKey", permanent(403, "AuthorizationFailed (HTTP 403)"));
    const error = await rejection(issuer.revoke(leak(account, "Key1", azure.key(account, "Key1"))));
    expect(error.transient).toBe(false);
    expect(error.message).toContain("Microsoft.CognitiveServices/accounts/regenerateKey/action");
  });

  it("hands over the regenerated slot's value as the replacement, and says where else to read it", async () => {
    const { azure, issuer } = setup();
    const account = azure.accounts[1] as AzureAccount;
    const token = azure.key(account, "Key1");
    await issuer.revoke(leak(account, "Key1", token));
    const rotation = await issuer.rotate(leak(account, "Key1", token));
    const fresh = azure.key(account, "Key1");
    expect(rotation.secret).toBe(fresh);
    expect(rotation.deliveredToOwner).toBe(false);
    expect(rotation.replacementKeyId).toBe(
      `${account.id}#Key1@sha256:${fingerprintToken(fresh).slice(0, 8)}`,
    );
    expect(rotation.where).toContain(
      `az cognitiveservices account keys list --name ${account.name} --resource-group rg-ai`,
    );
    expect(rotation.where).toContain("portal");
    expect(azure.count("regenerateKey")).toBe(1);
  });

  it("will not hand over a slot that still holds the leaked key", async () => {
    const { azure, issuer } = setup();
    const account = azure.accounts[1] as AzureAccount;
    const error = await rejection(issuer.rotate(leak(account, "Key1", azure.key(account, "Key1"))));
    expect(error.message).toContain("revoke it first");
  });
});

/** 6 days at one hourly value, then the last 24 hours at another. */
const week = (before: number, lastDay: number) => [...Array(144).fill(before), ...Array(24).fill(lastDay)];

/** Hourly points from `hours` hours before NOW, one value each (oldest first). */
function hourly(metric: string, values: number[], dimension?: string): MetricSeries {
  const last = Math.floor(NOW / HOUR) * HOUR;
  return {
    metric,
    dimension,
    points: values.map((total, i) => ({
      timeStamp: new Date(last - (values.length - 1 - i) * HOUR).toISOString(),
      total,
    })),
  };
}

describe("usage evidence", () => {
  it("totals the last 24 h and 7 days, finds the busiest hour, flags 3× the median, per deployment", async () => {
    const { azure, issuer } = setup({ accounts: 1 });
    const account = azure.accounts[0] as AzureAccount;
    const prompt = week(10, 100);
    prompt[160] = 5_000; // the busiest hour, within the last day
    azure.metrics.set(account.id, [
      hourly("ProcessedPromptTokens", prompt, "gpt-4o"),
      hourly("GeneratedTokens", week(5, 50), "gpt-4o"),
      hourly("AzureOpenAIRequests", week(1, 4), "gpt-4o"),
      hourly("ProcessedPromptTokens", week(0, 1), "dall-e-3"),
      hourly("AzureOpenAIRequests", week(0, 2), "dall-e-3"),
    ]);
    const { evidence } = await issuer.verify({ token: azure.key(account, "Key1"), type: TYPE });
    const usage = evidence?.usage as Record<string, unknown>;
    const lastDayPrompt = 23 * 100 + 5_000 + 24;
    expect(usage).toMatchObject({
      available: true,
      measure: "tokens",
      last_24h: { prompt_tokens: lastDayPrompt, generated_tokens: 24 * 50, requests: 24 * 4 + 48 },
      last_7d: {
        prompt_tokens: 144 * 10 + lastDayPrompt,
        generated_tokens: 144 * 5 + 24 * 50,
        requests: 144 + 24 * 4 + 48,
      },
      busiest_hour: { tokens: 5_000 + 50 + 1 },
      unusual_last_24h: true,
    });
    expect(String(usage.rule)).toMatch(/3× the median hourly tokens/);
    expect(String(usage.note)).toMatch(/per account, not per key/);
    expect(usage.per_deployment).toEqual([
      expect.objectContaining({ deployment: "gpt-4o", last_24h: expect.objectContaining({ requests: 96 }) }),
      expect.objectContaining({
        deployment: "dall-e-3",
        last_24h: expect.objectContaining({ prompt_tokens: 24 }),
      }),
    ]);
    const query = azure.calls.find((c) => c.op === "getMetrics")?.query;
    expect(query).toMatchObject({
      interval: "PT1H",
      splitBy: "ModelDeploymentName",
      start: new Date(NOW - 7 * 24 * HOUR).toISOString(),
      end: new Date(NOW).toISOString(),
    });
  });

  it("does not flag a steady account", async () => {
    const { azure, issuer } = setup({ accounts: 1 });
    const account = azure.accounts[0] as AzureAccount;
    azure.metrics.set(account.id, [hourly("ProcessedPromptTokens", week(100, 120))]);
    const { evidence } = await issuer.verify({ token: azure.key(account, "Key2"), type: TYPE });
    expect(evidence?.usage).toMatchObject({ unusual_last_24h: false, per_deployment: [] });
  });

  it("falls back to the whole account when the split is refused", async () => {
    const { azure, issuer } = setup({ accounts: 1 });
    const account = azure.accounts[0] as AzureAccount;
    azure.metrics.set(account.id, [hourly("AzureOpenAIRequests", week(1, 1), "x")]);
    azure.fail("getMetrics", permanent(400, "split not supported (HTTP 400)"), { times: 1 });
    const { evidence } = await issuer.verify({ token: azure.key(account, "Key1"), type: TYPE });
    expect(evidence?.usage).toMatchObject({
      available: true,
      measure: "requests",
      last_7d: { requests: 168 },
    });
    expect(azure.count()).toBeLessThanOrEqual(2 + 1 + 2); // listAccounts ×2, listKeys, getMetrics ×2
  });

  it("still verifies when Azure Monitor fails, and says why", async () => {
    const { azure, issuer } = setup({ accounts: 1 });
    const account = azure.accounts[0] as AzureAccount;
    azure.fail("getMetrics", permanent(403, "AuthorizationFailed (HTTP 403)"));
    const verification = await issuer.verify({ token: azure.key(account, "Key1"), type: TYPE });
    expect(verification.status).toBe("active");
    expect(verification.evidence?.usage).toMatchObject({ available: false });
    expect(String((verification.evidence?.usage as { reason?: string } | undefined)?.reason)).toContain(
      "Microsoft.Insights/metrics/read",
    );
  });

  it("leaves the verification unfinished when the caller's time runs out while usage is read", async () => {
    const { azure, issuer } = setup({ accounts: 1 });
    const account = azure.accounts[0] as AzureAccount;
    const controller = new AbortController();
    // Azure Monitor's answer comes after the caller gave up (the intake's time box closing).
    azure.fail(
      "getMetrics",
      () => {
        controller.abort();
        return new IssuerError("Azure metrics: aborted by caller", { transient: true });
      },
      { times: 1 },
    );
    const error = await rejection(
      issuer.verify({ token: azure.key(account, "Key1"), type: TYPE }, { signal: controller.signal }),
    );
    expect(error.message).toContain("aborted by caller");
    // With time of its own, the worker's verification records the usage.
    const verification = await issuer.verify({ token: azure.key(account, "Key1"), type: TYPE });
    expect(verification.evidence?.usage).toMatchObject({ available: true });
  });

  it("reports usage since a time (the hour after revocation)", async () => {
    const { azure, issuer } = setup({ accounts: 1 });
    const account = azure.accounts[0] as AzureAccount;
    azure.metrics.set(account.id, [hourly("AzureOpenAIRequests", [9, 9, 9, 0, 0])]);
    const since = new Date(Math.floor(NOW / HOUR) * HOUR - 1 * HOUR).toISOString();
    const report = await issuer.usageSince({ keyId: `${account.id}#Key1`, since });
    expect(report).toMatchObject({ since, until: new Date(NOW).toISOString(), figures: { requests: 0 } });
  });
});

describe("secrets", () => {
  it("never puts a key, leaked or new, in evidence or errors", async () => {
    const { azure, issuer, clock } = setup({ accounts: 3 });
    const account = azure.accounts[1] as AzureAccount;
    azure.metrics.set(account.id, [hourly("AzureOpenAIRequests", week(1, 1), "gpt")]);
    const token = azure.key(account, "Key1");
    const other = azure.key(account, "Key2");
    const seen: string[] = [];
    const verification = await issuer.verify({ token, type: TYPE });
    seen.push(JSON.stringify(verification));
    const revocation = await issuer.revoke(leak(account, "Key1", token));
    seen.push(JSON.stringify(revocation));
    const fresh = azure.key(account, "Key1");
    const { secret, ...rotation } = await issuer.rotate(leak(account, "Key1", token));
    expect(secret).toBe(fresh);
    seen.push(JSON.stringify(rotation));
    azure.fail("listKeys", permanent(403, "AuthorizationFailed (HTTP 403)"));
    seen.push((await rejection(issuer.revoke(leak(account, "Key1", fresh)))).message);
    clock.now += 120_000;
    seen.push((await rejection(issuer.verify({ token: newAzureKey(), type: TYPE }))).message);
    for (const text of seen) {
      for (const key of [token, other, fresh]) expect(text).not.toContain(key);
    }
  });
});
