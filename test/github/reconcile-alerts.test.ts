import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { alertIdFor } from "../../lib/github/alert-record.js";
import { appPrivateKey } from "../../lib/github/app-private-key.js";
import {
  type AlertScope,
  GithubAppClient,
  type ListAlertsOptions,
  type SecretScanningAlerts,
} from "../../lib/github/github-app-client.js";
import { type ReconcileAlertsDeps, reconcileAlerts } from "../../lib/github/reconcile-alerts.js";
import type { AlertFetchMessage, QueueMessage, RemediationQueue } from "../../lib/queue/remediation-queue.js";
import { DynamoAlertStore } from "../../lib/store/dynamo-alert-store.js";
import { alertReceipt } from "../helpers/alert-receipt.js";
import { createTestStore, sharedEngine } from "../helpers/dynamo.js";
import { FAKE_APP_ID, type FakeGithubApi, startFakeGithubApi } from "../helpers/fake-github-api.js";
import { recordingLog } from "../helpers/recording-log.js";

// The sweep's App job against the embedded DynamoDB engine and the fake GitHub on loopback (real App
// JWTs, installation tokens, pages, faults). Each test has its own table and its own installations.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Queue extends RemediationQueue {
  sends: QueueMessage[][];
  /** Alert ids sent, in order. */
  ids(): string[];
  failing: boolean;
}

function recordingQueue(): Queue {
  const queue: Queue = {
    sends: [],
    failing: false,
    ids: () => queue.sends.flat().map((m) => (m as AlertFetchMessage).alertId),
    async send(messages) {
      if (queue.failing) throw new Error("queue down");
      queue.sends.push([...messages]);
    },
  };
  return queue;
}

/** The App client, keeping each listing's scope and `updatedSince`. */
function recordingApp(client: SecretScanningAlerts) {
  const listings: { scope: AlertScope; updatedSince: Date | undefined }[] = [];
  const alerts: SecretScanningAlerts = {
    getAlert: (ref, o) => client.getAlert(ref, o),
    listAlertLocations: (ref, o) => client.listAlertLocations(ref, o),
    listInstallations: (o) => client.listInstallations(o),
    listInstallationRepositories: (id, o) => client.listInstallationRepositories(id, o),
    resolveAlert: (ref, o) => client.resolveAlert(ref, o),
    listOpenAlerts: (scope, o?: ListAlertsOptions) => {
      listings.push({ scope, updatedSince: o?.updatedSince });
      return client.listOpenAlerts(scope, o);
    },
  };
  return { alerts, listings };
}

const receipt = (installationId: number, repository: string, number: number) =>
  alertReceipt(installationId, repository, number);
const idOf = (installationId: number, repository: string, number: number) =>
  alertIdFor(receipt(installationId, repository, number));

