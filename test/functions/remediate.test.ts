import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRemediateHandler } from "../../functions/remediate.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { encodeRemediationMessage, type RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { remediateLeak, type WorkerDeps } from "../../lib/remediation/remediate-leak.js";
import { lambdaWorkerDeps } from "../helpers/lambda-worker-deps.js";
import { SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// The remediate Lambda handler, fed SQS events, against the local stack's store and sandbox issuer.

let t: TestStack;
let deps: WorkerDeps;
let settled: RemediationMessage | undefined;
beforeAll(async () => {
  t = await startTestStack();
  deps = lambdaWorkerDeps(t.stack);
  // This test is the worker: the local stack's own consumer stays idle.
  t.stack.queue.setConsumer(async () => {
    throw new Error("not in this test");
  });
});
afterAll(() => t.close());

const record = (messageId: string, body: string, receiveCount = 1): SQSRecord =>
  ({
    messageId,
    body,
    receiptHandle: messageId,
    attributes: { ApproximateReceiveCount: String(receiveCount) },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:local:000000000000:remediation",
    awsRegion: "local",
  }) as unknown as SQSRecord;

describe("remediate handler", () => {
  it("remediates each record and reports only the failed ones for redelivery", async () => {
    const key = await t.issueKey();
    const response = await t.report([{ token: key.token, type: SANDBOX_TYPE, url: "", source: "commit" }]);
    expect(response.status).toBe(200);
    const message = t.sentMessage();
    settled = message;
    const other = await t.issueKey();
    await t.report([{ token: other.token, type: SANDBOX_TYPE, url: "", source: "commit" }]);
    const otherMessage = t.sentMessage();

    const handler = createRemediateHandler(async () => deps);
    const event: SQSEvent = {
      Records: [
        record("good", encodeRemediationMessage(message)),
        record("garbled", "{not json"),
        record(
          "tampered",
          encodeRemediationMessage({ ...otherMessage, sealedToken: `${otherMessage.sealedToken}x` }),
        ),
      ],
    };
    const result = await handler(event, {} as never);
    // The tampered copy does not open, but the leak keeps its own sealed copy: the work is done anyway.
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(["garbled"]);
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    const leak = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(leak?.timeline.find((e) => e.step === "revoke")?.actor).toBe("worker");
    expect(await t.leakByFingerprint(fingerprintToken(other.token))).toMatchObject({ status: "revoked" });
    expect(await t.sandboxKey(other.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
  });

  it("is a no-op for a settled leak redelivered", async () => {
    const message = settled;
    expect(message).toBeDefined();
    if (!message) return;
    const before = await t.stack.store.getLeak(message.leakId);
    await remediateLeak(deps, { message: message, receiveCount: 2, maxReceives: 3 });
    expect(await t.stack.store.getLeak(message.leakId)).toEqual(before);
  });
});

describe("remediate handler metrics", () => {
  it("records time to revoke for each revoked leak and flushes once per invocation", async () => {
    const key = await t.issueKey();
    await t.report([{ token: key.token, type: SANDBOX_TYPE, url: "", source: "commit" }]);
    const message = t.sentMessage();
    const recorded: number[] = [];
    let flushes = 0;
    const handler = createRemediateHandler(async () => deps, {
      revoked: (ms) => recorded.push(ms),
      failed: () => {},
      flush: () => {
        flushes++;
      },
    });
    await handler({ Records: [record("m1", encodeRemediationMessage(message))] }, {} as never);
    const leak = await t.stack.store.getLeak(message.leakId);
    expect(recorded).toEqual([leak?.timeToRevokeMs]);
    expect(flushes).toBe(1);
  });
});
