import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { createAdminApiHandler } from "../functions/admin-api.js";
import { createAdminConsoleHandler } from "../functions/admin-console.js";
import { createGithubWebhookHandler } from "../functions/github-webhook.js";
import { handler as healthzHandler } from "../functions/healthz.js";
import { createPartnerReportHandler } from "../functions/partner-report.js";
import type { ExportLimits } from "../lib/admin/leak-export.js";
import { loadConfig, type TourniquetConfig } from "../lib/config.js";
import { bundleConsole } from "../lib/console/build-console.js";
import { type ConsoleAuth, parseConsoleAuth } from "../lib/console/console-auth.js";
import { memoryFiles } from "../lib/console/console-files.js";
import { type GithubApp, githubAppFromConfig } from "../lib/github/github-app.js";
import { PartnerKeyCache } from "../lib/github/partner-key-cache.js";
import { partnerKeySetFetcher, partnerKeySetLoader } from "../lib/github/partner-key-set.js";
import { savedPartnerKeysLoader } from "../lib/github/saved-partner-keys.js";
import type { GithubWebhookDeps } from "../lib/intake/receive-github-webhook.js";
import type { IntakeDeps } from "../lib/intake/receive-partner-report.js";
import type { AwsTransportOptions } from "../lib/issuers/aws/lazy-aws-iam-access.js";
import type { AzureTransportOptions } from "../lib/issuers/azure/lazy-azure-management.js";
import { IssuerRegistry } from "../lib/issuers/issuer-registry.js";
import { describeError, type Log } from "../lib/log.js";
import { createChannels } from "../lib/notify/channel-registry.js";
import { loadTemplates } from "../lib/notify/render-leak-message.js";
import { InProcessQueue } from "../lib/queue/in-process-queue.js";
import { LocalKeySealer } from "../lib/queue/local-key-sealer.js";
import { subjectOf } from "../lib/queue/remediation-queue.js";
import { GithubWritePace } from "../lib/remediation/github-write-pace.js";
import { remediateLeak, type WorkerDeps } from "../lib/remediation/remediate-leak.js";
import { createLogger } from "../lib/runtime/logger.js";
import { runSweep, type SweepDeps, type SweepOptions, type SweepResult } from "../lib/schedule/run-sweep.js";
import { LocalSecretStore } from "../lib/secrets/local-secret-store.js";
import { DynamoAlertStore } from "../lib/store/dynamo-alert-store.js";
import { DynamoLeakStore } from "../lib/store/dynamo-leak-store.js";
import { DynamoReportPartStore } from "../lib/store/dynamo-report-part-store.js";
import { DynamoSavedPartnerKeys } from "../lib/store/dynamo-saved-partner-keys.js";
import {
  apiRoute,
  BodyTooLargeError,
  lambdaContext,
  type Route,
  readBody,
  routesFor,
  toApiEvent,
  writeApiResult,
  writeJson,
} from "./api-gateway-adapter.js";
import { DEV_SIGNING_KEY_FILE, devKeySet, loadDevSigningKey } from "./dev-signing-key.js";
import { type EmbeddedDynamo, ensureLeakTable, startEmbeddedDynamo } from "./embedded-dynamodb.js";
import { startLocalAws } from "./local-aws.js";
import { startLocalAzure } from "./local-azure.js";
import { DEFAULT_CONFIG_PATH } from "./local-config-path.js";
import { localOpenaiAdminKey, OPENAI_MOUNT, startLocalOpenai } from "./local-openai.js";
import { SLACK_BOT_TOKEN_ENV, slackPath, startLocalSlack } from "./local-slack.js";
import type { SandboxAws } from "./sandbox/sandbox-aws.js";
import type { SandboxAzure } from "./sandbox/sandbox-azure.js";
import type { SandboxFaults } from "./sandbox/sandbox-faults.js";
import { loadSandboxGithubAppKey, SandboxGithubApi } from "./sandbox/sandbox-github-api.js";
import { SandboxKeyService } from "./sandbox/sandbox-key-service.js";
import type { SandboxOpenai } from "./sandbox/sandbox-openai.js";
import { createSandboxHandler } from "./sandbox/sandbox-routes.js";
import type { SandboxSlack } from "./sandbox/sandbox-slack.js";

// The local stack: the Lambda handlers behind a node:http server that speaks API Gateway v2 events,
// dynalite for DynamoDB, an in-process queue for SQS, the outbox for email, and the sandbox issuer.

