import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import { GithubApiError, KeySetUnavailableError, TourniquetError } from "../../lib/errors.js";
import type { AlertReceipt } from "../../lib/github/alert-record.js";
import type { SecretScanningAlerts } from "../../lib/github/github-app-client.js";
import { partnerKeySetFetcher } from "../../lib/github/partner-key-set.js";
import { savedPartnerKeysLoader } from "../../lib/github/saved-partner-keys.js";
import type { RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { runSweep, type SweepDeps } from "../../lib/schedule/run-sweep.js";
import { DynamoAlertStore } from "../../lib/store/dynamo-alert-store.js";
import { DynamoSavedPartnerKeys } from "../../lib/store/dynamo-saved-partner-keys.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { FakeGitHubKeysServer } from "../helpers/fake-github-keys-server.js";
import { createPartnerSigner } from "../helpers/partner-keys.js";
import { recordingLog } from "../helpers/recording-log.js";
import { rejection } from "../helpers/rejection.js";

// The sweep's two jobs against the embedded engine and a fake GitHub key endpoint: both run every
// time, and one failing neither skips the other nor goes unreported.

const NOW = Date.parse("2026-11-25T12:00:00.000Z");
const longAgo = new Date(NOW - 60 * 60_000).toISOString();

describe("runSweep (embedded DynamoDB, fake GitHub key endpoint)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let github: FakeGitHubKeysServer;
  let sent: RemediationMessage[];
  let deps: SweepDeps;
  let saved: DynamoSavedPartnerKeys;
  const signer = createPartnerSigner();

  beforeEach(async () => {
    t = await createTestStore(engine());
    github = await FakeGitHubKeysServer.start([signer.published]);
    sent = [];
    saved = new DynamoSavedPartnerKeys(t.client, t.tableName);
    deps = {
      store: t.store,
      queue: { send: async (messages) => void sent.push(...(messages as RemediationMessage[])) },
      log: recordingLog().log,
      now: () => NOW,
      fetchPartnerKeys: partnerKeySetFetcher({ url: github.url, timeoutMs: 1_000 }),
      savedPartnerKeys: saved,
    };
    return () => github.close();
  });

  const stuckLeak = () =>
    makeLeak({
      firstSeen: longAgo,
      sealedToken: "sealed",
      timeline: [{ at: longAgo, step: "intake", outcome: "ok", actor: "intake", detail: "report" }],
    });

  it("saves the key set where a cold intake reads it, and re-sends stuck leaks", async () => {
    const { leak } = await t.store.createLeak(stuckLeak());

    const result = await runSweep(deps);

    expect(result).toEqual({
      partnerKeys: { saved: true, keys: 1, fetchedAt: new Date(NOW).toISOString() },
      reconcile: { examined: 1, requeued: 1, failed: 0 },
    });
    expect(sent.map((m) => m.leakId)).toEqual([leak.id]);
    const keys = await savedPartnerKeysLoader(saved)();
    expect([...(keys?.keys() ?? [])]).toEqual([signer.keyId]);
  });

  it("keeps the last saved set when GitHub is down, still reconciles, and fails the run", async () => {
    await runSweep(deps);
    await t.store.createLeak(stuckLeak());
    github.failWith(502);

    const error = await rejection(runSweep({ ...deps, now: () => NOW + 60_000 }), TourniquetError);

    expect(error.message).toMatch(/^sweep failed: partner keys: .*HTTP 502/);
    expect(sent).toHaveLength(1);
    expect((await saved.load())?.fetchedAt).toBe(new Date(NOW).toISOString());
  });

  it("saves the key set even when reconciling fails", async () => {
    await t.store.createLeak(stuckLeak());
    const failing = { ...deps, queue: { send: async () => Promise.reject(new Error("queue down")) } };

    const error = await rejection(runSweep(failing), TourniquetError);

    expect(error.message).toBe("sweep failed: reconcile: 1 stuck leaks could not be re-queued (queue down)");
    expect(await saved.load()).toMatchObject({ fetchedAt: new Date(NOW).toISOString() });
  });

  it("does not let an older fetch overwrite a newer saved set", async () => {
    await runSweep({ ...deps, now: () => NOW + 60_000 });
    await runSweep(deps);
    expect((await saved.load())?.fetchedAt).toBe(new Date(NOW + 60_000).toISOString());
  });

  it("refuses a malformed key set and keeps the saved one", async () => {
    await runSweep(deps);
    github.serveBody(JSON.stringify({ public_keys: [{ key_identifier: "x", key: "not a PEM" }] }));
    const error = await rejection(runSweep({ ...deps, now: () => NOW + 60_000 }), TourniquetError);
    expect(error.message).toMatch(/malformed/);
    expect((await saved.load())?.document.public_keys).toHaveLength(1);
  });

  it("skips the key set where no key endpoint is wired", async () => {
    const result = await runSweep({ ...deps, fetchPartnerKeys: undefined });
    expect(result.partnerKeys).toEqual({ saved: false });
    expect(await saved.load()).toBeUndefined();
  });

  it("reads nothing from a saved item that is not a key set", async () => {
    await t.client.send(
      new PutItemCommand({
        TableName: t.tableName,
        Item: {
          pk: { S: "GITHUB#PARTNER_KEYS" },
          sk: { S: "CURRENT" },
          document: { S: '{"public_keys":"no"}' },
        },
      }),
    );
    const error = await rejection(savedPartnerKeysLoader(saved)(), Error);
    expect(error).not.toBeInstanceOf(KeySetUnavailableError);
  });

  describe("the GitHub App job", () => {
    const receipt: AlertReceipt = {
      installationId: 5,
      owner: "acme",
      repo: "app",
      number: 3,
      secretType: "x",
      repoHtmlUrl: "https://github.com/acme/app",
    };
    /** An App with one organisation installation and one open alert; `fail` makes its listing fail. */
    const stubApp = (fail?: Error): SecretScanningAlerts => {
      const unused = () => Promise.reject(new Error("not called by the sweep"));
      return {
        getAlert: unused,
        listAlertLocations: unused,
        resolveAlert: unused,
        listInstallationRepositories: unused,
        listInstallations: async () => [
          { id: 5, account: { login: "acme", type: "Organization" }, suspended: false },
        ],
        listOpenAlerts: async () => {
          if (fail) throw fail;
          return [{ ...receipt, updatedAt: "2026-11-25T11:00:00Z", htmlUrl: undefined }];
        },
      };
    };

    it("runs when the App and the alert store are wired, and reports its counts", async () => {
      const alerts = new DynamoAlertStore(t.client, t.tableName);
      const { alert: stuck } = await alerts.recordAlert(
        { ...receipt, number: 1 },
        { delivery: "d", at: NOW - 3_600_000 },
      );

      const result = await runSweep({ ...deps, alerts, githubApp: { alerts: stubApp() } });

      expect(result.githubAlerts).toEqual({
        installations: 1,
        listed: 1,
        recorded: 1,
        resumed: 0,
        requeued: 1,
        failed: 0,
      });
      expect(sent.map((m) => ("alertId" in m ? m.alertId : m.leakId))).toEqual([
        stuck.id,
        expect.stringMatching(/^al_/),
      ]);
      expect(await alerts.getSweepMark(5)).toBe(new Date(NOW).toISOString());
    });

    it("passes the leaks' staleAfterMs on, unless the App job's own is given", async () => {
      const alerts = new DynamoAlertStore(t.client, t.tableName);
      await alerts.recordAlert({ ...receipt, number: 2 }, { delivery: "d", at: NOW - 5 * 60_000 });
      const app = { alerts: stubApp() };

      const defaults = await runSweep({ ...deps, alerts, githubApp: app });
      expect(defaults.githubAlerts?.requeued).toBe(0); // 5 minutes idle: not stuck after 15
      const eager = await runSweep({ ...deps, alerts, githubApp: app }, { staleAfterMs: 60_000 });
      expect(eager.githubAlerts?.requeued).toBe(1);
      const own = await runSweep(
        { ...deps, alerts, githubApp: app, now: () => NOW + 2 * 60_000 },
        { staleAfterMs: 60_000, githubAlerts: { staleAfterMs: 60 * 60_000 } },
      );
      expect(own.githubAlerts?.requeued).toBe(0);
    });

    it("is skipped without the App", async () => {
      const result = await runSweep({ ...deps, alerts: new DynamoAlertStore(t.client, t.tableName) });
      expect(result.githubAlerts).toBeUndefined();
    });

    it("fails the sweep when an installation fails, after the other jobs ran", async () => {
      await t.store.createLeak(stuckLeak());
      const alerts = new DynamoAlertStore(t.client, t.tableName);
      const outage = new GithubApiError("GitHub API open alerts of organization acme: HTTP 502", {
        transient: true,
        httpStatus: 502,
      });

      const error = await rejection(
        runSweep({ ...deps, alerts, githubApp: { alerts: stubApp(outage) } }),
        TourniquetError,
      );

      expect(error.message).toBe(
        "sweep failed: github alerts: 1 failures (installation 5 (acme): GitHub API open alerts of organization acme: HTTP 502)",
      );
      expect(sent).toHaveLength(1); // the stuck leak went back all the same
      expect(await saved.load()).toBeDefined();
      expect(await alerts.getSweepMark(5)).toBeUndefined();
    });
  });
});
