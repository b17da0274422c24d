import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { loadConfig, type TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { PartnerKeyCache } from "../github/partner-key-cache.js";
import { DEFAULT_GITHUB_PUBLIC_KEYS_URL, partnerKeySetLoader } from "../github/partner-key-set.js";
import type { IntakeDeps } from "../intake/receive-partner-report.js";
import { IssuerRegistry } from "../issuers/issuer-registry.js";
import type { Log } from "../log.js";
import { createChannels } from "../notify/channel-registry.js";
import { loadTemplates } from "../notify/render-leak-message.js";
import { KmsEnvelopeSealer } from "../queue/kms-envelope-sealer.js";
import { SqsRemediationQueue } from "../queue/sqs-queue.js";
import type { WorkerDeps } from "../remediation/remediate-leak.js";
import { SecretsManagerSecretStore } from "../secrets/secrets-manager-store.js";
import { DynamoLeakStore } from "../store/dynamo-leak-store.js";
import { AwsConfigSource } from "./aws-config-source.js";

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

export const awsQueue = (env: Env = process.env) =>
  new SqsRemediationQueue({ sqs: new SQSClient({}), queueUrl: required(env, "QUEUE_URL") });

/**
 * The current config: deployed, from the SSM parameter TOURNIQUET_CONFIG_PARAMETER with the secrets of
 * TOURNIQUET_SECRETS_ARN, loaded now and re-read in the background after a TTL; otherwise from the
 * file TOURNIQUET_CONFIG, read once.
 */
async function awsConfig(log: Log, env: Env): Promise<() => TourniquetConfig> {
  const parameterName = env.TOURNIQUET_CONFIG_PARAMETER;
  if (!parameterName) {
    const config = loadConfig(env.TOURNIQUET_CONFIG ?? "tourniquet.config.json", env);
    return () => config;
  }
  const source = new AwsConfigSource({
    ssm: new SSMClient({}),
    secretsManager: new SecretsManagerClient({}),
    parameterName,
    secretArn: env.TOURNIQUET_SECRETS_ARN,
    env,
    onRefreshError: (error) =>
      log.warn("config refresh failed; using the last good config", { error: String(error) }),
  });
  await source.get();
  return () => source.current();
}

/** `build(config)`, rebuilt only when the config is replaced by a refresh. */
function derived<T>(config: () => TourniquetConfig, build: (config: TourniquetConfig) => T): () => T {
  let last: TourniquetConfig | undefined;
  let value: T | undefined;
  return () => {
    const current = config();
    if (current !== last || value === undefined) {
      value = build(current);
      last = current;
    }
    return value;
  };
}

const awsSealer = (env: Env) =>
  new KmsEnvelopeSealer({ kms: new KMSClient({}), keyId: required(env, "TOKEN_KEY_ID") });

export async function awsIntakeDeps(log: Log, env: Env = process.env): Promise<IntakeDeps> {
  const config = await awsConfig(log, env);
  const issuers = derived(config, (current) => IssuerRegistry.fromConfig(current));
  return {
    // Getters: a refreshed config (and the issuers built from it) reaches the next invocation.
    get config() {
      return config();
    },
    get issuers() {
      return issuers();
    },
    store: awsStore(env),
    queue: awsQueue(env),
    sealer: awsSealer(env),
    keys: new PartnerKeyCache({
      load: partnerKeySetLoader({
        url: env.GITHUB_PUBLIC_KEYS_URL ?? DEFAULT_GITHUB_PUBLIC_KEYS_URL,
        token: env.GITHUB_TOKEN,
      }),
      onRefreshError: (error) =>
        log.warn("partner key refresh failed; using cached keys", { error: String(error) }),
    }),
    log,
  };
}

export async function awsWorkerDeps(log: Log, env: Env = process.env): Promise<WorkerDeps> {
  const config = await awsConfig(log, env);
  const issuers = derived(config, (current) => IssuerRegistry.fromConfig(current));
  let ses: SESv2Client | undefined;
  const channels = derived(config, (current) =>
    createChannels(current, {
      outboxDir: env.OUTBOX_DIR ?? "/tmp/outbox",
      ses: () => (ses ??= new SESv2Client({})),
    }),
  );
  return {
    get config() {
      return config();
    },
    get issuers() {
      return issuers();
    },
    get channels() {
      return channels();
    },
    store: awsStore(env),
    sealer: awsSealer(env),
    templates: loadTemplates(),
    secrets: new SecretsManagerSecretStore(new SecretsManagerClient({}), {
      prefix: env.SECRETS_PREFIX ?? "tourniquet/replacements",
      // The stack's data key (SECRETS_KEY_ID); the token key when only that is set.
      kmsKeyId: env.SECRETS_KEY_ID ?? env.TOKEN_KEY_ID,
    }),
    log,
    workerId: `lambda:${env.AWS_LAMBDA_LOG_STREAM_NAME ?? randomUUID()}`,
  };
}
