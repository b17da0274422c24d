import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { failTimes } from "../../local/sandbox/sandbox-faults.js";
import { type LoopbackServer, readBody, serve } from "../helpers/loopback-server.js";
import {
  ADMIN_TOKEN,
  readJson,
  SANDBOX_TYPE,
  startTestStack,
  type TestStack,
} from "../helpers/test-stack.js";

// Each policy mode end to end on the local stack, with the allowlist, the security contact's copy,
// a channel that refuses the message, and the admin's retry and dismiss.

const ALLOWLISTED = "tqs_known_test_token_do_not_act_0000000";
let t: TestStack;
let hook: LoopbackServer;
let hookBodies: string[] = [];

beforeAll(async () => {
  // A webhook receiver that refuses every message, as a misconfigured endpoint would.
  hook = await serve(async (req, res) => {
    hookBodies.push((await readBody(req)).toString("utf8"));
    res.writeHead(400, { "content-type": "application/json" }).end('{"error":"unsupported"}');
  });
  const sandbox = { issuer: "sandbox" };
  t = await startTestStack({
    env: { HOOK_SECRET: "hook-secret-for-tests" },
    configOverrides: {
      token_types: {
        [SANDBOX_TYPE]: { ...sandbox, mode: "revoke_and_rotate", channels: ["email", "slack"] },
        sandbox_revoke: sandbox,
        sandbox_notify_only: { ...sandbox, mode: "notify_only" },
        sandbox_dry_run: { ...sandbox, mode: "dry_run", channels: ["email", "slack"] },
        sandbox_copy_always: { ...sandbox, copy_security_contact: "always" },
        sandbox_hook: { ...sandbox, channels: ["email", "hook"] },
      },
      allowlist: [fingerprintToken(ALLOWLISTED)],
      notifications: {
        security_contact: "security@example.test",
        admin_url: "http://admin.example.test/v1/admin/leaks",
        channels: {
          email: { kind: "outbox", format: "email" },
          slack: { kind: "outbox", format: "slack" },
          hook: {
            kind: "webhook",
            url: `${hook.url}/tourniquet`,
            secret: { env: "HOOK_SECRET" },
          },
        },
      },
    },
  });
});
afterAll(async () => {
  await t.close();
  await hook.close();
});

const outboxFor = (leakId: string) =>
  readdirSync(join(t.stack.dataDir, "outbox"))
    .filter((name) => name.startsWith(`${leakId}.`))
    .map((name) => JSON.parse(readFileSync(join(t.stack.dataDir, "outbox", name), "utf8")));

async function reportAs(type: string) {
  const key = await t.issueKey({ email: "dev@example.test", name: "Dev" });
  const response = await t.report([{ token: key.token, type, url: "https://p.example/x", source: "commit" }]);
  expect(response.status).toBe(200);
  await t.stack.queue.drain();
  const leak = await t.leakByFingerprint(fingerprintToken(key.token));
  if (!leak) throw new Error("no leak recorded");
  return { key, leak, messages: outboxFor(leak.id) };
}

