import { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AwsError, TourniquetError } from "../../lib/errors.js";
import { silentLog } from "../../lib/log.js";
import type { Delivery, RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { encodeRemediationMessage, type QueueMessage, subjectOf } from "../../lib/queue/remediation-queue.js";
import { consumeSqsEvent, deliveryFromSqsRecord } from "../../lib/queue/sqs-consumer.js";
import { SqsRemediationQueue } from "../../lib/queue/sqs-queue.js";
import {
  type AwsRequest,
  errorFault,
  type FakeSqs,
  fakeAwsClientConfig,
  startFakeSqs,
} from "../helpers/fake-aws.js";
import { recordingLog } from "../helpers/recording-log.js";

const RAW_TOKEN = "tqs_live_4f8a1c9e2b7d6035aa91f2a";

interface BatchInput {
  QueueUrl: string;
  Entries: { Id: string; MessageBody: string }[];
}

let fake: FakeSqs;
beforeAll(async () => {
  fake = await startFakeSqs();
});
afterAll(async () => {
  await fake.close();
});

const client = (options: { requestTimeout?: number } = {}) =>
  new SQSClient(fakeAwsClientConfig(fake.url, options));
const queue = (options: { queueUrl?: string; requestTimeout?: number } = {}) =>
  new SqsRemediationQueue({ sqs: client(options), queueUrl: options.queueUrl ?? fake.queueUrl });
const messages = (n: number): RemediationMessage[] =>
  Array.from({ length: n }, (_, i) => ({ leakId: `leak-${i}`, sealedToken: `v1.kms.blob.iv.ct${i}.tag` }));
/** The SendMessageBatch requests the fake received, in order. */
const batches = (): AwsRequest[] => fake.requests.filter((r) => r.target === "AmazonSQS.SendMessageBatch");
const inputOf = (call: number) => batches()[call]?.input as BatchInput;
const entriesOf = (call: number) => inputOf(call).Entries;
const leakIdsOf = (call: number) => entriesOf(call).map((e) => JSON.parse(e.MessageBody).leakId as string);

function record(messageId: string, body: string, receiveCount?: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: receiveCount ?? "1",
      SentTimestamp: "1700000000000",
      SenderId: "AIDA",
      ApproximateFirstReceiveTimestamp: "1700000000001",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:tourniquet-remediation",
    awsRegion: "us-east-1",
  };
}
const body = (i: number) => encodeRemediationMessage({ leakId: `leak-${i}`, sealedToken: `sealed-${i}` });

