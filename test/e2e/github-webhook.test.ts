import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Webhooks } from "@octokit/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { readJson, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// POST /v1/github/webhooks through the real local stack: GitHub App secret_scanning_alert webhooks,
// signed with the App's webhook secret; the App fetches the secret from the local fake GitHub REST API
// (/sandbox/github/api) with a real App JWT (signed by @octokit/auth-app, checked by the fake) and installation token, and the token goes through the
// same intake as a partner report.

let t: TestStack;
/** Every raw token these tests handed to the stack. */
const tokens: string[] = [];
/** Every response body these tests read. */
const bodies: string[] = [];

beforeAll(async () => {
  t = await startTestStack({ queueConcurrency: 4 });
});
afterAll(() => t.close());

async function issue(owner?: { email: string }) {
  const key = await t.issueKey(owner);
  tokens.push(key.token);
  return key;
}

async function body(response: Response) {
  const text = await response.text();
  bodies.push(text);
  return JSON.parse(text);
}

const githubCalls = () => t.stack.githubApi.requests.length;

describe("a secret_scanning_alert.created for a live sandbox key", () => {
  it("is fetched from GitHub, recorded with its location, answered and revoked once", async () => {
    const key = await issue({ email: "dev@example.test" });
    const alert = await t.githubAlert(key.token);
    const delivery = randomUUID();

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload, { delivery });

    expect(response.status).toBe(200);
    const answer = await body(response);
    expect(answer).toEqual({
      delivery,
      alert: { repository: "acme/app", number: alert.number, html_url: alert.html_url },
      leaks: [{ token_hash: fingerprintToken(key.token), token_type: SANDBOX_TYPE, label: "true_positive" }],
    });
    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });

    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak).toMatchObject({ status: "revoked", token_type: SANDBOX_TYPE, key_id: key.key_id });
    const commit = t.stack.githubApi.alerts.at(-1)?.locations[0]?.details.commit_sha;
    expect(leak?.sightings).toEqual([
      expect.objectContaining({
        url: `https://github.com/acme/app/blob/${commit}/.env#L1`,
        source: "github_app:acme/app",
        reports: 1,
      }),
    ]);
    expect(leak?.timeline[0]).toMatchObject({
      step: "report",
      detail: expect.stringContaining(`reported by GitHub App alert acme/app#${alert.number}`),
    });
    expect(leak?.timeline.filter((e) => e.step === "revoke")).toHaveLength(1);
  });

  it("records one sighting per location, linking issues and pull requests", async () => {
    const key = await issue();
    const api = "https://api.github.com/repos/acme/lib";
    const alert = await t.githubAlert(key.token, {
      repository: "acme/lib",
      locations: [
        { type: "issue_body", details: { issue_body_url: `${api}/issues/12` } },
        { type: "pull_request_title", details: { pull_request_title_url: `${api}/pulls/34` } },
        { type: "issue_comment", details: { issue_comment_url: `${api}/issues/comments/99` } },
      ],
    });

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload);
    expect(response.status).toBe(200);
    await body(response);
    await t.stack.queue.drain();

    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak?.sightings.map((s) => s.url).sort()).toEqual(
      [
        "https://github.com/acme/lib/issues/12",
        "https://github.com/acme/lib/pull/34",
        alert.html_url, // a comment's API URL lacks its issue's number: the alert's page stands in
      ].sort(),
    );
  });
});

