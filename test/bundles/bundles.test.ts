import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { Webhooks } from "@octokit/webhooks";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  ScheduledEvent,
  SQSBatchResponse,
  SQSEvent,
} from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BUNDLING } from "../../infra/function-bundles.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import type { SweepResult } from "../../lib/schedule/run-sweep.js";
import { DynamoLeakStore } from "../../lib/store/dynamo-leak-store.js";
import { leakIdFor } from "../../lib/store/leak.js";
import { type EmbeddedDynamo, ensureLeakTable, startEmbeddedDynamo } from "../../local/embedded-dynamodb.js";
import type { SandboxAzure } from "../../local/sandbox/sandbox-azure.js";
import { SandboxKeyService } from "../../local/sandbox/sandbox-key-service.js";
import { createSandboxHandler } from "../../local/sandbox/sandbox-routes.js";
import {
  type BuiltBundle,
  type BundleId,
  buildBundles,
  outputInputs,
  REPO_ROOT,
  TEMPLATES_BUNDLE,
} from "../helpers/bundles.js";
import { makeLeak } from "../helpers/dynamo.js";
import { type FakeKms, type FakeSqs, startFakeKms, startFakeSqs } from "../helpers/fake-aws.js";
import { AZURE_APP, startFakeAzure } from "../helpers/fake-azure.js";
import { FAKE_APP_ID, type FakeGithubApi, startFakeGithubApi } from "../helpers/fake-github-api.js";
import { FakeGitHubKeysServer } from "../helpers/fake-github-keys-server.js";
import { apiEvent, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda-events.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";
import { createPartnerSigner, type PartnerSigner } from "../helpers/partner-keys.js";

// The handlers as Lambda runs them: each bundled exactly as the CDK stack bundles it (minified ESM with
// the AWS SDK inside), loaded with Node's own `import()` (not vitest's transform), and invoked with API
// Gateway v2 and SQS events against real local parts: dynalite for DynamoDB, loopback fakes of SQS and
// KMS reached through the SDK's AWS_ENDPOINT_URL_* variables, the sandbox issuer over HTTP, and a
// GitHub key-set server.

type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;
type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type SweepHandler = (event: ScheduledEvent, context: Context) => Promise<SweepResult>;

const TABLE_NAME = "tourniquet-leaks";
const SANDBOX_TYPE = "tourniquet_sandbox_token";
const SANDBOX_SECRET = "bundle-test-sandbox-secret-0123456789abcdef";
const WEBHOOK_SECRET = "bundle-test-webhook-secret-0123456789abcdef";

/**
 * The bundles are built under a `node_modules/` folder: vitest hands `.mjs` files there to Node's own
 * loader instead of transforming them, so the bundle runs exactly as Lambda's Node would run it.
 */
const DIST = join("node_modules", "tourniquet-bundles");
const PROBE = "probe.mjs";
/** True when code in the bundles' folder runs under vitest's module runner rather than natively. */
let transformedByVitest: unknown;

let workDir: string;
let bundles: BuiltBundle[];
let dynamo: EmbeddedDynamo;
let sqs: FakeSqs;
let kms: FakeKms;
let issuer: LoopbackServer;
let keysServer: FakeGitHubKeysServer;
let signer: PartnerSigner;
let githubApi: FakeGithubApi;
let configPath: string;
const sandbox = new SandboxKeyService();
const handlers = new Map<BundleId, unknown>();
/** Everything the bundles wrote to stdout/stderr (their JSON logs). */
const output: string[] = [];
const savedEnv = { ...process.env };

const apiHandler = (id: BundleId) => handlers.get(id) as ApiHandler;
const sqsHandler = (id: BundleId) => handlers.get(id) as SqsHandler;

beforeAll(async () => {
  // Inside the repository's node_modules, so the bundles find the AWS SDK there as on Lambda they
  // find the runtime's copy.
  workDir = mkdtempSync(join(process.cwd(), "node_modules", ".tourniquet-bundles-"));
  const dist = join(workDir, DIST);
  bundles = await buildBundles(dist);
  writeFileSync(
    join(dist, PROBE),
    'export const transformed = typeof __vite_ssr_import__ !== "undefined" || typeof __vite_ssr_exports__ !== "undefined";\n',
  );

  dynamo = await startEmbeddedDynamo();
  await ensureLeakTable(dynamo.client, TABLE_NAME);
  sqs = await startFakeSqs();
  kms = await startFakeKms();
  const sandboxRoutes = createSandboxHandler({ service: sandbox, secret: SANDBOX_SECRET });
  issuer = await serve((req, res) => {
    void sandboxRoutes(req, res, (req.url ?? "/").replace(/^\/sandbox/, "") || "/");
  });
  signer = createPartnerSigner();
  keysServer = await FakeGitHubKeysServer.start([signer.published]);
  githubApi = await startFakeGithubApi();

  configPath = join(workDir, "tourniquet.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      issuers: {
        sandbox: {
          kind: "http",
          url: `${issuer.url}/sandbox`,
          secret: { env: "TOURNIQUET_SANDBOX_SECRET" },
          timeout_ms: 5000,
        },
      },
      token_types: { [SANDBOX_TYPE]: { issuer: "sandbox", mode: "revoke", channels: ["email"] } },
      github_app: {
        app_id: FAKE_APP_ID,
        private_key: { env: "GITHUB_APP_PRIVATE_KEY" },
        webhook_secret: { env: "GITHUB_WEBHOOK_SECRET" },
        api_url: githubApi.url,
      },
      remediation: { max_receives: 3, step_attempts: 2, step_backoff_ms: 5 },
      notifications: {
        security_contact: "security@example.test",
        admin_url: "https://tourniquet.example.test/v1/admin/leaks",
        channels: { email: { kind: "outbox", format: "email" } },
      },
    }),
  );

  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_KMS: kms.url,
    TABLE_NAME,
    QUEUE_URL: sqs.queueUrl,
    TOKEN_KEY_ID: kms.keyArn,
    TOURNIQUET_CONFIG: configPath,
    TOURNIQUET_SANDBOX_SECRET: SANDBOX_SECRET,
    GITHUB_APP_PRIVATE_KEY: githubApi.appPrivateKey,
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    GITHUB_PUBLIC_KEYS_URL: keysServer.url,
    OUTBOX_DIR: join(workDir, "outbox"),
    SECRETS_PREFIX: "tourniquet-test/replacements",
    // Where the stack puts the templates that travel with the remediate bundle.
    TOURNIQUET_TEMPLATES_DIR: join(workDir, DIST, TEMPLATES_BUNDLE, "templates"),
  });

  // The bundles' Powertools loggers write JSON lines to stdout; keep them for the no-token check.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: unknown) => {
      output.push(String(chunk));
      return true;
    });
  }
  for (const b of bundles) {
    const module = (await import(/* @vite-ignore */ pathToFileURL(b.file).href)) as { handler: unknown };
    handlers.set(b.id, module.handler);
  }
  const probe = (await import(/* @vite-ignore */ pathToFileURL(join(dist, PROBE)).href)) as {
    transformed: unknown;
  };
  transformedByVitest = probe.transformed;
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await Promise.allSettled([
    sqs?.close(),
    kms?.close(),
    issuer?.close(),
    keysServer?.close(),
    githubApi?.close(),
  ]);
  await dynamo?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function signedReport(matches: unknown[]): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(matches);
  return {
    body,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Github-Public-Key-Identifier": signer.keyId,
      "Github-Public-Key-Signature": signer.sign(body),
    },
  };
}

