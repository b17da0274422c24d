import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IssuerError } from "../../../lib/errors.js";
import { lazyOpenaiAccess } from "../../../lib/issuers/openai/lazy-openai-access.js";
import { OpenaiSdkAccess } from "../../../lib/issuers/openai/openai-sdk-access.js";
import { OPENAI_FAULTS, SandboxOpenai } from "../../../local/sandbox/sandbox-openai.js";
import { rejection } from "../../helpers/rejection.js";

// The OpenAI port through OpenAI's own SDK against the loopback fake: each method's answer and paths,
// pagination, the error mapping (401/403/404/429 with Retry-After/5xx/timeouts), and no key — leaked or
// admin, nor OpenAI's redacted quote of it — in any error.

let openai: SandboxOpenai;
let access: OpenaiSdkAccess;
const errors: IssuerError[] = [];
const keys = new Set<string>();

async function failure(call: Promise<unknown>): Promise<IssuerError> {
  const error = await rejection(call, IssuerError);
  errors.push(error);
  return error;
}

function seed(options: Parameters<SandboxOpenai["addKey"]>[0] = {}) {
  const key = openai.addKey(options);
  keys.add(key.value);
  return key;
}

beforeAll(async () => {
  openai = await SandboxOpenai.start({ pageSize: 2 });
  keys.add(openai.adminKey);
  access = new OpenaiSdkAccess({ apiUrl: openai.url, adminKey: openai.adminKey, timeoutMs: 1_000 });
});

afterEach(() => openai.recover());

afterAll(async () => {
  // No error ever carried a key, its tail, or the fake's redacted quote of it.
  for (const error of errors) {
    for (const key of keys) {
      expect(error.message).not.toContain(key);
      expect(error.message).not.toContain(key.slice(-12));
      expect(error.message).not.toContain(key.slice(0, 12));
    }
    expect(error.message).not.toContain("Incorrect API key provided");
    expect(error.cause).toBeUndefined();
  }
  expect(JSON.stringify(openai.calls)).not.toMatch(/sk-(proj|admin|svcacct)-/);
  await openai.close();
});

describe("listModels (with the leaked key)", () => {
  it("accepts a live key, naming its organisation and project from the headers", async () => {
    const key = seed();
    expect(await access.listModels(key.value)).toEqual({
      accepted: true,
      organization: openai.organization,
      project: key.projectId,
    });
    expect(openai.calls.at(-1)).toMatchObject({
      operation: "listModels",
      path: "/v1/models",
      auth: "project_key",
    });
  });

  it("refuses an unknown key with OpenAI's code (401 invalid_api_key), never its message", async () => {
    expect(await access.listModels(`sk-proj-${"x".repeat(60)}`)).toEqual({
      accepted: false,
      code: "invalid_api_key",
    });
  });

  it("accepts an out-of-quota key (429 insufficient_quota) and a restricted one (Missing scopes)", async () => {
    expect(await access.listModels(seed({ outOfQuota: true }).value)).toMatchObject({
      accepted: true,
      note: "insufficient_quota",
    });
    expect(await access.listModels(seed({ restricted: true }).value)).toMatchObject({
      accepted: true,
      note: "missing_scope",
    });
  });

  it("maps a rate limit to a transient error with OpenAI's Retry-After", async () => {
    openai.fail("listModels", { ...OPENAI_FAULTS.rateLimited, retryAfter: 7 });
    const error = await failure(access.listModels(seed().value));
    expect(error).toMatchObject({ transient: true, httpStatus: 429, retryAfterSeconds: 7 });
    expect(error.message).toContain("429 rate_limit_exceeded");
  });

  it("maps 5xx to transient, and a slow answer to a transient timeout", async () => {
    openai.fail("listModels", OPENAI_FAULTS.serverError);
    expect(await failure(access.listModels(seed().value))).toMatchObject({
      transient: true,
      httpStatus: 500,
    });
    openai.delay("listModels", 1_500);
    const slow = await failure(access.listModels(seed().value));
    expect(slow.transient).toBe(true);
    expect(slow.message).toContain("no answer within 1000 ms");
  });

  it("is aborted by the caller's signal, transiently", async () => {
    openai.delay("listModels", 800);
    const error = await failure(access.listModels(seed().value, { signal: AbortSignal.timeout(50) }));
    expect(error.transient).toBe(true);
    expect(error.message).toContain("aborted by caller");
  });
});