const post = (path: string, body?: unknown, token = ADMIN_TOKEN) =>
  fetch(`${t.stack.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("policy modes", () => {
  it("revoke: revokes and tells the owner by email, without rotating; a later sighting tells no one again", async () => {
    const { key, leak, messages } = await reportAs("sandbox_revoke");
    expect(leak).toMatchObject({ status: "revoked", mode: "revoke", replacement: null });
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    expect(messages.map((m) => [m.format, m.to])).toEqual([["email", "dev@example.test"]]);
    expect(messages[0].subject).toMatch(/leaked and was revoked/);

    const again = await t.report([
      { token: key.token, type: "sandbox_revoke", url: "https://p.example/y", source: "issue" },
    ]);
    expect(await readJson(again)).toEqual([expect.objectContaining({ label: "true_positive" })]);
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(leak.fingerprint))?.sightings).toHaveLength(2);
    expect(outboxFor(leak.id)).toHaveLength(1);
  });

  it("notify_only: verifies and tells the owner, never revokes", async () => {
    const { key, leak, messages } = await reportAs("sandbox_notify_only");
    expect(leak).toMatchObject({ status: "notified", mode: "notify_only", revoked_at: null });
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "active", revocations: 0 });
    expect(leak.timeline.map((e) => e.step)).toEqual(["report", "verify", "notify"]);
    expect(messages).toHaveLength(1);
    expect(messages[0].subject).toMatch(/rotate it now/);
    expect(messages[0].text).toMatch(/still works/);
  });

  it("dry_run: records what would be done and does nothing", async () => {
    const { key, leak, messages } = await reportAs("sandbox_dry_run");
    expect(leak).toMatchObject({ status: "dry_run", mode: "dry_run" });
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "active", revocations: 0 });
    expect(messages).toEqual([]);
    const dry = leak.timeline.find((e) => e.step === "dry_run");
    expect(dry?.detail).toMatch(new RegExp(`would revoke key ${key.key_id} with issuer sandbox`));
    expect(dry?.detail).toMatch(/notify dev@example.test via email, dev@example.test via slack/);
  });

  it("allowlist: a known test token is recorded and left alone", async () => {
    const response = await t.report([
      { token: ALLOWLISTED, type: SANDBOX_TYPE, url: "https://p.example/t", source: "commit" },
    ]);
    expect(await readJson(response)).toEqual([]);
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(ALLOWLISTED));
    expect(leak).toMatchObject({ status: "allowlisted", notification: null });
    expect(leak?.timeline.map((e) => e.step)).toEqual(["report"]);
    expect(outboxFor(leak?.id ?? "")).toEqual([]);
    expect(t.sentMessages.some((m) => m.leakId === leak?.id)).toBe(false);
  });

  it("copies the security contact on every leak when the type says always", async () => {
    const { messages } = await reportAs("sandbox_copy_always");
    expect(messages.map((m) => m.to).sort()).toEqual(["dev@example.test", "security@example.test"]);
    const copy = messages.find((m) => m.to === "security@example.test");
    expect(copy.text).toMatch(/Hello security team/);
    expect(copy.text).toMatch(/as the security contact/);
  });

  it("records a channel that refuses the message and still delivers on the others", async () => {
    hookBodies = [];
    const { leak, messages } = await reportAs("sandbox_hook");
    expect(leak.status).toBe("revoked");
    expect(messages.map((m) => m.format)).toEqual(["email"]);
    expect(hookBodies).toHaveLength(1); // a permanent 400 is not retried
    expect(leak.deliveries.map((d) => [d.channel, d.status])).toEqual(
      expect.arrayContaining([
        ["email", "sent"],
        ["hook", "failed"],
      ]),
    );
    expect(leak.timeline.find((e) => e.step === "notify" && e.outcome === "failed")?.detail).toMatch(
      /HTTP 400/,
    );
    expect(leak.notification).toMatchObject({ status: "sent" });
  });
});

describe("admin actions", () => {
  it("retry resumes a failed revocation, records who asked, and is idempotent", async () => {
    t.faults.plan = failTimes("revoke", 1, 401);
    const { key, leak } = await reportAs("sandbox_revoke");
    t.faults.plan = undefined;
    expect(leak).toMatchObject({ status: "failed", failure: { step: "revoke" } });
    expect(t.stack.queue.deadLetters()).toContainEqual(expect.objectContaining({ leakId: leak.id }));

    const first = await post(`/v1/admin/leaks/${leak.id}/retry`);
    expect(first.status).toBe(202);
    expect(await readJson(first)).toMatchObject({ retried: true });
    await t.stack.queue.drain();
    const after = await t.leakByFingerprint(leak.fingerprint);
    expect(after).toMatchObject({ status: "revoked", failure: null });
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    expect(after?.timeline.find((e) => e.step === "retry")).toMatchObject({
      actor: "admin-token",
      outcome: "ok",
    });
    // The owner heard of the failure, then of the revocation.
    expect(outboxFor(leak.id).map((m) => m.subject)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/could not be revoked/),
        expect.stringMatching(/was revoked/),
      ]),
    );

    const again = await post(`/v1/admin/leaks/${leak.id}/retry`);
    expect(again.status).toBe(200);
    expect(await readJson(again)).toMatchObject({ retried: false });
    expect(
      (await t.leakByFingerprint(leak.fingerprint))?.timeline.filter((e) => e.step === "retry"),
    ).toHaveLength(1);
  });

  it("retry verifies a false positive again from its sealed token", async () => {
    const token = "tqs_never_issued_by_the_sandbox_0001";
    expect((await t.report([{ token, type: "sandbox_revoke", url: "", source: "commit" }])).status).toBe(200);
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(token));
    expect(leak?.status).toBe("false_positive");

    const retried = await post(`/v1/admin/leaks/${leak?.id}/retry`);
    expect(retried.status).toBe(202);
    await t.stack.queue.drain();

    const after = await t.leakByFingerprint(fingerprintToken(token));
    expect(after?.status).toBe("false_positive");
    expect(after?.timeline.map((e) => e.step)).toEqual(["report", "verify", "retry", "verify"]);
    expect(after?.timeline.find((e) => e.step === "retry")?.detail).toMatch(/verify the token again/);
  });

  it("retry and dismiss wait while a worker holds the leak", async () => {
    t.faults.plan = failTimes("revoke", 1, 401);
    const { leak } = await reportAs("sandbox_revoke");
    t.faults.plan = undefined;
    const stored = await t.stack.store.getLeak(leak.id);
    if (!stored) throw new Error("leak not stored");
    const lease = { step: "notify", holder: "another-worker", until: Date.now() + 30_000 };
    await t.stack.store.updateLeak(stored, { lease }, []);

    for (const [path, body] of [
      ["retry", undefined],
      ["dismiss", { reason: "other" }],
    ] as const) {
      const response = await post(`/v1/admin/leaks/${leak.id}/${path}`, body);
      expect(response.status).toBe(409);
      expect(await readJson(response)).toMatchObject({
        message: expect.stringMatching(/being worked on \(notify\)/),
      });
    }
    expect((await t.stack.store.getLeak(leak.id))?.version).toBe(stored.version + 1);
  });

  it("dismiss closes a settled leak with a reason, once; revoked leaks and bad bodies are refused", async () => {
    const response = await t.report([
      { token: "xoxp-not-ours-0000000000000", type: "unknown_type", url: "", source: "commit" },
    ]);
    expect(response.status).toBe(200);
    const leak = await t.leakByFingerprint(fingerprintToken("xoxp-not-ours-0000000000000"));
    const path = `/v1/admin/leaks/${leak?.id}/dismiss`;

    expect((await post(path, { reason: "accepted_risk" }, "wrong")).status).toBe(401);
    const bad = await post(path, { reason: "because" });
    expect(bad.status).toBe(400);
    expect(await readJson(bad)).toMatchObject({ message: expect.stringMatching(/reason/) });

    const first = await post(path, { reason: "false_positive", note: "a Slack token, not ours" });
    expect(first.status).toBe(200);
    expect(await readJson(first)).toMatchObject({
      dismissed: true,
      leak: { status: "dismissed", dismissal: { reason: "false_positive", by: "admin-token" } },
    });
    expect(await readJson(await post(path, { reason: "false_positive" }))).toMatchObject({
      dismissed: false,
    });

    const { leak: revoked } = await reportAs("sandbox_revoke");
    const refused = await post(`/v1/admin/leaks/${revoked.id}/dismiss`, { reason: "accepted_risk" });
    expect(refused.status).toBe(409);
    expect(
      (await post("/v1/admin/leaks/lk_000000000000000000000000/dismiss", { reason: "other" })).status,
    ).toBe(404);
  });
});
