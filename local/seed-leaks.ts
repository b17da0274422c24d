import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fingerprintToken, redactToken } from "../lib/intake/fingerprint.js";
import type { KeyDetail, Owner } from "../lib/issuers/issuer.js";
import {
  type DeliveryRecord,
  LEAK_STATUSES,
  type Leak,
  type LeakStatus,
  leakIdFor,
  type Sighting,
  type TimelineEvent,
} from "../lib/store/leak.js";
import type { LeakStore } from "../lib/store/leak-store.js";
import { mapWithConcurrency } from "../lib/util/concurrency.js";

// Realistic leak history for the console, the benches and demos: leaks in every status, spread over
// `days`, with timelines, sightings, deliveries and evidence shaped as the intake and the worker write
// them. Deterministic for a seed. The fake tokens exist only in memory here: the store gets their
// fingerprints and previews, as it would from a real report, never the tokens.

export interface SeedOptions {
  count: number;
  days: number;
  /** The newest possible first seen (epoch ms); default now. */
  now?: number;
  seed?: number;
  /** Writes in flight at once. */
  concurrency?: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** mulberry32: a small, fast seeded PRNG; good enough for fixtures, never for secrets. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const chars = (alphabet: string, length: number) =>
    Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
  /** Log-normal: a long tail, as remediation times have (a slow issuer, a retried step). */
  const logNormal = (medianValue: number, sigma: number) => {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    return medianValue * Math.exp(sigma * z);
  };
  return { next, int, pick, chars, logNormal };
}
type Random = ReturnType<typeof prng>;

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";

interface TypeProfile {
  tokenType: string;
  issuer: string;
  weight: number;
  /** A fake token of the type's shape: fingerprinted and previewed, then dropped. */
  fakeToken(r: Random): string;
  keyId(r: Random, owner: Owner): string;
  evidence(r: Random, keyId: string): { evidence: Record<string, unknown>; details: KeyDetail[] };
  rotates: boolean;
}

const usageFigures = (r: Random) => {
  const abused = r.next() < 0.3;
  const requests24h = abused ? r.int(2_000, 90_000) : r.int(0, 400);
  return {
    available: true,
    measure: "requests",
    last_24h: { requests: requests24h, prompt_tokens: requests24h * r.int(200, 900) },
    last_7d: { requests: requests24h + r.int(0, 3_000) },
    unusual: abused,
  };
};

