import { join } from "node:path";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { silentLog } from "../../lib/log.js";
import { createChannels } from "../../lib/notify/channel-registry.js";
import { loadTemplates } from "../../lib/notify/render-leak-message.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import type { WorkerDeps } from "../../lib/remediation/worker-run.js";
import type { LocalStack } from "../../local/local-stack.js";

/**
 * A worker as the remediate Lambda has it, over the local stack's store, sandbox issuer and sealing key:
 * for tests that feed the handler SQS events themselves (its own sends go nowhere).
 */
export function lambdaWorkerDeps(stack: LocalStack): WorkerDeps {
  return {
    config: stack.config,
    store: stack.store,
    issuers: IssuerRegistry.fromConfig(stack.config),
    sealer: LocalKeySealer.fromKeyFile(join(stack.dataDir, "queue.key")),
    queue: { send: async () => undefined },
    channels: createChannels(stack.config, { outboxDir: join(stack.dataDir, "outbox") }),
    templates: loadTemplates(),
    log: silentLog,
    workerId: "lambda:test",
  };
}
