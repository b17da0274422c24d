import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { DEFAULT_CONFIG_PATH } from "../../local/local-stack.js";
import { combineFaults, delayTimes, failTimes } from "../../local/sandbox/sandbox-faults.js";
import { SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// The sandbox issuer answers after the issuer's timeout, or flaps between 5xx, 429 with Retry-After and
// success. The worker retries within a delivery and across redeliveries (2 tries × 3 deliveries); the
// leak completes with one revocation at the issuer, or, when the issuer never recovers, fails with the
// step and the reason on its timeline. (issuer-failures.test.ts covers a steady 5xx and a 401.)

const ISSUER_TIMEOUT_MS = 300;
/** Past the issuer's timeout: the worker has given up on the call when the issuer answers it. */
const LATE_MS = 700;

let t: TestStack;
beforeAll(async () => {
  const base = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, "utf8"));
  t = await startTestStack({
    configOverrides: {
      issuers: { ...base.issuers, sandbox: { ...base.issuers.sandbox, timeout_ms: ISSUER_TIMEOUT_MS } },
      intake: { inline_verify_budget_ms: 200 },
    },
  });
});
afterAll(() => t.close());
beforeEach(() => {
  t.faults.plan = undefined;
});

async function reportKey() {
  const key = await t.issueKey({ email: "owner@example.test" });
  const response = await t.report([
    { token: key.token, type: SANDBOX_TYPE, url: "https://f.example", source: "commit" },
  ]);
  expect(response.status).toBe(200);
  await t.stack.queue.drain();
  // The late answers' own work at the issuer finishes after the worker moved on.
  await new Promise((resolve) => setTimeout(resolve, LATE_MS));
  return { key, leak: await t.leakByFingerprint(fingerprintToken(key.token)) };
}

const stepsOf = (leak: Awaited<ReturnType<TestStack["leakByFingerprint"]>>) =>
  leak?.timeline.map((e) => `${e.step}:${e.outcome}`) ?? [];

describe("an issuer slower than its timeout, or flapping", () => {
  it("slow: revokes that time out are retried on the next delivery, and the key is revoked once", async () => {
    // Both tries of the first delivery time out; the issuer still revokes the key once they have.
    t.faults.plan = delayTimes("revoke", 2, LATE_MS);
    const { key, leak } = await reportKey();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    expect(leak).toMatchObject({ status: "revoked", notification: { status: "sent" } });
    expect(leak?.timeline.find((e) => e.outcome === "retrying")).toMatchObject({
      step: "revoke",
      detail: expect.stringMatching(/attempt 1 of 3 failed: .*no answer within 300 ms/),
    });
    // The late calls and the retry all reached the issuer; whichever came first revoked the key, the
    // others found it revoked (the wait above lets the late ones finish before counting).
    expect(stepsOf(leak).filter((s) => s === "revoke:ok")).toHaveLength(1);
    expect(stepsOf(leak).filter((s) => s === "notify:ok").length).toBeGreaterThan(0);
  });

  it("flapping: 503, 429 with Retry-After, 503, then OK; the key is revoked once", async () => {
    t.faults.plan = combineFaults(
      failTimes("revoke", 1, 503),
      failTimes("revoke", 1, 429, 1),
      failTimes("revoke", 1, 503),
    );
    const { key, leak } = await reportKey();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    expect(leak).toMatchObject({ status: "revoked", notification: { status: "sent" } });
    expect(leak?.timeline.filter((e) => e.outcome === "retrying")).toEqual([
      expect.objectContaining({ step: "revoke", detail: expect.stringMatching(/HTTP 429/) }),
    ]);
    expect(stepsOf(leak).filter((s) => s === "revoke:ok")).toHaveLength(1);
  });

  it("never recovering: the leak fails at the step, with the timeout as its reason, and its people are told", async () => {
    // Verification has no side effect at the issuer: every try, inline and in the worker, times out.
    t.faults.plan = delayTimes("verify", 100, LATE_MS);
    const { key, leak } = await reportKey();

    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "active", revocations: 0 });
    expect(leak).toMatchObject({
      status: "failed",
      failure: { step: "verify" },
      notification: { status: "sent" },
    });
    expect(leak?.failure?.reason).toMatch(`verify: no answer within ${ISSUER_TIMEOUT_MS} ms`);
    const failed = leak?.timeline.find((e) => e.outcome === "failed");
    expect(failed).toMatchObject({
      step: "verify",
      detail: expect.stringMatching(/gave up after attempt 3/),
    });
    expect(failed?.detail).toContain(leak?.failure?.reason);
    expect(t.stack.queue.deadLetters()).toContainEqual(expect.objectContaining({ leakId: leak?.id }));
  });
});
