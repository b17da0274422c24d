import { beforeEach, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import { OpenaiIssuer } from "../../../lib/issuers/openai/openai-issuer.js";
import { InMemoryOpenai } from "../../helpers/in-memory-openai.js";
import { rejection } from "../../helpers/rejection.js";

const NOW = Date.parse("2026-11-27T12:00:00Z");
const NOW_S = NOW / 1000;
const TYPE = "openai_api_key";

function issuerOver(openai: InMemoryOpenai) {
  return new OpenaiIssuer({
    name: "openai",
    access: openai,
    retry: { attempts: 3, baseMs: 1, sleep: async () => {} },
    now: () => NOW,
  });
}

const revokeRequest = (keyId: string, token?: string) => ({ keyId, type: TYPE, leakId: "lk_test", token });

/** Nothing the issuer says may carry the key, nor OpenAI's redaction of it. */
function expectNoKey(value: unknown, key: string, redacted: string) {
  const text = JSON.stringify(value, (_k, v) => (v instanceof Error ? `${v.message}` : v)) ?? "";
  expect(text).not.toContain(key);
  expect(text).not.toContain(redacted);
  expect(text).not.toContain(key.slice(-16));
}

describe("OpenaiIssuer.verify", () => {
  let openai: InMemoryOpenai;
  beforeEach(() => {
    openai = new InMemoryOpenai(() => NOW);
  });

  it("names a live key's project, id, owner, last use and its last day's usage", async () => {
    const project = openai.world.addProject("Checkout");
    const key = openai.addKey({ projectId: project.id, ownerEmail: "dev@example.com", name: "laptop" });
    openai.world.addUsage({
      apiKeyId: key.id,
      at: NOW_S - 2 * 3600 + 5,
      inputTokens: 900,
      outputTokens: 100,
      requests: 3,
    });
    openai.world.addUsage({
      apiKeyId: key.id,
      at: NOW_S - 600,
      inputTokens: 50,
      outputTokens: 50,
      requests: 1,
    });

    const v = await issuerOver(openai).verify({ token: key.value, type: TYPE });

    expect(v.status).toBe("active");
    expect(v.keyId).toBe(`${project.id}/${key.id}`);
    expect(v.owner).toEqual({ id: key.owner.id, email: "dev@example.com", name: "Demo Owner" });
    expect(v.evidence).toMatchObject({
      organization: "org-test",
      match: "unique",
      project: { id: project.id, name: "Checkout" },
      key_name: "laptop",
      owner_type: "user",
      last_used_at: new Date((NOW_S - 600) * 1000).toISOString(),
      usage_24h: { requests: 4, input_tokens: 950, output_tokens: 150, hours_with_use: 2 },
    });
    expect(v.details?.find((d) => d.label === "Use in the last 24 hours")?.value).toMatch(
      /^4 requests, 1100 tokens/,
    );
    expectNoKey(v, key.value, key.redactedValue);
  });

  it("calls a refused key inactive without asking the admin API anything", async () => {
    const v = await issuerOver(openai).verify({ token: `sk-proj-${"a".repeat(40)}`, type: TYPE });
    expect(v.status).toBe("inactive");
    expect(v.evidence).toMatchObject({ code: "invalid_api_key" });
    expect(openai.calls.map((c) => c.op)).toEqual(["listModels"]);
  });

  it("calls a key that is not an OpenAI secret key unknown, calling nothing", async () => {
    expect((await issuerOver(openai).verify({ token: "hello world", type: TYPE })).status).toBe("unknown");
    expect(openai.calls).toEqual([]);
  });

  it("calls an out-of-quota key live: it works again once paid for", async () => {
    const key = openai.addKey({ outOfQuota: true });
    const v = await issuerOver(openai).verify({ token: key.value, type: TYPE });
    expect(v.status).toBe("active");
    expect(v.evidence?.note).toMatch(/insufficient_quota/);
  });

  it("finds the key through every page of projects and of their keys", async () => {
    openai.pageSize = 2;
    for (let p = 0; p < 5; p++) {
      const project = openai.world.addProject(`p${p}`);
      for (let k = 0; k < 3; k++) openai.addKey({ projectId: project.id });
    }
    const last = openai.world.projects.at(-1);
    const key = openai.addKey({ projectId: last?.id });
    const v = await issuerOver(openai).verify({ token: key.value, type: TYPE });
    expect(v.keyId).toBe(`${last?.id}/${key.id}`);
    expect(openai.count("listProjects")).toBe(3);
    // 5 projects: 4 with 3 keys (2 pages) and the last with 4 keys (2 pages).
    expect(openai.count("listProjectApiKeys")).toBe(10);
  });

  it("still calls the key live when the usage API fails: the failure is evidence", async () => {
    const key = openai.addKey();
    openai.fail(
      "completionsUsage",
      new IssuerError("OpenAI GET /organization/usage/completions: 403: not allowed", { transient: false }),
    );
    const v = await issuerOver(openai).verify({ token: key.value, type: TYPE });
    expect(v.status).toBe("active");
    expect(v.keyId).toBe(`${key.projectId}/${key.id}`);
    expect(String(v.evidence?.usage_24h_error)).toContain("403");
    expect(v.details?.find((d) => d.label === "Use in the last 24 hours")?.value).toBe("could not be read");
  });

  it("still calls the key live when the admin key cannot search: revoke searches again", async () => {
    const key = openai.addKey();
    openai.fail(
      "listProjects",
      new IssuerError("OpenAI GET /organization/projects: 401 invalid_api_key", { transient: false }),
    );
    const v = await issuerOver(openai).verify({ token: key.value, type: TYPE });
    expect(v.status).toBe("active");
    expect(v.keyId).toBe("unresolved:org-test");
    expect(v.evidence).toMatchObject({ match: "search_failed" });
  });

  it("retries a rate-limited call and honours the answer", async () => {
    const key = openai.addKey();
    openai.fail("listModels", new IssuerError("429 rate limited", { transient: true, retryAfterSeconds: 0 }));
    const v = await issuerOver(openai).verify({ token: key.value, type: TYPE });
    expect(v.status).toBe("active");
    expect(openai.count("listModels")).toBe(2);
  });

  it("reports keys sharing the redaction as ambiguous, naming their ids", async () => {
    const key = openai.addKey();
    const twin = openai.addKey({ sameRedactionAs: key.id });
    expect(twin.redactedValue).toBe(key.redactedValue);
    const v = await issuerOver(openai).verify({ token: key.value, type: TYPE });
    expect(v.status).toBe("active");
    expect(v.keyId).toBe("unresolved:org-test");
    expect(v.evidence).toMatchObject({
      match: "ambiguous",
      candidates: [`${key.projectId}/${key.id}`, `${twin.projectId}/${twin.id}`],
    });
    expectNoKey(v, key.value, key.redactedValue);
  });
});

describe("OpenaiIssuer.revoke", () => {
  let openai: InMemoryOpenai;
  beforeEach(() => {
    openai = new InMemoryOpenai(() => NOW);
  });

  it("deletes a live key once; it then verifies inactive; a second revoke is a no-op", async () => {
    const key = openai.addKey();
    const issuer = issuerOver(openai);
    const v = await issuer.verify({ token: key.value, type: TYPE });
    const keyId = v.keyId as string;

    const revoked = await issuer.revoke(revokeRequest(keyId, key.value));
    expect(revoked).toMatchObject({ keyId, alreadyRevoked: false, revokedAt: new Date(NOW).toISOString() });
    expect(revoked.actions?.[0]).toContain(`deleted OpenAI API key ${key.id}`);
    expect(openai.count("deleteProjectApiKey")).toBe(1);
    expect(openai.world.keys.find((k) => k.id === key.id)?.deleted).toBe(true);

    const adminCalls = openai.calls.length;
    expect((await issuer.verify({ token: key.value, type: TYPE })).status).toBe("inactive");
    expect(openai.calls.length).toBe(adminCalls + 1); // GET /models only

    expect(await issuer.revoke(revokeRequest(keyId, key.value))).toMatchObject({ alreadyRevoked: true });
    expect(openai.count("deleteProjectApiKey")).toBe(1);
  });

  it("deletes once when revoked concurrently", async () => {
    const key = openai.addKey();
    const issuer = issuerOver(openai);
    const keyId = `${key.projectId}/${key.id}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => issuer.revoke(revokeRequest(keyId))));
    expect(results.filter((r) => !r.alreadyRevoked)).toHaveLength(1);
    expect(openai.count("deleteProjectApiKey")).toBe(1);
  });

  it("deletes nothing when several keys share the redaction, and names them for an admin", async () => {
    const key = openai.addKey();
    const twin = openai.addKey({ sameRedactionAs: key.id });
    const error = await rejection(
      issuerOver(openai).revoke(revokeRequest("unresolved:org-test", key.value)),
      IssuerError,
    );
    expect(error.transient).toBe(false);
    expect(error.message).toContain(`${key.projectId}/${key.id}`);
    expect(error.message).toContain(`${twin.projectId}/${twin.id}`);
    expect(error.message).toContain("none was deleted");
    expect(openai.count("deleteProjectApiKey")).toBe(0);
    expectNoKey(error, key.value, key.redactedValue);
  });

  it("deletes the key a later search finds alone (an admin removed its twin)", async () => {
    const key = openai.addKey();
    const twin = openai.addKey({ sameRedactionAs: key.id });
    twin.deleted = true;
    const r = await issuerOver(openai).revoke(revokeRequest("unresolved:org-test", key.value));
    expect(r.alreadyRevoked).toBe(false);
    expect(openai.world.keys.find((k) => k.id === key.id)?.deleted).toBe(true);
  });

  it("refuses plainly to delete a service account's key, and says what to do instead", async () => {
    const key = openai.addKey({ serviceAccount: true });
    const issuer = issuerOver(openai);
    const v = await issuer.verify({ token: key.value, type: TYPE });
    expect(v.evidence?.owner_type).toBe("service_account");
    const error = await rejection(issuer.revoke(revokeRequest(v.keyId as string, key.value)), IssuerError);
    expect(error.transient).toBe(false);
    expect(error.message).toContain(`belongs to service account ${key.owner.id}`);
    expect(error.message).toContain("delete the service account");
    expect(openai.count("deleteProjectApiKey")).toBe(0);
    expectNoKey(error, key.value, key.redactedValue);
  });

  it("fails permanently when a live key matches no project key of the organisation", async () => {
    const key = openai.addKey();
    // The key is live, but the admin key's organisation lists nothing like it.
    openai.world.keys.splice(0, 1, { ...key, redactedValue: "sk-proj-zzz...zzzz" });
    const error = await rejection(
      issuerOver(openai).revoke(revokeRequest("unresolved:org-test", key.value)),
      IssuerError,
    );
    expect(error.transient).toBe(false);
    expect(error.message).toContain("no project API key");
    expectNoKey(error, key.value, key.redactedValue);
  });

  it("calls a key that is gone and matches nothing already revoked", async () => {
    const key = openai.addKey();
    key.deleted = true;
    const r = await issuerOver(openai).revoke(revokeRequest("unresolved:org-test", key.value));
    expect(r.alreadyRevoked).toBe(true);
  });

  it("keeps a transient failure transient after its retries", async () => {
    const key = openai.addKey();
    const fault = () => new IssuerError("OpenAI DELETE …: 503, try again later", { transient: true });
    openai.fail("deleteProjectApiKey", fault(), fault(), fault());
    const error = await rejection(
      issuerOver(openai).revoke(revokeRequest(`${key.projectId}/${key.id}`)),
      IssuerError,
    );
    expect(error.transient).toBe(true);
    expect(openai.count("deleteProjectApiKey")).toBe(3);
  });
});

describe("OpenaiIssuer.usageSince", () => {
  it("sums the key's completions use since a time", async () => {
    const openai = new InMemoryOpenai(() => NOW);
    const key = openai.addKey();
    openai.world.addUsage({
      apiKeyId: key.id,
      at: NOW_S - 1800,
      inputTokens: 10,
      outputTokens: 5,
      requests: 2,
    });
    const usage = await issuerOver(openai).usageSince({
      keyId: `${key.projectId}/${key.id}`,
      since: new Date(NOW - 3 * 3600_000).toISOString(),
    });
    expect(usage.figures).toMatchObject({ requests: 2, input_tokens: 10, output_tokens: 5 });
  });
});
