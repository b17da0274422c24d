import { randomBytes, randomUUID } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGithubWebhookHandler } from "../../functions/github-webhook.js";
import { parseConfig } from "../../lib/config.js";
import { AwsError } from "../../lib/errors.js";
import { alertIdFor } from "../../lib/github/alert-record.js";
import { githubAppFromConfig } from "../../lib/github/github-app.js";
import type { GithubWebhookDeps } from "../../lib/intake/receive-github-webhook.js";
import type { QueueMessage } from "../../lib/queue/remediation-queue.js";
import { DynamoAlertStore } from "../../lib/store/dynamo-alert-store.js";
import { createTestStore, type TestStore } from "../helpers/dynamo.js";
import {
  FAKE_APP_ID,
  type FakeGithubApi,
  fakeAppConfig,
  startFakeGithubApi,
} from "../helpers/fake-github-api.js";
import { apiEvent } from "../helpers/lambda-events.js";
import { recordingLog } from "../helpers/recording-log.js";

// The github-webhook Lambda handler with API Gateway v2 events, over the embedded DynamoDB engine and
// a loopback GitHub API. No issuer handles the type here: the leak is recorded `unroutable`, unlabelled.

const HOOK_SECRET = randomBytes(16).toString("hex");
const TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
let gh: FakeGithubApi;
let store: TestStore;
let alerts: DynamoAlertStore;
/** The queue as the handler sees it: what it sent, and a switch to refuse sends. */
const queue = {
  sent: [] as QueueMessage[],
  refuse: false,
  async send(messages: readonly QueueMessage[]) {
    if (this.refuse)
      throw new AwsError("sqs:SendMessageBatch failed", "ServiceUnavailable", 503, { transient: true });
    this.sent.push(...messages);
  },
};
let handler: ReturnType<typeof createGithubWebhookHandler>;
const { log, lines } = recordingLog();

beforeAll(async () => {
  gh = await startFakeGithubApi();
  const config = fakeAppConfig(gh, HOOK_SECRET);
  store = await createTestStore();
  alerts = new DynamoAlertStore(store.client, store.tableName);
  const deps: GithubWebhookDeps = {
    config,
    queue,
    log,
    githubApp: githubAppFromConfig(config),
    alerts,
  };
  handler = createGithubWebhookHandler(async () => deps, log);
});

afterAll(async () => {
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
  it.each([false, true])(
    "records the alert and queues its fetch, answering 202 with no GitHub call (base64 body: %s)",
    async (base64) => {
      const alert = gh.api.createAlert({
        repository: `octo-org/hello-${base64}`,
        secret: TOKEN,
        secret_type: "github_personal_access_token",
      });
      const body = JSON.stringify(gh.api.webhookPayload(alert));
      const calls = gh.api.requests.length;
      const before = queue.sent.length;
      const delivery = randomUUID();

      const result = await handler(
        event(body, await signed(body, "secret_scanning_alert", delivery), base64),
        {} as never,
      );

      expect(result.statusCode).toBe(202);
      const answer = JSON.parse(result.body ?? "");
      expect(answer).toMatchObject({
        delivery,
        queued: true,
        alert: { repository: `octo-org/hello-${base64}`, number: alert.number },
      });
      expect(gh.api.requests.length).toBe(calls); // GitHub is not asked on the request path
      const ref = {
        installationId: alert.installationId,
        owner: "octo-org",
        repo: `hello-${base64}`,
        number: alert.number,
      };
      const record = await alerts.getAlert(alertIdFor(ref));
      expect(record).toMatchObject({
        fetchOwed: true,
        deliveries: [delivery],
        secretType: "github_personal_access_token",
      });
      expect(queue.sent.slice(before)).toEqual([{ alertId: alertIdFor(ref) }]);
      // The secret is not in the payload GitHub sends: nothing of it is anywhere yet.
      expect(result.body).not.toContain(TOKEN);
      for (const line of lines) expect(line).not.toContain(TOKEN);
    },
  );

  it("answers a redelivery of the same delivery 202 as a duplicate, queueing nothing more", async () => {
    const alert = gh.api.createAlert({ repository: "octo-org/again", secret: TOKEN, secret_type: "x" });
    const body = JSON.stringify(gh.api.webhookPayload(alert));
    const headers = await signed(body, "secret_scanning_alert");
    const before = queue.sent.length;

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => handler(event(body, headers), {} as never)),
    );

    expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(202));
    expect(answers.filter((a) => JSON.parse(a.body ?? "").duplicate === true)).toHaveLength(9);
    expect(queue.sent.length - before).toBe(1);
  });

  it("accepts the alert while GitHub is down: nothing on the request path depends on it", async () => {
    const alert = gh.api.createAlert({ repository: "octo-org/outage", secret: TOKEN, secret_type: "x" });
    const body = JSON.stringify(gh.api.webhookPayload(alert));
    gh.api.fail({ status: 503 }, 100);
    try {
      const result = await handler(event(body, await signed(body, "secret_scanning_alert")), {} as never);
      expect(result.statusCode).toBe(202);
    } finally {
      gh.api.recover();
    }
  });

  it("still accepts a recorded alert when the queue refuses it: the sweep sends what stays owed", async () => {
    const alert = gh.api.createAlert({ repository: "octo-org/noqueue", secret: TOKEN, secret_type: "x" });
    const body = JSON.stringify(gh.api.webhookPayload(alert));
    queue.refuse = true;
    try {
      const result = await handler(event(body, await signed(body, "secret_scanning_alert")), {} as never);
      expect(result.statusCode).toBe(202);
    } finally {
      queue.refuse = false;
    }
    const ref = {
      installationId: alert.installationId,
      owner: "octo-org",
      repo: "noqueue",
      number: alert.number,
    };
    expect((await alerts.getAlert(alertIdFor(ref)))?.fetchOwed).toBe(true);
    expect(lines.join("\n")).toContain("the sweep will send it");
  });

  it("answers a retryable 5xx when the store is down, queueing nothing, so a redelivery is the retry", async () => {
    const alert = gh.api.createAlert({ repository: "octo-org/nostore", secret: TOKEN, secret_type: "x" });
    const body = JSON.stringify(gh.api.webhookPayload(alert));
    const original = alerts.recordAlert.bind(alerts);
    alerts.recordAlert = async () => {
      throw new AwsError("dynamodb:GetItem failed", "ServiceUnavailable", 503, { transient: true });
    };
    try {
      const before = queue.sent.length;
      const result = await handler(event(body, await signed(body, "secret_scanning_alert")), {} as never);
      expect(result.statusCode).toBe(503);
      expect(result.headers?.["retry-after"]).toBe("5");
      expect(queue.sent.length).toBe(before);
    } finally {
      alerts.recordAlert = original;
    }
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
      queue,
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
