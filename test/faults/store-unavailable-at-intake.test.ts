import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { leakIdFor } from "../../lib/store/leak.js";
import { behindFaultProxy, type DynamoFaultProxy } from "../helpers/dynamo-fault-proxy.js";
import { startTestEngine } from "../helpers/test-engine.js";
import { readJson, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// The leak store becomes unreachable while a partner report is taken in (its connections dropped by a
// proxy in front of the engine). The report is answered 503 with a clear message and Retry-After;
// whatever was written has its remediation queued; and GitHub's retry of the same signed body, once the
// store is back, completes every token with one revocation and one set of messages.

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]);

let t: TestStack;
let proxy: DynamoFaultProxy;
beforeAll(async () => {
  t = await startTestStack({
    startDb: async (options) => {
      const db = await behindFaultProxy(await startTestEngine(options));
      proxy = db;
      return db;
    },
  });
});
afterAll(() => t.close());

async function signedReport(count: number) {
  const keys = await Promise.all(
    Array.from({ length: count }, () => t.issueKey({ email: "o@example.test" })),
  );
  const body = JSON.stringify(
    keys.map((key) => ({ token: key.token, type: SANDBOX_TYPE, url: "https://f.example", source: "commit" })),
  );
  // GitHub's retry sends the same bytes with the same signature.
  const headers = t.signedHeaders(body);
  return {
    keys,
    leakIds: keys.map((key) => leakIdFor(fingerprintToken(key.token))),
    send: () => t.report(undefined, { rawBody: body, headers }),
  };
}

const storedLeakIds = async () =>
  (await t.tableItems("LEAK#")).filter((i) => i.sk?.S === "LEAK").map((i) => i.pk?.S?.slice(5) ?? "");

async function expectRemediatedOnce(report: Awaited<ReturnType<typeof signedReport>>) {
  for (const [i, key] of report.keys.entries()) {
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.stack.store.getLeak(report.leakIds[i] ?? "");
    expect(leak).toMatchObject({ status: "revoked", notification: { status: "sent" } });
    const deliveries = Object.values(leak?.deliveries ?? {});
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every((d) => d.status === "sent")).toBe(true);
    const steps = leak?.timeline.map((e) => `${e.step}:${e.outcome}`) ?? [];
    expect(steps.filter((s) => s === "revoke:ok")).toHaveLength(1);
    expect(steps.filter((s) => s === "notify:ok")).toHaveLength(deliveries.length);
  }
}

describe("the store unavailable during intake", () => {
  it("answers 503 and writes nothing when the store is down; GitHub's retry revokes once", async () => {
    const report = await signedReport(1);
    proxy.refuse = () => true;
    const answer = await report.send();
    proxy.refuse = undefined;

    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("5");
    expect(await readJson(answer)).toEqual({
      error: expect.any(String),
      message: expect.stringMatching(/unavailable; the request can be retried/),
    });
    expect(proxy.refused.length).toBeGreaterThan(0);
    expect(await storedLeakIds()).not.toContain(report.leakIds[0]);
    expect(t.sentMessages.filter((m) => m.leakId === report.leakIds[0])).toEqual([]);

    const retried = await report.send();
    expect(retried.status).toBe(200);
    expect(await readJson(retried)).toEqual([expect.objectContaining({ label: "true_positive" })]);
    await t.stack.queue.drain();
    await expectRemediatedOnce(report);
  });

  it("when writes fail part way, every leak written is queued and the retry completes the rest once", async () => {
    const report = await signedReport(4);
    // The first write goes through; from the second on, every write (the worker's too) is refused.
    let writes = 0;
    proxy.refused = [];
    proxy.refuse = (operation) => WRITES.has(operation) && ++writes > 1;
    const answer = await report.send();
    expect(answer.status).toBe(503);
    // The worker's deliveries for what was written fail against the down store, and are given up.
    await t.stack.queue.drain();
    proxy.refuse = undefined;

    const written = (await storedLeakIds()).filter((id) => report.leakIds.includes(id));
    expect(written).toHaveLength(1);
    // Nothing half-written: the leak that was written had its remediation queued.
    expect(t.sentMessages.map((m) => m.leakId)).toEqual(expect.arrayContaining(written));
    for (const key of report.keys) expect((await t.sandboxKey(key.key_id)).revocations).toBe(0);

    const retried = await report.send();
    expect(retried.status).toBe(200);
    await t.stack.queue.drain();
    await expectRemediatedOnce(report);
  });
});