function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("handler bundles", () => {
  it("builds one minified ESM entry per function (chunks beside it), the templates next to the worker", () => {
    expect(transformedByVitest).toBe(false);
    expect(bundles.map((b) => b.id).sort()).toEqual([
      "AdminApi",
      "AdminConsole",
      "GithubWebhook",
      "Healthz",
      "PartnerReport",
      "Remediate",
      "Sweep",
    ]);
    for (const b of bundles) {
      expect(b.coldFiles[0]).toBe(b.file);
      for (const file of [...b.coldFiles, ...b.lazyFiles.map((l) => l.file)]) {
        // Every file is its own module: each needs the banner's `require` for the CommonJS it inlines.
        expect(readFileSync(file, "utf8").startsWith(BUNDLING.banner), file).toBe(true);
        expect(statSync(`${file}.map`).size).toBeGreaterThan(0);
        const where = relative(join(workDir, DIST, b.id), file);
        expect(where === BUNDLING.entryFile || where.startsWith(`${BUNDLING.chunksDir}/`), where).toBe(true);
      }
      // Nothing left for Lambda's runtime to resolve but Node's own modules, and the credential sources
      // a Lambda never reaches, which only the SDK's default chain imports, dynamically.
      const external = Object.values(b.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external));
      const notNode = external.filter((i) => !isBuiltin(i.path));
      expect(
        notNode.filter((i) => i.kind !== "dynamic-import").map((i) => i.path),
        b.id,
      ).toEqual([]);
      expect(
        notNode.filter((i) => !BUNDLING.external.includes(i.path)).map((i) => i.path),
        b.id,
      ).toEqual([]);
      expect(typeof handlers.get(b.id)).toBe("function");
    }
    expect(
      readdirSync(join(workDir, DIST, TEMPLATES_BUNDLE, "templates")).filter((f) => f.startsWith("leak-")),
    ).toEqual(["leak-notification.html", "leak-notification.txt"]);
  });

  it("bundles, per function, only the AWS SDK clients that function calls", () => {
    /** The AWS SDK clients in a function's cold-start files, or in the chunks only a dynamic import reaches. */
    const clients = (id: BundleId, files: "cold" | "lazy" = "cold") => {
      const bundle = bundles.find((b) => b.id === id) as BuiltBundle;
      const paths = files === "cold" ? bundle.coldFiles : bundle.lazyFiles.map((l) => l.file);
      const names = outputInputs(
        bundle.metafile,
        paths.map((file) => relative(REPO_ROOT, file)),
      ).map(([input]) => input);
      return [
        ...new Set(names.flatMap((name) => /@aws-sdk\/(client-[a-z0-9-]+)\//.exec(name)?.[1] ?? [])),
      ].sort();
    };
    // Deployed, the intakes and the worker read the config from SSM and its secrets from Secrets Manager.
    const config = ["client-secrets-manager", "client-ssm"];
    expect(clients("PartnerReport")).toEqual(
      ["client-dynamodb", "client-kms", ...config, "client-sqs"].sort(),
    );
    // The App's webhook records the alert and queues its fetch: no KMS, no issuer; the config from SSM
    // and the App's secret from Secrets Manager.
    expect(clients("GithubWebhook")).toEqual(["client-dynamodb", ...config, "client-sqs"].sort());
    // The worker stores replacement secrets in Secrets Manager and sends email with SES (loaded on first
    // use); it sends to its own queue only after revoking leaks together, so SQS loads with that send.
    expect([...new Set([...clients("Remediate"), ...clients("Remediate", "lazy")])].sort()).toEqual(
      [
        "client-dynamodb",
        "client-iam",
        "client-kms",
        ...config,
        "client-sesv2",
        "client-sqs",
        "client-sts",
      ].sort(),
    );
    expect(clients("Remediate")).not.toContain("client-sqs");
    // The admin API reads the table and sends leaks back to the worker; so does the sweep, which also
    // reads the config and the issuers' secret (to refresh issuers' caches, read usage since revocation).
    expect(clients("AdminApi")).toEqual(["client-dynamodb", "client-sqs"]);
    expect(clients("Sweep")).toEqual(["client-dynamodb", ...config, "client-sqs"].sort());
    expect(clients("Healthz")).toEqual([]);
    // The console's function serves files: no AWS client at all.
    expect(clients("AdminConsole")).toEqual([]);
    // The AWS issuer's IAM and STS clients: only in a chunk loaded with the first AWS call, in each
    // function that verifies or revokes, and in no other.
    for (const id of ["PartnerReport", "Remediate", "Sweep"] as const) {
      expect(clients(id), id).not.toContain("client-iam");
      expect(clients(id, "lazy"), id).toEqual(expect.arrayContaining(["client-iam", "client-sts"]));
    }
    expect(clients("GithubWebhook", "lazy")).toEqual([]);
    expect(clients("AdminApi", "lazy")).toEqual([]);
    expect(clients("Healthz", "lazy")).toEqual([]);
    expect(clients("AdminConsole", "lazy")).toEqual([]);
  });

  it("healthz answers 200", async () => {
    const result = await apiHandler("Healthz")(apiEvent("GET /healthz"), lambdaContext("Healthz"));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? "")).toEqual({ status: "ok" });
  });

  describe("a sandbox key reported, remediated and listed", () => {
    const issued = sandbox.issue({ email: "owner@example.test", name: "Bundle Owner" });
    const fingerprint = fingerprintToken(issued.token);
    const leakId = leakIdFor(fingerprint);

    it("partner-report answers 200 with true_positive, records the leak and queues the token sealed", async () => {
      const report = signedReport([
        {
          token: issued.token,
          type: SANDBOX_TYPE,
          url: "https://github.com/octo/app/blob/main/.env",
          source: "content",
        },
      ]);
      const result = await apiHandler("PartnerReport")(
        apiEvent("POST /v1/github/secret-scanning", report),
        lambdaContext("PartnerReport"),
      );
      expect(result.statusCode, result.body).toBe(200);
      expect(JSON.parse(result.body ?? "")).toEqual([
        { token_hash: fingerprint, token_type: SANDBOX_TYPE, label: "true_positive" },
      ]);

      const store = new DynamoLeakStore(dynamo.client, TABLE_NAME);
      const leak = await store.getLeak(leakId);
      expect(leak).toMatchObject({ id: leakId, fingerprint, tokenType: SANDBOX_TYPE });
      expect(keysServer.requestCount).toBe(1);

      expect(sqs.sent).toHaveLength(1);
      const sent = sqs.sent[0];
      expect(sent?.queueUrl).toBe(sqs.queueUrl);
      const message = JSON.parse(sent?.body ?? "") as { leakId: string; sealedToken: string };
      expect(message.leakId).toBe(leakId);
      expect(message.sealedToken).toMatch(/^v1\.kms\./);
      expect(sent?.body).not.toContain(issued.token);
      expect(kms.calls).toEqual(["GenerateDataKey"]);
      // The intake's EMF record (CloudWatch embedded metric format) for this report.
      const emf = output
        .flatMap((chunk) => chunk.split("\n"))
        .filter((line) => line.includes('"_aws"') && line.includes("ReportsReceived"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(emf).toEqual([
        expect.objectContaining({
          ReportsReceived: 1,
          TokensReported: 1,
          TokensVerified: 1,
          TruePositives: 1,
        }),
      ]);
    });

    it("an unsigned report gets a 4xx and queues nothing", async () => {
      const report = signedReport([{ token: issued.token, type: SANDBOX_TYPE, url: "", source: "content" }]);
      const result = await apiHandler("PartnerReport")(
        apiEvent("POST /v1/github/secret-scanning", {
          body: report.body,
          headers: { "Content-Type": "application/json" },
        }),
        lambdaContext("PartnerReport"),
      );
      // The public code survives minification (the class names do not).
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body ?? "")).toMatchObject({ error: "bad_request" });
      expect(sqs.sent).toHaveLength(1);
    });

    it("remediate opens the sealed token through KMS and revokes the sandbox key", async () => {
      const body = sqs.sent[0]?.body ?? "";
      const result = await sqsHandler("Remediate")(sqsEvent(sqsRecord(body, 1)), lambdaContext("Remediate"));
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sandbox.get(issued.keyId)).toMatchObject({ status: "revoked", revocations: 1 });
      // A separate function instance: it had to ask KMS to unwrap the data key.
      expect(kms.calls).toContain("Decrypt");
      const leak = await new DynamoLeakStore(dynamo.client, TABLE_NAME).getLeak(leakId);
      expect(leak?.status).toBe("revoked");
      // Revoke first: the notification goes back to the queue as a message of its own, sent through
      // the bundled SQS client, and the next delivery tells the owner.
      expect(sqs.sent).toHaveLength(2);
      const handOff = sqs.sent[1]?.body ?? "";
      expect(JSON.parse(handOff)).toMatchObject({ leakId });
      expect(handOff).not.toContain(issued.token);
      expect(filesUnder(join(workDir, "outbox"))).toHaveLength(0);
      const next = await sqsHandler("Remediate")(sqsEvent(sqsRecord(handOff, 1)), lambdaContext("Remediate"));
      expect(next).toEqual({ batchItemFailures: [] });
      expect(filesUnder(join(workDir, "outbox")).length).toBeGreaterThan(0);
      expect(sandbox.get(issued.keyId)).toMatchObject({ revocations: 1 });
    });

    it("remediate reports a garbled record as a batch item failure, and only that one", async () => {
      const garbled = sqsRecord("{not json");
      const redelivered = sqsRecord(sqs.sent[0]?.body ?? "", 2);
      const result = await sqsHandler("Remediate")(
        sqsEvent(garbled, redelivered),
        lambdaContext("Remediate"),
      );
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: garbled.messageId }] });
      // The redelivery did not revoke again.
      expect(sandbox.get(issued.keyId)?.revocations).toBe(1);
    });

    it("admin-api lists the leak for a caller the JWT authorizer let through", async () => {
      const result = await apiHandler("AdminApi")(
        apiEvent("GET /v1/admin/leaks", {
          claims: {
            iss: "https://issuer.example.test",
            sub: "admin-1",
            "cognito:groups": "[tourniquet-admins]",
          },
        }),
        lambdaContext("AdminApi"),
      );
      expect(result.statusCode, result.body).toBe(200);
      const page = JSON.parse(result.body ?? "") as { items: { id: string; status: string }[] };
      expect(page.items).toEqual([expect.objectContaining({ id: leakId, status: "revoked" })]);
      expect(result.body).not.toContain(issued.token);
    });

    it("admin-api answers 403 to a caller the authorizer let through who is in no admin group", async () => {
      const result = await apiHandler("AdminApi")(
        apiEvent("GET /v1/admin/leaks", { claims: { iss: "https://issuer.example.test", sub: "dev-1" } }),
        lambdaContext("AdminApi"),
      );
      expect(result.statusCode).toBe(403);
      expect(JSON.parse(result.body ?? "")).toMatchObject({ error: "forbidden" });
    });

    it("admin-api answers 401 without authorizer claims", async () => {
      const result = await apiHandler("AdminApi")(apiEvent("GET /v1/admin/leaks"), lambdaContext("AdminApi"));
      expect(result.statusCode).toBe(401);
      expect(JSON.parse(result.body ?? "")).toMatchObject({ error: "unauthorized" });
    });

    it("the raw token is in no table item, log line or outbox file", async () => {
      const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: TABLE_NAME }));
      expect(Items.length).toBeGreaterThan(0);
      expect(JSON.stringify(Items)).not.toContain(issued.token);
      expect(output.join("").length).toBeGreaterThan(0);
      expect(output.join("")).not.toContain(issued.token);
      for (const file of filesUnder(join(workDir, "outbox"))) {
        expect(readFileSync(file, "utf8")).not.toContain(issued.token);
      }
    });
  });
  describe("a GitHub App secret scanning alert", () => {
    it("github-webhook verifies the delivery, records the alert and queues its fetch; remediate fetches and records it", async () => {
      const leakedKey = sandbox.issue({ email: "app-owner@example.test" });
      const alert = githubApi.api.createAlert({
        repository: "acme/app",
        secret: leakedKey.token,
        secret_type: SANDBOX_TYPE,
        installation_id: 77,
      });
      const body = JSON.stringify(githubApi.api.webhookPayload(alert));
      const headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "secret_scanning_alert",
        "X-GitHub-Delivery": "00000000-0000-4000-8000-00000000beef",
        "X-Hub-Signature-256": await new Webhooks({ secret: WEBHOOK_SECRET }).sign(body),
      };
      const sentBefore = sqs.sent.length;
      const githubCalls = githubApi.api.requests.length;

      const result = await apiHandler("GithubWebhook")(
        apiEvent("POST /v1/github/webhooks", { body, headers }),
        lambdaContext("GithubWebhook"),
      );

      expect(result.statusCode, result.body).toBe(202);
      expect(JSON.parse(result.body ?? "")).toMatchObject({ queued: true, alert: { number: alert.number } });
      expect(githubApi.api.requests.length).toBe(githubCalls);
      const queued = sqs.sent.slice(sentBefore);
      expect(queued.map((m) => JSON.parse(m.body))).toEqual([{ alertId: expect.stringMatching(/^al_/) }]);
      const emf = output
        .flatMap((chunk) => chunk.split("\n"))
        .filter((line) => line.includes('"_aws"') && line.includes("AlertsReceived"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(emf).toEqual([expect.objectContaining({ AlertsReceived: 1, TokensReported: 0 })]);

      const fetched = await sqsHandler("Remediate")(
        sqsEvent(sqsRecord(queued[0]?.body ?? "", 1)),
        lambdaContext("Remediate"),
      );
      expect(fetched).toEqual({ batchItemFailures: [] });
      const fingerprint = fingerprintToken(leakedKey.token);
      const leaks = new DynamoLeakStore(dynamo.client, TABLE_NAME);
      const leak = await leaks.getLeakDetails(leakIdFor(fingerprint));
      expect(leak?.sightings).toEqual([expect.objectContaining({ source: "github_app:acme/app" })]);
      expect((await leaks.getLeak(leakIdFor(fingerprint)))?.alerts).toEqual([
        expect.objectContaining({ owner: "acme", repo: "app", number: alert.number }),
      ]);
      for (const message of sqs.sent.slice(sentBefore)) expect(message.body).not.toContain(leakedKey.token);
    });

    it("github-webhook refuses a delivery signed with another secret", async () => {
      const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
      const result = await apiHandler("GithubWebhook")(
        apiEvent("POST /v1/github/webhooks", {
          body,
          headers: {
            "Content-Type": "application/json",
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "00000000-0000-4000-8000-00000000dead",
            "X-Hub-Signature-256": await new Webhooks({ secret: "not-the-secret" }).sign(body),
          },
        }),
        lambdaContext("GithubWebhook"),
      );
      expect(result.statusCode).toBe(401);
      expect(JSON.parse(result.body ?? "")).toMatchObject({ error: "signature" });
    });
  });

  describe("the scheduled sweep", () => {
    const scheduled: ScheduledEvent = {
      version: "0",
      id: "00000000-0000-4000-8000-000000000001",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: ["arn:aws:events:us-east-1:000000000000:rule/tourniquet-dev-SweepSchedule"],
      detail: {},
    };

    it("saves GitHub's key set and sends a leak whose message was lost back to the worker", async () => {
      const store = new DynamoLeakStore(dynamo.client, TABLE_NAME);
      const longAgo = new Date(Date.now() - 60 * 60_000).toISOString();
      const lost = makeLeak({
        firstSeen: longAgo,
        sealedToken: "v1.kms.sealed-elsewhere",
        timeline: [{ at: longAgo, step: "intake", outcome: "ok", actor: "intake", detail: "report" }],
      });
      await store.createLeak(lost);
      const fetchesBefore = keysServer.requestCount;
      const sentBefore = sqs.sent.length;

      const result = await (handlers.get("Sweep") as SweepHandler)(scheduled, lambdaContext("Sweep"));

      expect(result.partnerKeys).toMatchObject({ saved: true, keys: 1 });
      expect(result.reconcile.requeued).toBe(1);
      expect(keysServer.requestCount).toBe(fetchesBefore + 1);
      const resent = sqs.sent.slice(sentBefore).map((m) => JSON.parse(m.body) as { leakId: string });
      expect(resent).toEqual([{ leakId: lost.id, sealedToken: "v1.kms.sealed-elsewhere" }]);
      expect((await store.getLeak(lost.id))?.timeline.at(-1)).toMatchObject({
        step: "reconcile",
        actor: "sweep",
      });
    });

    it("lets a cold intake verify reports with the saved key set while GitHub's key endpoint is down", async () => {
      keysServer.failWith(503);
      try {
        const bundle = bundles.find((b) => b.id === "PartnerReport")?.file ?? "";
        // A fresh module instance: a new container, with an empty key cache.
        const cold = (await import(/* @vite-ignore */ `${pathToFileURL(bundle).href}?cold`)) as {
          handler: ApiHandler;
        };
        const fresh = sandbox.issue({ email: "cold@example.test" });
        const report = signedReport([
          { token: fresh.token, type: SANDBOX_TYPE, url: "https://gist.github.com/x", source: "gist" },
        ]);
        const result = await cold.handler(
          apiEvent("POST /v1/github/secret-scanning", report),
          lambdaContext("PartnerReport"),
        );
        expect(result.statusCode, result.body).toBe(200);
        expect(JSON.parse(result.body ?? "")).toEqual([
          { token_hash: fingerprintToken(fresh.token), token_type: SANDBOX_TYPE, label: "true_positive" },
        ]);
      } finally {
        keysServer.recover();
      }
    });
  });

  it("loads the GitHub App's REST client (Octokit, auth-app, bottleneck) only with its first call", () => {
    const octokit = /node_modules\/(@octokit\/(core|auth-app|plugin-retry|plugin-throttling)|bottleneck)\//;
    const fromRoot = (file: string) => relative(REPO_ROOT, file);
    for (const b of bundles) {
      const cold = outputInputs(b.metafile, b.coldFiles.map(fromRoot)).map(([input]) => input);
      expect(
        cold.filter((input) => octokit.test(input)),
        b.id,
      ).toEqual([]);
    }
    // The worker (fetch, resolve) and the sweep (listings) load it on first use.
    for (const id of ["Remediate", "Sweep"] as const) {
      const b = bundles.find((x) => x.id === id) as BuiltBundle;
      const lazy = outputInputs(
        b.metafile,
        b.lazyFiles.map((l) => fromRoot(l.file)),
      ).map(([input]) => input);
      expect(
        lazy.some((input) => octokit.test(input)),
        id,
      ).toBe(true);
    }
  });

  // Vendor SDKs an issuer needs only for its own keys: in a chunk the issuer's first call loads.
  for (const [vendor, sdk, adapter] of [
    [
      "the AWS issuer's STS and IAM clients",
      /node_modules\/@aws-sdk\/client-(iam|sts)\//,
      "aws/aws-sdk-iam-access",
    ],
    ["OpenAI's SDK", /node_modules\/openai\//, "openai/openai-sdk-access"],
    ["Slack's SDK", /node_modules\/@slack\/web-api\//, "slack/slack-web-api"],
  ] as const) {
    it(`loads ${vendor} only with the issuer's first call`, () => {
      const fromRoot = (file: string) => relative(REPO_ROOT, file);
      const module = adapter.split("/")[1] ?? "";
      for (const id of ["PartnerReport", "Remediate", "Sweep"] as const) {
        const b = bundles.find((x) => x.id === id) as BuiltBundle;
        const cold = outputInputs(b.metafile, b.coldFiles.map(fromRoot)).map(([input]) => input);
        expect(
          cold.filter((input) => sdk.test(input)),
          id,
        ).toEqual([]);
        const chunk = b.lazyFiles.find((c) =>
          outputInputs(b.metafile, [fromRoot(c.file)]).some(([input]) =>
            input.endsWith(`lib/issuers/${adapter}.ts`),
          ),
        );
        expect(chunk?.file, id).toMatch(new RegExp(`/chunks/${module}-[A-Z0-9]+\\.mjs$`));
        const inChunk = outputInputs(b.metafile, [fromRoot(chunk?.file ?? "")]).map(([input]) => input);
        expect(
          inChunk.some((input) => sdk.test(input)),
          id,
        ).toBe(true);
        const entry = b.metafile.outputs[fromRoot(b.file)];
        expect(entry?.imports.find((i) => i.path === fromRoot(chunk?.file ?? ""))?.kind, id).toBe(
          "dynamic-import",
        );
      }
    });
  }

  describe("the Azure issuer's SDKs", () => {
    const bundle = (id: BundleId) => bundles.find((b) => b.id === id) as BuiltBundle;
    const fromRoot = (file: string) => relative(REPO_ROOT, file);
    const azureChunk = (b: BuiltBundle) =>
      b.lazyFiles.find((chunk) =>
        outputInputs(b.metafile, [fromRoot(chunk.file)]).some(([input]) =>
          input.endsWith("lib/issuers/azure/azure-arm-management.ts"),
        ),
      );

    it("are in no function's cold-start files, but in a chunk only a dynamic import reaches", () => {
      for (const b of bundles) {
        const cold = outputInputs(b.metafile, b.coldFiles.map(fromRoot)).map(([input]) => input);
        expect(
          cold.filter((input) => input.includes("node_modules/@azure/")),
          b.id,
        ).toEqual([]);
        for (const file of b.coldFiles) expect(readFileSync(file, "utf8"), file).not.toMatch(/msal/i);
      }
      const intake = bundle("PartnerReport");
      const chunk = azureChunk(intake);
      expect(chunk?.file).toMatch(/\/chunks\/azure-arm-management-[A-Z0-9]+\.mjs$/);
      const inChunk = outputInputs(intake.metafile, [fromRoot(chunk?.file ?? "")]).map(([input]) => input);
      for (const sdk of ["@azure/identity", "@azure/msal-node", "@azure/arm-cognitiveservices"])
        expect(
          inChunk.some((input) => input.includes(`node_modules/${sdk}/`)),
          sdk,
        ).toBe(true);
      expect(readFileSync(chunk?.file ?? "", "utf8")).toMatch(/msal/i);
      // The intake itself reaches the chunk only through the dynamic import.
      const entry = intake.metafile.outputs[fromRoot(intake.file)];
      expect(entry?.imports.find((i) => i.path === fromRoot(chunk?.file ?? ""))?.kind).toBe("dynamic-import");
      // Shared modules (lib/errors.ts: `instanceof IssuerError`) are one instance: in a cold file, not copied.
      const everywhere = outputInputs(intake.metafile).map(([input]) => input);
      expect(everywhere.filter((input) => input === "lib/errors.ts")).toHaveLength(1);
    });

    it("load with the first Azure call: a fresh intake process finds a reported Azure key", async () => {
      const subscription = "3f2b6c1e-9a7d-4e52-8c0b-1d2e3f4a5b6c";
      const azure: SandboxAzure = await startFakeAzure();
      try {
        const account = azure.addAccount({
          subscriptionId: subscription,
          resourceGroup: "rg-ai",
          name: "bundle-openai",
          kind: "OpenAI",
          tags: { owner: "ai-team@example.test" },
        });
        const config = JSON.parse(readFileSync(configPath, "utf8"));
        config.issuers.azure = {
          kind: "azure_ai",
          tenant_id: AZURE_APP.tenantId,
          client_id: AZURE_APP.clientId,
          client_secret: { env: "AZURE_CLIENT_SECRET" },
          subscriptions: [subscription],
          authority_url: azure.url,
          management_url: azure.url,
        };
        config.token_types.azure_openai_key = { issuer: "azure", mode: "revoke", channels: ["email"] };
        const azureConfig = join(workDir, "tourniquet.azure.config.json");
        writeFileSync(azureConfig, JSON.stringify(config));
        const report = signedReport([
          { token: account.key1, type: "azure_openai_key", url: "https://gist.github.com/y", source: "gist" },
        ]);
        const resultFile = join(workDir, "azure-intake-result.json");
        // A new Node process, as a new Lambda container: the deployed function would trust the fake's
        // test certificate the same way (NODE_EXTRA_CA_CERTS), the adapter's test-only option being unset.
        const child = [
          'import { writeFileSync } from "node:fs";',
          "const { handler } = await import(process.env.TQ_BUNDLE);",
          "const deadline = Date.now() + 25_000;",
          "const context = { ...JSON.parse(process.env.TQ_CONTEXT), getRemainingTimeInMillis: () => deadline - Date.now() };",
          "const result = await handler(JSON.parse(process.env.TQ_EVENT), context);",
          "writeFileSync(process.env.TQ_RESULT, JSON.stringify(result));",
          "process.exit(0);",
        ].join("\n");
        await promisify(execFile)(process.execPath, ["--input-type=module", "-e", child], {
          env: {
            ...process.env,
            NODE_OPTIONS: "",
            NODE_EXTRA_CA_CERTS: fileURLToPath(
              new URL("../fixtures/tls/localhost-cert.pem", import.meta.url),
            ),
            TOURNIQUET_CONFIG: azureConfig,
            AZURE_CLIENT_SECRET: AZURE_APP.clientSecret,
            TQ_BUNDLE: pathToFileURL(bundle("PartnerReport").file).href,
            TQ_EVENT: JSON.stringify(apiEvent("POST /v1/github/secret-scanning", report)),
            TQ_CONTEXT: JSON.stringify(lambdaContext("PartnerReport")),
            TQ_RESULT: resultFile,
          },
          timeout: 60_000,
        });
        const result = JSON.parse(readFileSync(resultFile, "utf8")) as APIGatewayProxyStructuredResultV2;
        expect(result.statusCode, result.body).toBe(200);
        expect(JSON.parse(result.body ?? "")).toEqual([
          {
            token_hash: fingerprintToken(account.key1),
            token_type: "azure_openai_key",
            label: "true_positive",
          },
        ]);
        // Microsoft's SDKs, from the chunk, asked Entra ID for a token and ARM for the keys.
        expect(azure.armCalls("listKeys").length).toBeGreaterThan(0);
      } finally {
        await azure.close();
      }
    });
  });
});
