import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRemediateHandler } from "../../functions/remediate.js";
import {
  encodeRemediationMessage,
  type RemediationMessage,
  subjectOf,
} from "../../lib/queue/remediation-queue.js";
import type { WorkerDeps } from "../../lib/remediation/remediate-leak.js";
import { lambdaWorkerDeps } from "../helpers/lambda-worker-deps.js";
import { SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// One message the worker throws on at every delivery (its leak does not exist: a message from another
// table, or a leak deleted by hand) among good ones. The others go on and complete; that one is
// delivered max_receives times and dead-lettered, on the local queue and through the SQS handler's
// partial batch answers (SQS's redrive policy moves it to the DLQ then).

const MAX_RECEIVES = 3;
const POISON_LEAK_ID = "0000000000000000000000000000poison";

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(() => t.close());

async function reportKeys(count: number) {
  const keys = await Promise.all(Array.from({ length: count }, () => t.issueKey()));
  const response = await t.report(
    keys.map((key) => ({ token: key.token, type: SANDBOX_TYPE, url: "https://f.example", source: "commit" })),
  );
  expect(response.status).toBe(200);
  return keys;
}

describe("a message the worker throws on every time", () => {
  it("on the local queue: the others complete, that one is dead-lettered after max_receives", async () => {
    const [first] = await reportKeys(1);
    await t.stack.queue.drain();
    const poison: RemediationMessage = { leakId: POISON_LEAK_ID, sealedToken: t.sentMessage().sealedToken };
    await t.stack.queue.send([poison]);
    const keys = await reportKeys(3);
    await t.stack.queue.drain();

    for (const key of [first, ...keys]) {
      expect(await t.sandboxKey(key?.key_id ?? "")).toMatchObject({ status: "revoked", revocations: 1 });
    }
    expect(t.stack.queue.deadLetters().filter((m) => subjectOf(m) === POISON_LEAK_ID)).toHaveLength(1);
    const deadLines = readFileSync(join(t.stack.dataDir, "dead-letters.jsonl"), "utf8").trim().split("\n");
    expect(deadLines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ leakId: POISON_LEAK_ID, receiveCount: MAX_RECEIVES }),
    );
    const failures = t.logLines.filter(
      (line) => line.includes("remediation delivery failed") && line.includes(POISON_LEAK_ID),
    );
    expect(failures.map((line) => JSON.parse(line).receiveCount)).toEqual([1, 2, 3]);
    expect(failures.every((line) => line.includes("does not exist"))).toBe(true);
  });

  it("through the SQS handler: each batch reports only that record as failed until SQS gives up on it", async () => {
    // The messages go to "SQS" (this test) instead of the local worker.
    t.stack.queue.setConsumer(async () => undefined);
    const deps: WorkerDeps = lambdaWorkerDeps(t.stack);
    const handler = createRemediateHandler(async () => deps);
    const keys = await reportKeys(3);
    const goodMessages = t.sentMessages.slice(-3);
    const poison = { leakId: POISON_LEAK_ID, sealedToken: goodMessages[0]?.sealedToken ?? "" };

    for (let receiveCount = 1; receiveCount <= MAX_RECEIVES; receiveCount++) {
      // SQS redelivers what failed, and the good messages again too (at-least-once): a no-op for them.
      const event: SQSEvent = {
        Records: [
          ...goodMessages.map((m, i) => record(`good-${i}`, encodeRemediationMessage(m), receiveCount)),
          record("poison", encodeRemediationMessage(poison), receiveCount),
        ],
      };
      const answer = await handler(event, {} as never);
      expect(answer.batchItemFailures).toEqual([{ itemIdentifier: "poison" }]);
    }
    for (const key of keys) {
      expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
    }
  });
});

function record(messageId: string, body: string, receiveCount: number): SQSRecord {
  return {
    messageId,
    body,
    receiptHandle: messageId,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: "0",
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:local:000000000000:remediation",
    awsRegion: "local",
  };
}
