import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { type Log, silentLog } from "../../lib/log.js";
import { DEV_SIGNING_KEY_FILE, loadDevSigningKey } from "../../local/dev-signing-key.js";
import { startLocalStack } from "../../local/local-stack.js";
import { median, quantile } from "../stats.js";
import { type Check, runChecks } from "./load-checks.js";
import {
  type IssuedKey,
  LoadPlan,
  REPORT_KINDS,
  type ReportKind,
  SANDBOX_TYPE,
  type SentReport,
} from "./load-plan.js";

// One load run: a fresh local stack in its own data dir, a pool of live sandbox keys issued beforehand,
// autocannon's connections sending signed partner reports for a fixed time (or count), then the queue
// drained and the checks run. Everything stays on loopback.

export interface LoadOptions {
  seconds: number;
  connections: number;
  /** Live keys issued beforehand; each is reported new once (the count bound on remediations). */
  liveTokens: number;
  /** Stops after this many requests even if time is left (autocannon's `amount`). */
  maxRequests?: number | undefined;
  /** How long the queue may take to drain after the senders stop. */
  drainTimeoutMs?: number | undefined;
  log?: Log | undefined;
}

export interface LoadResult {
  date: string;
  setup: LoadOptions & { store: string; canaries: number };
  requests: {
    total: number;
    perSecond: number;
    byKind: Record<ReportKind, { sent: number; answered: number; statuses: Record<string, number> }>;
    statusCodes: Record<string, number>;
    inFlightAtEnd: number;
    livePoolExhausted: boolean;
  };
  answerLatencyMs: { p50: number; p99: number; max: number };
  timeToRevokeMs: { revoked: number; p50: number; p99: number; max: number };
  drainMs: number;
  /** Successful queue deliveries: a repeat of a leak still owing a step queues it again (by design). */
  queueDeliveries: number;
  /** Log message → how often the stack warned or erred with it. */
  warnings: Record<string, number>;
  checks: Check[];
  passed: boolean;
}

const CANARIES = 50;

/** Warnings and errors counted by message (the stack logs retries and failures there; never tokens). */
function countingLog(): { log: Log; warnings: Record<string, number> } {
  const warnings: Record<string, number> = {};
  const count = (message: string, attributes?: Record<string, unknown>) => {
    const error = typeof attributes?.error === "string" ? `: ${attributes.error}` : "";
    // Ids stripped, so one cause is one line however many leaks or key ids it hit.
    const key = `${message}${error}`.replace(/lk_[0-9a-f]+/g, "lk_…").replace(/\b[0-9a-f]{32,}\b/g, "…");
    warnings[key] = (warnings[key] ?? 0) + 1;
  };
  return { log: { ...silentLog, warn: count, error: count }, warnings };
}

function byKind(sent: readonly SentReport[]): LoadResult["requests"]["byKind"] {
  const out = Object.fromEntries(
    REPORT_KINDS.map((kind) => [kind, { sent: 0, answered: 0, statuses: {} as Record<string, number> }]),
  ) as LoadResult["requests"]["byKind"];
  for (const report of sent) {
    const entry = out[report.kind];
    entry.sent += 1;
    if (report.status === undefined) continue;
    entry.answered += 1;
    entry.statuses[report.status] = (entry.statuses[report.status] ?? 0) + 1;
  }
  return out;
}

/** True when `promise` settled within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-load-"));
  const counting = countingLog();
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    log: options.log ?? counting.log,
    env: { GITHUB_PUBLIC_KEYS_URL: undefined },
  });
  try {
    await stack.startupSweep;
    const signingKey = loadDevSigningKey(join(dataDir, DEV_SIGNING_KEY_FILE));
    const issue = (n: number): IssuedKey[] =>
      Array.from({ length: n }, () => {
        const { token, keyId } = stack.sandbox.issue();
        return { token, keyId };
      });
    const livePool = issue(options.liveTokens);
    const canaries = issue(CANARIES);
    const plan = new LoadPlan({ signingKey, livePool, canaries });

    const date = new Date().toISOString();
    const result = await autocannon({
      url: stack.url,
      connections: options.connections,
      duration: options.seconds,
      ...(options.maxRequests ? { amount: options.maxRequests } : {}),
      timeout: 30,
      requests: [
        {
          method: "POST",
          path: "/v1/github/secret-scanning",
          // Called once per request, just before it is written: each gets its own body and signature.
          // With one request in flight per connection, its answer comes back to the same context.
          setupRequest: (request, context) => {
            const { report, body, headers } = plan.next();
            (context as { report?: SentReport }).report = report;
            return { ...request, body, headers };
          },
          onResponse: (status, _body, context) => {
            const report = (context as { report?: SentReport }).report;
            if (report) report.status = status;
          },
        },
      ],
    });
    const drainStarted = performance.now();
    const drainTimeoutMs = options.drainTimeoutMs ?? 600_000;
    const drained = await settlesWithin(stack.queue.drain(), drainTimeoutMs);
    const drainMs = performance.now() - drainStarted;
    // Left undrained, the rest is dropped so closing the stack cannot wait on it; the checks show what is owed.
    if (!drained) stack.queue.close();

    const statusCodes = Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
    );
    const ownerChannels = stack.config.token_types[SANDBOX_TYPE]?.channels ?? [];
    const { checks, leaks } = await runChecks({
      stack,
      plan,
      livePool,
      canaries,
      statusCodes,
      connectionErrors: result.errors,
      timeouts: result.timeouts,
      ownerChannels,
    });
    checks.push({
      name: "queue drained",
      ok: drained,
      detail: drained
        ? `${(drainMs / 1000).toFixed(1)} s after the senders stopped`
        : `still busy ${drainTimeoutMs / 1000} s after the senders stopped`,
    });
    const revokeTimes = [...leaks.values()]
      .map((leak) => leak.timeToRevokeMs)
      .filter((ms): ms is number => typeof ms === "number");
    const answered = plan.sent.filter((r) => r.status !== undefined).length;
    return {
      date,
      setup: { ...options, log: undefined, store: "dynalite (LevelDB files)", canaries: CANARIES },
      requests: {
        total: answered,
        perSecond: answered / result.duration,
        byKind: byKind(plan.sent),
        statusCodes,
        inFlightAtEnd: plan.sent.length - answered,
        livePoolExhausted: plan.poolExhausted,
      },
      answerLatencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      timeToRevokeMs: {
        revoked: revokeTimes.length,
        p50: median(revokeTimes),
        p99: quantile(revokeTimes, 0.99),
        max: Math.max(0, ...revokeTimes),
      },
      drainMs,
      queueDeliveries: stack.queue.stats().delivered,
      warnings: counting.warnings,
      checks,
      passed: checks.every((c) => c.ok),
    };
  } finally {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
