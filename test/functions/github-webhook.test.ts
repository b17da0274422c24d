import { randomBytes, randomUUID } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGithubWebhookHandler } from "../../functions/github-webhook.js";
import { parseConfig } from "../../lib/config.js";
import { githubAppFromConfig } from "../../lib/github/github-app.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import type { GithubWebhookDeps } from "../../lib/intake/receive-github-webhook.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { InProcessQueue } from "../../lib/queue/in-process-queue.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { DynamoAlertStore } from "../../lib/store/dynamo-alert-store.js";
import { createTestStore, type TestStore } from "../helpers/dynamo.js";
import { FAKE_APP_ID, type FakeGithubApi, startFakeGithubApi } from "../helpers/fake-github-api.js";
import { apiEvent } from "../helpers/lambda-events.js";
import { recordingLog } from "../helpers/recording-log.js";

// The github-webhook Lambda handler with API Gateway v2 events, over the embedded DynamoDB engine and
// a loopback GitHub API. No issuer handles the type here: the leak is recorded `unroutable`, unlabelled.

const HOOK_SECRET = randomBytes(16).toString("hex");
const TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
let gh: FakeGithubApi;
let store: TestStore;
let queue: InProcessQueue;
let handler: ReturnType<typeof createGithubWebhookHandler>;
const { log, lines } = recordingLog();

beforeAll(async () => {
  gh = await startFakeGithubApi();
  const config = parseConfig(
    {
      github_app: {
        app_id: Number(FAKE_APP_ID),
        private_key: { env: "APP_KEY" },
        webhook_secret: { env: "HOOK_SECRET" },
        api_url: gh.url,
      },
    },
    { APP_KEY: gh.appPrivateKey, HOOK_SECRET },
  );
  store = await createTestStore();
  queue = new InProcessQueue();
  const deps: GithubWebhookDeps = {
    config,
    store: store.store,
    queue,
    sealer: new LocalKeySealer(randomBytes(32)),
    issuers: IssuerRegistry.fromConfig(config),
    log,
    githubApp: githubAppFromConfig(config),
    alerts: new DynamoAlertStore(store.client, store.tableName),
  };
  handler = createGithubWebhookHandler(async () => deps, log);
});

afterAll(async () => {
  queue.close();
  await store.close();
  await gh.close();
});

const event = (body: string, headers: Record<string, string>, base64 = false) =>
  apiEvent("POST /v1/github/webhooks", { body, headers, base64 });

const hooks = new Webhooks({ secret: HOOK_SECRET });
const signed = async (body: string, eventName: string, delivery = randomUUID()) => ({
  "content-type": "application/json",
  "x-github-event": eventName,
  "x-github-delivery": delivery,
  "x-hub-signature-256": await hooks.sign(body),
});

