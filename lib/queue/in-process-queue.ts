import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DeadLetterError, TourniquetError } from "../errors.js";
import {
  type Delivery,
  decodeRemediationMessage,
  encodeRemediationMessage,
  MAX_DELAY_SECONDS,
  type QueueMessage,
  type RemediationConsumer,
  type RemediationQueue,
  type SendOptions,
} from "./remediation-queue.js";

// The local stack's queue. It keeps SQS's contract so the worker behaves the same locally:
// at-least-once delivery, redelivery after a failure with a growing receive count, and a
// dead-letter list once maxReceives deliveries have failed. With `coalesce`, one liberty SQS does not
// take: a message sent while an identical one still waits undelivered is not queued twice (a leak
// reported again while its remediation waits), since that delivery reads the leak as it then is and
// does all it owes.

export interface InProcessQueueOptions {
  consumer?: RemediationConsumer;
  /** Deliveries running at once. Default 8. */
  concurrency?: number;
  /** Failed deliveries before a message is dead-lettered. Default 5. */
  maxReceives?: number;
  /** Delay before redelivering a message whose `receiveCount`-th delivery failed. */
  backoffMs?: (receiveCount: number) => number;
  /** JSON-lines file the dead letters are appended to (the token in them is sealed). */
  deadLetterFile?: string;
  /** Drops a message sent while an identical one waits for its first delivery. Default false (as SQS). */
  coalesce?: boolean;
  /** Told about every failed delivery; the queue itself never logs. */
  onError?: (error: unknown, delivery: Delivery<QueueMessage>) => void;
}

export interface InProcessQueueStats {
  queued: number;
  inFlight: number;
  waiting: number;
  deadLettered: number;
  delivered: number;
  /** Messages not queued because an identical one was still waiting for its first delivery. */
  coalesced: number;
}

interface Pending {
  message: QueueMessage;
  receiveCount: number;
  /** The message as sent (its wire form): what coalescing compares. */
  body: string;
}

/** 500 ms, 1 s, 2 s … capped at 30 s, each drawn from its upper half so retries do not move in lockstep. */
export function defaultBackoffMs(receiveCount: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, receiveCount - 1));
  return base / 2 + (Math.random() * base) / 2;
}

export class InProcessQueue implements RemediationQueue {
  private consumer: RemediationConsumer | undefined;
  private readonly concurrency: number;
  private readonly maxReceives: number;
  private readonly backoffMs: (receiveCount: number) => number;
  private readonly deadLetterFile: string | undefined;
  private readonly onError: ((error: unknown, delivery: Delivery<QueueMessage>) => void) | undefined;

  private readonly ready: Pending[] = [];
  /** Bodies of the first deliveries waiting in `ready`. */
  private readonly waitingFirst = new Set<string>();
  private coalesced = 0;
  private readonly coalesce: boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly dead: QueueMessage[] = [];
  private inFlight = 0;
  private delivered = 0;
  private pumpScheduled = false;
  private closed = false;
  private drainWaiters: (() => void)[] = [];