describe("duplicates", () => {
  it("a redelivery and the same token from the partner program are still one leak and one revocation", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token);
    const delivery = randomUUID();

    const first = await t.webhook("secret_scanning_alert", alert.webhook_payload, { delivery });
    const again = await t.webhook("secret_scanning_alert", alert.webhook_payload, { delivery });
    const reopened = await t.webhook("secret_scanning_alert", {
      ...alert.webhook_payload,
      action: "reopened",
    });
    const partner = await t.report([
      { token: key.token, type: SANDBOX_TYPE, url: "https://gist.example/1", source: "gist" },
    ]);
    expect([first.status, again.status, reopened.status, partner.status]).toEqual([200, 200, 200, 200]);
    for (const r of [first, again, reopened, partner]) await body(r);
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const list = await readJson(await t.admin(`/v1/admin/leaks?fingerprint=${fingerprintToken(key.token)}`));
    expect(list.items).toHaveLength(1);
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak?.timeline.filter((e) => e.step === "revoke")).toHaveLength(1);
    expect(leak?.deliveries.length).toBeGreaterThan(0);
    const deliveries = leak?.deliveries.length;
    expect(leak?.sightings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: "github_app:acme/app", reports: 3 }),
        expect.objectContaining({ url: "https://gist.example/1", source: "gist", reports: 1 }),
      ]),
    );
    // Once more after the revocation: nothing is revoked or sent again.
    const payload = alert.webhook_payload as { alert: Record<string, unknown> };
    const late = await t.webhook("secret_scanning_alert", {
      ...payload,
      action: "validated",
      alert: { ...payload.alert, validity: "active" },
    });
    expect(late.status).toBe(200);
    await body(late);
    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ revocations: 1 });
    expect((await t.leakByFingerprint(fingerprintToken(key.token)))?.deliveries).toHaveLength(
      deliveries ?? -1,
    );
  });
});

describe("events it does not act on", () => {
  it("answers ping with 200 without calling GitHub", async () => {
    const before = githubCalls();
    const response = await t.webhook("ping", { zen: "Keep it logically awesome.", hook_id: 1 });
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ ok: true });
    expect(githubCalls()).toBe(before);
  });

  it("acknowledges other actions and events with 202 and does nothing", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token);
    const before = githubCalls();

    const resolved = await t.webhook("secret_scanning_alert", {
      ...alert.webhook_payload,
      action: "resolved",
    });
    const push = await t.webhook("push", { ref: "refs/heads/main" });

    expect([resolved.status, push.status]).toEqual([202, 202]);
    expect(await body(resolved)).toEqual({ ignored: "secret_scanning_alert.resolved" });
    expect(await body(push)).toEqual({ ignored: "push" });
    expect(githubCalls()).toBe(before);
    expect(await t.leakByFingerprint(fingerprintToken(key.token))).toBeUndefined();
  });
});

describe("requests that are not GitHub's", () => {
  it("a wrong signature gets 401 and changes nothing", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token);
    const before = { calls: githubCalls(), sent: t.sentMessages.length };

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload, {
      secret: "not the App's secret",
    });

    expect(response.status).toBe(401);
    expect(await body(response)).toMatchObject({
      error: "signature",
      message: expect.stringMatching(/does not verify/),
    });
    await t.stack.queue.drain();
    expect(githubCalls()).toBe(before.calls);
    expect(t.sentMessages.length).toBe(before.sent);
    expect(await t.leakByFingerprint(fingerprintToken(key.token))).toBeUndefined();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "active", revocations: 0 });
  });

  it("a body changed after signing gets 401", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token);
    const signedFor = JSON.stringify(alert.webhook_payload);
    const signature = await new Webhooks({ secret: t.stack.githubWebhookSecret }).sign(signedFor);
    const response = await t.webhook("secret_scanning_alert", undefined, {
      rawBody: signedFor.replace('"created"', '"reopened"'),
      headers: { "x-hub-signature-256": signature },
    });
    expect(response.status).toBe(401);
    await body(response);
  });

  it.each([
    ["no signature", { "x-hub-signature-256": "" }, 400, /missing X-Hub-Signature-256/],
    ["a SHA-1 signature", { "x-hub-signature-256": `sha1=${"0".repeat(40)}` }, 400, /malformed/],
    ["no event name", { "x-github-event": "" }, 400, /X-GitHub-Event/],
    ["no delivery id", { "x-github-delivery": "" }, 400, /X-GitHub-Delivery/],
    [
      "a form-encoded body",
      { "content-type": "application/x-www-form-urlencoded" },
      415,
      /application\/json/,
    ],
  ])("%s gets %i", async (_, headers, status, message) => {
    const before = githubCalls();
    const response = await t.webhook("secret_scanning_alert", { action: "created" }, { headers });
    expect(response.status).toBe(status);
    expect((await body(response)).message).toMatch(message);
    expect(githubCalls()).toBe(before);
  });

  it("a signed alert payload without an installation gets 400 naming the field", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token);
    const { installation: _, ...payload } = alert.webhook_payload;
    const response = await t.webhook("secret_scanning_alert", payload);
    expect(response.status).toBe(400);
    expect((await body(response)).message).toMatch(/installation/);
  });
});

