import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertIdFor } from "../../lib/github/alert-record.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// The sweep's App job on the real local stack: alerts whose webhook never came are found by listing the
// installation's open alerts in the local fake GitHub, and then go the way a delivered alert goes (the
// worker fetches the secret with the installation token, the sandbox issuer revokes it).

let t: TestStack;
const DAY = 24 * 60 * 60_000;

beforeAll(async () => {
  // Once started, the stack's own first sweep is over: the runs below are alone.
  t = await startTestStack({ queueConcurrency: 4 });
});
afterAll(() => t.close());

/** An alert in the fake GitHub, optionally backdated; no webhook is sent for it. */
async function githubAlert(secret: string, repository: string, installationId: number, createdAt?: number) {
  const response = await fetch(`${t.stack.url}/sandbox/github/api/_alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      repository,
      secret,
      secret_type: SANDBOX_TYPE,
      installation_id: installationId,
      ...(createdAt ? { created_at: new Date(createdAt).toISOString() } : {}),
    }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { number: number; html_url: string };
}

describe("an alert whose webhook never came", () => {
  it("is recorded by one sweep, fetched by the worker and its live key revoked; the next sweep adds nothing", async () => {
    const key = await t.issueKey({ email: "dev@example.test" });
    const alert = await githubAlert(key.token, "acme-missed/app", 71);

    const result = await t.stack.sweep();
    expect(result.githubAlerts).toMatchObject({ installations: 1, recorded: 1, failed: 0 });
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak).toMatchObject({ status: "revoked", token_type: SANDBOX_TYPE, key_id: key.key_id });
    expect(leak?.sightings).toEqual([expect.objectContaining({ source: "github_app:acme-missed/app" })]);
    const alertId = alertIdFor({
      installationId: 71,
      owner: "acme-missed",
      repo: "app",
      number: alert.number,
    });
    expect(await t.stack.alerts.getAlert(alertId)).toMatchObject({
      deliveries: [],
      fetchOwed: false,
      leakId: leak?.id,
    });

    const sent = t.sentMessages.length;
    const again = await t.stack.sweep();
    expect(again.githubAlerts).toMatchObject({ installations: 1, recorded: 0, failed: 0 });
    await t.stack.queue.drain();
    expect(t.sentMessages.length).toBe(sent);
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ revocations: 1 });
    const written = await t.everythingWritten(leak ? [leak.id] : []);
    expect(written).not.toContain(key.token);
  });
});

describe("installation webhooks", () => {
  it("a repository added to an installation has its older alerts listed by the next sweep", async () => {
    await githubAlert((await t.issueKey()).token, "acme-grown/app", 72);
    await t.stack.sweep(); // the installation's mark is set
    // An alert GitHub raised days ago in a repository the App has just been given: older than the mark.
    const key = await t.issueKey();
    await githubAlert(key.token, "acme-grown/legacy", 72, Date.now() - 2 * DAY);

    const before = await t.stack.sweep();
    expect(before.githubAlerts).toMatchObject({ recorded: 0, failed: 0 });

    const response = await t.webhook("installation_repositories", {
      action: "added",
      installation: { id: 72, account: { login: "acme-grown", type: "Organization" } },
      repository_selection: "selected",
      repositories_added: [{ id: 3, name: "legacy", full_name: "acme-grown/legacy", private: true }],
      repositories_removed: [],
      sender: { login: "octocat", id: 2, type: "User" },
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ installation: 72, action: "added" });

    const after = await t.stack.sweep();
    expect(after.githubAlerts).toMatchObject({ recorded: 1, failed: 0 });
    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
  });
});
