import { randomUUID } from "node:crypto";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import { awsClientDefaults } from "../aws/client-config.js";
import type { TourniquetConfig } from "../config.js";
import { githubAppFromConfig } from "../github/github-app.js";
import { IssuerRegistry } from "../issuers/issuer-registry.js";
import type { Log } from "../log.js";
import { createChannels } from "../notify/channel-registry.js";
import { loadTemplates } from "../notify/render-leak-message.js";
import { lazyQueue } from "../queue/lazy-queue.js";
import { GithubWritePace } from "../remediation/github-write-pace.js";
import type { WorkerDeps } from "../remediation/remediate-leak.js";
import { SecretsManagerSecretStore } from "../secrets/secrets-manager-store.js";
import { awsConfig, derived } from "./aws-config.js";
import type { Env } from "./aws-env.js";
import { awsSealer } from "./aws-sealer.js";
import { awsAlertStore, awsReportPartStore, awsStore, awsTable } from "./aws-store.js";
import { FUNCTION_SECRET_GROUPS } from "./function-secrets.js";

// The remediation worker's wiring: the only function that sends email or stores replacement secrets.
// Of the config's secrets, it reads the issuers' and the channels', never the GitHub App's.

export async function awsWorkerDeps(log: Log, env: Env = process.env): Promise<WorkerDeps> {
  // The SES client loads with the first email, not at cold start (ses-email-channel.ts).
  let ses: Promise<SESv2Client> | undefined;
  const buildIssuers = (current: TourniquetConfig) => IssuerRegistry.fromConfig(current);
  const buildChannels = (current: TourniquetConfig) =>
    createChannels(current, {
      outboxDir: env.OUTBOX_DIR ?? "/tmp/outbox",
      ses: () =>
        (ses ??= import("@aws-sdk/client-sesv2").then(
          ({ SESv2Client }) => new SESv2Client(awsClientDefaults()),
        )),
    });
  const config = await awsConfig(log, env, FUNCTION_SECRET_GROUPS.Remediate, (current) => [
    buildIssuers(current),
    buildChannels(current),
  ]);
  const issuers = derived(config, buildIssuers);
  const channels = derived(config, buildChannels);
  const githubApp = derived(config, (current) => githubAppFromConfig(current));
  const table = awsTable(env);
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
    get githubApp() {
      return githubApp();
    },
    alerts: awsAlertStore(env, table),
    parts: awsReportPartStore(env, table),
    githubWritePace: new GithubWritePace(),
    store: awsStore(env, table),
    sealer: awsSealer(env),
    // Its own queue, for the next steps of leaks revoked together; the SQS client loads with the first.
    queue: lazyQueue(() => import("./aws-queue.js").then(({ awsQueue }) => awsQueue(env))),
    templates: loadTemplates(),
    secrets: new SecretsManagerSecretStore(new SecretsManagerClient(awsClientDefaults()), {
      prefix: env.SECRETS_PREFIX ?? "tourniquet/replacements",
      // The stack's data key (SECRETS_KEY_ID); the token key when only that is set.
      kmsKeyId: env.SECRETS_KEY_ID ?? env.TOKEN_KEY_ID,
    }),
    log,
    workerId: `lambda:${env.AWS_LAMBDA_LOG_STREAM_NAME ?? randomUUID()}`,
    revokeFirst: true,
  };
}
