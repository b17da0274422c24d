import { generateKeyPairSync } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../lib/errors.js";
import { awsGithubWebhookDeps } from "../../lib/runtime/aws-github-webhook.js";
import { awsIntakeDeps } from "../../lib/runtime/aws-intake.js";
import { awsWorkerDeps } from "../../lib/runtime/aws-worker.js";
import {
  type FakeSecretsManager,
  type FakeSsm,
  startFakeSecretsManager,
  startFakeSsm,
} from "../helpers/fake-aws-config.js";
import { recordingLog } from "../helpers/recording-log.js";

// Each deployed function reads only the secrets it uses: the intake the issuers' HMAC secrets, the
// webhook those and the GitHub App's, the worker those and the channels'. The real wiring of each
// function, against the SSM and Secrets Manager fakes, with all three secrets in place and named in
// the environment (as if a grant had been too wide).

const PARAMETER = "/tourniquet/dev/config";
const arn = (name: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:tourniquet/dev/${name}-AbCdEf`;
const ISSUER_SECRETS = arn("secrets");
const CHANNEL_SECRETS = arn("channel-secrets");
const APP_SECRETS = arn("github-app-secrets");
const APP_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs1", format: "pem" })
  .toString();

const CONFIG = {
  issuers: { acme: { kind: "http", url: "https://keys.example.com/", secret: { env: "ACME_HMAC" } } },
  token_types: { acme_api_key: { issuer: "acme" } },
  github_app: { app_id: 7, private_key: { env: "APP_KEY" }, webhook_secret: { env: "HOOK_SECRET" } },
  defaults: { channels: ["slack"] },
  notifications: { channels: { slack: { kind: "slack", webhook_url: { env: "SLACK_URL" } } } },
};

let ssm: FakeSsm;
let sm: FakeSecretsManager;

beforeAll(async () => {
  [ssm, sm] = await Promise.all([startFakeSsm(), startFakeSecretsManager()]);
});
afterAll(async () => {
  await Promise.all([ssm?.close(), sm?.close()]);
});

const env = () => ({
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  AWS_ENDPOINT_URL_SSM: ssm.url,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
  TOURNIQUET_CONFIG_PARAMETER: PARAMETER,
  TOURNIQUET_SECRETS_ARN: ISSUER_SECRETS,
  TOURNIQUET_CHANNEL_SECRETS_ARN: CHANNEL_SECRETS,
  TOURNIQUET_GITHUB_APP_SECRETS_ARN: APP_SECRETS,
  TABLE_NAME: "tourniquet-dev-leaks",
  QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/tourniquet-dev-remediation",
  TOKEN_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/token",
  OUTBOX_DIR: "/tmp/outbox",
});

beforeEach(() => {
  for (const [name, value] of Object.entries(env())) vi.stubEnv(name, value);
  sm.calls.length = 0;
  sm.secrets.clear();
  ssm.putParameter(PARAMETER, JSON.stringify(CONFIG));
  sm.putSecret(ISSUER_SECRETS, JSON.stringify({ ACME_HMAC: "acme-hmac" }));
  sm.putSecret(CHANNEL_SECRETS, JSON.stringify({ SLACK_URL: "https://hooks.slack.example/T/B/x" }));
  sm.putSecret(APP_SECRETS, JSON.stringify({ APP_KEY, HOOK_SECRET: "hook" }));
});
afterEach(() => vi.unstubAllEnvs());

const secretsRead = () => sm.callsOf("GetSecretValue").map((input) => input.SecretId);

describe("secrets each function reads", () => {
  it("the intake: the issuer secrets only; it loads without seeing a channel's or the App's", async () => {
    const deps = await awsIntakeDeps(recordingLog().log, env());
    expect(secretsRead()).toEqual([ISSUER_SECRETS]);
    expect(deps.config.secrets).toEqual({ acme: "acme-hmac" });
    expect(deps.config.channelSecrets).toEqual({});
    expect(deps.config.githubAppSecrets).toBeUndefined();
  });

  it("the GitHub webhook: the App's secrets only, never an issuer's or a channel's", async () => {
    const deps = await awsGithubWebhookDeps(recordingLog().log, env());
    expect(secretsRead()).toEqual([APP_SECRETS]);
    expect(deps.githubApp).toBeDefined();
    expect(deps.config.githubAppSecrets).toEqual({ privateKey: APP_KEY, webhookSecret: "hook" });
    expect(deps.config.secrets).toEqual({});
    expect(deps.config.channelSecrets).toEqual({});
  });

  it("the worker: the issuer, channel and App secrets (it fetches and resolves App alerts)", async () => {
    const deps = await awsWorkerDeps(recordingLog().log, env());
    expect(secretsRead().sort()).toEqual([APP_SECRETS, CHANNEL_SECRETS, ISSUER_SECRETS].sort());
    expect(deps.config.channelSecrets).toEqual({ slack: "https://hooks.slack.example/T/B/x" });
    expect(deps.channels.get("slack")).toBeDefined();
    expect(deps.config.githubAppSecrets).toEqual({ privateKey: APP_KEY, webhookSecret: "hook" });
    expect(deps.githubApp).toBeDefined();
  });

  it("names the field when the function's own secret lacks the key", async () => {
    sm.putSecret(CHANNEL_SECRETS, JSON.stringify({}));
    const error = await awsWorkerDeps(recordingLog().log, env()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      "notifications.channels.slack.webhook_url: environment variable SLACK_URL is not set",
    );
  });

  it("warns, without the value, when a channel or App secret sits in the issuer secrets every function reads", async () => {
    sm.putSecret(ISSUER_SECRETS, JSON.stringify({ ACME_HMAC: "acme-hmac", SLACK_URL: "https://hooks/x" }));
    const { log, lines } = recordingLog();
    await awsIntakeDeps(log, env());
    const warnings = lines.map((line) => JSON.parse(line)).filter((line) => line.level === "warn");
    expect(warnings).toEqual([
      expect.objectContaining({
        message: expect.stringContaining("move it to the channels' secret"),
        name: "SLACK_URL",
        path: "notifications.channels.slack.webhook_url",
      }),
    ]);
    expect(lines.join("\n")).not.toContain("https://hooks/x");
  });
});
