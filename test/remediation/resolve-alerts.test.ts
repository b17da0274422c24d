import { generateKeyPairSync } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdminIdentity } from "../../lib/admin/admin-auth.js";
import { retryLeak } from "../../lib/admin/leak-actions.js";
import { parseConfig } from "../../lib/config.js";
import { BusyError } from "../../lib/errors.js";
import type { AlertLink } from "../../lib/github/alert-record.js";
import { appPrivateKey } from "../../lib/github/app-private-key.js";
import { GithubAppClient, type SecretScanningAlerts } from "../../lib/github/github-app-client.js";
import type { Issuer } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { loadTemplates } from "../../lib/notify/render-leak-message.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { type Delivery, type QueueMessage, subjectOf } from "../../lib/queue/remediation-queue.js";
import { GithubWritePace } from "../../lib/remediation/github-write-pace.js";
import { remediateLeak, type WorkerDeps } from "../../lib/remediation/remediate-leak.js";
import type { Leak } from "../../lib/store/leak.js";
import { SandboxGithubApi } from "../../local/sandbox/sandbox-github-api.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";
import { recordingLog } from "../helpers/recording-log.js";

// The worker's resolve_alerts step against the embedded DynamoDB engine and the fake GitHub API on
// loopback, through the real App client (JWT, installation token, PATCH): which alerts end resolved in
// GitHub, with which resolution and comment, what the leak's timeline says, and that neither a retry nor
// a redelivery PATCHes an alert twice or fails a revoked leak.

const APP_ID = "4343";
const AT = "2026-02-01T10:00:00.000Z";
const REVOKED_AT = "2026-02-01T10:00:03.000Z";
const sealer = new LocalKeySealer(Buffer.alloc(32, 7));
const config = parseConfig(
  {
    issuers: { acme: { kind: "http", url: "https://acme.example", secret: { env: "ACME_SECRET" } } },
    token_types: {
      acme_api_key: { issuer: "acme" },
      acme_noisy_key: { issuer: "acme", resolve_false_positive_alerts: true },
    },
    remediation: { max_receives: 3, step_attempts: 3, step_backoff_ms: 5 },
  },
  { ACME_SECRET: "x" },
);

/** An issuer that knows no token: every verification answers false positive. */
const unknowingIssuer: Issuer = {
  name: "acme",
  verify: async () => ({ status: "unknown" }),
  revoke: async () => {
    throw new Error("a false positive is never revoked");
  },
};

let github: { api: SandboxGithubApi; server: LoopbackServer; client: GithubAppClient };
const engine = sharedEngine();
let t: TestStore;
let log: ReturnType<typeof recordingLog>;

beforeAll(async () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const key = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const api = new SandboxGithubApi({ appId: APP_ID, appPrivateKey: key });
  const server = await serve((req, res) => {
    void api.handle(req, res, new URL(req.url ?? "/", "http://x").pathname);
  });
  const client = new GithubAppClient({
    apiUrl: server.url,
    appId: APP_ID,
    privateKey: appPrivateKey(key),
    timeoutMs: 2_000,
    retryAfterMs: 5,
  });
  github = { api, server, client };
});
afterAll(() => github.server.close());
beforeEach(async () => {
  t = await createTestStore(engine());
  log = recordingLog();
});
afterEach(() => github.api.recover());

const deps = (overrides: Partial<WorkerDeps> = {}): WorkerDeps => ({
  config,
  store: t.store,
  issuers: new IssuerRegistry(new Map([["acme", unknowingIssuer]]), config.token_types),
  sealer,
  queue: { send: async () => {} },
  channels: new Map(),
  templates: loadTemplates(),
  githubApp: { alerts: github.client },
  log: log.log,
  workerId: "test-worker",
  ...overrides,
});

const delivery = (leak: Leak, receiveCount = 1): Delivery<QueueMessage> => ({
  message: { leakId: leak.id, sealedToken: leak.sealedToken ?? "" },
  receiveCount,
  maxReceives: config.remediation.max_receives,
});

