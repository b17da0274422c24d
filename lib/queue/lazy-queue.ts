import type { RemediationQueue } from "./remediation-queue.js";

/**
 * A queue whose adapter (and its SDK client) loads with the first send: the worker sends only after
 * revoking leaks together, so its cold start does not pay for a client most invocations never use.
 */
export function lazyQueue(load: () => Promise<RemediationQueue>): RemediationQueue {
  let loading: Promise<RemediationQueue> | undefined;
  return {
    async send(messages, options) {
      loading ??= load().catch((error: unknown) => {
        loading = undefined; // a failed load is tried again with the next send
        throw error;
      });
      return (await loading).send(messages, options);
    },
  };
}
