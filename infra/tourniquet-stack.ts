import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { StringParameter } from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import { SECRET_GROUPS, type SecretGroup } from "../lib/config-secrets.js";
import type { ConsoleAuthSetting } from "../lib/console/console-auth.js";
import { DEFAULT_GITHUB_PUBLIC_KEYS_URL } from "../lib/github/partner-key-set.js";
import { FUNCTION_SECRET_GROUPS, GROUP_SECRETS } from "../lib/runtime/function-secrets.js";
import { grantAwsKeyAccess } from "./constructs/aws-key-access.js";
import { LeakTable } from "./constructs/leak-table.js";
import { MAX_RECEIVE_COUNT, RemediationQueue } from "./constructs/remediation-queue.js";
import { TourniquetAlarms } from "./constructs/tourniquet-alarms.js";
import { CONSOLE_PATH, TourniquetApi } from "./constructs/tourniquet-api.js";
import { TourniquetFunction, type TourniquetFunctionProps } from "./constructs/tourniquet-function.js";
import { FUNCTION_BUNDLES } from "./function-bundles.js";
import { acknowledge } from "./nag.js";
import { readStagesFile, resolveStageSettings, type StageSettings } from "./stages.js";

/** Timeout of the remediate worker Lambda; the queue's visibility timeout is derived from it. */
export const WORKER_TIMEOUT = Duration.seconds(30);

/**
 * Intake timeout. GitHub waits up to 30 s for feedback and API Gateway cuts an integration at 29 s; the
 * intake's inline verification is time-boxed at 3 s (config `intake.inline_verify_budget_ms`), so a cold
 * start, the key-set fetch, the writes and the time box fit well inside 25 s, and the function always
 * ends before API Gateway gives up (GitHub then sees our answer, not a gateway timeout).
 */
export const INTAKE_TIMEOUT = Duration.seconds(25);

/** What each handler gets: timeout and memory (more memory is more CPU, which is what cold starts need). */
export const FUNCTION_SIZING = {
  PartnerReport: {
    description: "GitHub secret scanning partner reports: verify signature, record, label, enqueue",
    timeout: INTAKE_TIMEOUT,
    // 1 GB: ECDSA verification, KMS and DynamoDB calls on the path GitHub waits for; the CPU share at
    // 1 GB keeps cold starts short, and the function runs for well under a second.
    memorySize: 1024,
  },
  GithubWebhook: {
    description: "GitHub App webhooks: verify the HMAC, fetch the alert's secret, record, label, enqueue",
    // GitHub gives a webhook 10 s; the handler fetches the alert through GitHub's API within that and
    // verifies inline within the config's time box. 1 GB for the same cold-start reason as the intake.
    timeout: Duration.seconds(10),
    memorySize: 1024,
  },
  Remediate: {
    description: "Remediation worker: verify, revoke, re-verify, rotate, notify",
    // 30 s: several issuer calls, each time-boxed (issuer timeout_ms ≤ 25 s, usually 5 s) with retries
    // inside a delivery; the queue's redelivery does the rest. Visibility timeout is 6x this.
    timeout: WORKER_TIMEOUT,
    memorySize: 512,
  },
  AdminApi: {
    description: "Admin API: list, detail, retry, dismiss, overview, export",
    // Pages are bounded (≤ 100 leaks a list page, 2,000 rows an export answer with one sightings query
    // each, a month of slim summaries for the overview), and 25 s keeps the largest well inside API
    // Gateway's 30 s integration limit, which ends the request anyway.
    timeout: Duration.seconds(25),
    memorySize: 512,
  },
  AdminConsole: {
    description: "Admin console: the page and assets at /admin/ and its sign-in settings",
    // Static files read once per container; nothing to wait for.
    timeout: Duration.seconds(3),
    memorySize: 256,
  },
  Healthz: {
    description: "Liveness probe",
    timeout: Duration.seconds(3),
    memorySize: 128,
  },
  Sweep: {
    description: "Scheduled sweep: save GitHub's partner keys, re-send leaks whose message was lost",
    // One key-set fetch and at most a few thousand index reads and conditional writes: a minute is
    // ample, and well inside the schedule's rate, so runs do not pile up.
    timeout: Duration.minutes(1),
    memorySize: 256,
  },
} as const satisfies Record<
  (typeof FUNCTION_BUNDLES)[number]["id"],
  Pick<TourniquetFunctionProps, "description" | "timeout" | "memorySize">