let repoCount = 0;
/** `n` open alerts in a repository of their own in the fake GitHub, and the leak's links to them. */
function openAlerts(n: number): AlertLink[] {
  const repo = `app-${++repoCount}`;
  return Array.from({ length: n }, (_, i) => {
    const alert = github.api.createAlert({
      repository: `acme/${repo}`,
      secret: `acme_live_secret_${repoCount}_${i}`,
      secret_type: "acme_api_key",
      installation_id: 1,
    });
    return {
      alertId: `al_${String(repoCount * 100 + i).padStart(24, "0")}`,
      installationId: 1,
      owner: "acme",
      repo,
      number: alert.number,
    };
  });
}

/** A leak settled by the worker as it leaves a revoked key: revoked, verified dead, owner told. */
async function seedLeak(alerts: AlertLink[], overrides: Partial<Leak> = {}): Promise<Leak> {
  const leak = makeLeak({
    tokenType: "acme_api_key",
    issuer: "acme",
    status: "revoked",
    mode: "revoke",
    keyId: "key-4f8a",
    verifiedAt: AT,
    revokedAt: REVOKED_AT,
    notification: { status: "sent", at: REVOKED_AT },
    alerts,
    ...overrides,
  });
  await t.store.createLeak(leak);
  return leak;
}

const inGithub = (link: AlertLink) => github.api.state.find(`${link.owner}/${link.repo}`, link.number);
const patches = (links: AlertLink[]) =>
  github.api.requests.filter(
    (r) =>
      r.method === "PATCH" &&
      links.some((l) => r.path.endsWith(`/${l.repo}/secret-scanning/alerts/${l.number}`)),
  ).length;
const stored = async (leak: Leak) => (await t.store.getLeak(leak.id)) as Leak;
const events = (leak: Leak, step: string) => leak.timeline.filter((e) => e.step === step);
const owesWork = async (leak: Leak) =>
  (await t.store.listOwingWork({ until: "9999", limit: 100 })).items.some((l) => l.id === leak.id);

describe("GitHub's write pacing", () => {
  it("puts off a resolution whose turn has not come, back on the queue with a delay, holding no worker slot", async () => {
    const [first, second] = [await seedLeak(openAlerts(1)), await seedLeak(openAlerts(1))];
    const sent: { message: QueueMessage; delaySeconds?: number | undefined }[] = [];
    const paced = deps({
      githubWritePace: new GithubWritePace(),
      queue: {
        send: async (messages, options) =>
          void sent.push(...messages.map((message) => ({ message, ...options }))),
      },
    });

    await Promise.all([
      remediateLeak(paced, delivery(first as Leak)),
      remediateLeak(paced, delivery(second as Leak)),
    ]);

    const [a, b] = [await stored(first as Leak), await stored(second as Leak)];
    const resolvedNow = [a, b].filter((l) => l.alerts?.[0]?.resolved);
    const putOff = [a, b].filter((l) => !l.alerts?.[0]?.resolved);
    expect(resolvedNow).toHaveLength(1);
    expect(putOff).toHaveLength(1);
    expect(putOff[0]?.lease).toBeUndefined();
    expect(events(putOff[0] as Leak, "resolve_alert")).toEqual([]);
    expect(sent).toEqual([{ message: expect.objectContaining({ leakId: putOff[0]?.id }), delaySeconds: 1 }]);

    // Its turn come, the message resolves it.
    await new Promise((r) => setTimeout(r, 1_000));
    await remediateLeak(paced, delivery(putOff[0] as Leak));
    expect((await stored(putOff[0] as Leak)).alerts?.[0]?.resolved?.resolution).toBe("revoked");
  });
});

