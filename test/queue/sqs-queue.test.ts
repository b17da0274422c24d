import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TourniquetError } from "../../lib/errors.js";
import type { Delivery, RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { encodeRemediationMessage } from "../../lib/queue/remediation-queue.js";
import { consumeSqsEvent, deliveriesFromSqsEvent, SqsRemediationQueue } from "../../lib/queue/sqs-queue.js";

const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/tourniquet-remediation";
const RAW_TOKEN = "tqs_live_4f8a1c9e2b7d6035aa91f2a";

const sqs = mockClient(SQSClient);
const queue = () =>
  new SqsRemediationQueue({ sqs: new SQSClient({ region: "us-east-1" }), queueUrl: QUEUE_URL });
const messages = (n: number): RemediationMessage[] =>
  Array.from({ length: n }, (_, i) => ({ leakId: `leak-${i}`, sealedToken: `v1.kms.blob.iv.ct${i}.tag` }));
const entriesOf = (call: number) =>
  sqs.commandCalls(SendMessageBatchCommand)[call]?.args[0].input.Entries as SendMessageBatchRequestEntry[];

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
  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it("sends 25 messages as batches of 10, 10 and 5 with ids local to each batch", async () => {
    await queue().send(messages(25));
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length).sort()).toEqual([10, 10, 5].sort());
    for (const call of calls) {
      expect(call.args[0].input.QueueUrl).toBe(QUEUE_URL);
      expect(call.args[0].input.Entries?.map((e) => e.Id)).toEqual(
        Array.from({ length: call.args[0].input.Entries?.length ?? 0 }, (_, i) => String(i)),
      );
    }
    const leakIds = calls.flatMap((c) =>
      c.args[0].input.Entries?.map((e) => JSON.parse(e.MessageBody ?? "").leakId),
    );
    expect(new Set(leakIds)).toEqual(new Set(messages(25).map((m) => m.leakId)));
  });

  it("sends nothing for an empty list", async () => {
    await queue().send([]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it("puts the sealed token in the body, never the raw one", async () => {
    const sealedToken = "v1.kms.d3JhcHBlZA.aXY.Y3Q.dGFn";
    await queue().send([{ leakId: "leak-1", sealedToken }]);
    const [entry] = entriesOf(0);
    expect(JSON.parse(entry?.MessageBody ?? "")).toEqual({ leakId: "leak-1", sealedToken });
    expect(JSON.stringify(sqs.calls().map((c) => c.args[0].input))).not.toContain(RAW_TOKEN);
  });

  it("resends only the failed entries once and succeeds if they go through", async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [],
        Failed: [
          { Id: "2", Code: "InternalError", SenderFault: false },
          { Id: "7", Code: "InternalError", SenderFault: false },
        ],
      })
      .resolves({ Successful: [], Failed: [] });
    await queue().send(messages(10));
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(entriesOf(1).map((e) => JSON.parse(e.MessageBody ?? "").leakId)).toEqual(["leak-2", "leak-7"]);
  });

  it("throws a TourniquetError naming how many failed when the retry fails too", async () => {
    sqs.on(SendMessageBatchCommand).callsFake(async (input: { Entries: SendMessageBatchRequestEntry[] }) => ({
      Successful: [],
      Failed: input.Entries.filter((e) => e.Id === "0").map((e) => ({
        Id: e.Id,
        Code: "InternalError",
        SenderFault: false,
        Message: `failed ${e.MessageBody}`,
      })),
    }));
    const error = await queue()
      .send(messages(12))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TourniquetError);
    expect((error as Error).message).toMatch(/^2 of 12 remediation messages could not be queued/);
    expect((error as Error).message).not.toContain("v1.kms");
    // Two batches, each sent once and its failed entry resent once.
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(4);
  });
});

describe("deliveriesFromSqsEvent", () => {
  it("decodes each record and passes the receive count through", () => {
    const event: SQSEvent = { Records: [record("m-1", body(1)), record("m-2", body(2), "4")] };
    expect(deliveriesFromSqsEvent(event, 5)).toEqual([
      {
        messageId: "m-1",
        delivery: { message: { leakId: "leak-1", sealedToken: "sealed-1" }, receiveCount: 1, maxReceives: 5 },
      },
      {
        messageId: "m-2",
        delivery: { message: { leakId: "leak-2", sealedToken: "sealed-2" }, receiveCount: 4, maxReceives: 5 },
      },
    ]);
  });

  it("throws a TourniquetError for a body that is not a remediation message, without quoting it", () => {
    const event: SQSEvent = { Records: [record("m-1", `{"token":"${RAW_TOKEN}"`)] };
    expect(() => deliveriesFromSqsEvent(event, 5)).toThrow(TourniquetError);
    try {
      deliveriesFromSqsEvent(event, 5);
    } catch (error) {
      expect(String(error)).not.toContain(RAW_TOKEN);
      expect((error as Error).cause).toBeUndefined();
    }
  });
});

describe("consumeSqsEvent", () => {
  it("reports the records whose consumer threw, and undecodable ones, as batch item failures", async () => {
    const seen: Delivery[] = [];
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
        if (delivery.message.leakId === "leak-2") throw new Error("issuer down");
      },
      5,
    );
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: "m-2" },
      { itemIdentifier: "m-3" },
      { itemIdentifier: "m-4" },
    ]);
    expect(seen.map((d) => [d.message.leakId, d.receiveCount, d.maxReceives])).toEqual([
      ["leak-1", 1, 5],
      ["leak-2", 3, 5],
      ["leak-5", 1, 5],
    ]);
  });

  it("returns no failures when every record is handled", async () => {
    const event: SQSEvent = { Records: [record("m-1", body(1)), record("m-2", body(2))] };
    await expect(consumeSqsEvent(event, async () => {}, 5)).resolves.toEqual({ batchItemFailures: [] });
  });

  it("treats a missing receive count as the first delivery", async () => {
    const r = record("m-1", body(1));
    (r.attributes as { ApproximateReceiveCount?: string }).ApproximateReceiveCount = undefined;
    const [entry] = deliveriesFromSqsEvent({ Records: [r] }, 5);
    expect(entry?.delivery.receiveCount).toBe(1);
  });
});
