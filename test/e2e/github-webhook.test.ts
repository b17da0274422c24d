import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Webhooks } from "@octokit/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertIdFor } from "../../lib/github/alert-record.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { readJson, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// POST /v1/github/webhooks through the real local stack: GitHub App secret_scanning_alert webhooks,
// signed with the App's webhook secret, recorded and answered 202 at once; the worker fetches the secret
// from the local fake GitHub REST API (/sandbox/github/api) with a real App JWT (signed by
// @octokit/auth-app, checked by the fake) and installation token, and the token goes through the same
// intake as a partner report.

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
  it("is answered 202 before GitHub is asked, then fetched by the worker, recorded with its location and revoked once", async () => {
    const key = await issue({ email: "dev@example.test" });
    const alert = await t.githubAlert(key.token);
    const delivery = randomUUID();
    const calls = githubCalls();

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload, { delivery });

    expect(response.status).toBe(202);
    const answer = await body(response);
    expect(answer).toEqual({
      delivery,
      alert: { repository: "acme/app", number: alert.number, html_url: alert.html_url },
      queued: true,
    });
    await t.stack.queue.drain();
    expect(githubCalls()).toBeGreaterThan(calls); // the worker's fetch
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
    expect(response.status).toBe(202);
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
    expect([first.status, again.status, reopened.status, partner.status]).toEqual([202, 202, 202, 200]);
    expect(((await again.clone().json()) as { duplicate?: boolean }).duplicate).toBe(true);
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
        // The delivery and the reopened alert; the redelivery is recorded once.
        expect.objectContaining({ source: "github_app:acme/app", reports: 2 }),
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
    expect(late.status).toBe(202);
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

describe("the same delivery ten times at once", () => {
  it("is one alert, one fetch, one leak, one revocation and one alert update", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token, { repository: "acme/burst" });
    const delivery = randomUUID();
    const alertCalls = (method: string) =>
      t.stack.githubApi.requests.filter(
        (r) => r.method === method && /secret-scanning\/alerts\/\d+$/.test(r.path),
      ).length;
    const before = { fetches: alertCalls("GET"), updates: alertCalls("PATCH") };

    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.webhook("secret_scanning_alert", alert.webhook_payload, { delivery }),
      ),
    );
    const answers = await Promise.all(responses.map(body));
    await t.stack.queue.drain();

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(answers.filter((a) => a.queued)).toHaveLength(1);
    expect(alertCalls("GET") - before.fetches).toBe(1);
    expect(alertCalls("PATCH") - before.updates).toBe(1); // resolved once, as revoked
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak?.timeline.filter((e) => e.step === "revoke")).toHaveLength(1);
    expect(leak?.sightings).toEqual([expect.objectContaining({ reports: 1 })]);
  });
});

describe("when GitHub's API fails", () => {
  it("keeps the alert while GitHub is down for the first fetches, then fetches and revokes it: nothing lost", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token, { repository: "acme/outage" });
    // Two whole deliveries of the fetch fail (each tries its call twice), the third succeeds.
    t.stack.githubApi.fail({ status: 503, only: "/secret-scanning/" }, 4);

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload);
    expect(response.status).toBe(202);
    await body(response);
    await t.stack.queue.drain();
    t.stack.githubApi.recover();

    expect(t.logLines.some((l) => l.includes("GitHub alert not fetched; it will be tried again"))).toBe(true);
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const record = (await t.stack.alerts.listOwedAlerts({ until: "9999", limit: 100 })).items;
    expect(record.filter((a) => a.repo === "outage")).toEqual([]); // fetched: no longer owed
  });

  it("makes no call for the installation before GitHub's rate-limit reset", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token, { repository: "acme/limited" });
    t.stack.githubApi.fail({ status: 429, retryAfter: 1, only: "/secret-scanning/" }, 1);
    const from = t.stack.githubApi.requests.length;

    const response = await t.webhook("secret_scanning_alert", alert.webhook_payload);
    expect(response.status).toBe(202);
    await body(response);
    await t.stack.queue.drain();

    const calls = t.stack.githubApi.requests.slice(from).filter((r) => r.path.includes("/secret-scanning/"));
    const limited = calls[0];
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls.slice(1)) expect(call.at).toBeGreaterThanOrEqual((limited?.at ?? 0) + 1_000);
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
  });

  it("gives the alert up, recording why, when GitHub refuses it for good (not visible to the installation)", async () => {
    const key = await issue();
    const alert = await t.githubAlert(key.token, { installationId: 5, repository: "acme/hidden" });
    const payload = { ...alert.webhook_payload, installation: { id: 6 } };
    const response = await t.webhook("secret_scanning_alert", payload);
    expect(response.status).toBe(202);
    await body(response);
    await t.stack.queue.drain();

    expect(await t.leakByFingerprint(fingerprintToken(key.token))).toBeUndefined();
    const record = await t.stack.alerts.getAlert(
      alertIdFor({ installationId: 6, owner: "acme", repo: "hidden", number: alert.number }),
    );
    expect(record).toMatchObject({
      fetchOwed: false,
      lastError: expect.stringMatching(/^given up: .*HTTP 404/),
    });
    expect(t.logLines.some((l) => l.includes("GitHub alert cannot be fetched; given up"))).toBe(true);
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