describe("a revoked leak's alerts", () => {
  it("are resolved in GitHub as revoked, with a comment naming the leak, one timeline event each", async () => {
    const links = openAlerts(2);
    const leak = await seedLeak(links);
    expect(await owesWork(leak)).toBe(true); // the sweep would find it, were its message lost

    await remediateLeak(deps(), delivery(leak));

    for (const link of links) {
      expect(inGithub(link)).toMatchObject({
        state: "resolved",
        resolution: "revoked",
        resolutionComment: `Tourniquet revoked this token at ${REVOKED_AT} and verified it dead (leak ${leak.id}, key key-4f8a).`,
      });
    }
    expect(patches(links)).toBe(2);
    const after = await stored(leak);
    expect(after.status).toBe("revoked");
    expect(after.failure).toBeUndefined();
    expect(after.lease).toBeUndefined();
    expect(after.alerts?.map((a) => a.resolved?.resolution)).toEqual(["revoked", "revoked"]);
    expect(events(after, "resolve_alert")).toEqual(
      links.map((link) =>
        expect.objectContaining({
          outcome: "ok",
          actor: "worker",
          data: {
            repository: `acme/${link.repo}`,
            number: link.number,
            resolution: "revoked",
            already_resolved: false,
          },
        }),
      ),
    );
    expect(await owesWork(leak)).toBe(false);
    // The comment and everything recorded name the key by id only.
    expect(JSON.stringify([after, log.lines])).not.toContain("acme_live_secret");
  });

  it("are not PATCHed again when the message comes again after success", async () => {
    const links = openAlerts(2);
    const leak = await seedLeak(links);
    await remediateLeak(deps(), delivery(leak));
    const calls = github.api.requests.length;
    const version = (await stored(leak)).version;

    await remediateLeak(deps(), delivery(leak, 2));

    expect(github.api.requests.length).toBe(calls);
    expect((await stored(leak)).version).toBe(version);
  });

  it("counts an alert GitHub shows resolved so already as done, keeping its comment", async () => {
    const links = openAlerts(2);
    const [first, second] = links as [AlertLink, AlertLink];
    await github.client.resolveAlert(first, { resolution: "revoked", comment: "rotated by hand" });
    const leak = await seedLeak(links);

    await remediateLeak(deps(), delivery(leak));

    expect(inGithub(first)).toMatchObject({ resolution: "revoked", resolutionComment: "rotated by hand" });
    expect(inGithub(second)).toMatchObject({ resolution: "revoked" });
    const after = await stored(leak);
    expect(after.alerts?.every((a) => a.resolved?.resolution === "revoked")).toBe(true);
    expect(events(after, "resolve_alert").map((e) => e.data?.already_resolved)).toEqual([true, false]);
  });

  it("are resolved by one of two concurrent deliveries: one PATCH per alert", async () => {
    const links = openAlerts(2);
    const leak = await seedLeak(links);

    const outcomes = await Promise.allSettled([
      remediateLeak(deps(), delivery(leak)),
      remediateLeak(deps({ workerId: "other-worker" }), delivery(leak)),
    ]);

    for (const outcome of outcomes)
      if (outcome.status === "rejected") expect(outcome.reason).toBeInstanceOf(BusyError);
    expect(patches(links)).toBe(2);
    expect(events(await stored(leak), "resolve_alert")).toHaveLength(2);
  });

  it("takes in an alert linked while the others are resolved, PATCHing none twice", async () => {
    const links = openAlerts(2);
    const [first, late] = links as [AlertLink, AlertLink];
    const leak = await seedLeak([first]);
    // Intake links another alert to the leak while the worker is talking to GitHub.
    const linkingMeanwhile: SecretScanningAlerts = Object.create(github.client);
    linkingMeanwhile.resolveAlert = async (ref, options) => {
      const answer = await github.client.resolveAlert(ref, options);
      const current = await stored(leak);
      if (!current.alerts?.some((a) => a.alertId === late.alertId))
        await t.store.updateLeak(current, { alerts: [...(current.alerts ?? []), late] }, []);
      return answer;
    };

    await remediateLeak(deps({ githubApp: { alerts: linkingMeanwhile } }), delivery(leak));

    expect(patches(links)).toBe(2);
    const after = await stored(leak);
    expect(after.alerts?.map((a) => [a.number, a.resolved?.resolution])).toEqual([
      [first.number, "revoked"],
      [late.number, "revoked"],
    ]);
    expect(after.lease).toBeUndefined();
  });

  it("are resolved after a rotation and the owner's message, never before", async () => {
    const links = openAlerts(1);
    const leak = await seedLeak(links, { mode: "revoke_and_rotate", notification: undefined });
    // Rotation owed first: this issuer cannot rotate, so that step fails; the alert must still be open.
    await remediateLeak(deps(), delivery(leak, config.remediation.max_receives));
    const after = await stored(leak);
    expect(after.failure?.step).toBe("rotate");
    expect(after.notification).toBeDefined();
    // …and once the rotation gave up and the owner was told, the alert is resolved.
    expect(inGithub(links[0] as AlertLink)).toMatchObject({ state: "resolved", resolution: "revoked" });
    const steps = after.timeline.map((e) => e.step);
    expect(steps.indexOf("resolve_alert")).toBeGreaterThan(steps.lastIndexOf("rotate"));
  });
});

