import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { leakIdFor } from "../../lib/store/leak.js";
import { delayTimes, failTimes } from "../../local/sandbox/sandbox-faults.js";
import { readJson, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// The sandbox issuer fails on purpose; the worker retries transient failures with backoff, gives up
// on permanent ones at once, and after the last delivery marks the leak failed with the reason.

let t: TestStack;
beforeAll(async () => {
  // 2 tries per delivery, 3 deliveries: up to 6 calls per step before the leak fails.
  t = await startTestStack({ configOverrides: { intake: { inline_verify_budget_ms: 500 } } });
});
afterAll(() => t.close());
beforeEach(() => {
  t.faults.plan = undefined;
});

async function reportKey() {
  const key = await t.issueKey();
  const response = await t.report([
    { token: key.token, type: SANDBOX_TYPE, url: "https://f.example", source: "commit" },
  ]);
  expect(response.status).toBe(200);
  return { key, feedback: await readJson(response), fingerprint: fingerprintToken(key.token) };
}

describe("issuer failures", () => {
  it("recovers from transient revoke failures on a later delivery and records the retry", async () => {
    t.faults.plan = failTimes("revoke", 3, 503);
    const { key, fingerprint } = await reportKey();
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprint);
    expect(leak?.status).toBe("revoked");
    expect(leak?.timeline.filter((e) => e.outcome === "retrying")).toEqual([
      expect.objectContaining({
        step: "revoke",
        detail: expect.stringMatching(/attempt 1 of 3 failed: .*HTTP 503/),
      }),
    ]);
    expect(leak?.notification).toMatchObject({ status: "sent" });
  });

  it("honours 429 with Retry-After inside a delivery", async () => {
    t.faults.plan = failTimes("revoke", 1, 429, 1);
    const { key, fingerprint } = await reportKey();
    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprint);
    expect(leak?.timeline.some((e) => e.outcome === "retrying")).toBe(false);
    const revokeAt = Date.parse(leak?.timeline.find((e) => e.step === "revoke")?.at ?? "");
    const verifiedAt = Date.parse(leak?.timeline.find((e) => e.step === "verify")?.at ?? "");
    expect(revokeAt - verifiedAt).toBeGreaterThanOrEqual(1_000);
  });

  it("fails the leak at once on a permanent error, and tells the owner and the security contact", async () => {
    t.faults.plan = failTimes("revoke", 1, 401);
    const { key, fingerprint } = await reportKey();
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "active", revocations: 0 });
    const leak = await t.leakByFingerprint(fingerprint);
    expect(leak).toMatchObject({
      status: "failed",
      failure: { step: "revoke" },
      notification: { status: "sent" },
    });
    expect(leak?.failure?.reason).toMatch(/HTTP 401/);
    const steps = leak?.timeline.map((e) => `${e.step}:${e.outcome}`) ?? [];
    expect(steps.slice(2)).toEqual(["revoke:failed", "notify:ok", "notify:ok", "notify:ok"]);
    expect(t.stack.queue.deadLetters()).toContainEqual(expect.objectContaining({ leakId: leak?.id }));
    expect(leak?.timeline.filter((e) => e.step === "notify").map((e) => e.detail)).toEqual([
      expect.stringMatching(/^owner owner@example.test notified via email/),
      expect.stringMatching(/^security contact security@example.test notified via email/),
      expect.stringMatching(/notified via slack/),
    ]);
  });

  it("fails the leak with the reason after the last delivery, and loses nothing", async () => {
    t.faults.plan = failTimes("revoke", 100, 503);
    const { key, fingerprint } = await reportKey();
    await t.stack.queue.drain();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "active" });
    const leak = await t.leakByFingerprint(fingerprint);
    expect(leak).toMatchObject({ status: "failed", failure: { step: "revoke" } });
    expect(leak?.failure?.reason).toMatch(/HTTP 503/);
    expect(leak?.timeline.filter((e) => e.outcome === "retrying")).toHaveLength(2);
    expect(leak?.timeline.find((e) => e.outcome === "failed")?.detail).toMatch(/gave up after attempt 3/);
    // Like SQS with a DLQ: the message is kept in the dead-letter list.
    expect(t.stack.queue.deadLetters()).toContainEqual(expect.objectContaining({ leakId: leak?.id }));
  });

  it("leaves verification to the worker when the issuer is slower than the inline time box", async () => {
    t.faults.plan = delayTimes("verify", 1, 1_500);
    const { key, feedback, fingerprint } = await reportKey();
    expect(feedback).toEqual([]); // the answer was not known within the time box: no label
    await t.stack.queue.drain();
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    expect((await t.leakByFingerprint(fingerprint))?.timeline.find((e) => e.step === "verify")?.actor).toBe(
      "worker",
    );
  });

  it("fails a leak whose token no longer opens once (step unseal), tells its people, and settles it", async () => {
    const fingerprint = fingerprintToken(`tqs_${randomUUID()}`);
    const leakId = leakIdFor(fingerprint);
    const at = new Date(Date.now() - 60 * 60_000).toISOString();
    // As if the local queue.key had been replaced: the leak's own sealed copy does not open either.
    const lost = "v1.local.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA";
    await t.stack.store.createLeak({
      id: leakId,
      fingerprint,
      tokenType: SANDBOX_TYPE,
      preview: "tqs_…0000",
      issuer: "sandbox",
      status: "pending",
      sealedToken: lost,
      firstSeen: at,
      receivedAtMs: Date.parse(at),
      timeline: [{ at, step: "report", outcome: "ok", actor: "intake", detail: "reported" }],
      version: 1,
    });
    await t.stack.queue.send([{ leakId, sealedToken: lost }]);
    await t.stack.queue.drain();

    const leak = await t.stack.store.getLeak(leakId);
    expect(leak).toMatchObject({ status: "failed", failure: { step: "unseal" } });
    expect(leak?.failure?.reason).toContain("does not open");
    expect(leak?.sealedToken).toBeUndefined();
    expect(leak?.notification).toBeDefined();
    expect(t.stack.queue.deadLetters()).toContainEqual(expect.objectContaining({ leakId }));

    // The sweep has nothing more to send it, and another delivery adds nothing to the timeline.
    const timeline = leak?.timeline.length;
    const swept = await t.stack.sweep({ staleAfterMs: 0 });
    expect(swept.reconcile.requeued).toBe(0);
    await t.stack.queue.send([{ leakId, sealedToken: lost }]);
    await t.stack.queue.drain();
    const after = await t.stack.store.getLeak(leakId);
    expect(after?.timeline.filter((e) => e.step === "unseal")).toHaveLength(1);
    expect(after?.timeline).toHaveLength(timeline ?? -1);
  });
});
