import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultBackoffMs, InProcessQueue } from "../../lib/queue/in-process-queue.js";
import type { Delivery, RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { type QueueMessage, subjectOf } from "../../lib/queue/remediation-queue.js";

const RAW_TOKEN = "tqs_live_4f8a1c9e2b7d6035aa91f2a";
const messages = (n: number): RemediationMessage[] =>
  Array.from({ length: n }, (_, i) => ({ leakId: `leak-${i}`, sealedToken: `v1.local.iv.ct${i}.tag` }));
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("InProcessQueue", () => {
  const queues: InProcessQueue[] = [];
  const dirs: string[] = [];
  const make = (options: ConstructorParameters<typeof InProcessQueue>[0] = {}) => {
    const queue = new InProcessQueue({ backoffMs: () => 1, ...options });
    queues.push(queue);
    return queue;
  };
  afterEach(() => {
    for (const queue of queues.splice(0)) queue.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("delivers each message once, on a later tick, with receiveCount 1", async () => {
    const seen: Delivery<QueueMessage>[] = [];
    const queue = make({ consumer: async (d) => void seen.push(d), maxReceives: 3 });
    await queue.send(messages(3));
    expect(seen).toHaveLength(0);
    await queue.drain();
    expect(seen).toEqual(messages(3).map((message) => ({ message, receiveCount: 1, maxReceives: 3 })));
    expect(queue.stats()).toEqual({
      queued: 0,
      inFlight: 0,
      waiting: 0,
      deadLettered: 0,
      delivered: 3,
      coalesced: 0,
    });
  });

  it("with coalesce, does not queue a message twice while its identical twin waits, but does once that one is delivered", async () => {
    const started: string[] = [];
    let release = () => {};
    const queue = make({
      concurrency: 1,
      coalesce: true,
      consumer: async (d) => {
        started.push(subjectOf(d.message));
        if (started.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
    });
    const [first, second] = messages(2) as [RemediationMessage, RemediationMessage];
    await queue.send([first]);
    await tick();
    // `first` is being delivered: a new copy of it waits, and a second copy of that waiting one is dropped.
    await queue.send([first, second, first]);
    await queue.send([{ ...second, sealedToken: "v1.local.iv.other.tag" }]); // not identical: queued
    expect(queue.stats()).toMatchObject({ inFlight: 1, queued: 3, coalesced: 1 });
    release();
    await queue.drain();
    expect(started).toEqual(["leak-0", "leak-0", "leak-1", "leak-1"]);
    expect(queue.stats()).toMatchObject({ delivered: 4, coalesced: 1 });
  });

  it("carries the leaks to remediate together as SQS does, a copy of them, and refuses what SQS's worker would", async () => {
    const seen: Delivery<QueueMessage>[] = [];
    const queue = make({ consumer: async (d) => void seen.push(d) });
    const together = ["lk_2", "lk_3"];
    await queue.send([{ leakId: "lk_1", sealedToken: "v1.sealed", together }]);
    together.push("lk_4"); // the sender's later change does not reach the worker
    await queue.drain();
    expect(seen.map((d) => d.message)).toEqual([
      { leakId: "lk_1", sealedToken: "v1.sealed", together: ["lk_2", "lk_3"] },
    ]);
    await expect(
      queue.send([{ leakId: "lk_1", sealedToken: "v1.sealed", together: ["not an id!"] }]),
    ).rejects.toThrow(/together/);
  });

  it("holds a message sent with a delay until it is due, and drain waits for it", async () => {
    const seen: number[] = [];
    const queue = make({ consumer: async () => void seen.push(Date.now()) });
    const sentAt = Date.now();
    await queue.send(messages(1), { delaySeconds: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    expect(queue.stats().waiting).toBe(1);
    await queue.drain();
    expect(seen).toHaveLength(1);
    expect((seen[0] ?? 0) - sentAt).toBeGreaterThanOrEqual(990);
  });

  it("redelivers a failed message after backoff with a growing receiveCount", async () => {
    const counts: number[] = [];
    const backoffAsked: number[] = [];
    const errors: unknown[] = [];
    const queue = make({
      consumer: async (d) => {
        counts.push(d.receiveCount);
        if (d.receiveCount < 3) throw new Error("issuer down");
      },
      backoffMs: (n) => {
        backoffAsked.push(n);
        return 5;
      },
      onError: (error) => errors.push(error),
    });
    await queue.send(messages(1));
    await queue.drain();
    expect(counts).toEqual([1, 2, 3]);
    expect(backoffAsked).toEqual([1, 2]);
    expect(errors).toHaveLength(2);
    expect(queue.stats()).toMatchObject({ delivered: 1, deadLettered: 0 });
  });

  it("waits for the retry timer before redelivering, and drain waits for it too", async () => {
    let calls = 0;
    const queue = make({
      consumer: async () => {
        if (++calls === 1) throw new Error("once");
      },
      backoffMs: () => 50,
    });
    await queue.send(messages(1));
    await tick();
    await tick();
    expect(queue.stats()).toMatchObject({ waiting: 1, inFlight: 0, queued: 0 });
    const started = Date.now();
    await queue.drain();
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(calls).toBe(2);
  });

  it("dead-letters after maxReceives failures and appends one JSON line with only leak id and sealed token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tq-dlq-"));
    dirs.push(dir);
    const deadLetterFile = join(dir, "outbox", "dead-letters.jsonl");
    const counts: number[] = [];
    const queue = make({
      maxReceives: 3,
      deadLetterFile,
      consumer: async (d) => {
        counts.push(d.receiveCount);
        if (subjectOf(d.message) === "leak-0") throw new Error(`cannot revoke ${RAW_TOKEN}`);
      },
    });
    await queue.send(messages(2));
    await queue.drain();
    expect(counts.sort()).toEqual([1, 1, 2, 3]);
    expect(queue.deadLetters()).toEqual([messages(1)[0]]);
    expect(queue.stats()).toMatchObject({ deadLettered: 1, delivered: 1, waiting: 0 });

    const text = readFileSync(deadLetterFile, "utf8");
    expect(text).not.toContain(RAW_TOKEN);
    expect(text).not.toContain("cannot revoke");
    const lines = text.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      leakId: "leak-0",
      sealedToken: "v1.local.iv.ct0.tag",
      receiveCount: 3,
    });
    expect(statSync(deadLetterFile).mode & 0o777).toBe(0o600);
  });

  it("never runs more than `concurrency` deliveries at once", async () => {
    let running = 0;
    let peak = 0;
    const queue = make({
      concurrency: 3,
      consumer: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
      },
    });
    await queue.send(messages(20));
    await tick();
    expect(queue.stats()).toMatchObject({ inFlight: 3, queued: 17 });
    await queue.drain();
    expect(peak).toBe(3);
    expect(queue.stats().delivered).toBe(20);
  });

  it("holds messages until a consumer is attached", async () => {
    const queue = make();
    await queue.send(messages(2));
    await tick();
    expect(queue.stats()).toMatchObject({ queued: 2, delivered: 0 });
    let drained = false;
    const draining = queue.drain().then(() => {
      drained = true;
    });
    await tick();
    expect(drained).toBe(false);

    const seen: string[] = [];
    queue.setConsumer(async (d) => void seen.push(subjectOf(d.message)));
    await draining;
    expect(seen).toEqual(["leak-0", "leak-1"]);
  });

  it("drain resolves at once when idle, and close cancels pending retries", async () => {
    const queue = make({ consumer: async () => Promise.reject(new Error("down")), backoffMs: () => 60_000 });
    await queue.drain();
    await queue.send(messages(1));
    await tick();
    await tick();
    expect(queue.stats().waiting).toBe(1);
    const draining = queue.drain();
    queue.close();
    await draining;
    expect(queue.stats()).toMatchObject({ waiting: 0, queued: 0 });
    await expect(queue.send(messages(1))).rejects.toThrow(/closed/);
  });

  it("keeps going when onError throws", async () => {
    let calls = 0;
    const queue = make({
      consumer: async () => {
        if (++calls === 1) throw new Error("first");
      },
      onError: () => {
        throw new Error("logger broke");
      },
    });
    await queue.send(messages(1));
    await queue.drain();
    expect(queue.stats()).toMatchObject({ delivered: 1 });
  });

  it("backs off exponentially from 500 ms, capped at 30 s, with jitter", () => {
    for (let i = 0; i < 50; i++) {
      expect(defaultBackoffMs(1)).toBeGreaterThanOrEqual(250);
      expect(defaultBackoffMs(1)).toBeLessThanOrEqual(500);
      expect(defaultBackoffMs(3)).toBeGreaterThanOrEqual(1_000);
      expect(defaultBackoffMs(3)).toBeLessThanOrEqual(2_000);
      expect(defaultBackoffMs(20)).toBeGreaterThanOrEqual(15_000);
      expect(defaultBackoffMs(20)).toBeLessThanOrEqual(30_000);
    }
  });
});