export { DEFAULT_CONFIG_PATH };
export const LOCAL_TABLE_NAME = "tourniquet-local";
/** The deployed schedule's rate (infra/tourniquet-stack.ts SWEEP_RATE). */
const SWEEP_INTERVAL_MS = 5 * 60_000;

type Env = Record<string, string | undefined>;

export interface LocalStackOptions {
  port?: number;
  host?: string;
  dataDir: string;
  env?: Env;
  log?: Log;
  /** Keep DynamoDB in memory instead of LevelDB files under the data dir. */
  inMemoryDb?: boolean;
  /** Starts the DynamoDB engine (dynalite unless given: tests may run on DynamoDB Local instead). */
  startDb?: (options: { path?: string | undefined }) => Promise<EmbeddedDynamo>;
  sandboxFaults?: SandboxFaults;
  /** Delay before the local queue delivers a failed message again (SQS's visibility timeout). */
  queueBackoffMs?: (receiveCount: number) => number;
  /** Enough local workers to run several deliveries of one leak at once (tests of concurrency). */
  queueConcurrency?: number;
  /**
   * The local queue drops a message identical to one still waiting (a repeat report of a leak whose
   * remediation is queued). Default true; tests of redelivery turn it off to keep SQS's behaviour.
   */
  queueCoalescing?: boolean;
  /** For Azure issuers: a test CA that a loopback fake Azure's certificate is signed with. */
  azureTransport?: AzureTransportOptions | undefined;
  /** For AWS issuers: a test's own fake STS/IAM instead of the stack's (endpoints, credentials, timeout). */
  awsTransport?: AwsTransportOptions | undefined;
  /** The admin export's page bounds (tests lower them to page through a few leaks). */
  adminExportLimits?: Partial<ExportLimits> | undefined;
}

export interface LocalStack {
  url: string;
  port: number;
  dataDir: string;
  adminToken: string;
  config: TourniquetConfig;
  queue: InProcessQueue;
  store: DynamoLeakStore;
  /** The GitHub App path's alert records. */
  alerts: DynamoAlertStore;
  /** Mass reports' parts waiting for the worker. */
  parts: DynamoReportPartStore;
  sandbox: SandboxKeyService;
  /** The fake GitHub REST API at /sandbox/github/api (App installation tokens, alerts, locations). */
  githubApi: SandboxGithubApi;
  /** The fake Azure (Entra ID, ARM, Azure Monitor) on its own HTTPS port; demo keys at /sandbox/azure/keys. */
  azure: SandboxAzure;
  /** The fake AWS (STS, IAM) on its own port; demo key pairs at /sandbox/aws/keys. */
  aws: SandboxAws;
  /** The fake OpenAI API at /sandbox/openai/v1; demo keys at /sandbox/openai/keys. */
  openai: SandboxOpenai;
  /** The fake Slack (Web API, incoming webhooks) at /sandbox/slack; demo tokens at /sandbox/slack/tokens. */
  slack: SandboxSlack;
  /** The GitHub App's webhook secret (TOURNIQUET_GITHUB_WEBHOOK_SECRET, else generated in the data dir). */
  githubWebhookSecret: string;
  dbEndpoint: string;
  /** One run of the scheduled sweep (it also runs at start and every 5 minutes). */
  sweep(options?: SweepOptions): Promise<SweepResult>;
  /** The run at start, settled (a failure is logged): tests wait for it so its calls are not theirs. */
  startupSweep: Promise<void>;
  /** The admin console at /admin/, built in memory at start: settles with the build's time in ms. */
  consoleBuilt: Promise<number>;
  close(): Promise<void>;
}