describe("GitHub failures", () => {
  it("retries a 503 within the delivery", async () => {
    const links = openAlerts(1);
    const leak = await seedLeak(links);
    github.api.fail({ status: 503, only: "/secret-scanning/alerts/" }, 3);

    await remediateLeak(deps(), delivery(leak));

    expect(inGithub(links[0] as AlertLink)).toMatchObject({ state: "resolved", resolution: "revoked" });
    expect((await stored(leak)).status).toBe("revoked");
  });

  it("waits out a 429's Retry-After before asking again", async () => {
    const links = openAlerts(1);
    const leak = await seedLeak(links);
    github.api.fail({ status: 429, retryAfter: 2, only: "/secret-scanning/alerts/" });
    const started = Date.now();

    await remediateLeak(deps(), delivery(leak));

    expect(Date.now() - started).toBeGreaterThanOrEqual(1_950);
    expect(patches(links)).toBe(2);
    expect(inGithub(links[0] as AlertLink)).toMatchObject({ state: "resolved", resolution: "revoked" });
  });

  it("hands an outage back to the queue, then leaves the alerts open on the last delivery, the leak still revoked", async () => {
    const links = openAlerts(2);
    const rotateFailure = { step: "rotate", reason: "HTTP 503", at: AT };
    const leak = await seedLeak(links, {
      mode: "revoke_and_rotate",
      failure: rotateFailure,
    });
    github.api.fail({ status: 503, only: "/secret-scanning/alerts/" }, 100);

    await expect(remediateLeak(deps(), delivery(leak, 1))).rejects.toThrow(/HTTP 503/);
    const retrying = await stored(leak);
    expect(retrying.alerts?.every((a) => !a.resolved && !a.leftOpen)).toBe(true);
    expect(events(retrying, "resolve_alerts").map((e) => e.outcome)).toEqual(["retrying"]);

    await remediateLeak(deps(), delivery(leak, config.remediation.max_receives));

    const after = await stored(leak);
    expect(after.status).toBe("revoked");
    expect(after.failure).toEqual(rotateFailure); // an admin's retry still resumes from the rotation
    expect(after.lease).toBeUndefined();
    expect(after.alerts?.map((a) => a.leftOpen?.outcome)).toEqual(["failed", "failed"]);
    expect(after.alerts?.[0]?.leftOpen?.reason).toMatch(/HTTP 503/);
    expect(events(after, "resolve_alerts").map((e) => e.outcome)).toEqual(["retrying", "failed"]);
    expect(await owesWork(leak)).toBe(false);
    for (const link of links) expect(inGithub(link)?.state).toBe("open");

    // Nothing more is owed: once GitHub is back, a redelivery still calls it no more.
    github.api.recover();
    const calls = github.api.requests.length;
    await remediateLeak(deps(), delivery(leak, 1));
    expect(github.api.requests.length).toBe(calls);
  });

  it("tries alerts left open again when an admin retries the leak", async () => {
    const links = openAlerts(1);
    const leak = await seedLeak(links);
    github.api.fail({ status: 503, only: "/secret-scanning/alerts/" }, 100);
    await remediateLeak(deps(), delivery(leak, config.remediation.max_receives));
    expect((await stored(leak)).alerts?.[0]?.leftOpen?.outcome).toBe("failed");
    github.api.recover();

    const queued: string[] = [];
    const admin: AdminIdentity = {
      id: "admin-token",
      display: "admin",
      permissions: new Set(["read", "write"]),
    };
    const queue = {
      send: async (messages: readonly QueueMessage[]) => void queued.push(...messages.map(subjectOf)),
    };
    const answer = await retryLeak({ store: t.store, queue }, leak.id, admin);
    expect(answer.retried).toBe(true);
    expect(queued).toEqual([leak.id]);
    await remediateLeak(deps(), delivery(leak));

    expect(inGithub(links[0] as AlertLink)).toMatchObject({ state: "resolved", resolution: "revoked" });
    const after = await stored(leak);
    expect(after.alerts?.[0]).toMatchObject({ resolved: { resolution: "revoked" } });
    expect(after.alerts?.[0]?.leftOpen).toBeUndefined();
    expect(after.status).toBe("revoked");
  });

  it("leaves open an alert GitHub refuses for good and still resolves the others", async () => {
    const [good] = openAlerts(1) as [AlertLink];
    const gone: AlertLink = { ...good, alertId: `al_${"9".repeat(24)}`, number: 999 };
    const leak = await seedLeak([gone, good]);

    await remediateLeak(deps(), delivery(leak));

    expect(inGithub(good)).toMatchObject({ state: "resolved", resolution: "revoked" });
    const after = await stored(leak);
    expect(after.status).toBe("revoked");
    expect(after.alerts?.[0]?.leftOpen).toMatchObject({
      outcome: "failed",
      reason: expect.stringMatching(/404/),
    });
    expect(after.alerts?.[1]?.resolved?.resolution).toBe("revoked");
    expect(events(after, "resolve_alert").map((e) => e.outcome)).toEqual(["failed", "ok"]);
  });
});