const PROFILES: TypeProfile[] = [
  {
    tokenType: "github_personal_access_token",
    issuer: "github",
    weight: 30,
    fakeToken: (r) => `ghp_${r.chars(ALNUM, 36)}`,
    keyId: (r, owner) =>
      `github:${owner.name ?? "octocat"}#${r.int(1_000, 9_999_999)}:ghp:${r.chars(HEX, 12)}`,
    evidence: (r, keyId) => ({
      evidence: {
        login: keyId.split(/[:#]/)[1],
        scopes: r.pick([["repo"], ["repo", "workflow"], ["read:org"]]),
      },
      details: [{ label: "Account", value: keyId.split(/[:#]/)[1] ?? "" }],
    }),
    rotates: false,
  },
  {
    tokenType: "aws_access_key_id",
    issuer: "aws",
    weight: 20,
    // AWS's documentation marks its sample ids with EXAMPLE; these carry it so none looks real.
    fakeToken: (r) => `AKIAEXAMPLE${r.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 9)}`,
    keyId: (r) =>
      `${r.pick(["123456789012", "210987654321"])}:${r.pick(["ci-deployer", "etl-bot", "alice", "build"])}:AKIAEXAMPLE${r.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 9)}`,
    evidence: (r, keyId) => {
      const [account, user] = keyId.split(":");
      const daysAgo = r.int(0, 40);
      return {
        evidence: {
          account,
          user,
          user_arn: `arn:aws:iam::${account}:user/${user}`,
          key_status: "Active",
          last_used: {
            service: r.pick(["s3", "ec2", "sts", "bedrock"]),
            region: "eu-west-1",
            days_ago: daysAgo,
          },
          attached_policies: [r.pick(["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"])],
        },
        details: [
          { label: "Account", value: String(account) },
          { label: "User", value: String(user) },
          { label: "Last used", value: `${daysAgo} days ago` },
        ],
      };
    },
    rotates: true,
  },
  {
    tokenType: "azure_openai_key",
    issuer: "azure",
    weight: 12,
    fakeToken: (r) => r.chars(HEX, 32),
    keyId: (r) =>
      `/subscriptions/6b1f0c2e-3d4a-4b5c-8d6e-7f8091a2b3c4/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/${r.pick(["contoso-openai", "fabrikam-ai", "tailspin-gpt"])}#${r.pick(["Key1", "Key2"])}`,
    evidence: (r, keyId) => {
      const account = keyId.split("/accounts/")[1]?.split("#")[0] ?? "";
      const usage = usageFigures(r);
      return {
        evidence: { account, kind: "OpenAI", location: "swedencentral", slot: keyId.split("#")[1], usage },
        details: [
          { label: "Account", value: account },
          { label: "Requests (24 h)", value: String(usage.last_24h.requests) },
        ],
      };
    },
    rotates: false,
  },
  {
    tokenType: "openai_api_key",
    issuer: "openai",
    weight: 14,
    fakeToken: (r) => `sk-proj-${r.chars(ALNUM, 48)}`,
    keyId: (r) => `key_${r.chars(ALNUM, 16)}`,
    evidence: (r) => {
      const usage = usageFigures(r);
      return {
        evidence: { project: r.pick(["proj_default", "proj_research"]), match: "admin_api", usage },
        details: [{ label: "Requests (24 h)", value: String(usage.last_24h.requests) }],
      };
    },
    rotates: false,
  },
  {
    tokenType: "slack_api_token",
    issuer: "slack",
    weight: 10,
    fakeToken: (r) => `xoxb-${r.int(100, 999)}-${r.chars(ALNUM, 24)}`,
    keyId: (r) =>
      `T${r.chars("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 8)}:B${r.chars("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 8)}`,
    evidence: (r, keyId) => ({
      evidence: { team: keyId.split(":")[0], bot: true, scopes: ["chat:write", "channels:read"] },
      details: [{ label: "Workspace", value: r.pick(["acme", "globex", "initech"]) }],
    }),
    rotates: false,
  },
  {
    tokenType: "tourniquet_sandbox_token",
    issuer: "sandbox",
    weight: 14,
    fakeToken: (r) => `tqs_${r.chars(HEX, 32)}`,
    keyId: (r) => `key_${r.chars(HEX, 12)}`,
    evidence: (r) => ({
      evidence: { created_at: "2025-01-01T00:00:00.000Z", last_used_at: null, requests_24h: r.int(0, 50) },
      details: [{ label: "Key", value: "sandbox key" }],
    }),
    rotates: true,
  },
];

/** Weights of the statuses: most leaks end revoked, a few need a human. */
const STATUS_WEIGHTS: Record<LeakStatus, number> = {
  revoked: 46,
  inactive: 10,
  false_positive: 8,
  unroutable: 3,
  failed: 5,
  notified: 5,
  dry_run: 3,
  allowlisted: 2,
  paired: 4,
  dismissed: 5,
  pending: 2,
  active: 2,
};

const weighted = <T>(r: Random, entries: readonly [T, number][]): T => {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let roll = r.next() * total;
  for (const [value, w] of entries) {
    roll -= w;
    if (roll < 0) return value;
  }
  return (entries.at(-1) as [T, number])[0];
};

const OWNERS: Owner[] = [
  { email: "alice@example.com", name: "alice", id: "u-1001" },
  { email: "bob@example.com", name: "bob", id: "u-1002" },
  { email: "carol@example.org", name: "carol" },
  { email: "dan@example.org", name: "dan", id: "u-1004" },
  { id: "svc-payments", name: "payments-service" },
  { id: "svc-ci", name: "ci-runner" },
  { email: "erin@example.net", name: "erin" },
];

const REPOS = [
  "acme/web",
  "acme/infra",
  "globex/ml-notebooks",
  "initech/tps-reports",
  "octo-org/demo",
  "contoso/ai-chat",
];
const FILES = [
  ".env",
  "config/settings.py",
  "deploy/terraform.tfvars",
  "notebooks/train.ipynb",
  "src/client.ts",
  "README.md",
];

function sightingsFor(r: Random, at: string): Sighting[] {
  return Array.from(
    {
      length: weighted(r, [
        [1, 70],
        [2, 20],
        [3, 10],
      ]),
    },
    () => {
      const repo = r.pick(REPOS);
      const commit = r.chars(HEX, 40);
      return {
        url: `https://github.com/${repo}/blob/${commit}/${r.pick(FILES)}#L${r.int(1, 300)}`,
        source: r.pick(["commit", "commit", "pull_request", "issue", "gist"]),
        firstSeen: at,
        lastSeen: at,
        reports: 1,
      };
    },
  );
}

const DISMISS = [
  ["false_positive", "Placeholder value in docs, not a key"],
  ["accepted_risk", 'Key scoped to a sandbox account; owner said "fine, rotating next sprint"'],
  ["test_token", "Fixture token from the integration suite,\nsee ticket SEC-1234"],
  ["duplicate", "Same key as an earlier report"],
  ["other", undefined],
] as const;

const FAILURES = [
  ["revoke", "issuer aws: AccessDenied: not authorized to perform iam:UpdateAccessKey"],
  ["revoke", "issuer azure: request timed out after 5000 ms (3 attempts)"],
  ["verify", "issuer openai: 503 Service Unavailable (retries exhausted)"],
  ["notify", "every channel refused the message"],
] as const;

/** One leak as the worker would have left it in `status`. */
function buildLeak(r: Random, status: LeakStatus, firstSeenMs: number, now: number): Leak {
  const profile =
    status === "paired"
      ? undefined
      : weighted(
          r,
          PROFILES.map((p) => [p, p.weight]),
        );
  const token = profile ? profile.fakeToken(r) : r.chars(ALNUM, 40); // the secret half of an AWS pair
  const fingerprint = fingerprintToken(token);
  const id = leakIdFor(fingerprint);
  const tokenType =
    status === "paired"
      ? "aws_secret_access_key"
      : status === "unroutable"
        ? r.pick(["stripe_api_key", "mailgun_api_key"])
        : (profile as TypeProfile).tokenType;
  const issuer =
    status === "paired" || status === "unroutable" || status === "allowlisted"
      ? null
      : (profile?.issuer ?? null);
  const at = (ms: number) => new Date(ms).toISOString();
  const firstSeen = at(firstSeenMs);
  const sightings = sightingsFor(r, firstSeen);
  const first = sightings[0] as Sighting;
  const timeline: TimelineEvent[] = [
    {
      at: firstSeen,
      step: "report",
      outcome: "ok",
      actor: "intake",
      detail: [
        `reported by GitHub secret scanning (${first.source} at ${first.url})`,
        status === "allowlisted" ? "allowlisted as a known test token: no action" : undefined,
        status === "unroutable" ? `no issuer handles type "${tokenType}"` : undefined,
        status === "paired"
          ? "the secret half of a pair: acted on through its aws_access_key_id, never alone"
          : undefined,
      ]
        .filter(Boolean)
        .join("; "),
    },
  ];
  const leak: Leak = {
    id,
    fingerprint,
    tokenType,
    preview: redactToken(token),
    issuer,
    status,
    firstSeen,
    receivedAtMs: firstSeenMs,
    firstSightings: sightings,
    timeline,
    version: 1,
  };
  if (status === "paired") {
    leak.pairedWith = {
      leakId: leakIdFor(createHash("sha256").update(id).digest("hex")),
      tokenType: "aws_access_key_id",
    };
  }
  if (!profile || ["unroutable", "allowlisted", "pending", "paired"].includes(status)) {
    if (status === "pending") leak.sealedToken = `sealed:v1:${r.chars(ALNUM, 24)}`;
    return finish(leak);
  }

  // Verified: by intake inline (most) or by the worker.
  const owner = r.pick(OWNERS);
  const keyId = profile.keyId(r, owner);
  const { evidence, details } = profile.evidence(r, keyId);
  let clock = firstSeenMs + Math.round(r.logNormal(600, 0.8));
  const failure = status === "failed" ? r.pick(FAILURES) : undefined;
  // Only a notify-only leak fails at its message (notify-leak.ts): a revoked one stays revoked.
  const mode =
    status === "notified" || failure?.[0] === "notify"
      ? "notify_only"
      : status === "dry_run"
        ? "dry_run"
        : profile.rotates
          ? "revoke_and_rotate"
          : "revoke";
  const validity = status === "inactive" ? "inactive" : status === "false_positive" ? "unknown" : "active";
  const verifier = r.next() < 0.8 ? "intake" : "worker";
  Object.assign(leak, {
    verifiedAt: at(clock),
    mode,
    ...(validity === "unknown" ? {} : { keyId, owner, evidence, keyDetails: details }),
  });
  timeline.push({
    at: at(clock),
    step: "verify",
    outcome: "ok",
    actor: verifier,
    detail: {
      active: "issuer reports the key live",
      inactive: "issuer reports the key already inactive: nothing to revoke",
      unknown: "issuer does not know this token: false positive",
    }[validity],
    data: { validity, mode, ...(validity === "unknown" ? {} : { key_id: keyId, evidence }) },
  });
  if (status === "false_positive" || status === "inactive") return finish(leak);
  if (status === "active") {
    leak.sealedToken = `sealed:v1:${r.chars(ALNUM, 24)}`;
    return finish(leak);
  }

  if (failure && (failure[0] === "verify" || failure[0] === "revoke")) {
    clock += Math.round(r.logNormal(8_000, 1));
    timeline.push(
      {
        at: at(clock - 4_000),
        step: failure[0],
        outcome: "retrying",
        actor: "worker",
        detail: `${failure[1]}; retrying`,
      },
      { at: at(clock), step: failure[0], outcome: "failed", actor: "worker", detail: failure[1] },
    );
    leak.failure = { step: failure[0], reason: failure[1], at: at(clock) };
    leak.sealedToken = `sealed:v1:${r.chars(ALNUM, 24)}`;
    return finish(notify(r, leak, clock, owner, "failed"));
  }

  if (mode === "dry_run") {
    timeline.push({
      at: at(clock + 5),
      step: "dry_run",
      outcome: "skipped",
      actor: "worker",
      detail: `dry run: would revoke key ${keyId} with issuer ${profile.issuer}`,
      data: { key_id: keyId },
    });
    return finish(leak);
  }
  if (mode === "notify_only") {
    if (failure) leak.failure = { step: "notify", reason: failure[1], at: new Date(clock).toISOString() };
    return finish(notify(r, leak, clock, owner, failure ? "failed" : "notified"));
  }

  // Revoked: the long tail of time to revoke is the worker's (queue wait, slow issuers, retries).
  const timeToRevokeMs = Math.max(300, Math.round(r.logNormal(3_500, 1.5)));
  const revokedAt = firstSeenMs + timeToRevokeMs;
  clock = Math.max(clock, revokedAt - 200);
  timeline.push(
    {
      at: at(clock),
      step: "revoke",
      outcome: "ok",
      actor: "worker",
      detail: `issuer ${profile.issuer} revoked key ${keyId}`,
      data: { key_id: keyId, already_revoked: false, mode },
    },
    {
      at: at(revokedAt),
      step: "re-verify",
      outcome: "ok",
      actor: "worker",
      detail: "token re-verified after revocation: inactive",
      data: { validity_before: "active", validity_after: "inactive" },
    },
  );
  Object.assign(leak, { revokedAt: at(revokedAt), timeToRevokeMs });
  clock = revokedAt;
  if (mode === "revoke_and_rotate") {
    clock += Math.round(r.logNormal(900, 0.6));
    // A rotation that failed for good leaves the leak revoked, its failure recorded (leak-lifecycle.ts).
    if (r.next() < 0.03) {
      const reason = `issuer ${profile.issuer}: rotation refused: key quota reached`;
      timeline.push({ at: at(clock), step: "rotate", outcome: "failed", actor: "worker", detail: reason });
      leak.failure = { step: "rotate", reason, at: at(clock) };
    } else {
      const replacementKeyId = profile.keyId(r, owner);
      const where = `sent to ${owner.email ?? owner.id} by the issuer`;
      leak.replacement = { keyId: replacementKeyId, deliveredBy: "issuer", where, at: at(clock) };
      timeline.push({
        at: at(clock),
        step: "rotate",
        outcome: "ok",
        actor: "worker",
        detail: `issuer ${profile.issuer} created replacement key ${replacementKeyId}; ${where}`,
        data: { replacement_key_id: replacementKeyId, delivered_by: "issuer" },
      });
    }
  }
  notify(r, leak, clock, owner, "revoked");
  if (status === "dismissed") dismiss(r, leak, now);
  return finish(leak);
}

/** The notify step: a delivery per channel (email, slack), recorded as the worker records them. */
function notify(r: Random, leak: Leak, from: number, owner: Owner, finalStatus: LeakStatus): Leak {
  let clock = from + Math.round(r.logNormal(400, 0.7));
  const at = (ms: number) => new Date(ms).toISOString();
  const deliveries: Record<string, DeliveryRecord> = {};
  const refused = leak.failure?.step === "notify";
  for (const channel of ["email", "slack"]) {
    clock += r.int(20, 300);
    const messageId = `msg_${r.chars(HEX, 16)}:${channel}`;
    const failed = refused || r.next() < 0.04;
    const recipient = channel === "email" ? (owner.email ?? "security@example.test") : "#security-alerts";
    deliveries[messageId] = {
      channel,
      recipient,
      status: failed ? "failed" : "sent",
      at: at(clock),
      ...(failed
        ? { reason: `${channel}: 421 service not available` }
        : { providerMessageId: `pm_${r.chars(HEX, 10)}` }),
    };
    leak.timeline.push({
      at: at(clock),
      step: "notify",
      outcome: failed ? "failed" : "ok",
      actor: "worker",
      detail: failed
        ? `${recipient} could not be notified via ${channel}: ${channel}: 421 service not available`
        : `${recipient} notified via ${channel}`,
      data: { message_id: messageId, channel },
    });
  }
  leak.deliveries = deliveries;
  const anySent = Object.values(deliveries).some((d) => d.status === "sent");
  leak.notification = { status: anySent ? "sent" : "failed", at: at(clock) };
  leak.status = finalStatus;
  return leak;
}

function dismiss(r: Random, leak: Leak, now: number): void {
  const [reason, note] = r.pick(DISMISS);
  const settled = Date.parse(leak.timeline.at(-1)?.at ?? leak.firstSeen);
  const at = new Date(Math.min(now, settled + r.int(60_000, 2 * DAY_MS))).toISOString();
  const by = r.pick([
    "jwt:https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example#3f1c9a",
    "admin-token",
  ]);
  leak.dismissal = { reason, ...(note ? { note } : {}), by, at };
  leak.timeline.push({
    at,
    step: "dismiss",
    outcome: "ok",
    actor: by,
    detail: `dismissed by ${by} as ${reason}${note ? `: ${note}` : ""} (was ${leak.status})`,
    data: { reason, previous_status: leak.status },
  });
  leak.status = "dismissed";
  delete leak.sealedToken;
}

/** The version counts the writes the timeline took, as the real store's would. */
function finish(leak: Leak): Leak {
  leak.version = leak.timeline.length;
  return leak;
}

/**
 * Writes `count` leaks through `store`, first seen over the last `days` up to `now`. The first leaks
 * take every status in turn, so even a small seed holds them all.
 */
export async function seedLeaks(store: LeakStore, options: SeedOptions): Promise<Leak[]> {
  const r = prng(options.seed ?? 1);
  const now = options.now ?? Date.now();
  const span = options.days * DAY_MS;
  const statusEntries = Object.entries(STATUS_WEIGHTS) as [LeakStatus, number][];
  const leaks: Leak[] = [];
  for (let i = 0; i < options.count; i++) {
    const status = i < LEAK_STATUSES.length ? (LEAK_STATUSES[i] as LeakStatus) : weighted(r, statusEntries);
    // Open leaks are mostly in flight (minutes old), some stalled; settled ones anywhere in the window,
    // at least an hour old so their remediation (whose tail runs to minutes) ended before `now`.
    const open = status === "pending" || status === "active";
    const age =
      open && r.next() < 0.6
        ? r.int(5_000, 10 * 60_000)
        : HOUR_MS + Math.floor(r.next() * Math.max(0, span - HOUR_MS));
    leaks.push(buildLeak(r, status, now - age, now));
  }
  await mapWithConcurrency(leaks, options.concurrency ?? 32, (leak) => store.createLeak(leak));
  return leaks;
}

// `npx tsx local/seed-leaks.ts --count N [--days D] [--seed S]`: seeds the data dir's database. The
// local stack holds that database open while it runs, so seed first, then `npm start`.
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "1000" },
      days: { type: "string", default: "30" },
      seed: { type: "string", default: "1" },
    },
  });
  const count = Number(values.count);
  const days = Number(values.days);
  if (!Number.isInteger(count) || count < 1 || !(days > 0)) {
    throw new Error("--count must be a positive integer and --days a positive number");
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const { join } = await import("node:path");
  const { startEmbeddedDynamo, ensureLeakTable } = await import("./embedded-dynamodb.js");
  const { DynamoLeakStore } = await import("../lib/store/dynamo-leak-store.js");
  const { LOCAL_TABLE_NAME } = await import("./local-stack.js");
  const dataDir = process.env.TOURNIQUET_DATA_DIR ?? ".tourniquet";
  const db = await startEmbeddedDynamo({ path: join(dataDir, "db") }).catch((error: unknown) => {
    throw new Error(
      `cannot open ${join(dataDir, "db")} (is npm start running? stop it first): ${(error as Error).message}`,
    );
  });
  try {
    await ensureLeakTable(db.client, LOCAL_TABLE_NAME);
    const started = Date.now();
    await seedLeaks(new DynamoLeakStore(db.client, LOCAL_TABLE_NAME), {
      count,
      days,
      seed: Number(values.seed),
    });
    process.stderr.write(
      `seeded ${count} leaks over ${days} days into ${dataDir} in ${Date.now() - started} ms\n`,
    );
  } finally {
    await db.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`seed-leaks: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