>;

/** The functions GitHub waits on: every millisecond of their cold start is in the time to revoke. */
export const LATENCY_CRITICAL: ReadonlySet<string> = new Set(["PartnerReport", "GithubWebhook"]);

/** How often the sweep runs (local/local-stack.ts runs it at the same rate). */
export const SWEEP_RATE = Duration.minutes(5);

/** Worker batch: a few leaks per invocation, few invocations at once (issuers' rate limits). */
export const WORKER_BATCH_SIZE = 5;
export const WORKER_MAX_CONCURRENCY = 5;

/** A valid, empty Tourniquet config: every token is recorded as unroutable until the real one is put. */
export const INITIAL_CONFIG = { issuers: {}, token_types: {} };

export const DEFAULT_STAGE = "dev";

const STAGE_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_STAGE_LENGTH = 32;

/**
 * Returns a valid stage name, or throws an error that says how to fix it.
 * `undefined` (no `-c stage=…` given) means the default stage.
 */
export function resolveStage(value: unknown): string {
  if (value === undefined) return DEFAULT_STAGE;
  if (typeof value !== "string" || value.length > MAX_STAGE_LENGTH || !STAGE_PATTERN.test(value)) {
    throw new Error(
      `Invalid stage ${JSON.stringify(value)}: use 1-${MAX_STAGE_LENGTH} lowercase letters, digits and ` +
        `single hyphens, e.g. "dev" or "prod-eu" (cdk synth -c stage=dev).`,
    );
  }
  return value;
}

export interface TourniquetStackProps extends StackProps {
  /** Deployment stage; defaults to the `stage` context value, then to "dev". */
  readonly stage?: string;
  /** Stage settings by stage name; defaults to infra/stages.json. */
  readonly stages?: Record<string, unknown>;
}

/** Tourniquet's AWS resources. Environment-agnostic: the account and region come from the deploy. */
export class TourniquetStack extends Stack {
  readonly stage: string;
  readonly settings: StageSettings;
  readonly functions: Record<(typeof FUNCTION_BUNDLES)[number]["id"], TourniquetFunction>;