describe("SqsRemediationQueue.send", () => {
  beforeEach(() => fake.reset());

  it("keeps each batch under SQS's 256 KiB: messages revoking 1,000 leaks together go fewer a batch", async () => {
    const ids = Array.from({ length: 999 }, (_, i) => `lk_${String(i).padStart(24, "0")}`);
    const together = messages(20).map((m) => ({ ...m, together: ids }));
    await queue().send(together);
    const calls = batches();
    const sizes = calls.map((_, i) => entriesOf(i).reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024);
    expect(calls.length).toBeGreaterThan(20 / 10); // 10 a batch would be 310 KB
    const sent = calls.flatMap((_, i) => entriesOf(i).map((e) => JSON.parse(e.MessageBody)));
    expect(sent.map((m) => m.leakId).sort()).toEqual(together.map((m) => m.leakId).sort());
    expect(sent.every((m) => m.together.length === 999)).toBe(true);
  });

  it("sends a delay as each entry's DelaySeconds, capped at SQS's 900", async () => {
    await queue().send(messages(2), { delaySeconds: 3 });
    await queue().send(messages(1), { delaySeconds: 5_000 });
    expect(entriesOf(0).map((e) => (e as { DelaySeconds?: number }).DelaySeconds)).toEqual([3, 3]);
    expect(entriesOf(1).map((e) => (e as { DelaySeconds?: number }).DelaySeconds)).toEqual([900]);
  });

  it("sends 25 messages as batches of 10, 10 and 5 with ids local to each batch", async () => {
    await queue().send(messages(25));
    const calls = batches();
    expect(calls.map((c) => (c.input as BatchInput).Entries.length).sort()).toEqual([10, 10, 5].sort());
    for (const call of calls) {
      const input = call.input as BatchInput;
      expect(input.QueueUrl).toBe(fake.queueUrl);
      expect(input.Entries.map((e) => e.Id)).toEqual(
        Array.from({ length: input.Entries.length }, (_, i) => String(i)),
      );
    }
    const leakIds = calls.flatMap((_, i) => leakIdsOf(i));
    expect(new Set(leakIds)).toEqual(new Set(messages(25).map((m) => m.leakId)));
    expect(fake.sent).toHaveLength(25);
  });

  it("speaks awsJson1_0 to SQS, signed with SigV4 for the sqs service", async () => {
    await queue().send(messages(1));
    const [request] = batches();
    expect(request?.headers["content-type"]).toBe("application/x-amz-json-1.0");
    expect(request?.headers["x-amz-target"]).toBe("AmazonSQS.SendMessageBatch");
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/sqs\/aws4_request, SignedHeaders=[\w;-]+, Signature=[0-9a-f]{64}$/,
    );
  });

  it("sends at most 5 batches at once", async () => {
    // SQS holds every request until released: the send has as many batches in flight as it allows.
    let release = () => {};
    const until = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.faults.push(...Array.from({ length: 12 }, () => ({ kind: "hold" as const, until })));
    const sending = queue().send(messages(120));
    await vi.waitFor(() => expect(batches()).toHaveLength(5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(batches()).toHaveLength(5);
    release();
    await sending;
    expect(batches()).toHaveLength(12);
    expect(fake.sent).toHaveLength(120);
    expect(fake.peakConcurrency).toBe(5);
  });

  it("sends nothing for an empty list", async () => {
    await queue().send([]);
    expect(fake.requests).toHaveLength(0);
  });

  it("puts the sealed token in the body, never the raw one", async () => {
    const sealedToken = "v1.kms.d3JhcHBlZA.aXY.Y3Q.dGFn";
    await queue().send([{ leakId: "leak-1", sealedToken }]);
    const [entry] = entriesOf(0);
    expect(JSON.parse(entry?.MessageBody ?? "")).toEqual({ leakId: "leak-1", sealedToken });
    expect(fake.sent.map((m) => JSON.parse(m.body))).toEqual([{ leakId: "leak-1", sealedToken }]);
    expect(JSON.stringify(fake.requests.map((r) => r.input))).not.toContain(RAW_TOKEN);
  });

  it("resends only the failed entries once and succeeds if they go through", async () => {
    fake.failEntry = (entry, call) =>
      call === 1 && (entry.Id === "2" || entry.Id === "7")
        ? { Code: "InternalError", SenderFault: false, Message: "Internal error" }
        : undefined;
    await queue().send(messages(10));
    expect(batches()).toHaveLength(2);
    expect(leakIdsOf(1)).toEqual(["leak-2", "leak-7"]);
    expect(fake.sent).toHaveLength(10);
  });

  it("throws a TourniquetError naming how many failed, and the codes only, when the retry fails too", async () => {
    fake.failEntry = (entry) =>
      entry.Id === "0"
        ? { Code: "InternalError", SenderFault: false, Message: `failed ${entry.MessageBody}` }
        : undefined;
    const error = await queue()
      .send(messages(12))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TourniquetError);
    expect((error as Error).message).toBe("2 of 12 remediation messages could not be queued (InternalError)");
    expect((error as Error).message).not.toContain("v1.kms");
    // Two batches, each sent once and its failed entry resent once.
    expect(batches()).toHaveLength(4);
    expect(fake.sent).toHaveLength(10);
  });

  it("names every distinct code of the entries that still failed after the resend", async () => {
    const codes: Record<string, string> = { "1": "KmsThrottled", "4": "InvalidParameterValue" };
    fake.failEntry = (entry) => {
      const code = codes[entry.Id];
      return code ? { Code: code, SenderFault: code === "InvalidParameterValue", Message: "no" } : undefined;
    };
    const error = await queue()
      .send(messages(5))
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "2 of 5 remediation messages could not be queued (KmsThrottled, InvalidParameterValue)",
    );
    expect(batches()).toHaveLength(2);
    expect(entriesOf(1).map((e) => e.Id)).toEqual(["1", "4"]);
  });

  it("lets the client retry a throttled batch (403 RequestThrottled) and a 5xx", async () => {
    fake.faults.push(
      errorFault(403, "com.amazonaws.sqs#RequestThrottled", "Request is throttled.", {
        "x-amzn-query-error": "RequestThrottled;Sender",
      }),
      errorFault(503, "com.amazonaws.sqs#ServiceUnavailable", "Service is unavailable."),
    );
    await queue().send(messages(3));
    expect(batches()).toHaveLength(3);
    expect(fake.sent).toHaveLength(3);
  });

  it("lets the client retry a dropped connection and a timed-out request", async () => {
    fake.faults.push({ kind: "drop" }, { kind: "delay", ms: 500 });
    await queue({ requestTimeout: 100 }).send(messages(2));
    expect(batches()).toHaveLength(3);
    expect(fake.sent).toHaveLength(2);
  });

  it("throws the transient AwsError when SQS stays throttled past the client's attempts", async () => {
    fake.faults.push(
      ...Array.from({ length: 3 }, () =>
        errorFault(403, "com.amazonaws.sqs#RequestThrottled", "Request is throttled."),
      ),
    );
    const error = await queue()
      .send(messages(1))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "RequestThrottled", httpStatus: 403, transient: true });
    expect(batches()).toHaveLength(3);
    expect(fake.sent).toHaveLength(0);
  });

  it("throws a permanent AwsError, at once, for a queue that does not exist", async () => {
    const error = await queue({ queueUrl: `${fake.url}/000000000000/no-such-queue` })
      .send(messages(1))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "QueueDoesNotExist", httpStatus: 400, transient: false });
    expect(batches()).toHaveLength(1);
  });

  it("refuses an acknowledgement whose body MD5 does not match what was sent", async () => {
    fake.faults.push({
      kind: "respond",
      status: 200,
      body: {
        Successful: [{ Id: "0", MessageId: "m-altered", MD5OfMessageBody: "0".repeat(32) }],
        Failed: [],
      },
    });
    const error = await queue()
      .send(messages(1))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TourniquetError);
    expect((error as Error).message).toContain("m-altered");
    expect((error as Error).message).not.toContain("v1.kms");
  });
});

