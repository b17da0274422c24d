import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SandboxAzureAccount } from "../../local/sandbox/sandbox-azure.js";
import { simulate } from "../../local/simulate.js";
import { ADMIN_TOKEN, startTestStack, type TestStack } from "../helpers/test-stack.js";

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(() => t.close());

describe("tourniquet simulate", () => {
  it("issues a key, reports it signed with the development key, and prints the revoked leak's timeline", async () => {
    const lines: string[] = [];
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      out: (line) => lines.push(line),
    });
    expect(leak.status).toBe("revoked");
    const output = lines.join("\n");
    expect(output).toMatch(/issued sandbox key key_/);
    expect(output).toMatch(/"label":"true_positive"/);
    expect(output).toMatch(new RegExp(`leak ${leak.id}: revoked in \\d+ ms`));
    for (const step of ["report", "verify", "revoke", "re-verify", "notify"])
      expect(output).toContain(` ${step}`);
    const keyId = /issued sandbox key (key_\w+)/.exec(output)?.[1] ?? "";
    expect(await t.sandboxKey(keyId)).toMatchObject({ status: "revoked", revocations: 1 });
  });

  it("--app walks the GitHub App path: an alert in the fake GitHub, its signed webhook, the revoked leak", async () => {
    const lines: string[] = [];
    const fetchesBefore = t.stack.githubApi.requests.filter((r) =>
      r.path.includes("/secret-scanning/"),
    ).length;
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      webhookSecret: t.stack.githubWebhookSecret,
      app: true,
      out: (line) => lines.push(line),
    });
    expect(leak.status).toBe("revoked");
    const output = lines.join("\n");
    expect(output).toMatch(/alert example\/demo#\d+ opened in the local fake GitHub/);
    expect(output).toMatch(/webhook [0-9a-f-]{36} accepted \(202\)/);
    expect(output).toContain("reported by GitHub App alert example/demo#");
    expect(output).toMatch(/alert example\/demo#\d+ in GitHub: resolved \(revoked\): Tourniquet .*leak lk_/);
    const fetches = t.stack.githubApi.requests.filter((r) => r.path.includes("/secret-scanning/")).length;
    expect(fetches).toBeGreaterThan(fetchesBefore);
  });

  it("reads the admin token the local stack wrote when none is given", async () => {
    await expect(simulate({ url: t.stack.url, dataDir: t.stack.dataDir, out: () => {} })).rejects.toThrow(
      /ENOENT|401/,
    );
  });
});

describe("tourniquet simulate --type azure_openai_key", () => {
  it("leaks a demo account's key from the stack's fake Azure, and prints its regeneration and abuse", async () => {
    // The account as created: the fake regenerates keys in place, so keep a copy of its first keys.
    const created: SandboxAzureAccount[] = [];
    const addAccount = t.stack.azure.addAccount.bind(t.stack.azure);
    vi.spyOn(t.stack.azure, "addAccount").mockImplementation((input) => {
      const account = addAccount(input);
      created.push({ ...account });
      return account;
    });
    const regeneratedBefore = t.stack.azure.armCalls("regenerateKey").length;
    const lines: string[] = [];
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      type: "azure_openai_key",
      out: (line) => lines.push(line),
      timeoutMs: 30_000,
    });
    const output = lines.join("\n");

    expect(created).toHaveLength(1);
    const issued = created[0] as SandboxAzureAccount;
    const leaked = issued.key1;
    const now = t.stack.azure.account(issued.id);
    expect(leak.status).toBe("revoked");
    expect(t.stack.azure.armCalls("regenerateKey").length - regeneratedBefore).toBe(1);
    expect(now?.key1).not.toBe(leaked);
    expect(now?.key2).toBe(issued.key2); // the other slot keeps the owner's applications running

    expect(output).toContain(`of account ${issued.name}`);
    // Labelled inline unless verification outlasted the intake's time box (a loaded machine, cold SDKs).
    expect(output).toMatch(
      /feedback: (\[.*"token_type":"azure_openai_key","label":"true_positive"|none yet)/,
    );
    expect(output).toMatch(new RegExp(`leak ${leak.id}: revoked in \\d+ ms`));
    for (const step of ["report", "verify", "revoke", "re-verify", "notify"])
      expect(output).toContain(` ${step}`);
    expect(output).toMatch(/notify\s+ok\s+owner ai-team@example.test notified via email/);
    // The usage evidence: a week of Azure Monitor metrics whose last day is far above the usual rate.
    expect(output).toContain(`evidence: account ${issued.name}`);
    expect(output).toMatch(/unusual last 24 h: YES/);
    expect(output).toMatch(/deployment gpt-4o: last 24 h/);
    expect(output).toMatch(/per account, not per key/);
    // Neither the leaked key nor its replacement, nor the untouched slot, is printed.
    const logs = t.logLines.join("\n");
    for (const key of [leaked, now?.key1 ?? "?", issued.key2]) {
      expect(output).not.toContain(key);
      expect(logs).not.toContain(key);
    }
  }, 60_000);
});