describe("other settled leaks", () => {
  it("resolves an already inactive key's alert as revoked, saying it was inactive when reported", async () => {
    const links = openAlerts(1);
    const leak = await seedLeak(links, { status: "inactive", revokedAt: undefined, notification: undefined });

    await remediateLeak(deps(), delivery(leak));

    expect(inGithub(links[0] as AlertLink)).toMatchObject({
      state: "resolved",
      resolution: "revoked",
      resolutionComment: `Tourniquet found this token already inactive when it was reported (checked with acme at ${AT}); nothing needed revoking (leak ${leak.id}, key key-4f8a).`,
    });
  });

  it("resolves a false positive's alert as false_positive only where the policy says so", async () => {
    const kept = openAlerts(1);
    const resolved = openAlerts(1);
    /** A leak of a token its issuer does not know, before verification, as intake leaves it. */
    const pending = async (tokenType: string, alerts: AlertLink[], token: string) => {
      const base = makeLeak({ tokenType, issuer: "acme", alerts });
      const leak = { ...base, sealedToken: await sealer.seal(token, base.id) };
      await t.store.createLeak(leak);
      return leak;
    };
    const keptLeak = await pending("acme_api_key", kept, "acme_unknown_token_1");
    const resolvedLeak = await pending("acme_noisy_key", resolved, "acme_unknown_token_2");

    await remediateLeak(deps(), delivery(keptLeak));
    await remediateLeak(deps(), delivery(resolvedLeak));

    expect((await stored(keptLeak)).status).toBe("false_positive");
    expect(inGithub(kept[0] as AlertLink)).toMatchObject({ state: "open", resolution: null });
    expect(patches(kept)).toBe(0);
    expect(await owesWork(keptLeak)).toBe(false);

    const after = await stored(resolvedLeak);
    expect(after).toMatchObject({ status: "false_positive", resolveFalsePositiveAlerts: true });
    expect(inGithub(resolved[0] as AlertLink)).toMatchObject({
      state: "resolved",
      resolution: "false_positive",
      resolutionComment: expect.stringContaining(`resolved as a false positive by policy (leak ${after.id})`),
    });
  });

  it("leaves alerts open for leaks left live, failed or closed otherwise", async () => {
    const links = openAlerts(1);
    for (const status of [
      "notified",
      "dry_run",
      "failed",
      "dismissed",
      "allowlisted",
      "unroutable",
    ] as const) {
      const leak = await seedLeak(links, { status, resolveFalsePositiveAlerts: true });
      await remediateLeak(deps(), delivery(leak)).catch(() => undefined); // a failed leak dead-letters
    }
    expect(patches(links)).toBe(0);
    expect(inGithub(links[0] as AlertLink)?.state).toBe("open");
  });

  it("skips with a timeline event, failing nothing, when no GitHub App is configured", async () => {
    const links = openAlerts(2);
    const leak = await seedLeak(links);

    await remediateLeak(deps({ githubApp: undefined }), delivery(leak));

    const after = await stored(leak);
    expect(after.status).toBe("revoked");
    expect(after.failure).toBeUndefined();
    expect(after.lease).toBeUndefined();
    expect(after.alerts?.map((a) => a.leftOpen?.outcome)).toEqual(["skipped", "skipped"]);
    expect(events(after, "resolve_alerts")).toEqual([
      expect.objectContaining({ outcome: "skipped", detail: expect.stringContaining("no GitHub App") }),
    ]);
    expect(await owesWork(leak)).toBe(false);
    expect(patches(links)).toBe(0);
  });
});