describe("reconcileAlerts (embedded DynamoDB, fake GitHub)", () => {
  const engine = sharedEngine();
  let gh: FakeGithubApi;
  let client: GithubAppClient;
  let store: DynamoAlertStore;
  let queue: Queue;
  let app: ReturnType<typeof recordingApp>;
  let log: ReturnType<typeof recordingLog>;
  /** Installation ids are unique per test: the fake GitHub is shared. */
  let nextInstallation = 100;

  beforeAll(async () => {
    gh = await startFakeGithubApi();
    client = new GithubAppClient({
      apiUrl: gh.url,
      appId: FAKE_APP_ID,
      privateKey: appPrivateKey(gh.appPrivateKey),
      timeoutMs: 2_000,
      retryAfterMs: 5,
    });
  });
  afterAll(() => gh.close());

  beforeEach(async () => {
    gh.api.recover();
    // Installations of earlier tests leave: each test sees only its own.
    gh.api.state.installations.clear();
    const t = await createTestStore(engine());
    store = new DynamoAlertStore(t.client, t.tableName);
    queue = recordingQueue();
    app = recordingApp(client);
    log = recordingLog();
  });

  const deps = (now?: () => number): ReconcileAlertsDeps => ({
    alerts: store,
    app,
    queue,
    log: log.log,
    ...(now ? { now } : {}),
  });

  /** A new installation of the fake GitHub, with `alerts` open alerts spread over `repos`. */
  function install(
    login: string,
    options: {
      type?: "Organization" | "User";
      orgAlerts?: boolean;
      repos?: string[];
      alerts?: number;
      suspended?: boolean;
    } = {},
  ) {
    const id = nextInstallation++;
    const repos = options.repos ?? [`${login}/app`];
    gh.api.addInstallation({
      id,
      account: { login, type: options.type ?? "Organization" },
      org_alerts: options.orgAlerts ?? true,
      repositories: repos,
      suspended: options.suspended ?? false,
    });
    for (let i = 0; i < (options.alerts ?? 1); i++) alert(id, repos[i % repos.length] ?? "");
    return id;
  }

  function alert(installationId: number, repository: string, createdAt?: number) {
    return gh.api.createAlert({
      repository,
      installation_id: installationId,
      secret: `tqs_never_listed_${installationId}_${gh.api.alerts.length}`,
      secret_type: "github_personal_access_token",
      ...(createdAt ? { created_at: new Date(createdAt).toISOString() } : {}),
    });
  }

  const callsTo = (fragment: string, since = 0) =>
    gh.api.requests.slice(since).filter((r) => r.path.includes(fragment));

  describe("ingesting open alerts", () => {
    it("records and queues an alert no webhook delivered, once: a second run records and queues nothing", async () => {
      const id = install("acme-one");

      const first = await reconcileAlerts(deps());

      const alertId = idOf(id, "acme-one/app", 1);
      expect(first).toEqual({
        installations: 1,
        listed: 1,
        recorded: 1,
        resumed: 0,
        requeued: 0,
        failed: [],
      });
      expect(queue.sends).toEqual([[{ alertId }]]);
      expect(await store.getAlert(alertId)).toMatchObject({
        installationId: id,
        owner: "acme-one",
        repo: "app",
        number: 1,
        secretType: "github_personal_access_token",
        htmlUrl: "https://github.com/acme-one/app/security/secret-scanning/1",
        repoHtmlUrl: "https://github.com/acme-one/app",
        deliveries: [],
        fetchOwed: true,
      });

      const second = await reconcileAlerts(deps());
      expect(second).toMatchObject({ installations: 1, listed: 1, recorded: 0, requeued: 0, failed: [] });
      expect(queue.sends).toHaveLength(1);
    });

    it("does not record or queue an alert its webhook recorded already", async () => {
      const id = install("acme-hooked");
      const { alert: hooked } = await store.recordAlert(receipt(id, "acme-hooked/app", 1), {
        delivery: "d-1",
        at: Date.now(),
      });

      const result = await reconcileAlerts(deps());

      expect(result).toMatchObject({ listed: 1, recorded: 0, failed: [] });
      expect(queue.sends).toEqual([]);
      expect(await store.getAlert(hooked.id)).toEqual(hooked);
    });

    it("lists per repository when GitHub refuses the organisation listing", async () => {
      const id = install("acme-repos", {
        orgAlerts: false,
        repos: ["acme-repos/api", "acme-repos/site"],
        alerts: 2,
      });
      const before = gh.api.requests.length;

      const result = await reconcileAlerts(deps());

      expect(result).toMatchObject({ installations: 1, listed: 2, recorded: 2, failed: [] });
      expect(queue.ids().sort()).toEqual(
        [idOf(id, "acme-repos/api", 1), idOf(id, "acme-repos/site", 1)].sort(),
      );
      expect(callsTo("/orgs/acme-repos/", before)).toHaveLength(1);
      expect(callsTo("/installation/repositories", before)).toHaveLength(1);
      expect(app.listings.map((l) => l.scope)).toEqual([
        { installationId: id, org: "acme-repos" },
        expect.objectContaining({ owner: "acme-repos", repo: "api" }),
        expect.objectContaining({ owner: "acme-repos", repo: "site" }),
      ]);
      expect(await store.getSweepMark(id)).toBeDefined();
    });

    it("lists a user account's alerts per repository, never as an organisation", async () => {
      const id = install("octocat-solo", {
        type: "User",
        repos: ["octocat-solo/dots", "octocat-solo/blog"],
        alerts: 2,
      });

      const result = await reconcileAlerts(deps());

      expect(result).toMatchObject({ listed: 2, recorded: 2, failed: [] });
      expect(app.listings.every((l) => "repo" in l.scope)).toBe(true);
      expect(queue.ids()).toContain(idOf(id, "octocat-solo/blog", 1));
    });

    it("follows the listing over several pages and queues the new alerts in one send", async () => {
      install("acme-big", { repos: ["acme-big/a", "acme-big/b"], alerts: 230 });
      const before = gh.api.requests.length;

      const result = await reconcileAlerts(deps());

      expect(result).toMatchObject({ listed: 230, recorded: 230, failed: [] });
      expect(callsTo("/orgs/acme-big/secret-scanning/alerts", before)).toHaveLength(3);
      expect(queue.sends).toHaveLength(1);
      expect(new Set(queue.ids()).size).toBe(230);
    });

    it("skips a suspended installation: no token is asked for it", async () => {
      const suspended = install("acme-frozen", { suspended: true });
      const active = install("acme-awake");

      const result = await reconcileAlerts(deps());

      expect(result).toMatchObject({ installations: 1, recorded: 1, failed: [] });
      expect(callsTo(`/app/installations/${suspended}/`)).toEqual([]);
      expect(queue.ids()).toEqual([idOf(active, "acme-awake/app", 1)]);
    });
  });

  describe("the sweep mark", () => {
    it("moves to when a complete listing started; the next run asks only for alerts updated since, less the overlap", async () => {
      const id = install("acme-marked");
      alert(id, "acme-marked/app", Date.now() - 3 * DAY);
      const start = Date.now();

      await reconcileAlerts(deps(() => start));

      const mark = new Date(start).toISOString();
      expect(await store.getSweepMark(id)).toBe(mark);
      expect(app.listings[0]?.updatedSince).toBeUndefined();
      expect(queue.ids()).toHaveLength(2);

      const fresh = alert(id, "acme-marked/app");
      const second = await reconcileAlerts(
        deps(() => start + 10 * MINUTE),
        { overlapMs: 2 * MINUTE },
      );

      expect(app.listings[1]?.updatedSince).toEqual(new Date(start - 2 * MINUTE));
      // The alert of three days ago is not listed again; the new one is.
      expect(second).toMatchObject({ listed: 2, recorded: 1, failed: [] });
      expect(queue.ids().at(-1)).toBe(idOf(id, "acme-marked/app", fresh.number));
      expect(await store.getSweepMark(id)).toBe(new Date(start + 10 * MINUTE).toISOString());
    });

    it("stays where it was while the run's cap on new alerts cuts the listing short; later runs record the rest", async () => {
      const id = install("acme-capped", { alerts: 12 });
      const other = install("acme-capped-too", { alerts: 3 });

      const runs = [];
      for (let i = 0; i < 4; i++) runs.push(await reconcileAlerts(deps(), { maxRecordedPerRun: 5 }));

      // Never past the cap, and known alerts never take a new one's place.
      expect(runs.map((r) => r.recorded)).toEqual([5, 5, 5, 0]);
      expect(runs.every((r) => r.failed.length === 0)).toBe(true);
      expect(new Set(queue.ids()).size).toBe(15);
      expect(await store.getSweepMark(id)).toBeDefined();
      expect(await store.getSweepMark(other)).toBeDefined();
    });

    it("does not move the mark of an installation the cap cut short", async () => {
      const id = install("acme-cut", { alerts: 4 });
      await reconcileAlerts(deps(), { maxRecordedPerRun: 3 });
      expect(await store.getSweepMark(id)).toBeUndefined();
      await reconcileAlerts(deps(), { maxRecordedPerRun: 3 });
      expect(await store.getSweepMark(id)).toBeDefined();
    });

    it("lists at most maxInstallations a run, the never-listed first, so capped runs take turns", async () => {
      const ids = [install("acme-t1"), install("acme-t2"), install("acme-t3")];

      const first = await reconcileAlerts(deps(), { maxInstallations: 2 });
      const second = await reconcileAlerts(deps(), { maxInstallations: 2 });

      expect([first.installations, second.installations]).toEqual([2, 2]);
      for (const id of ids) expect(await store.getSweepMark(id)).toBeDefined();
      expect(new Set(queue.ids()).size).toBe(3);
      expect(log.lines.some((l) => l.includes("left for the next sweep"))).toBe(true);
    });

    it("a listing that started before an installation webhook cleared the mark does not set it", async () => {
      const id = install("acme-cleared");
      const start = Date.now();
      await store.clearSweepMark(id, new Date(start + 1).toISOString());

      await reconcileAlerts(deps(() => start));

      expect(await store.getSweepMark(id)).toBeUndefined();
      await reconcileAlerts(deps(() => start + 5));
      expect(await store.getSweepMark(id)).toBe(new Date(start + 5).toISOString());
    });
  });

  describe("failures", () => {
    it("a rate-limited installation is reported, keeps its mark, and the others go on", async () => {
      const limited = install("acme-limited");
      const other = install("acme-fine");
      gh.api.fail({
        status: 403,
        only: "/orgs/acme-limited/",
        message: "API rate limit exceeded for installation.",
        headers: {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 600),
        },
      });

      const result = await reconcileAlerts(deps());

      expect(result).toMatchObject({ installations: 2, listed: 1, recorded: 1 });
      expect(result.failed).toEqual([
        {
          subject: `installation ${limited} (acme-limited)`,
          reason: expect.stringMatching(/HTTP 403.*rate limit/),
        },
      ]);
      expect(queue.ids()).toEqual([idOf(other, "acme-fine/app", 1)]);
      expect(await store.getSweepMark(limited)).toBeUndefined();
      expect(await store.getSweepMark(other)).toBeDefined();
      expect(log.lines.join("\n")).not.toContain("ghs_");
    });

    it("a rate limit on one repository stops that installation's listing for this run", async () => {
      const repos = Array.from({ length: 12 }, (_, i) => `acme-many/r${String(i).padStart(2, "0")}`);
      const id = install("acme-many", { orgAlerts: false, repos, alerts: 12 });
      gh.api.fail({ status: 429, retryAfter: 120, only: "/repos/acme-many/r00/" });
      const before = gh.api.requests.length;

      const result = await reconcileAlerts(deps());

      expect(result.failed).toEqual([
        { subject: `installation ${id} (acme-many)`, reason: expect.stringContaining("acme-many/r00: ") },
      ]);
      // The repositories already being listed finish; no other one starts.
      expect(
        callsTo("/secret-scanning/alerts", before).filter((r) => r.path.startsWith("/repos/")).length,
      ).toBeLessThanOrEqual(4);
      expect(await store.getSweepMark(id)).toBeUndefined();
    });

    it("an outage (5xx) of one installation is reported and the next run lists it in full", async () => {
      const down = install("acme-down");
      gh.api.fail({ status: 502, only: "/orgs/acme-down/" }, 2); // the call and Octokit's one retry

      const first = await reconcileAlerts(deps());
      expect(first.failed).toEqual([
        { subject: `installation ${down} (acme-down)`, reason: expect.stringContaining("HTTP 502") },
      ]);
      expect(await store.getSweepMark(down)).toBeUndefined();

      const second = await reconcileAlerts(deps());
      expect(second).toMatchObject({ recorded: 1, failed: [] });
      expect(queue.ids()).toEqual([idOf(down, "acme-down/app", 1)]);
    });

    it("reports the App's installation list failing", async () => {
      gh.api.fail({ status: 500, only: "/app/installations" }, 2);
      const result = await reconcileAlerts(deps());
      expect(result).toMatchObject({ installations: 0, failed: [{ subject: "installations" }] });
    });

    it("a failed send leaves the recorded alerts owed; a later run sends them", async () => {
      const id = install("acme-unsent");
      queue.failing = true;
      const start = Date.now();

      const first = await reconcileAlerts(deps(() => start));
      expect(first).toMatchObject({ recorded: 1 });
      expect(first.failed).toEqual([
        {
          subject: `installation ${id} (acme-unsent)`,
          reason: "1 alerts recorded but not queued: queue down",
        },
      ]);
      expect(await store.getAlert(idOf(id, "acme-unsent/app", 1))).toMatchObject({ fetchOwed: true });

      queue.failing = false;
      const later = await reconcileAlerts(deps(() => start + 16 * MINUTE));
      expect(later).toMatchObject({ recorded: 0, requeued: 1, failed: [] });
      expect(queue.ids()).toEqual([idOf(id, "acme-unsent/app", 1)]);
    });
  });

  describe("owed fetches", () => {
    const T0 = Date.parse("2026-05-01T08:00:00.000Z");

    it("re-queues an alert owed and untouched past staleAfterMs, once per threshold", async () => {
      const { alert: owed } = await store.recordAlert(receipt(1, "acme/app", 7), { delivery: "d-7", at: T0 });
      const { alert: fresh } = await store.recordAlert(receipt(1, "acme/app", 8), {
        delivery: "d-8",
        at: T0 + 20 * MINUTE,
      });
      const { alert: done } = await store.recordAlert(receipt(1, "acme/app", 9), { delivery: "d-9", at: T0 });
      await store.updateAlert(done, { fetchOwed: false, leakId: "lk_1" });

      const first = await reconcileAlerts(deps(() => T0 + 30 * MINUTE));
      expect(first).toMatchObject({ requeued: 1, failed: [] });
      expect(queue.ids()).toEqual([owed.id]);
      expect((await store.getAlert(owed.id))?.lastActivity).toBe(new Date(T0 + 30 * MINUTE).toISOString());

      // Touched: not again within the threshold, however often the sweep runs.
      const again = await reconcileAlerts(deps(() => T0 + 40 * MINUTE));
      expect(again.requeued).toBe(1); // the other one, now stale
      expect(queue.ids()).toEqual([owed.id, fresh.id]);

      const later = await reconcileAlerts(deps(() => T0 + 46 * MINUTE));
      expect(later.requeued).toBe(1);
      expect(queue.ids()).toEqual([owed.id, fresh.id, owed.id]);
    });

    it("does not re-queue an alert before GitHub's rate-limit reset (notBefore)", async () => {
      const { alert } = await store.recordAlert(receipt(1, "acme/app", 11), { delivery: "d-11", at: T0 });
      await store.updateAlert(alert, { attempts: 1, notBefore: T0 + 60 * MINUTE });

      const early = await reconcileAlerts(deps(() => T0 + 30 * MINUTE));
      expect(early.requeued).toBe(0);
      expect(queue.sends).toEqual([]);

      const after = await reconcileAlerts(deps(() => T0 + 61 * MINUTE));
      expect(after.requeued).toBe(1);
      expect(queue.ids()).toEqual([alert.id]);
    });

    it("reports a failed re-send and leaves the alert untouched for the next run", async () => {
      const { alert } = await store.recordAlert(receipt(1, "acme/app", 12), { delivery: "d-12", at: T0 });
      queue.failing = true;

      const result = await reconcileAlerts(deps(() => T0 + 30 * MINUTE));

      expect(result.failed).toEqual([{ subject: `alert ${alert.id}`, reason: "queue down" }]);
      expect(await store.getAlert(alert.id)).toEqual(alert);
    });
  });
});
