import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { leakIdFor } from "../../lib/store/leak.js";
import { DEV_SIGNING_KEY_FILE, loadDevSigningKey, signPartnerReport } from "../../local/dev-signing-key.js";
import { DEFAULT_CONFIG_PATH } from "../../local/local-stack.js";
import { SandboxKeyService } from "../../local/sandbox/sandbox-key-service.js";
import { createSandboxHandler } from "../../local/sandbox/sandbox-routes.js";
import { FakeSmtpServer } from "../helpers/fake-smtp-server.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";
import { type StackProcess, startStackProcess } from "../helpers/stack-process.js";
import { ADMIN_TOKEN, type LeakJson, SANDBOX_TYPE } from "../helpers/test-stack.js";

// The local stack, in a process of its own, is SIGKILLed in the middle of a remediation: the issuer has
// revoked the key and the worker is handing the owner's message to the mail relay. Started again on the
// same data, it finishes the leak: one revocation at the issuer, one message to the owner. The issuer
// and the relay live in this test's process, so what they counted survives the kill.

const SANDBOX_SECRET = "killed-mid-remediation-sandbox-secret";
const OWNER = "owner@example.test";

let sandbox: SandboxKeyService;
let issuerServer: LoopbackServer;
let smtp: FakeSmtpServer;
let dataDir: string;
let env: Record<string, string>;
let running: StackProcess | undefined;
/** Awaited before the issuer answers a call (`/verify`, `/revoke` …): a test may kill the stack meanwhile. */
let beforeIssuerAnswers: ((path: string) => Promise<void>) | undefined;

beforeAll(async () => {
  sandbox = new SandboxKeyService();
  const handler = createSandboxHandler({ service: sandbox, secret: SANDBOX_SECRET });
  issuerServer = await serve((req, res) => {
    const path = (req.url ?? "/").slice("/sandbox".length);
    void Promise.resolve(beforeIssuerAnswers?.(path)).then(() => handler(req, res, path));
  });
  smtp = await FakeSmtpServer.start();
  dataDir = mkdtempSync(join(tmpdir(), "tourniquet-killed-"));
  const base = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, "utf8"));
  const config = {
    ...base,
    issuers: { ...base.issuers, sandbox: { ...base.issuers.sandbox, url: `${issuerServer.url}/sandbox` } },
    token_types: { [SANDBOX_TYPE]: { issuer: "sandbox", mode: "revoke", channels: ["email"] } },
    remediation: { max_receives: 3, step_attempts: 2, step_backoff_ms: 5 },
    notifications: {
      ...base.notifications,
      channels: {
        email: { kind: "smtp", host: "127.0.0.1", port: smtp.port, insecure: true, from: "tq@example.test" },
      },
    },
  };
  const configPath = join(dataDir, "config.json");
  writeFileSync(configPath, JSON.stringify(config));
  env = {
    TOURNIQUET_CONFIG: configPath,
    TOURNIQUET_ADMIN_TOKEN: ADMIN_TOKEN,
    TOURNIQUET_SANDBOX_SECRET: SANDBOX_SECRET,
  };
}, 60_000);

