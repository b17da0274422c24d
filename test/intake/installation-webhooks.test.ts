import { randomBytes, randomUUID } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BadRequestError } from "../../lib/errors.js";
import { appPrivateKey } from "../../lib/github/app-private-key.js";
import { githubAppFromConfig } from "../../lib/github/github-app.js";
import { GithubAppClient } from "../../lib/github/github-app-client.js";
import { reconcileAlerts } from "../../lib/github/reconcile-alerts.js";
import { type GithubWebhookDeps, receiveGithubWebhook } from "../../lib/intake/receive-github-webhook.js";
import type { AlertFetchMessage, QueueMessage } from "../../lib/queue/remediation-queue.js";
import { DynamoAlertStore } from "../../lib/store/dynamo-alert-store.js";
import { alertReceipt } from "../helpers/alert-receipt.js";
import { createTestStore, sharedEngine } from "../helpers/dynamo.js";
import {
  FAKE_APP_ID,
  type FakeGithubApi,
  fakeAppConfig,
  startFakeGithubApi,
} from "../helpers/fake-github-api.js";
import { recordingLog } from "../helpers/recording-log.js";
import { rejection } from "../helpers/rejection.js";

// `installation` and `installation_repositories` deliveries through receiveGithubWebhook, signed as
// GitHub signs them, over the embedded engine: store writes only, never a GitHub call on the request
// path; the fake GitHub is there to show that (and, for unsuspend, what the next sweep then does).

const HOOK_SECRET = randomBytes(16).toString("hex");
const hooks = new Webhooks({ secret: HOOK_SECRET });
const T0 = Date.parse("2026-06-01T09:00:00.000Z");

const receipt = (installationId: number, repository: string, number: number) =>
  alertReceipt(installationId, repository, number, "x");

/** GitHub's payloads, trimmed to what a reader would look for (the fields used, and a few more). */
const installationPayload = (action: string, id: number) => ({
  action,
  installation: {
    id,
    account: { login: "acme", id: 1, type: "Organization" },
    repository_selection: "selected",
    permissions: { secret_scanning_alerts: "write", metadata: "read" },
    events: ["secret_scanning_alert"],
    suspended_at: action === "suspend" ? "2026-06-01T09:00:00Z" : null,
  },
  repositories: [{ id: 9, name: "app", full_name: "acme/app", private: true }],
  sender: { login: "octocat", id: 2, type: "User" },
});
const repositoriesPayload = (action: "added" | "removed", id: number, repositories: string[]) => ({
  action,
  installation: { id, account: { login: "acme", id: 1, type: "Organization" } },
  repository_selection: "selected",
  repositories_added:
    action === "added" ? repositories.map((full_name) => ({ full_name, name: full_name.split("/")[1] })) : [],
  repositories_removed:
    action === "removed"
      ? repositories.map((full_name) => ({ full_name, name: full_name.split("/")[1] }))
      : [],
  requester: null,
  sender: { login: "octocat", id: 2, type: "User" },
});