  constructor(options: InProcessQueueOptions = {}) {
    this.consumer = options.consumer;
    this.concurrency = options.concurrency ?? 8;
    this.maxReceives = options.maxReceives ?? 5;
    this.backoffMs = options.backoffMs ?? defaultBackoffMs;
    this.deadLetterFile = options.deadLetterFile;
    this.onError = options.onError;
    this.coalesce = options.coalesce ?? false;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError("concurrency must be a positive integer");
    }
    if (!Number.isInteger(this.maxReceives) || this.maxReceives < 1) {
      throw new RangeError("maxReceives must be a positive integer");
    }
  }

  /** Attaches the worker; messages sent before this wait for it. */
  setConsumer(consumer: RemediationConsumer): void {
    this.consumer = consumer;
    this.schedulePump();
  }

  async send(messages: readonly QueueMessage[], options: SendOptions = {}): Promise<void> {
    if (this.closed) throw new TourniquetError("the in-process queue is closed");
    // Copies through the wire format, like a real queue: later changes to the caller's objects do not
    // reach the worker, and what SQS would refuse is refused here too.
    const copies = messages.map((message) => {
      const body = encodeRemediationMessage(message);
      return { message: decodeRemediationMessage(body), receiveCount: 1, body };
    });
    const delayMs = Math.min(options.delaySeconds ?? 0, MAX_DELAY_SECONDS) * 1_000;
    if (delayMs > 0) {
      // Waiting like a retry: drain() waits for it too.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.enqueue(copies);
        this.pump();
      }, delayMs);
      this.timers.add(timer);
      return;
    }
    this.enqueue(copies);
    // Next tick, as with SQS: the sender finishes its own work before the worker starts.
    this.schedulePump();
  }

  /** Resolves once nothing is queued, in flight or waiting to be retried (or the queue is closed). */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  deadLetters(): readonly QueueMessage[] {
    return [...this.dead];
  }

  stats(): InProcessQueueStats {
    return {
      queued: this.ready.length,
      inFlight: this.inFlight,
      waiting: this.timers.size,
      deadLettered: this.dead.length,
      delivered: this.delivered,
      coalesced: this.coalesced,
    };
  }

  /** Stops dispatching and cancels pending retries (for shutdown; the leak store keeps each leak's state). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    this.waitingFirst.clear();
    this.notifyIfIdle(true);
  }

  /** Queues first deliveries, but none whose identical twin is still waiting for its first delivery. */
  private enqueue(copies: readonly Pending[]): void {
    for (const copy of copies) {
      if (this.coalesce && this.waitingFirst.has(copy.body)) {
        this.coalesced++;
        continue;
      }
      this.waitingFirst.add(copy.body);
      this.ready.push(copy);
    }
  }

  private idle(): boolean {
    return this.ready.length === 0 && this.inFlight === 0 && this.timers.size === 0;
  }

  private notifyIfIdle(force = false): void {
    if (!force && !this.idle()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const consumer = this.consumer;
    if (!consumer || this.closed) return;
    while (this.inFlight < this.concurrency && this.ready.length > 0) {
      const next = this.ready.shift() as Pending;
      if (next.receiveCount === 1) this.waitingFirst.delete(next.body);
      this.inFlight++;
      void this.deliver(consumer, next);
    }
  }

  private async deliver(consumer: RemediationConsumer, pending: Pending): Promise<void> {
    const delivery: Delivery<QueueMessage> = {
      message: pending.message,
      receiveCount: pending.receiveCount,
      maxReceives: this.maxReceives,
    };
    try {
      await consumer(delivery);
      this.delivered++;
    } catch (error) {
      this.report(error, delivery);
      if (error instanceof DeadLetterError) this.deadLetter(pending);
      else this.failed(pending);
    } finally {
      this.inFlight--;
      this.pump();
      this.notifyIfIdle();
    }
  }

  private failed(pending: Pending): void {
    if (pending.receiveCount >= this.maxReceives) {
      this.deadLetter(pending);
      return;
    }
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push({ ...pending, receiveCount: pending.receiveCount + 1 });
      this.pump();
    }, this.backoffMs(pending.receiveCount));
    this.timers.add(timer);
  }

  private deadLetter(pending: Pending): void {
    this.dead.push(pending.message);
    if (!this.deadLetterFile) return;
    // The message as sent (the token in it sealed), and no error text.
    const line = JSON.stringify({
      ...JSON.parse(encodeRemediationMessage(pending.message)),
      receiveCount: pending.receiveCount,
      deadLetteredAt: new Date().toISOString(),
    });
    try {
      mkdirSync(dirname(this.deadLetterFile), { recursive: true });
      appendFileSync(this.deadLetterFile, `${line}\n`, { mode: 0o600 });
    } catch (error) {
      const { message, receiveCount } = pending;
      this.report(error, { message, receiveCount, maxReceives: this.maxReceives });
    }
  }

  /** A throwing onError must not wedge the queue. */
  private report(error: unknown, delivery: Delivery<QueueMessage>): void {
    try {
      this.onError?.(error, delivery);
    } catch {
      // ignored on purpose
    }
  }
}