describe("deliveryFromSqsRecord", () => {
  it("decodes a record and passes the receive count through", () => {
    expect(deliveryFromSqsRecord(record("m-1", body(1)), 5)).toEqual({
      message: { leakId: "leak-1", sealedToken: "sealed-1" },
      receiveCount: 1,
      maxReceives: 5,
    });
    expect(deliveryFromSqsRecord(record("m-2", body(2), "4"), 5).receiveCount).toBe(4);
  });

  it("throws a TourniquetError for a body that is not a remediation message, without quoting it", () => {
    const bad = record("m-1", `{"token":"${RAW_TOKEN}"`);
    expect(() => deliveryFromSqsRecord(bad, 5)).toThrow(TourniquetError);
    try {
      deliveryFromSqsRecord(bad, 5);
    } catch (error) {
      expect(String(error)).not.toContain(RAW_TOKEN);
      expect((error as Error).cause).toBeUndefined();
    }
  });
});

describe("consumeSqsEvent", () => {
  it("reports the records whose consumer threw, and undecodable ones, as batch item failures, logging why", async () => {
    const seen: Delivery<QueueMessage>[] = [];
    const recorded = recordingLog();
    const event: SQSEvent = {
      Records: [
        record("m-1", body(1)),
        record("m-2", body(2), "3"),
        record("m-3", "not json"),
        record("m-4", JSON.stringify({ leakId: 4 })),
        record("m-5", body(5)),
      ],
    };
    const response = await consumeSqsEvent(
      event,
      async (delivery) => {
        seen.push(delivery);
        if (subjectOf(delivery.message) === "leak-2") throw new Error("issuer down");
      },
      5,
      recorded.log,
    );
    // In the order they failed: SQS reads them as a set.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(["m-2", "m-3", "m-4"]);
    expect(seen.map((d) => [subjectOf(d.message), d.receiveCount, d.maxReceives])).toEqual([
      ["leak-1", 1, 5],
      ["leak-2", 3, 5],
      ["leak-5", 1, 5],
    ]);
    const warnings = recorded.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warnings.map((w) => [w.messageId, w.subject, w.receiveCount]).sort()).toEqual([
      ["m-2", "leak-2", "3"],
      ["m-3", undefined, "1"],
      ["m-4", undefined, "1"],
    ]);
    expect(warnings.find((w) => w.messageId === "m-2")?.error).toContain("issuer down");
    expect(warnings.find((w) => w.messageId === "m-3")?.error).toContain("not a remediation message");
  });

  it("returns no failures when every record is handled", async () => {
    const event: SQSEvent = { Records: [record("m-1", body(1)), record("m-2", body(2))] };
    await expect(consumeSqsEvent(event, async () => {}, 5, silentLog)).resolves.toEqual({
      batchItemFailures: [],
    });
  });

  it("answers a batch where every record failed with every record, instead of throwing", async () => {
    const event: SQSEvent = { Records: [record("m-1", body(1)), record("m-2", "not json")] };
    const response = await consumeSqsEvent(
      event,
      async () => {
        throw new Error("store down");
      },
      5,
      silentLog,
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(["m-1", "m-2"]);
  });

  it("runs the records of a batch concurrently", async () => {
    let running = 0;
    let peak = 0;
    const event: SQSEvent = { Records: [1, 2, 3].map((i) => record(`m-${i}`, body(i))) };
    await consumeSqsEvent(
      event,
      async () => {
        peak = Math.max(peak, ++running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
      },
      5,
      silentLog,
    );
    expect(peak).toBe(3);
  });

  it("treats a missing receive count as the first delivery", async () => {
    const r = record("m-1", body(1));
    (r.attributes as { ApproximateReceiveCount?: string }).ApproximateReceiveCount = undefined;
    expect(deliveryFromSqsRecord(r, 5).receiveCount).toBe(1);
  });
});
