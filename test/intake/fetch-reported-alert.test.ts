import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GithubApiError, NotConfiguredError } from "../../lib/errors.js";
import { type AlertReceipt, alertIdFor } from "../../lib/github/alert-record.js";
import { githubAppFromConfig } from "../../lib/github/github-app.js";
import { fetchReportedAlert } from "../../lib/intake/fetch-reported-alert.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { loadTemplates } from "../../lib/notify/render-leak-message.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import type { QueueMessage } from "../../lib/queue/remediation-queue.js";
import type { WorkerDeps } from "../../lib/remediation/worker-run.js";
import { DynamoAlertStore } from "../../lib/store/dynamo-alert-store.js";
import { leakIdFor } from "../../lib/store/leak.js";
import { createTestStore, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { type FakeGithubApi, fakeAppConfig, startFakeGithubApi } from "../helpers/fake-github-api.js";
import { recordingLog } from "../helpers/recording-log.js";

// The worker's fetch of a GitHub App alert, against the embedded engine and the fake GitHub on loopback.

const TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
let gh: FakeGithubApi;
beforeAll(async () => {
  gh = await startFakeGithubApi();
});
afterAll(async () => {
  await gh.close();
});

describe("fetchReportedAlert (embedded DynamoDB, fake GitHub)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let alerts: DynamoAlertStore;
  let sent: QueueMessage[];

  beforeEach(async () => {
    t = await createTestStore(engine());
    alerts = new DynamoAlertStore(t.client, t.tableName);
    sent = [];
  });

  const config = () =>
    fakeAppConfig(gh, "hook-secret", { remediation: { step_attempts: 1, step_backoff_ms: 0 } });
  const deps = (overrides: Partial<WorkerDeps> = {}): WorkerDeps => {
    const c = config();
    return {
      config: c,
      store: t.store,
      issuers: IssuerRegistry.fromConfig(c),
      sealer: new LocalKeySealer(randomBytes(32)),
      queue: { send: async (messages) => void sent.push(...messages) },
      githubApp: githubAppFromConfig(c),
      alerts,
      channels: new Map(),
      templates: loadTemplates(),
      log: recordingLog().log,
      workerId: "test",
      ...overrides,
    };
  };
  const recorded = async (repository: string, installationId?: number) => {
    const alert = gh.api.createAlert({
      repository,
      secret: TOKEN,
      secret_type: "github_personal_access_token",
      ...(installationId ? { installation_id: installationId } : {}),
    });
    const [owner = "", repo = ""] = repository.split("/");
    const receipt: AlertReceipt = {
      installationId: alert.installationId,
      owner,
      repo,
      number: alert.number,
      secretType: "github_personal_access_token",
      repoHtmlUrl: `https://github.com/${repository}`,
    };
    return (await alerts.recordAlert(receipt, { delivery: `d-${repository}`, at: Date.now() })).alert;
  };
  const fetchOf = (alertId: string) => ({ message: { alertId }, receiveCount: 1, maxReceives: 3 });
  const secretCalls = () => gh.api.requests.filter((r) => r.path.includes("/secret-scanning/")).length;

  it("records the secret as a leak linked to its alert, and the alert as fetched", async () => {
    const alert = await recorded("acme/one");

    await fetchReportedAlert(deps(), fetchOf(alert.id));

    const leak = await t.store.getLeak(leakIdFor(fingerprintToken(TOKEN)));
    expect(leak?.alerts).toEqual([
      {
        alertId: alert.id,
        installationId: alert.installationId,
        owner: "acme",
        repo: "one",
        number: alert.number,
      },
    ]);
    expect(await alerts.getAlert(alert.id)).toMatchObject({
      fetchOwed: false,
      leakId: leak?.id,
      attempts: 0,
    });
    expect(JSON.stringify(await alerts.getAlert(alert.id))).not.toContain(TOKEN);
  });

  it("does nothing for an alert fetched already or not recorded", async () => {
    const alert = await recorded("acme/two");
    await fetchReportedAlert(deps(), fetchOf(alert.id));
    const calls = secretCalls();

    await fetchReportedAlert(deps(), fetchOf(alert.id));
    await fetchReportedAlert(
      deps(),
      fetchOf(alertIdFor({ installationId: 1, owner: "x", repo: "y", number: 9 })),
    );

    expect(secretCalls()).toBe(calls);
  });

  it("records a rate limit's reset on the alert and calls nothing before it", async () => {
    // An installation of its own: the reset holds for all of its alerts in this process.
    const alert = await recorded("acme/three", 77);
    gh.api.fail({ status: 429, retryAfter: 60, only: "/secret-scanning/" }, 1);

    await expect(fetchReportedAlert(deps(), fetchOf(alert.id))).rejects.toThrow(GithubApiError);
    const limited = await alerts.getAlert(alert.id);
    expect(limited).toMatchObject({ fetchOwed: true, attempts: 1 });
    expect(limited?.notBefore).toBeGreaterThan(Date.now() + 50_000);
    const calls = secretCalls();

    await expect(fetchReportedAlert(deps(), fetchOf(alert.id))).rejects.toThrow(
      /rate limited; not called again for \d+ s/,
    );
    expect(secretCalls()).toBe(calls);
    gh.api.recover();
  });

  it("refuses plainly without a GitHub App in the worker's config", async () => {
    const alert = await recorded("acme/four");
    await expect(fetchReportedAlert(deps({ githubApp: undefined }), fetchOf(alert.id))).rejects.toThrow(
      NotConfiguredError,
    );
  });

  it("sends a settled leak that a new alert reports back to the worker, to resolve that alert", async () => {
    const first = await recorded("acme/five");
    await fetchReportedAlert(deps(), fetchOf(first.id));
    const leak = await t.store.getLeak(leakIdFor(fingerprintToken(TOKEN)));
    if (leak)
      await t.store.updateLeak(
        leak,
        { status: "revoked", notification: { status: "sent", at: "2026-11-27T00:00:00Z" } },
        [],
      );
    sent = [];

    const second = await recorded("acme/six");
    await fetchReportedAlert(deps(), fetchOf(second.id));

    const linked = await t.store.getLeak(leakIdFor(fingerprintToken(TOKEN)));
    expect(linked?.alerts?.map((a) => a.repo)).toEqual(["five", "six"]);
    expect(linked?.status).toBe("revoked"); // a new sighting, not a new revocation
    // It now owes the new alert's resolution: back to the worker.
    expect(sent).toContainEqual({ leakId: linked?.id, sealedToken: "" });
  });
});