describe("github-webhook handler", () => {
  it.each([false, true])("records an alert's secret (base64 body: %s)", async (base64) => {
    const alert = gh.api.createAlert({
      repository: "octo-org/hello-world",
      secret: TOKEN,
      secret_type: "github_personal_access_token",
    });
    const body = JSON.stringify(gh.api.webhookPayload(alert));
    const result = await handler(
      event(body, await signed(body, "secret_scanning_alert"), base64),
      {} as never,
    );

    expect(result.statusCode).toBe(200);
    const answer = JSON.parse(result.body ?? "");
    // No issuer handles the type: recorded, but GitHub gets no label for it.
    expect(answer.leaks).toEqual([
      { token_hash: fingerprintToken(TOKEN), token_type: "github_personal_access_token" },
    ]);
    const page = await store.store.listLeaks({ fingerprint: fingerprintToken(TOKEN), limit: 5 });
    expect(page.items).toEqual([
      expect.objectContaining({ status: "unroutable", preview: `ghp_…${TOKEN.slice(-4)}` }),
    ]);
    expect(result.body).not.toContain(TOKEN);
    for (const line of lines) expect(line).not.toContain(TOKEN);
  });

  it("maps a permanent GitHub refusal to 502 and a GitHub outage to 503 with Retry-After", async () => {
    const alert = gh.api.createAlert({ repository: "octo-org/other", secret: TOKEN, secret_type: "x" });
    const body = JSON.stringify(gh.api.webhookPayload(alert));

    gh.api.fail({ status: 403, only: "/secret-scanning/" }, 2);
    const refused = await handler(event(body, await signed(body, "secret_scanning_alert")), {} as never);
    gh.api.recover();
    gh.api.fail({ status: 502 }, 50);
    const down = await handler(event(body, await signed(body, "secret_scanning_alert")), {} as never);
    gh.api.recover();

    expect(refused.statusCode).toBe(502);
    expect(JSON.parse(refused.body ?? "").message).toMatch(/HTTP 403.*"Secret scanning alerts" permission/);
    expect(down.statusCode).toBe(503);
    expect(down.headers?.["retry-after"]).toBeDefined();
  });

  // Issue 9, point 13: the type becomes an index key (TYPE#<type>); GitHub's names are short.
  it("refuses an alert whose secret type is longer than 256 bytes with a 502, recording nothing", async () => {
    const secret = `ghp_${randomBytes(18).toString("hex")}`;
    const alert = gh.api.createAlert({ repository: "octo-org/long", secret, secret_type: "é".repeat(129) });
    const body = JSON.stringify(gh.api.webhookPayload(alert));

    const result = await handler(event(body, await signed(body, "secret_scanning_alert")), {} as never);

    expect(result.statusCode).toBe(502);
    expect(JSON.parse(result.body ?? "").message).toMatch(/secret type is longer than 256 bytes/);
    const page = await store.store.listLeaks({ fingerprint: fingerprintToken(secret), limit: 5 });
    expect(page.items).toEqual([]);
  });
});

describe("webhook secret rotation", () => {
  // GitHub signs with the one secret the App has; while the operator changes it, deliveries signed with
  // the secret being replaced are still in flight (or redelivered), so both must verify for a while.
  const PREVIOUS = randomBytes(16).toString("hex");
  const ping = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
  const signedWith = async (secret: string) => ({
    "content-type": "application/json",
    "x-github-event": "ping",
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": await new Webhooks({ secret }).sign(ping),
  });
  let rotating: ReturnType<typeof createGithubWebhookHandler>;

  beforeAll(() => {
    const config = parseConfig(
      {
        github_app: {
          app_id: Number(FAKE_APP_ID),
          private_key: { env: "APP_KEY" },
          webhook_secret: { env: "HOOK_SECRET" },
          previous_webhook_secret: { env: "PREVIOUS_HOOK_SECRET" },
          api_url: gh.url,
        },
      },
      { APP_KEY: gh.appPrivateKey, HOOK_SECRET, PREVIOUS_HOOK_SECRET: PREVIOUS },
    );
    const deps: GithubWebhookDeps = {
      config,
      store: store.store,
      queue,
      sealer: new LocalKeySealer(randomBytes(32)),
      issuers: IssuerRegistry.fromConfig(config),
      log,
      githubApp: githubAppFromConfig(config),
      alerts: new DynamoAlertStore(store.client, store.tableName),
    };
    rotating = createGithubWebhookHandler(async () => deps, log);
  });

  it.each([
    ["the current secret", () => HOOK_SECRET],
    ["the previous secret", () => PREVIOUS],
  ])("accepts a delivery signed with %s", async (_name, secret) => {
    const result = await rotating(event(ping, await signedWith(secret())), {} as never);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? "")).toEqual({ ok: true });
  });

  it("refuses a delivery signed with any other secret", async () => {
    const result = await rotating(
      event(ping, await signedWith(randomBytes(16).toString("hex"))),
      {} as never,
    );
    expect(result.statusCode).toBe(401);
  });

  it("without previous_webhook_secret, refuses the previous secret", async () => {
    const result = await handler(event(ping, await signedWith(PREVIOUS)), {} as never);
    expect(result.statusCode).toBe(401);
    const current = await handler(event(ping, await signedWith(HOOK_SECRET)), {} as never);
    expect(current.statusCode).toBe(200);
  });
});