describe("the admin API (with the admin key)", () => {
  it("lists projects and their keys page by page, with every owner_project_access", async () => {
    const project = openai.addProject("Paged");
    const a = seed({ projectId: project.id, ownerEmail: "a@example.com" });
    const b = seed({ projectId: project.id, serviceAccount: true });
    const c = seed({ projectId: project.id, ownerProjectAccess: "inactive" });

    const first = await access.listProjectApiKeys(project.id, undefined);
    expect(first.hasMore).toBe(true);
    expect(first.data.map((k) => k.id)).toEqual([a.id, b.id]);
    expect(first.data[0]).toMatchObject({
      redactedValue: a.redactedValue,
      owner: { type: "user", email: "a@example.com" },
      lastUsedAt: null,
    });
    expect(first.data[1]?.owner).toMatchObject({ type: "service_account", id: b.owner.id });
    const second = await access.listProjectApiKeys(project.id, first.lastId);
    expect(second).toMatchObject({ hasMore: false, data: [{ id: c.id }] });
    expect(openai.calls.at(-1)?.path).toContain("owner_project_access=any");
    expect(openai.calls.at(-1)?.auth).toBe("admin");

    const projects = [];
    let after: string | undefined;
    do {
      const page = await access.listProjects(after);
      projects.push(...page.data);
      after = page.hasMore ? page.lastId : undefined;
    } while (after);
    expect(projects.map((p) => p.id)).toContain(project.id);
  });

  it("retrieves and deletes a key; a gone key is undefined / absent (404)", async () => {
    const key = seed();
    expect(await access.retrieveProjectApiKey(key.projectId, key.id)).toMatchObject({ id: key.id });
    expect(await access.deleteProjectApiKey(key.projectId, key.id)).toBe("deleted");
    expect(openai.key(key.id)?.deleted).toBe(true);
    expect(await access.deleteProjectApiKey(key.projectId, key.id)).toBe("absent");
    expect(await access.retrieveProjectApiKey(key.projectId, key.id)).toBeUndefined();
    expect(await access.listModels(key.value)).toMatchObject({ accepted: false });
  });

  it("maps OpenAI's refusal to delete a service account's key (400) to a permanent error", async () => {
    const key = seed({ serviceAccount: true });
    const error = await failure(access.deleteProjectApiKey(key.projectId, key.id));
    expect(error).toMatchObject({ transient: false, httpStatus: 400 });
    expect(error.message).toContain("delete the service account instead");
  });

  it("sums hourly completions usage for one key, following next_page", async () => {
    const key = seed();
    const now = Math.floor(Date.now() / 1000);
    openai.addUsage(key.id, { at: now - 3 * 3600, inputTokens: 10, outputTokens: 20, requests: 2 });
    openai.addUsage(key.id, { at: now - 60, inputTokens: 1, outputTokens: 2, requests: 1 });
    const other = seed();
    openai.addUsage(other.id, { at: now - 60, inputTokens: 1000, outputTokens: 1000, requests: 50 });
    const buckets = await access.completionsUsage({
      apiKeyId: key.id,
      projectId: key.projectId,
      startTime: now - 30 * 3600,
      endTime: now + 1,
    });
    expect(buckets.length).toBe(31); // 24 on the first page, the rest on the next
    expect(openai.callsOf("usageCompletions").length).toBe(2);
    expect(openai.callsOf("usageCompletions")[0]?.path).toContain(`api_key_ids%5B%5D=${key.id}`);
    expect(buckets.reduce((n, b) => n + b.requests, 0)).toBe(3);
    expect(buckets.reduce((n, b) => n + b.inputTokens + b.outputTokens, 0)).toBe(33);
  });

  it("says what to fix when the admin key is refused (401) or lacks a permission (403)", async () => {
    const wrong = new OpenaiSdkAccess({
      apiUrl: openai.url,
      adminKey: `sk-admin-${"q".repeat(60)}`,
      timeoutMs: 1_000,
    });
    keys.add(`sk-admin-${"q".repeat(60)}`);
    const refused = await failure(wrong.listProjects(undefined));
    expect(refused).toMatchObject({ transient: false, httpStatus: 401 });
    expect(refused.message).toContain("refused the issuer's admin key");

    const project = seed();
    const asProjectKey = new OpenaiSdkAccess({
      apiUrl: openai.url,
      adminKey: project.value,
      timeoutMs: 1_000,
    });
    const forbidden = await failure(asProjectKey.listProjects(undefined));
    expect(forbidden).toMatchObject({ transient: false, httpStatus: 403 });
    expect(forbidden.message).toContain("may not make this call");

    openai.fail("deleteProjectApiKey", OPENAI_FAULTS.forbidden);
    const denied = await failure(access.deleteProjectApiKey(project.projectId, project.id));
    expect(denied).toMatchObject({ transient: false, httpStatus: 403 });
  });

  it("maps a 404 project and 503 of the admin API", async () => {
    const gone = await failure(access.listProjectApiKeys("proj_nope", undefined));
    expect(gone).toMatchObject({ transient: false, httpStatus: 404 });
    expect(gone.message).toContain("no project proj_nope");
    openai.fail("listProjects", OPENAI_FAULTS.overloaded);
    expect(await failure(access.listProjects(undefined))).toMatchObject({ transient: true, httpStatus: 503 });
  });

  it("is reached through the lazy loader too", async () => {
    const lazy = lazyOpenaiAccess({ apiUrl: openai.url, adminKey: openai.adminKey, timeoutMs: 1_000 });
    const key = seed();
    expect(await lazy.listModels(key.value)).toMatchObject({ accepted: true });
    expect((await lazy.listProjects(undefined)).data.length).toBeGreaterThan(0);
  });
});
