import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { loadConfig, type TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { PartnerKeyCache } from "../github/partner-key-cache.js";
import { DEFAULT_GITHUB_PUBLIC_KEYS_URL, partnerKeySetLoader } from "../github/partner-key-set.js";
import type { IntakeDeps } from "../intake/receive-partner-report.js";
import { IssuerRegistry } from "../issuers/issuer-registry.js";
import type { Log } from "../log.js";
import { OutboxNotifier } from "../notify/outbox-notifier.js";
import { KmsEnvelopeSealer } from "../queue/kms-envelope-sealer.js";
import { SqsRemediationQueue } from "../queue/sqs-queue.js";
import type { WorkerDeps } from "../remediation/remediate-leak.js";
import { DynamoLeakStore } from "../store/dynamo-leak-store.js";

// Wiring for Lambda: every dependency from environment variables set by the CDK stack. Called once
// per container (handlers memoise it), so clients and the key cache live across invocations.

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

export function awsStore(env: Env = process.env) {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return new DynamoLeakStore(client, required(env, "TABLE_NAME"));
}

const awsConfig = (env: Env): TourniquetConfig =>
  loadConfig(env.TOURNIQUET_CONFIG ?? "tourniquet.config.json", env);

const awsSealer = (env: Env) =>
  new KmsEnvelopeSealer({ kms: new KMSClient({}), keyId: required(env, "TOKEN_KEY_ID") });

export async function awsIntakeDeps(log: Log, env: Env = process.env): Promise<IntakeDeps> {
  const config = awsConfig(env);
  return {
    config,
    store: awsStore(env),
    queue: new SqsRemediationQueue({ sqs: new SQSClient({}), queueUrl: required(env, "QUEUE_URL") }),
    sealer: awsSealer(env),
    keys: new PartnerKeyCache({
      load: partnerKeySetLoader({
        url: env.GITHUB_PUBLIC_KEYS_URL ?? DEFAULT_GITHUB_PUBLIC_KEYS_URL,
        token: env.GITHUB_TOKEN,
      }),
      onRefreshError: (error) =>
        log.warn("partner key refresh failed; using cached keys", { error: String(error) }),
    }),
    issuers: IssuerRegistry.fromConfig(config),
    log,
  };
}

export async function awsWorkerDeps(log: Log, env: Env = process.env): Promise<WorkerDeps> {
  const config = awsConfig(env);
  return {
    config,
    store: awsStore(env),
    issuers: IssuerRegistry.fromConfig(config),
    sealer: awsSealer(env),
    // Email through SES is the notification channels' issue; until then messages land in /tmp.
    notifier: new OutboxNotifier(env.OUTBOX_DIR ?? "/tmp/outbox"),
    log,
    workerId: `lambda:${env.AWS_LAMBDA_LOG_STREAM_NAME ?? randomUUID()}`,
  };
}
