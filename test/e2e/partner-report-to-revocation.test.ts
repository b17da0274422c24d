import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { generateSandboxToken } from "../../local/sandbox/sandbox-token.js";
import { readJson, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({ queueConcurrency: 8 });
});
afterAll(() => t.close());

const outboxFor = (leakId: string) =>
  readdirSync(join(t.stack.dataDir, "outbox"), { withFileTypes: true })
    .filter((entry) => entry.name.startsWith(`${leakId}.`))
    .map((entry) => JSON.parse(readFileSync(join(t.stack.dataDir, "outbox", entry.name), "utf8")));

describe("a partner report of a live sandbox key", () => {
  it("is answered true_positive, then revoked, re-verified, notified once and recorded", async () => {
    const key = await t.issueKey({ email: "dev@example.test", name: "Dev Owner" });
    const url = "https://github.com/acme/app/blob/main/config.js";
    const response = await t.report([{ token: key.token, type: SANDBOX_TYPE, url, source: "Content" }]);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await readJson(response)).toEqual([
      { token_hash: fingerprintToken(key.token), token_type: SANDBOX_TYPE, label: "true_positive" },
    ]);

    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });

    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak).toMatchObject({
      status: "revoked",
      token_type: SANDBOX_TYPE,
      issuer: "sandbox",
      key_id: key.key_id,
      preview: `tqs_…${key.token.slice(-4)}`,
      mode: "revoke_and_rotate",
      notification: { status: "sent" },
    });
    expect(leak?.time_to_revoke_ms).toBeGreaterThan(0);
    expect(leak?.sightings).toEqual([expect.objectContaining({ url, source: "content", reports: 1 })]);
    // The local config's sandbox policy is revoke_and_rotate, told by email and Slack.
    expect(leak?.timeline.map((e) => `${e.step}:${e.outcome}`)).toEqual([
      "report:ok",
      "verify:ok",
      "revoke:ok",
      "re-verify:ok",
      "rotate:ok",
      "notify:ok",
      "notify:ok",
    ]);
    const replacement = /replacement key (key_\w+)/.exec(leak?.timeline[4]?.detail ?? "")?.[1] ?? "";
    expect(await t.sandboxKey(replacement)).toMatchObject({ status: "active" });

    const messages = outboxFor(leak?.id ?? "");
    expect(messages.map((m) => m.format).sort()).toEqual(["email", "slack"]);
    const message = messages.find((m) => m.format === "email");
    const slack = messages.find((m) => m.format === "slack");
    expect(JSON.stringify(slack.slack.blocks)).toContain(leak?.preview);
    expect(message.text).toContain(replacement);
    expect(message.to).toBe("dev@example.test");
    expect(message.subject).toContain(leak?.preview);
    expect(message.text).toContain(url);
    expect(message.text).toContain("revoked");
    expect(message.text).toContain("What to do next");
    expect(message.text).not.toContain(key.token);
  });

  it("treats duplicates in a batch, across batches and in concurrent reports as one leak", async () => {
    const key = await t.issueKey();
    const match = (url: string, source = "commit") => ({ token: key.token, type: SANDBOX_TYPE, url, source });
    const first = await t.report([
      match("https://a.example/1"),
      match("https://a.example/1"),
      match("https://a.example/2"),
    ]);
    expect(await readJson(first)).toHaveLength(1); // one feedback entry per distinct token

    const concurrent = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.report([match(`https://b.example/${i % 2}`, i % 2 ? "issue" : "commit")]),
      ),
    );
    expect(concurrent.map((r) => r.status)).toEqual(Array(8).fill(200));
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak?.sightings.map((s) => s.url).sort()).toEqual([
      "https://a.example/1",
      "https://a.example/2",
      "https://b.example/0",
      "https://b.example/1",
    ]);
    expect(leak?.sightings.find((s) => s.url === "https://b.example/0")?.reports).toBe(4);
    expect(leak?.timeline.filter((e) => e.step === "revoke")).toHaveLength(1);
    expect(outboxFor(leak?.id ?? "")).toHaveLength(2); // one email, one Slack message

    const list = await readJson(await t.admin(`/v1/admin/leaks?fingerprint=${fingerprintToken(key.token)}`));
    expect(list.items).toHaveLength(1);
  });

  it("does not revoke or notify again when the same message is redelivered, even concurrently", async () => {
    const key = await t.issueKey();
    await t.report([{ token: key.token, type: SANDBOX_TYPE, url: "", source: "commit" }]);
    await t.stack.queue.drain();
    const leakId = (await t.leakByFingerprint(fingerprintToken(key.token)))?.id;
    const message = t.sentMessage(leakId);
    const before = await t.leakByFingerprint(fingerprintToken(key.token));

    await t.stack.queue.send([message, message, message]);
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ revocations: 1 });
    expect(await t.leakByFingerprint(fingerprintToken(key.token))).toEqual(before);
    expect(outboxFor(leakId ?? "")).toHaveLength(2);
  });

  it("runs concurrent first deliveries of one leak to a single revocation and notification", async () => {
    const key = await t.issueKey();
    // Three workers take the same message at once, before intake's own message (as SQS may do).
    const response = await t.report([
      { token: key.token, type: SANDBOX_TYPE, url: "https://c.example", source: "commit" },
    ]);
    expect(response.status).toBe(200);
    const message = t.sentMessage();
    await t.stack.queue.send([message, message, message]);
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak?.timeline.filter((e) => e.step === "revoke" && e.outcome === "ok")).toHaveLength(1);
    expect(leak?.timeline.filter((e) => e.step === "rotate" && e.outcome === "ok")).toHaveLength(1);
    expect(leak?.timeline.filter((e) => e.step === "notify" && e.outcome === "ok")).toHaveLength(2);
    expect(outboxFor(leak?.id ?? "")).toHaveLength(2);
  });

  it("records an already revoked key as inactive without revoking or notifying", async () => {
    const key = await t.issueKey();
    t.stack.sandbox.revoke(key.key_id);
    const response = await t.report([{ token: key.token, type: SANDBOX_TYPE, url: "", source: "commit" }]);
    expect((await readJson(response))[0]).toMatchObject({ label: "true_positive" });
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ revocations: 1 }); // only our manual one
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak).toMatchObject({ status: "inactive", notification: null, time_to_revoke_ms: null });
    expect(outboxFor(leak?.id ?? "")).toHaveLength(0);
  });

  it("labels a token the issuer does not know false_positive and leaves other types unlabelled", async () => {
    const stranger = generateSandboxToken();
    const otherType = "someone_elses_token";
    const response = await t.report([
      { token: stranger, type: SANDBOX_TYPE.toUpperCase(), url: "", source: "commit" },
      {
        token: "xoxb-not-ours-at-all-0000000000",
        type: otherType,
        url: "https://d.example",
        source: "commit",
      },
      { type: SANDBOX_TYPE, url: "https://no-token.example" },
    ]);
    expect(await readJson(response)).toEqual([
      {
        token_hash: fingerprintToken(stranger),
        token_type: SANDBOX_TYPE.toUpperCase(),
        label: "false_positive",
      },
    ]);
    await t.stack.queue.drain();

    expect(await t.leakByFingerprint(fingerprintToken(stranger))).toMatchObject({ status: "false_positive" });
    expect(await t.leakByFingerprint(fingerprintToken("xoxb-not-ours-at-all-0000000000"))).toMatchObject({
      status: "unroutable",
      token_type: otherType,
    });
  });

  it("serves a leak's sightings a page at a time through sightings_cursor", async () => {
    const key = await t.issueKey();
    const urls = Array.from({ length: 14 }, (_, i) => `https://github.com/acme/app/blob/main/f${i}.js`);
    const reported = await t.report(
      urls.map((url) => ({ token: key.token, type: SANDBOX_TYPE, url, source: "content" })),
    );
    expect(reported.status).toBe(200);
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));

    const seen: string[] = [];
    let path = `/v1/admin/leaks/${leak?.id}?sightings_limit=5`;
    for (let pages = 0; pages < 10; pages++) {
      const response = await t.admin(path);
      expect(response.status).toBe(200);
      const page = await readJson(response);
      expect(page.sightings.length).toBeLessThanOrEqual(5);
      seen.push(...page.sightings.map((s: { url: string }) => s.url));
      if (page.sightings_next_cursor === null) break;
      path = `/v1/admin/leaks/${leak?.id}?sightings_limit=5&sightings_cursor=${page.sightings_next_cursor}`;
    }
    expect(seen.sort()).toEqual([...urls].sort());

    const bad = await t.admin(`/v1/admin/leaks/${leak?.id}?sightings_cursor=nope`);
    expect(bad.status).toBe(400);
    expect(await readJson(bad)).toMatchObject({
      error: "bad_request",
      message: expect.stringContaining("sightings_cursor"),
    });
  });

  it("serves the admin list with filters and cursor pagination", async () => {
    const revoked = await readJson(await t.admin("/v1/admin/leaks?status=revoked&limit=2"));
    expect(revoked.items).toHaveLength(2);
    expect(revoked.items.every((leak: { status: string }) => leak.status === "revoked")).toBe(true);
    expect(revoked.next_cursor).toEqual(expect.any(String));
    const next = await readJson(
      await t.admin(`/v1/admin/leaks?status=revoked&limit=2&cursor=${revoked.next_cursor}`),
    );
    expect(next.items.length).toBeGreaterThan(0);
    const ids = [...revoked.items, ...next.items].map((leak: { id: string }) => leak.id);
    expect(new Set(ids).size).toBe(ids.length);

    const byType = await readJson(await t.admin("/v1/admin/leaks?token_type=someone_elses_token"));
    expect(byType.items.map((leak: { status: string }) => leak.status)).toEqual(["unroutable"]);
    const future = await readJson(await t.admin("/v1/admin/leaks?since=2999-01-01T00:00:00Z"));
    expect(future).toEqual({ items: [], next_cursor: null });
  });

  it("refuses the admin API without the bearer token and answers 404 for unknown leaks", async () => {
    expect((await t.admin("/v1/admin/leaks", "")).status).toBe(401);
    expect((await t.admin("/v1/admin/leaks", "wrong-token")).status).toBe(401);
    const missing = await t.admin("/v1/admin/leaks/lk_000000000000000000000000");
    expect(missing.status).toBe(404);
    expect(await readJson(missing)).toMatchObject({ error: "not_found" });
    expect((await t.admin("/v1/admin/leaks?status=bogus")).status).toBe(400);
    expect((await fetch(`${t.stack.url}/healthz`)).status).toBe(200);
  });
});
