import type { RemediationMessage, RemediationQueue } from "./remediation-queue.js";

// Queues each message as soon as its leak is written, yet in batches: messages handed over in the same
// turn of the event loop go in one send (SQS takes 10 a call), so a leak never waits for the rest of
// its report, and a 1,000-token report still costs ~100 calls rather than 1,000.

export interface BatchingSender {
  /** Resolves once the queue has taken the message; rejects with its batch's error. */
  send(message: RemediationMessage): Promise<void>;
}

export function batchingSender(queue: RemediationQueue, maxBatch = 10): BatchingSender {
  let pending: { message: RemediationMessage; done: (error?: unknown) => void }[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    queue.send(batch.map((entry) => entry.message)).then(
      () => {
        for (const entry of batch) entry.done();
      },
      (error: unknown) => {
        for (const entry of batch) entry.done(error ?? new Error("queue send failed"));
      },
    );
  };
  return {
    send(message) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ message, done: (error) => (error === undefined ? resolve() : reject(error)) });
        if (pending.length >= maxBatch) flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