/** A secret kept in the data dir, created on first start; the environment wins when set. */
function localSecret(env: Env, name: string, file: string): string {
  const fromEnv = env[name];
  if (fromEnv) return fromEnv;
  if (!existsSync(file))
    writeFileSync(file, randomBytes(24).toString("base64url"), { mode: 0o600, flag: "wx" });
  return readFileSync(file, "utf8").trim();
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const env = { ...process.env, ...options.env };
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = options.log ?? createLogger();

  const server = createServer();
  // The port is taken first (the config may name it), so until the stack is ready a request gets a 503
  // to retry instead of waiting for a handler that is not there yet.
  let handle = (_req: IncomingMessage, res: ServerResponse) => {
    res.setHeader("retry-after", "1");
    writeJson(res, 503, { error: "starting", message: "the local stack is starting; retry in a moment" });
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => handle(req, res));
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 3000, options.host ?? "127.0.0.1", () => done());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const sandboxSecret = localSecret(env, "TOURNIQUET_SANDBOX_SECRET", join(dataDir, "sandbox-issuer.secret"));
  const adminToken = localSecret(env, "TOURNIQUET_ADMIN_TOKEN", join(dataDir, "admin-token"));
  // The local GitHub App: its webhook secret and private key, as GitHub would hand them to the App's owner.
  const githubWebhookSecret = localSecret(
    env,
    "TOURNIQUET_GITHUB_WEBHOOK_SECRET",
    join(dataDir, "github-webhook.secret"),
  );
  const githubAppKey =
    env.TOURNIQUET_GITHUB_APP_PRIVATE_KEY || loadSandboxGithubAppKey(join(dataDir, "github-app-key.pem"));
  const azureSecret = localSecret(
    env,
    "TOURNIQUET_SANDBOX_AZURE_SECRET",
    join(dataDir, "sandbox-azure-client.secret"),
  );
  const openaiAdminKey = localOpenaiAdminKey(
    localSecret(env, "TOURNIQUET_SANDBOX_OPENAI_ADMIN_KEY", join(dataDir, "sandbox-openai-admin.secret")),
  );
  const localOpenai = startLocalOpenai(openaiAdminKey);
  const localAzure = await startLocalAzure(dataDir, azureSecret).catch(async (error: unknown) => {
    await new Promise((done) => server.close(done));
    throw error;
  });
  const localAws = await startLocalAws().catch(async (error: unknown) => {
    await new Promise((done) => server.close(done));
    await localAzure.azure.close();
    throw error;
  });
  const stopListening = async () => {
    await new Promise((done) => server.close(done));
    await localAzure.azure.close();
    await localAws.aws.close();
  };
  const slack = startLocalSlack(url, env);
  let config: TourniquetConfig;
  let githubApp: GithubApp | undefined;
  let consoleAuth: ConsoleAuth;
  try {
    consoleAuth = parseConsoleAuth(env.CONSOLE_AUTH);
    config = loadConfig(env.TOURNIQUET_CONFIG ?? DEFAULT_CONFIG_PATH, {
      ...env,
      PORT: String(port),
      TOURNIQUET_SANDBOX_SECRET: sandboxSecret,
      TOURNIQUET_GITHUB_WEBHOOK_SECRET: githubWebhookSecret,
      TOURNIQUET_GITHUB_APP_PRIVATE_KEY: githubAppKey,
      TOURNIQUET_SANDBOX_AZURE_SECRET: azureSecret,
      TOURNIQUET_SANDBOX_AZURE_URL: localAzure.azure.url,
      TOURNIQUET_SANDBOX_OPENAI_ADMIN_KEY: openaiAdminKey,
      [SLACK_BOT_TOKEN_ENV]: slack.botToken,
    });
    githubApp = githubAppFromConfig(config);
  } catch (error) {
    await stopListening();
    throw error;
  }

  const startDb = options.startDb ?? startEmbeddedDynamo;
  const db = await startDb({ path: options.inMemoryDb ? undefined : join(dataDir, "db") }).catch(
    async (error: unknown) => {
      await stopListening();
      throw error;
    },
  );
  await ensureLeakTable(db.client, LOCAL_TABLE_NAME).catch(async (error: unknown) => {
    await stopListening();
    await db.close();
    throw error;
  });
  const store = new DynamoLeakStore(db.client, LOCAL_TABLE_NAME);
  const alerts = new DynamoAlertStore(db.client, LOCAL_TABLE_NAME);
  const parts = new DynamoReportPartStore(db.client, LOCAL_TABLE_NAME);
  const savedPartnerKeys = new DynamoSavedPartnerKeys(db.client, LOCAL_TABLE_NAME);
  const keySetSource = { url: env.GITHUB_PUBLIC_KEYS_URL ?? `${url}/sandbox/github/public-keys` };
  const localKey = LocalKeySealer.loadKey(join(dataDir, "queue.key"));
  const sealer = new LocalKeySealer(localKey);
  // The local fake's certificate is trusted by the Azure adapter alone, beside any CA a test brings.
  const trustedCaPem = [options.azureTransport?.trustedCaPem, localAzure.caPem].filter(Boolean).join("\n");
  const issuers = IssuerRegistry.fromConfig(config, {
    azureTransport: { ...options.azureTransport, trustedCaPem },
    awsTransport: options.awsTransport ?? localAws.transport,
  });
  const signingKey = loadDevSigningKey(join(dataDir, DEV_SIGNING_KEY_FILE));
  const sandbox = new SandboxKeyService({
    file: join(dataDir, "sandbox-keys.json"),
    // The sandbox issuer's own mail to the owner: the replacement's secret never passes through Tourniquet.
    deliverSecret: (owner, keyId, token) => {
      const mailbox = join(dataDir, "sandbox-mailbox");
      mkdirSync(mailbox, { recursive: true, mode: 0o700 });
      const mail = {
        to: owner.email,
        subject: `Your replacement key ${keyId}`,
        key_id: keyId,
        secret: token,
      };
      writeFileSync(join(mailbox, `${keyId}.json`), `${JSON.stringify(mail, null, 2)}\n`, { mode: 0o600 });
    },
  });
  const githubApi = new SandboxGithubApi({
    appId: config.github_app?.app_id ?? "1",
    appPrivateKey: config.githubAppSecrets?.privateKey ?? githubAppKey,
  });
  const sandboxHandler = createSandboxHandler({
    service: sandbox,
    secret: sandboxSecret,
    faults: options.sandboxFaults,
  });

  const queue = new InProcessQueue({
    consumer: (delivery) => remediateLeak(workerDeps, delivery),
    maxReceives: config.remediation.max_receives,
    backoffMs: options.queueBackoffMs,
    concurrency: options.queueConcurrency,
    coalesce: options.queueCoalescing ?? true,
    deadLetterFile: join(dataDir, "dead-letters.jsonl"),
    onError: (error, delivery) =>
      log.warn("remediation delivery failed", {
        subject: subjectOf(delivery.message),
        receiveCount: delivery.receiveCount,
        error: describeError(error),
      }),
  });
  const workerDeps: WorkerDeps = {
    config,
    store,
    issuers,
    sealer,
    queue,
    githubApp,
    alerts,
    parts,
    githubWritePace: new GithubWritePace(),
    channels: createChannels(config, { outboxDir: join(dataDir, "outbox") }),
    templates: loadTemplates(),
    secrets: new LocalSecretStore(join(dataDir, "secrets"), localKey),
    log,
    // Unique per start, even where each start gets the same pid (a container's pid 1).
    workerId: `local:${process.pid}:${randomBytes(4).toString("hex")}`,
    revokeFirst: true,
  };
  const intakeDeps: IntakeDeps = {
    config,
    store,
    queue,
    sealer,
    issuers,
    log,
    parts,
    keys: new PartnerKeyCache({
      load: partnerKeySetLoader(keySetSource),
      coldFallback: savedPartnerKeysLoader(savedPartnerKeys),
      onRefreshError: (error) =>
        log.warn("partner key refresh failed; using cached keys", { error: describeError(error) }),
    }),
  };

  // The scheduled sweep, as EventBridge runs it deployed. The first run, at start, takes every open
  // leak no worker holds: the in-process queue starts empty, so their messages were lost with the
  // previous process.
  const sweepDeps: SweepDeps = {
    store,
    queue,
    log,
    fetchPartnerKeys: partnerKeySetFetcher(keySetSource),
    savedPartnerKeys,
    // The App's installations' open alerts (the local fake GitHub's), and alert fetches left owed.
    githubApp,
    alerts,
    parts,
  };
  const sweep = (options?: SweepOptions) => runSweep(sweepDeps, options);
  // A lease held by another worker than this process's was left by the process before it, killed
  // mid-step (the local stack is the only worker on its data): released, not waited out.
  const sweeping = sweep({
    staleAfterMs: 0,
    leaseHolderGone: (holder) => !holder.startsWith(`${workerDeps.workerId}:`),
  }).catch(() => undefined);
  const sweepTimer = setInterval(() => void sweep().catch(() => undefined), SWEEP_INTERVAL_MS);
  sweepTimer.unref();

  // The console is bundled in memory while the stack starts; /admin/ waits for it (a quarter second).
  const consoleStart = performance.now();
  const consoleBuild = bundleConsole();
  const consoleBuilt = consoleBuild.then(
    () => performance.now() - consoleStart,
    (error: unknown) => {
      log.error("the admin console could not be built", { error: describeError(error) });
      return Number.NaN;
    },
  );
  const adminConsole = createAdminConsoleHandler(
    async () => ({ files: memoryFiles((await consoleBuild).files), auth: consoleAuth }),
    log,
  );

  const githubWebhookDeps: GithubWebhookDeps = { config, queue, log, githubApp, alerts };

  const partnerReport = createPartnerReportHandler(async () => intakeDeps, log);
  const githubWebhook = createGithubWebhookHandler(async () => githubWebhookDeps, log);
  const adminApi = createAdminApiHandler(
    async () => ({ store, queue, adminToken, exportLimits: options.adminExportLimits }),
    log,
  );
  // The same route keys API Gateway uses, so the handlers see the events they will see deployed.
  const routes: Route[] = [
    apiRoute("POST /v1/github/secret-scanning", partnerReport),
    apiRoute("POST /v1/github/webhooks", githubWebhook),
    apiRoute("GET /v1/admin/leaks", adminApi),
    apiRoute("GET /v1/admin/leaks/export", adminApi),
    apiRoute("GET /v1/admin/leaks/{id}", adminApi),
    apiRoute("GET /v1/admin/overview", adminApi),
    apiRoute("POST /v1/admin/leaks/{id}/retry", adminApi),
    apiRoute("POST /v1/admin/leaks/{id}/dismiss", adminApi),
    apiRoute("GET /healthz", healthzHandler),
    apiRoute("GET /admin", adminConsole),
    apiRoute("GET /admin/{proxy+}", adminConsole),
  ];

  handle = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res).catch((error: unknown) => {
      log.error("local server error", { error: describeError(error) });
      if (!res.headersSent) writeJson(res, 500, { error: "internal", message: "internal error" });
      else res.end();
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://local").pathname;
    if (path === "/sandbox/github/public-keys" && req.method === "GET") {
      return writeJson(res, 200, devKeySet(signingKey));
    }
    if (path === "/sandbox/aws/keys") return localAws.aws.handle(req, res);
    if (path.startsWith(`${OPENAI_MOUNT}/`)) return localOpenai.handle(req, res, path);
    const slackRoute = slackPath(path);
    if (slackRoute) return slack.handle(req, res, slackRoute);
    if (path.startsWith("/sandbox/azure/")) {
      return localAzure.demo.handle(req, res, path.slice("/sandbox/azure".length));
    }
    if (path === "/sandbox/github/tokens") return githubApi.seedToken(req, res);
    if (path.startsWith("/sandbox/github/api/")) {
      return githubApi.handle(req, res, path.slice("/sandbox/github/api".length));
    }
    if (path === "/sandbox" || path.startsWith("/sandbox/")) {
      return sandboxHandler(req, res, path.slice("/sandbox".length) || "/");
    }
    const matching = routesFor(routes, path);
    if (matching.length === 0)
      return writeJson(res, 404, { error: "not_found", message: `no route for ${path}` });
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      res.setHeader("allow", matching.map((r) => r.method).join(", "));
      return writeJson(res, 405, {
        error: "method_not_allowed",
        message: `${req.method} is not allowed on ${path}`,
      });
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      res.setHeader("connection", "close");
      return writeJson(res, 413, {
        error: "payload_too_large",
        message: "body exceeds API Gateway's 10 MB limit",
      });
    }
    const pathParameters = route.pattern.exec(path)?.groups;
    const event = toApiEvent(req, body, {
      routeKey: route.routeKey,
      pathParameters: pathParameters ? { ...pathParameters } : undefined,
    });
    writeApiResult(res, await route.handler(event, lambdaContext(route.routeKey.replace(/\W+/g, "-"))));
  }

  return {
    url,
    port,
    dataDir,
    adminToken,
    config,
    queue,
    store,
    alerts,
    parts,
    sandbox,
    githubApi,
    azure: localAzure.azure,
    aws: localAws.aws,
    openai: localOpenai.openai,
    slack,
    githubWebhookSecret,
    dbEndpoint: db.endpoint,
    sweep,
    startupSweep: sweeping.then(() => undefined),
    consoleBuilt,
    close: async () => {
      clearInterval(sweepTimer);
      await sweeping;
      await consoleBuilt;
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      await queue.drain();
      queue.close();
      sandbox.flush();
      await localAzure.azure.close();
      await localAws.aws.close();
      await db.close();
    },
  };
}