afterAll(async () => {
  await running?.kill();
  await smtp?.close();
  await issuerServer?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function leakView(url: string, id: string): Promise<LeakJson | undefined> {
  const response = await fetch(`${url}/v1/admin/leaks/${id}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return response.ok ? ((await response.json()) as LeakJson) : undefined;
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reports a new key to a fresh stack process; `killAt` kills it mid-remediation and resolves then. */
async function reportThenKill(
  killAt: (kill: () => Promise<void>, key: { token: string; keyId: string }) => Promise<void>,
) {
  smtp.messages.length = 0;
  running = await startStackProcess(dataDir, env);
  const first = running;
  const key = sandbox.issue({ email: OWNER, name: "Owner" });
  const killed = killAt(async () => {
    await first.kill();
    running = undefined;
  }, key);
  const body = JSON.stringify([
    {
      token: key.token,
      type: SANDBOX_TYPE,
      url: "https://github.com/acme/app/blob/main/.env",
      source: "content",
    },
  ]);
  const signingKey = loadDevSigningKey(join(dataDir, DEV_SIGNING_KEY_FILE));
  const answer = await fetch(`${first.url}/v1/github/secret-scanning`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signPartnerReport(signingKey, body) },
    body,
  });
  expect(answer.status).toBe(200);
  await killed;
  return { key, leakId: leakIdFor(fingerprintToken(key.token)) };
}

/** Starts the stack again on the same data and waits until the leak's owner has been told. */
async function restartUntilTold(leakId: string): Promise<LeakJson | undefined> {
  running = await startStackProcess(dataDir, env);
  const url = running.url;
  const leak = await waitFor(
    () => leakView(url, leakId),
    (l) => l?.notification?.status === "sent",
    45_000,
  );
  await running.kill();
  running = undefined;
  return leak;
}

const stepsOf = (leak: LeakJson | undefined) => leak?.timeline.map((e) => `${e.step}:${e.outcome}`) ?? [];

describe("the stack killed in the middle of a remediation, then started again", () => {
  it("killed while handing the owner's message to the relay: one revocation, one message", async () => {
    let atKill: { status?: string; revocations?: number; mails: number } | undefined;
    const { key, leakId } = await reportThenKill(
      (kill, reported) =>
        new Promise<void>((resolve) => {
          // The relay's RCPT TO: the key is revoked, the message not yet accepted.
          smtp.atRecipient = async () => {
            smtp.atRecipient = undefined;
            await kill();
            const issued = sandbox.get(reported.keyId);
            atKill = {
              status: issued?.status,
              revocations: issued?.revocations,
              mails: smtp.messages.length,
            };
            resolve();
          };
        }),
    );
    expect(atKill).toEqual({ status: "revoked", revocations: 1, mails: 0 });

    const leak = await restartUntilTold(leakId);
    expect(leak).toMatchObject({ status: "revoked", notification: { status: "sent" } });
    expect(sandbox.get(key.keyId)).toMatchObject({ status: "revoked", revocations: 1 });
    expect(smtp.messages.map((m) => m.to)).toEqual([[OWNER]]);
    expect(stepsOf(leak).filter((s) => s === "revoke:ok")).toHaveLength(1);
    expect(stepsOf(leak).filter((s) => s === "notify:ok")).toHaveLength(1);
    // The restart's sweep released the dead worker's lease at once instead of waiting it out, and the
    // message whose fate was unknown went out once more (the relay had not accepted it).
    expect(leak?.timeline.find((e) => e.step === "reconcile")?.detail).toMatch(
      /^notify was left unfinished by a worker that is gone/,
    );
    expect(leak?.timeline.find((e) => e.step === "notify")?.detail).toMatch(/sent again/);
  }, 120_000);

  it("killed after the issuer revoked, before the worker recorded it: one revocation, one message", async () => {
    const { key, leakId } = await reportThenKill(
      (kill) =>
        new Promise<void>((resolve) => {
          // The revoke is answered; the worker's re-verification that follows never is.
          let revoked = false;
          beforeIssuerAnswers = async (path) => {
            if (path === "/revoke") revoked = true;
            else if (path === "/verify" && revoked) {
              beforeIssuerAnswers = undefined;
              await kill();
              resolve();
            }
          };
        }),
    );
    expect(sandbox.get(key.keyId)).toMatchObject({ status: "revoked", revocations: 1 });
    expect(smtp.messages).toHaveLength(0);

    const leak = await restartUntilTold(leakId);
    expect(leak).toMatchObject({ status: "revoked", notification: { status: "sent" } });
    expect(sandbox.get(key.keyId)).toMatchObject({ status: "revoked", revocations: 1 });
    expect(smtp.messages.map((m) => m.to)).toEqual([[OWNER]]);
    const revoked = leak?.timeline.filter((e) => e.step === "revoke" && e.outcome === "ok") ?? [];
    expect(revoked).toEqual([
      expect.objectContaining({ detail: expect.stringMatching(/had already revoked it/) }),
    ]);
    expect(leak?.timeline.find((e) => e.step === "reconcile")?.detail).toMatch(
      /^revoke was left unfinished by a worker that is gone/,
    );
  }, 120_000);
});