describe("installation webhooks (receiveGithubWebhook, embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let gh: FakeGithubApi;
  let deps: GithubWebhookDeps;
  let alerts: DynamoAlertStore;
  let sent: QueueMessage[];
  let log: ReturnType<typeof recordingLog>;

  beforeAll(async () => {
    gh = await startFakeGithubApi();
  });
  afterAll(() => gh.close());

  beforeEach(async () => {
    const t = await createTestStore(engine());
    alerts = new DynamoAlertStore(t.client, t.tableName);
    sent = [];
    log = recordingLog();
    const config = fakeAppConfig(gh, HOOK_SECRET);
    deps = {
      config,
      queue: { send: async (messages) => void sent.push(...messages) },
      log: log.log,
      githubApp: githubAppFromConfig(config),
      alerts,
      now: () => T0,
    };
  });

  async function deliver(event: string, payload: unknown) {
    const body = Buffer.from(JSON.stringify(payload));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": await hooks.sign(body.toString()),
    };
    return receiveGithubWebhook(deps, { body, header: (name) => headers[name.toLowerCase()] });
  }

  it.each(["created", "unsuspend", "new_permissions_accepted"])(
    "installation.%s clears the installation's sweep mark, with no GitHub call",
    async (action) => {
      await alerts.setSweepMark(31, "2026-06-01T08:00:00.000Z");
      await alerts.setSweepMark(32, "2026-06-01T08:00:00.000Z");
      const calls = gh.api.requests.length;

      const answer = await deliver("installation", installationPayload(action, 31));

      expect(answer).toEqual({ status: 202, body: { installation: 31, action } });
      expect(await alerts.getSweepMark(31)).toBeUndefined();
      expect(await alerts.getSweepMark(32)).toBe("2026-06-01T08:00:00.000Z");
      expect(gh.api.requests.length).toBe(calls);
    },
  );

  it("installation_repositories.added clears the sweep mark", async () => {
    await alerts.setSweepMark(33, "2026-06-01T08:00:00.000Z");
    const answer = await deliver("installation_repositories", repositoriesPayload("added", 33, ["acme/new"]));
    expect(answer).toEqual({ status: 202, body: { installation: 33, action: "added" } });
    expect(await alerts.getSweepMark(33)).toBeUndefined();
  });

  it.each([
    ["deleted", "installation_deleted", /the App was uninstalled \(installation 41 deleted\)/],
    ["suspend", "installation_suspended", /installation 41 was suspended/],
  ])(
    "installation.%s gives up the installation's owed fetches, and only those",
    async (action, stop, why) => {
      const owed = await alerts.recordAlert(receipt(41, "acme/app", 1), { delivery: "d-1", at: T0 - 60_000 });
      const fetched = await alerts.recordAlert(receipt(41, "acme/app", 2), {
        delivery: "d-2",
        at: T0 - 60_000,
      });
      const settled = await alerts.updateAlert(fetched.alert, { fetchOwed: false, leakId: "lk_1" });
      const elsewhere = await alerts.recordAlert(receipt(42, "acme/app", 1), {
        delivery: "d-3",
        at: T0 - 60_000,
      });
      const calls = gh.api.requests.length;

      const answer = await deliver("installation", installationPayload(action, 41));

      expect(answer).toEqual({ status: 202, body: { installation: 41, action } });
      const stopped = await alerts.getAlert(owed.alert.id);
      expect(stopped).toMatchObject({
        fetchOwed: false,
        stoppedBy: stop,
        lastActivity: new Date(T0).toISOString(),
      });
      expect(stopped?.lastError).toMatch(/^given up: /);
      expect(stopped?.lastError).toMatch(why);
      expect(await alerts.getAlert(fetched.alert.id)).toEqual(settled);
      expect(await alerts.getAlert(elsewhere.alert.id)).toEqual(elsewhere.alert);
      expect((await alerts.listOwedAlerts({ until: new Date(T0).toISOString(), limit: 10 })).items).toEqual([
        elsewhere.alert,
      ]);
      expect(gh.api.requests.length).toBe(calls);
      expect(sent).toEqual([]);
    },
  );

  it("installation_repositories.removed gives up the owed fetches of the repositories that left", async () => {
    const gone = await alerts.recordAlert(receipt(43, "acme/gone", 1), { delivery: "d-4", at: T0 - 1 });
    const kept = await alerts.recordAlert(receipt(43, "acme/kept", 1), { delivery: "d-5", at: T0 - 1 });

    const answer = await deliver(
      "installation_repositories",
      repositoriesPayload("removed", 43, ["acme/Gone"]),
    );

    expect(answer).toEqual({ status: 202, body: { installation: 43, action: "removed" } });
    expect(await alerts.getAlert(gone.alert.id)).toMatchObject({
      fetchOwed: false,
      stoppedBy: "repository_removed",
      lastError: "given up: repository acme/gone was removed from installation 43",
    });
    expect(await alerts.getAlert(kept.alert.id)).toEqual(kept.alert);
  });

  it("after suspend and unsuspend, the next sweep owes the stopped alert's fetch again", async () => {
    deps.now = () => Date.now();
    gh.api.addInstallation({ id: 44, account: { login: "acme-paused", type: "Organization" } });
    gh.api.createAlert({
      repository: "acme-paused/app",
      installation_id: 44,
      secret: "tqs_paused_secret",
      secret_type: "x",
    });
    const recorded = await alerts.recordAlert(receipt(44, "acme-paused/app", 1), {
      delivery: "d-6",
      at: Date.now(),
    });
    await alerts.setSweepMark(44, new Date(Date.now() - 1_000).toISOString());

    await deliver("installation", installationPayload("suspend", 44));
    expect(await alerts.getAlert(recorded.alert.id)).toMatchObject({ fetchOwed: false });
    await deliver("installation", installationPayload("unsuspend", 44));
    expect(await alerts.getSweepMark(44)).toBeUndefined();

    const client = new GithubAppClient({
      apiUrl: gh.url,
      appId: FAKE_APP_ID,
      privateKey: appPrivateKey(gh.appPrivateKey),
    });
    const result = await reconcileAlerts({
      alerts,
      app: { alerts: client },
      queue: deps.queue,
      log: log.log,
    });

    expect(result).toMatchObject({ recorded: 0, resumed: 1, failed: [] });
    expect(sent.map((m) => (m as AlertFetchMessage).alertId)).toEqual([recorded.alert.id]);
    const resumed = await alerts.getAlert(recorded.alert.id);
    expect(resumed).toMatchObject({ fetchOwed: true, attempts: 0 });
    expect(resumed?.stoppedBy).toBeUndefined();
    expect(resumed?.lastError).toBeUndefined();
  });

  it("a new delivery of a stopped alert owes its fetch and forgets the stop", async () => {
    const { alert } = await alerts.recordAlert(receipt(45, "acme/app", 1), { delivery: "d-7", at: T0 - 1 });
    await deliver("installation", installationPayload("suspend", 45));
    const again = await alerts.recordAlert(receipt(45, "acme/app", 1), { delivery: "d-8", at: T0 + 1 });
    expect(again.alert).toMatchObject({ id: alert.id, fetchOwed: true });
    expect(again.alert.stoppedBy).toBeUndefined();
  });

  it("refuses an installation payload without its id (400 naming the field), and ignores other actions", async () => {
    const { installation: _, ...noInstallation } = installationPayload("created", 46);
    const error = await rejection(deliver("installation", noInstallation), BadRequestError);
    expect(error.message).toMatch(/^installation\.created payload: invalid or missing fields: installation/);
    const removedNames = repositoriesPayload("removed", 46, ["acme/x"]);
    removedNames.repositories_removed = [{ full_name: "not a repository", name: "x" }];
    await expect(deliver("installation_repositories", removedNames)).rejects.toThrow(
      /repositories_removed\.0\.full_name/,
    );

    expect(
      await deliver("installation", { ...installationPayload("created", 46), action: "renamed" }),
    ).toEqual({
      status: 202,
      body: { ignored: "installation.renamed" },
    });
    expect(await deliver("installation_target", { action: "renamed" })).toEqual({
      status: 202,
      body: { ignored: "installation_target.renamed" },
    });
  });
});