describe("when GitHub's API fails", () => {
  it("answers 503 naming the delivery, writes nothing, and a redelivery afterwards succeeds", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token);
    const delivery = randomUUID();
    const sent = t.sentMessages.length;
    t.stack.githubApi.fail({ status: 503 }, 20);

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload, { delivery });

    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBeTruthy();
    const answer = await body(response);
    expect(answer).toMatchObject({ error: "github_api", message: expect.stringContaining(delivery) });
    expect(answer.message).toContain(`acme/app#${alert.number}`);
    expect(t.logLines.some((l) => l.includes(delivery) && l.includes("not fetched"))).toBe(true);
    await t.stack.queue.drain();
    expect(await t.leakByFingerprint(fingerprintToken(key.token))).toBeUndefined();
    expect(t.sentMessages.length).toBe(sent);
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "active" });

    t.stack.githubApi.recover();
    const redelivered = await t.webhook("secret_scanning_alert", alert.webhook_payload, { delivery });
    expect(redelivered.status).toBe(200);
    await body(redelivered);
    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
  });

  it("retries a brief rate limit inside the delivery", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token);
    t.stack.githubApi.fail({ status: 429, retryAfter: 0, only: "/secret-scanning/" }, 1);
    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload);
    expect(response.status).toBe(200);
    expect((await body(response)).leaks).toHaveLength(1);
  });

  it("answers 502 when GitHub refuses for good (alert not visible to the installation)", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token, { installationId: 5 });
    const payload = { ...alert.webhook_payload, installation: { id: 6 } };
    const response = await t.webhook("secret_scanning_alert", payload);
    expect(response.status).toBe(502);
    const answer = await body(response);
    expect(answer).toMatchObject({ error: "github_api" });
    expect(answer.message).toContain(`alert acme/app#${alert.number}: HTTP 404`);
    expect(await t.leakByFingerprint(fingerprintToken(key.token))).toBeUndefined();
  });
});

describe("the raw token", () => {
  function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
  }

  it("never appears in a response, a log line or the database", async () => {
    await t.stack.queue.drain();
    expect(tokens.length).toBeGreaterThan(5);
    expect(bodies.length).toBeGreaterThan(10);
    expect(t.logLines.some((l) => l.includes("github secret scanning alert recorded"))).toBe(true);
    const db = filesUnder(join(t.stack.dataDir, "db"))
      .map((file) => readFileSync(file).toString("latin1"))
      .join("\n");
    expect(db).toContain(fingerprintToken(tokens[0] ?? "")); // canary: the scan reads what is stored
    for (const token of tokens) {
      for (const text of bodies) expect(text).not.toContain(token);
      for (const line of t.logLines) expect(line).not.toContain(token);
      expect(db).not.toContain(token);
    }
  });
});

describe("without github_app in the config", () => {
  it("the route exists and answers 404 not_configured", async () => {
    const bare = await startTestStack({ configOverrides: { github_app: undefined } });
    try {
      const response = await bare.webhook("ping", { zen: "hi" });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: "not_configured",
        message: "GitHub App webhooks are not configured (github_app in the config)",
      });
      const wrongMethod = await fetch(`${bare.stack.url}/v1/github/webhooks`);
      expect(wrongMethod.status).toBe(405);
    } finally {
      await bare.close();
    }
  });
});