describe("tourniquet simulate --type aws_access_key_id", () => {
  it("leaks an IAM user's key pair from the stack's fake AWS, and prints its deactivation, quarantine and replacement", async () => {
    const minted: { accessKeyId: string; secretAccessKey: string }[] = [];
    const addKey = t.stack.aws.addKey.bind(t.stack.aws);
    vi.spyOn(t.stack.aws, "addKey").mockImplementation((...args) => {
      const key = addKey(...args);
      minted.push(key);
      return key;
    });
    const lines: string[] = [];
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      type: "aws_access_key_id",
      out: (line) => lines.push(line),
      timeoutMs: 30_000,
    });
    const output = lines.join("\n");
    expect(leak.status).toBe("revoked");
    const [leaked] = minted;
    expect(output).toContain(`issued AWS access key ${leaked?.accessKeyId}`);
    expect(output).toMatch(/"token_type":"aws_secret_access_key","label":"true_positive"/);
    expect(output).toContain("quarantined IAM user demo-deployer-");
    expect(output).toMatch(
      / rotate +ok +issuer aws created replacement key 123456789012:demo-deployer-\w+:AKIA/,
    );
    expect(output).toContain("IAM user: demo-deployer-");
    expect(output).toMatch(/its aws_secret_access_key \(…\S{4}\): leak lk_\w+, paired/);
    // The leaked secret and the replacement's are printed nowhere, nor logged.
    const user = /IAM user: (demo-deployer-\w+)/.exec(output)?.[1] ?? "?";
    const replacement = t.stack.aws
      .user("123456789012", user)
      ?.keys.find((k) => k.accessKeyId !== leaked?.accessKeyId);
    expect(replacement?.status).toBe("Active");
    for (const secret of [leaked?.secretAccessKey ?? "?", replacement?.secretAccessKey ?? "?"]) {
      expect(output).not.toContain(secret);
      expect(t.logLines.join("\n")).not.toContain(secret);
    }
  }, 60_000);
});

describe("tourniquet simulate --type openai_api_key", () => {
  it("leaks a project key of the stack's fake OpenAI, deletes it, and prints its last day's use", async () => {
    const before = new Set(t.stack.openai.world.keys.map((k) => k.id));
    const lines: string[] = [];
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      type: "openai_api_key",
      out: (line) => lines.push(line),
      timeoutMs: 30_000,
    });
    const output = lines.join("\n");
    const issued = t.stack.openai.world.keys.filter((k) => !before.has(k.id));
    expect(issued).toHaveLength(1);
    const key = issued[0];
    expect(leak.status).toBe("revoked");
    expect(key?.deleted).toBe(true);
    expect(output).toContain(`issued OpenAI project API key ${key?.id}`);
    expect(output).toMatch(/notify\s+ok\s+owner owner@example.test notified via email/);
    expect(output).toMatch(/Use in the last 24 hours: 12 requests/);
    expect(output).not.toContain(key?.value ?? "?");
    expect(t.logLines.join("\n")).not.toContain(key?.value ?? "?");
  }, 60_000);
});

describe("tourniquet simulate --type github_personal_access_token", () => {
  it("leaks a user's token from the stack's fake GitHub, revokes it through the credentials API, and prints it", async () => {
    const issued: string[] = [];
    const tokens = t.stack.githubApi.userTokens;
    const issue = tokens.issue.bind(tokens);
    vi.spyOn(tokens, "issue").mockImplementation((input) => {
      const answer = issue(input);
      issued.push(answer.token);
      return answer;
    });
    const lines: string[] = [];
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      type: "github_personal_access_token",
      out: (line) => lines.push(line),
      timeoutMs: 30_000,
    });
    const output = lines.join("\n");
    const [token] = issued;
    expect(leak.status).toBe("revoked");
    expect(tokens.isRevoked(token ?? "")).toBe(true);
    expect(output).toMatch(/issued GitHub token \S+ of user octo-\d+/);
    expect(output).toMatch(/ re-verify ok +token re-verified after revocation: inactive/);
    expect(output).not.toContain(token ?? "?");
    expect(t.logLines.join("\n")).not.toContain(token ?? "?");
  }, 60_000);
});

describe("tourniquet simulate when the intake answers before verification ends", () => {
  let quick: TestStack;
  beforeAll(async () => {
    quick = await startTestStack({ configOverrides: { intake: { inline_verify_budget_ms: 0 } } });
  });
  afterAll(() => quick.close());

  it("follows the leak by its fingerprint to its end", async () => {
    const lines: string[] = [];
    const leak = await simulate({
      url: quick.stack.url,
      dataDir: quick.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      type: "azure_ai_services_key",
      out: (line) => lines.push(line),
      timeoutMs: 30_000,
    });
    expect(lines.join("\n")).toContain("feedback: none yet (the worker verifies)");
    expect(leak.status).toBe("revoked");
  }, 60_000);
});