  constructor(
    scope: Construct,
    id: string,
    { stage: stageProp, stages, ...props }: TourniquetStackProps = {},
  ) {
    const stage = resolveStage(stageProp ?? scope.node.tryGetContext("stage"));
    const settings = resolveStageSettings(
      stage,
      stages ?? readStagesFile(),
      scope.node.tryGetContext("stageSettings"),
    );
    super(scope, id, {
      stackName: `tourniquet-${stage}`,
      description: `Tourniquet leaked-API-key response bot (${stage})`,
      ...props,
      tags: { project: "tourniquet", stage, ...props.tags },
    });
    this.stage = stage;
    this.settings = settings;
    const logRetention = settings.logRetentionDays as RetentionDays;

    // Data key: the table, the queues, the secrets and the alarm topic. Functions that touch those get
    // it through the resource's grant. Retained: a retained table or parked message needs it.
    const key = new Key(this, "Key", {
      description: `Tourniquet (${stage}): leak table, queues, secrets and alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted alarm topic.
    key.grant(new ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");

    // Token key: seals raw tokens inside queue messages (envelope encryption). Its own key, so that
    // holding the data key (every function that reads the table) never opens a token: only the worker
    // may Decrypt with it, and the intake may only GenerateDataKey.
    const tokenKey = new Key(this, "TokenKey", {
      description: `Tourniquet (${stage}): seals leaked tokens in remediation messages`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const leaks = new LeakTable(this, "Leaks", { encryptionKey: key });
    const remediation = new RemediationQueue(this, "Remediation", {
      encryptionKey: key,
      workerTimeout: WORKER_TIMEOUT,
    });

    // The Tourniquet config (token types → issuers, policies, channels): read at cold start and again
    // after a TTL, so `aws ssm put-parameter --overwrite` changes behaviour without a deploy. It holds
    // no secrets, only {"env": NAME} references to keys of the secrets below. CloudFormation
    // writes the initial value once; later deploys do not reset what an operator put.
    const configParameter = new StringParameter(this, "Config", {
      parameterName: `/tourniquet/${stage}/config`,
      description: "Tourniquet config JSON (see config/tourniquet.example.json and docs/deploy.md)",
      stringValue: JSON.stringify(INITIAL_CONFIG),
    });

    // The config's secrets, one secret per group (lib/config-secrets.ts), each a JSON object NAME → value
    // whose keys the config's {"env": NAME} references resolve against: a function is granted only its
    // groups' secrets, so the intake cannot read the GitHub App's key or a channel's credentials. Each
    // is created with a throwaway placeholder key. "ConfigSecrets" keeps the issuers' secret's
    // original id, so stacks deployed when it held every secret keep it.
    const secretIds: Record<SecretGroup, string> = {
      issuers: "ConfigSecrets",
      channels: "ChannelSecrets",
      github_app: "GithubAppSecrets",
    };
    const configSecrets = Object.fromEntries(
      SECRET_GROUPS.map((group) => {
        const { name, holds } = GROUP_SECRETS[group];
        const secret = new Secret(this, secretIds[group], {
          secretName: `tourniquet/${stage}/${name}`,
          description: `Tourniquet ${holds}: JSON object NAME -> value`,
          encryptionKey: key,
          generateSecretString: { secretStringTemplate: "{}", generateStringKey: "PLACEHOLDER" },
          removalPolicy: RemovalPolicy.RETAIN,
        });
        acknowledge(
          secret,
          "Secrets shared with issuers, channels and GitHub: rotating them needs the other party, so " +
            "rotation is a documented manual procedure (docs/deploy.md, 'Rotating secrets').",
          "AwsSolutions-SMG4",
        );
        return [group, secret];
      }),
    ) as Record<SecretGroup, Secret>;
    /** Grants a function read access to the secrets of its groups, each named by its variable. */
    const readSecrets = (f: TourniquetFunction, groups: readonly SecretGroup[]) => {
      for (const group of groups)
        f.access.secret(GROUP_SECRETS[group].variable, configSecrets[group], "read");
    };

    const fn = (bundle: (typeof FUNCTION_BUNDLES)[number]) =>
      new TourniquetFunction(this, bundle.id, {
        bundle,
        stage,
        ...FUNCTION_SIZING[bundle.id],
        logRetention,
        logLevel: settings.logLevel,
        withTemplates: bundle.id === "Remediate",
        withConsole: bundle.id === "AdminConsole",
        sourceMapsAtRuntime: !LATENCY_CRITICAL.has(bundle.id),
      });
    this.functions = Object.fromEntries(FUNCTION_BUNDLES.map((b) => [b.id, fn(b)])) as typeof this.functions;
    const {
      PartnerReport: intake,
      Remediate: worker,
      AdminApi: admin,
      AdminConsole: adminConsole,
      Healthz: healthz,
      Sweep: sweep,
      GithubWebhook: webhook,
    } = this.functions;

    // Who may touch what: each line sets an environment variable and grants access to what it names.
    // Secrets: the issuers' only.
    intake.access
      .table("TABLE_NAME", leaks.table, "readWrite")
      .queue("QUEUE_URL", remediation.queue, "send")
      .key("TOKEN_KEY_ID", tokenKey, "encrypt")
      .parameter("TOURNIQUET_CONFIG_PARAMETER", configParameter, "read")
      .setting("GITHUB_PUBLIC_KEYS_URL", DEFAULT_GITHUB_PUBLIC_KEYS_URL);
    readSecrets(intake, FUNCTION_SECRET_GROUPS.PartnerReport);

    // GitHub App alerts: recorded and their fetch queued for the worker; it never calls GitHub or an
    // issuer, so no token key and of the secrets the App's only.
    webhook.access
      .table("TABLE_NAME", leaks.table, "readWrite")
      .queue("QUEUE_URL", remediation.queue, "send")
      .parameter("TOURNIQUET_CONFIG_PARAMETER", configParameter, "read");
    readSecrets(webhook, FUNCTION_SECRET_GROUPS.GithubWebhook);

    // Secrets: the issuers' and the channels'. It sends to its own queue: leaks revoked together go
    // on to their notifications as messages of their own.
    worker.access
      .table("TABLE_NAME", leaks.table, "readWrite")
      .queue("QUEUE_URL", remediation.queue, "send")
      // Opens sealed tokens; seals the secrets of the App alerts it fetches.
      .key("TOKEN_KEY_ID", tokenKey, "both")
      .parameter("TOURNIQUET_CONFIG_PARAMETER", configParameter, "read")
      .secretsUnder("SECRETS_PREFIX", `tourniquet/${stage}/replacements`, key)
      .setting("SECRETS_KEY_ID", key.keyArn)
      .setting("OUTBOX_DIR", "/tmp/outbox")
      // The worker counts "last attempt" against the queue's own redrive count.
      .setting("MAX_RECEIVE_COUNT", String(MAX_RECEIVE_COUNT));
    readSecrets(worker, FUNCTION_SECRET_GROUPS.Remediate);
    if (settings.sesIdentity) worker.access.sesIdentity("SES_IDENTITY", settings.sesIdentity);

    // Read-mostly: retry and dismiss write the leak, retry re-queues it (without the token).
    // Who may read and who may act comes with the deployment (no config file, no secrets).
    admin.access
      .table("TABLE_NAME", leaks.table, "readWrite")
      .queue("QUEUE_URL", remediation.queue, "send")
      .setting("ADMIN_ACCESS", JSON.stringify(settings.adminAccess));

    // Re-sends leaks with their token still sealed (and App alerts whose fetch is owed): no token key.
    // The config and the issuers' secrets to refresh issuers' caches and read usage after revocation;
    // the App's to list its installations' open alerts; no channel secret.
    sweep.access
      .table("TABLE_NAME", leaks.table, "readWrite")
      .queue("QUEUE_URL", remediation.queue, "send")
      .parameter("TOURNIQUET_CONFIG_PARAMETER", configParameter, "read")
      .setting("GITHUB_PUBLIC_KEYS_URL", DEFAULT_GITHUB_PUBLIC_KEYS_URL);
    readSecrets(sweep, FUNCTION_SECRET_GROUPS.Sweep);
    // A missed run is made up by the next one: no retries, so runs never overlap by design.
    sweep.fn.configureAsyncInvoke({ retryAttempts: 0 });
    new Rule(this, "SweepSchedule", {
      description: `Tourniquet (${stage}): periodic sweep (partner key set, stuck leaks, GitHub App alerts)`,
      schedule: Schedule.rate(SWEEP_RATE),
      targets: [new LambdaFunction(sweep.fn, { retryAttempts: 0 })],
    });

    // AWS access keys (stage setting awsIam): every function that runs an issuer's verify gets the
    // read side, since each may meet an AWS key: the intake verifies inline (GitHub's feedback label),
    // the sweep asks how a revoked key was used since, the worker verifies (an App alert's secret too)
    // and re-verifies around its revocation. Only the worker acts (deactivate, delete, quarantine,
    // rotate). Responder roles in other accounts are assumed by all three; what a role lets them do
    // there is the role's own policy, and which of them may assume it is its trust policy (docs/deploy.md).
    const awsKeyVerifiers = [intake, sweep, worker];
    grantAwsKeyAccess({
      settings: settings.awsIam,
      verifiers: awsKeyVerifiers.map((f) => f.fn),
      remediator: worker.fn,
    });

    worker.fn.addEventSource(
      new SqsEventSource(remediation.queue, {
        batchSize: WORKER_BATCH_SIZE,
        maxConcurrency: WORKER_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );

    for (const f of Object.values(this.functions)) {
      acknowledge(
        f.fn,
        "AWSLambdaBasicExecutionRole only lets the function write its own logs.",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      );
      acknowledge(
        f.fn,
        "Node.js 22 is the runtime the handlers are built and tested for (DESIGN.md).",
        "AwsSolutions-L1",
      );
    }

    const api = new TourniquetApi(this, "Api", {
      stage,
      settings,
      logRetention,
      partnerReport: intake.fn,
      githubWebhook: webhook.fn,
      adminApi: admin.fn,
      adminConsole: adminConsole.fn,
      healthz: healthz.fn,
    });
    // The console's sign-in settings (public: issuer, client id, endpoints); it touches no data.
    const consoleAuth: ConsoleAuthSetting = api.consoleAuth ?? {
      auth: "none",
      reason:
        "This stage's OIDC issuer has no console client: set jwt.console in infra/stages.json (docs/deploy.md, 'Signing in to the console').",
    };
    adminConsole.access.setting("CONSOLE_AUTH", this.toJsonString(consoleAuth));

    const alarms = new TourniquetAlarms(this, "Alarms", {
      stage,
      encryptionKey: key,
      alarmEmail: settings.alarmEmail,
      deadLetterQueue: remediation.deadLetterQueue,
      functions: Object.fromEntries(Object.entries(this.functions).map(([name, f]) => [name, f.fn])),
      api: api.api,
      timeToRevokeTargetMs: settings.timeToRevokeTargetMs,
    });

    new CfnOutput(this, "ApiUrl", { value: api.stage.url, description: "API base URL" });
    new CfnOutput(this, "PartnerReportUrl", {
      value: `${api.stage.url}v1/github/secret-scanning`,
      description: "Give this URL to GitHub's secret scanning partner program",
    });
    new CfnOutput(this, "GithubWebhookUrl", {
      value: `${api.stage.url}v1/github/webhooks`,
      description: "Webhook URL for the GitHub App (secret_scanning_alert events)",
    });
    new CfnOutput(this, "TableName", { value: leaks.table.tableName, description: "Leak store table" });
    new CfnOutput(this, "QueueUrl", { value: remediation.queue.queueUrl, description: "Remediation queue" });
    new CfnOutput(this, "DeadLetterQueueUrl", {
      value: remediation.deadLetterQueue.queueUrl,
      description: "Remediation dead-letter queue",
    });
    new CfnOutput(this, "KeyArn", { value: key.keyArn, description: "KMS key for data at rest" });
    new CfnOutput(this, "TokenKeyArn", { value: tokenKey.keyArn, description: "KMS key sealing tokens" });
    new CfnOutput(this, "ConfigParameterName", {
      value: configParameter.parameterName,
      description: "SSM parameter holding the Tourniquet config JSON",
    });
    new CfnOutput(this, "SecretsArn", {
      value: configSecrets.issuers.secretArn,
      description: "Secrets Manager secret holding the issuers' HMAC secrets (JSON NAME -> value)",
    });
    new CfnOutput(this, "ChannelSecretsArn", {
      value: configSecrets.channels.secretArn,
      description: "Secrets Manager secret holding notification channel credentials (JSON NAME -> value)",
    });
    new CfnOutput(this, "GithubAppSecretsArn", {
      value: configSecrets.github_app.secretArn,
      description:
        "Secrets Manager secret holding the GitHub App's key and webhook secrets (JSON NAME -> value)",
    });
    new CfnOutput(this, "AlarmTopicArn", {
      value: alarms.topic.topicArn,
      description: "Alarm notifications",
    });
    // The principals a responder role's trust policy names (docs/deploy.md, "AWS access keys"). Always
    // there: the roles exist from the first deploy, so responder roles can be made before awsIam is set.
    const roleArn = ({ fn }: TourniquetFunction): string => {
      if (!fn.role) throw new Error(`${fn.node.path} has no execution role`);
      return fn.role.roleArn;
    };
    new CfnOutput(this, "AwsResponderPrincipals", {
      value: Fn.join(",", awsKeyVerifiers.map(roleArn)),
      description:
        "Role ARNs of the functions that verify AWS keys (intake, webhook, sweep, worker): the principals a responder role trusts",
    });
    new CfnOutput(this, "AwsWorkerRoleArn", {
      value: roleArn(worker),
      description: "Role ARN of the remediation worker, the only function that acts on AWS keys",
    });
    if (api.userPool && api.userPoolClient) {
      new CfnOutput(this, "AdminUserPoolId", { value: api.userPool.userPoolId, description: "Admin users" });
      new CfnOutput(this, "AdminUserPoolClientId", {
        value: api.userPoolClient.userPoolClientId,
        description: "Admin API client (the JWT audience)",
      });
    }
    if (api.userPoolDomain) {
      new CfnOutput(this, "AdminSignInUrl", {
        value: api.userPoolDomain.baseUrl(),
        description: "Cognito's hosted sign-in for the console",
      });
    }
    new CfnOutput(this, "ConsoleUrl", {
      value: `${api.api.apiEndpoint}${CONSOLE_PATH}`,
      description: "The admin console (sign in with the admin user pool or the stage's OIDC issuer)",
    });
  }
}
