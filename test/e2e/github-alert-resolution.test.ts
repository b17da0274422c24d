import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { readJson, startTestStack, type TestStack } from "../helpers/test-stack.js";

// Closing the loop through the real local stack: a signed secret_scanning_alert webhook for a live
// sandbox key → the worker fetches the secret from the fake GitHub, revokes, rotates and notifies, and
// then resolves the alert in the fake GitHub as revoked with a comment naming the leak. What GitHub
// shows is read back from the fake (GET /_alerts/{owner}/{repo}/{n}), as an operator would.

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({ queueConcurrency: 4 });
});
afterAll(() => t.close());

/** The fake GitHub's own view of an alert: state, resolution, comment (never the secret). */
async function alertInGithub(repository: string, number: number) {
  const response = await fetch(`${t.stack.url}/sandbox/github/api/_alerts/${repository}/${number}`);
  expect(response.status).toBe(200);
  return readJson(response);
}

describe("a GitHub App alert for a live key", () => {
  it("ends resolved in GitHub as revoked, with a comment naming the leak, once", async () => {
    const key = await t.issueKey({ email: "dev@example.test" });
    const alert = await t.githubAlert(key.token, { repository: "acme/loop" });

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload, {
      delivery: randomUUID(),
    });
    expect(response.status).toBe(202);
    await response.text();
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak?.status).toBe("revoked");
    const inGithub = await alertInGithub("acme/loop", alert.number);
    expect(inGithub).toMatchObject({ state: "resolved", resolution: "revoked" });
    expect(inGithub.resolution_comment).toContain(`leak ${leak?.id}`);
    expect(inGithub.resolution_comment).toContain(`key ${key.key_id}`);
    expect(inGithub.resolution_comment).not.toContain(key.token);

    // The admin API shows the link and when it was resolved; the timeline has the GitHub write.
    const detail = await readJson(await t.admin(`/v1/admin/leaks/${leak?.id}`));
    expect(detail.alerts).toEqual([
      {
        repository: "acme/loop",
        number: alert.number,
        resolved: { resolution: "revoked", at: expect.any(String) },
        left_open: null,
      },
    ]);
    const resolveEvents = detail.timeline.filter((e: { step: string }) => e.step === "resolve_alert");
    expect(resolveEvents).toHaveLength(1);
    expect(resolveEvents[0]).toMatchObject({
      outcome: "ok",
      actor: "worker",
      data: { repository: "acme/loop", number: alert.number, resolution: "revoked", already_resolved: false },
    });
    // GitHub hears last: after the revocation and the owner's message.
    const steps: string[] = detail.timeline.map((e: { step: string }) => e.step);
    expect(steps.indexOf("resolve_alert")).toBeGreaterThan(steps.indexOf("revoke"));
    expect(steps.indexOf("resolve_alert")).toBeGreaterThan(steps.lastIndexOf("notify"));

    // Reopened in GitHub: a new sighting for the same secret, never a new revocation or resolution.
    const patchesBefore = t.stack.githubApi.requests.filter((r) => r.method === "PATCH").length;
    const reopened = t.stack.githubApi.state.find("acme/loop", alert.number);
    if (reopened) Object.assign(reopened, { state: "open", resolution: null, resolvedAt: null });
    const again = await t.webhook("secret_scanning_alert", { ...alert.webhook_payload, action: "reopened" });
    expect(again.status).toBe(202);
    await again.text();
    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ revocations: 1 });
    expect(t.stack.githubApi.requests.filter((r) => r.method === "PATCH")).toHaveLength(patchesBefore);
    const after = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(after?.timeline.filter((e) => e.step === "resolve_alert")).toHaveLength(1);
    expect(after?.timeline.filter((e) => e.step === "revoke")).toHaveLength(1);

    // Nothing the stack wrote or said holds the token.
    expect(await t.everythingWritten([leak?.id ?? ""])).not.toContain(key.token);
  });
});
