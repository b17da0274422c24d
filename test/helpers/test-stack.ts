import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AttributeValue, ScanCommand } from "@aws-sdk/client-dynamodb";
import { Webhooks } from "@octokit/webhooks";
import { vi } from "vitest";
import type { ExportLimits } from "../../lib/admin/leak-export.js";
import type { AwsTransportOptions } from "../../lib/issuers/aws/lazy-aws-iam-access.js";
import type { AzureTransportOptions } from "../../lib/issuers/azure/lazy-azure-management.js";
import type { RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { loadDevSigningKey, signPartnerReport } from "../../local/dev-signing-key.js";
import { localDynamoClient } from "../../local/embedded-dynamodb.js";
import {
  DEFAULT_CONFIG_PATH,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from "../../local/local-stack.js";
import type { SandboxFaults, SandboxRoute } from "../../local/sandbox/sandbox-faults.js";
import { recordingLog } from "./recording-log.js";
import { startTestEngine } from "./test-engine.js";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const SANDBOX_TYPE = "tourniquet_sandbox_token";

/** Faults the test can swap while the stack runs. */
export class SwitchableFaults implements SandboxFaults {
  plan: SandboxFaults | undefined;
  next(route: SandboxRoute) {
    return this.plan?.next(route);
  }
}

export interface TestStack {
  stack: LocalStack;
  logLines: string[];
  /** Every message handed to the queue, as sent. */
  sentMessages: RemediationMessage[];
  /** The last message sent for a leak (the last one sent at all without an id). */
  sentMessage(leakId?: string): RemediationMessage;
  faults: SwitchableFaults;
  issueKey(owner?: { email?: string; name?: string }): Promise<{ token: string; key_id: string }>;
  sandboxKey(keyId: string): Promise<{ status: string; revocations: number }>;
  report(
    matches: unknown,
    options?: { headers?: Record<string, string>; rawBody?: string },
  ): Promise<Response>;
  signedHeaders(body: string | Buffer): Record<string, string>;
  /** Creates an alert holding `secret` in the local fake GitHub; answers with its webhook payload. */
  githubAlert(
    secret: string,
    options?: { repository?: string; secretType?: string; locations?: unknown[]; installationId?: number },
  ): Promise<{ number: number; html_url: string; webhook_payload: Record<string, unknown> }>;
  /** POSTs a GitHub App webhook delivery signed with the App's secret, as GitHub does. */
  webhook(
    event: string,
    payload: unknown,
    options?: { headers?: Record<string, string>; rawBody?: string; delivery?: string; secret?: string },
  ): Promise<Response>;
  admin(path: string, token?: string): Promise<Response>;
  leakByFingerprint(fingerprint: string): Promise<LeakJson | undefined>;
  /** The table's items as DynamoDB holds them (raw), optionally only those whose pk starts with `pkPrefix`. */
  tableItems(pkPrefix?: string): Promise<Record<string, AttributeValue>[]>;
  /**
   * Everything the stack wrote or said, as one text to search for a secret: the raw table, the admin
   * API's view of these leaks, the logs, the queue messages and the outbox.
   */
  everythingWritten(leakIds: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export interface LeakJson {
  id: string;
  status: string;
  fingerprint: string;
  token_type: string;
  preview: string;
  time_to_revoke_ms: number | null;
  revoked_at: string | null;
  key_id: string | null;
  notification: { status: string } | null;
  mode: string | null;
  replacement: { key_id: string; delivered_by: string; where: string } | null;
  deliveries: { id: string; channel: string; recipient: string; status: string; reason: string | null }[];
  failure: { step: string; reason: string } | null;
  sightings: { url: string; source: string; reports: number }[];
  timeline: { at: string; step: string; outcome: string; actor: string; detail: string }[];
}

/** Starts the real local stack on a free port with its own data dir and a fast-retry config. */
export async function startTestStack(
  options: {
    configOverrides?: Record<string, unknown>;
    queueConcurrency?: number;
    env?: Record<string, string>;
    azureTransport?: AzureTransportOptions;
    awsTransport?: AwsTransportOptions;
    adminExportLimits?: Partial<ExportLimits>;
    /** Another engine than the test engine (one behind a fault proxy). */
    startDb?: LocalStackOptions["startDb"];
  } = {},
): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-test-"));
  const base = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, "utf8"));
  const config = {
    ...base,
    remediation: { max_receives: 3, step_attempts: 2, step_backoff_ms: 5 },
    ...options.configOverrides,
  };
  const configPath = join(dataDir, "config.json");
  writeFileSync(configPath, JSON.stringify(config));
  const { log, lines } = recordingLog();
  const faults = new SwitchableFaults();
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    log,
    env: {
      TOURNIQUET_CONFIG: configPath,
      TOURNIQUET_ADMIN_TOKEN: ADMIN_TOKEN,
      GITHUB_PUBLIC_KEYS_URL: undefined,
      ...options.env,
    },
    sandboxFaults: faults,
    queueBackoffMs: () => 20,
    queueConcurrency: options.queueConcurrency,
    // As SQS: the tests send identical messages on purpose (redeliveries, concurrent deliveries).
    queueCoalescing: false,
    azureTransport: options.azureTransport,
    awsTransport: options.awsTransport,
    adminExportLimits: options.adminExportLimits,
    startDb: options.startDb ?? startTestEngine,
  });
  // The sweep the stack runs at start lists the fake GitHub's installations too: done before any test.
  await stack.startupSweep;
  const sentMessages: RemediationMessage[] = [];
  const send = stack.queue.send.bind(stack.queue);
  vi.spyOn(stack.queue, "send").mockImplementation(async (messages) => {
    sentMessages.push(...(messages as RemediationMessage[]).map((m) => ({ ...m })));
    return send(messages);
  });
  const signingKey = loadDevSigningKey(join(dataDir, "dev-github-signing-key.pem"));
  const json = async <T>(response: Response) => {
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  const admin = (path: string, token = ADMIN_TOKEN) =>
    fetch(`${stack.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  const testStack: TestStack = {
    stack,
    logLines: lines,
    sentMessages,
    sentMessage: (leakId) => {
      const message = sentMessages.filter((m) => leakId === undefined || m.leakId === leakId).at(-1);
      if (!message) throw new Error(`no queue message was sent${leakId ? ` for ${leakId}` : ""}`);
      return message;
    },
    faults,
    issueKey: async (owner) =>
      json(
        await fetch(`${stack.url}/sandbox/keys`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(owner ? { owner } : {}),
        }),
      ),
    sandboxKey: async (keyId) => json(await fetch(`${stack.url}/sandbox/keys/${keyId}`)),
    signedHeaders: (body) => signPartnerReport(signingKey, body),
    githubAlert: async (secret, alertOptions = {}) =>
      json(
        await fetch(`${stack.url}/sandbox/github/api/_alerts`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            repository: alertOptions.repository ?? "acme/app",
            secret,
            secret_type: alertOptions.secretType ?? SANDBOX_TYPE,
            installation_id: alertOptions.installationId,
            locations: alertOptions.locations,
          }),
        }),
      ),
    webhook: async (event, payload, hookOptions = {}) => {
      const body = hookOptions.rawBody ?? JSON.stringify(payload);
      const webhooks = new Webhooks({ secret: hookOptions.secret ?? stack.githubWebhookSecret });
      const signature = await webhooks.sign(body);
      return fetch(`${stack.url}/v1/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/test",
          "x-github-event": event,
          "x-github-delivery": hookOptions.delivery ?? randomUUID(),
          "x-hub-signature-256": signature,
          ...hookOptions.headers,
        },
        body,
      });
    },
    report: (matches, reportOptions = {}) => {
      const body = reportOptions.rawBody ?? JSON.stringify(matches);
      return fetch(`${stack.url}/v1/github/secret-scanning`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...signPartnerReport(signingKey, body),
          ...reportOptions.headers,
        },
        body,
      });
    },
    admin,
    tableItems: async (pkPrefix) => {
      const db = localDynamoClient(stack.dbEndpoint);
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await db.send(
          new ScanCommand({
            TableName: "tourniquet-local",
            ExclusiveStartKey: start,
            ...(pkPrefix
              ? {
                  FilterExpression: "begins_with(pk, :prefix)",
                  ExpressionAttributeValues: { ":prefix": { S: pkPrefix } },
                }
              : {}),
          }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    everythingWritten: async (leakIds) => {
      const outbox = join(stack.dataDir, "outbox");
      const views = await Promise.all(
        leakIds.map(async (id) => (await admin(`/v1/admin/leaks/${id}`)).text()),
      );
      return [
        JSON.stringify(await testStack.tableItems()),
        ...views,
        lines.join("\n"),
        JSON.stringify(sentMessages),
        ...(existsSync(outbox) ? readdirSync(outbox).map((f) => readFileSync(join(outbox, f), "utf8")) : []),
      ].join("\n");
    },
    leakByFingerprint: async (fingerprint) => {
      const page = await json<{ items: { id: string }[] }>(
        await admin(`/v1/admin/leaks?fingerprint=${fingerprint}`),
      );
      const id = page.items[0]?.id;
      return id ? json<LeakJson>(await admin(`/v1/admin/leaks/${id}`)) : undefined;
    },
    close: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return testStack;
}

/** A response's JSON, loosely typed: the assertions that follow check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: test JSON is checked by the assertions that read it
export const readJson = async (response: Response): Promise<any> => response.json();
