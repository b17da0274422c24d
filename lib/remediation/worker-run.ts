import type { TourniquetConfig } from "../config.js";
import { BusyError } from "../errors.js";
import type { IssuerRegistry } from "../issuers/issuer-registry.js";
import type { Log } from "../log.js";
import type { NotificationChannel } from "../notify/leak-message.js";
import type { Templates } from "../notify/render-leak-message.js";
import type { TokenSealer } from "../queue/token-sealer.js";
import type { SecretStore } from "../secrets/secret-store.js";
import type { Leak } from "../store/leak.js";
import type { LeakStore } from "../store/leak-store.js";
import { retryTransient } from "./retry.js";

// What every remediation step shares: the worker's dependencies, its leases, retries and clock.

export interface WorkerDeps {
  config: TourniquetConfig;
  store: LeakStore;
  issuers: IssuerRegistry;
  sealer: TokenSealer;
  /** Notification channels by their config name. */
  channels: ReadonlyMap<string, NotificationChannel>;
  templates: Templates;
  /** Where replacement secrets go when an issuer adapter hands one over (revoke_and_rotate). */
  secrets?: SecretStore | undefined;
  log: Log;
  /** Names this worker (process or Lambda container) in the leases it holds. */
  workerId: string;
  now?: () => number;
  /** How long a side effect (revoke, rotate, notify) may take before another worker may try it. */
  leaseMs?: number;
}

export type Step = "verify" | "revoke" | "rotate" | "dry_run" | "notify";

/** One delivery's view of the worker: its dependencies and the id its leases carry. */
export interface Run extends WorkerDeps {
  holder: string;
}

export const ACTOR = "worker";

/**
 * Claims the step for this delivery; throws BusyError while another delivery's lease runs. The claim
 * is a conditional write, so of two deliveries that read the same leak only one gets it.
 */
export async function takeLease(deps: Run, leak: Leak, step: Step): Promise<Leak> {
  const now = (deps.now ?? Date.now)();
  const lease = leak.lease;
  if (lease && lease.until > now) {
    throw new BusyError(`leak ${leak.id}: ${lease.step} is in progress elsewhere`);
  }
  const until = now + (deps.leaseMs ?? 60_000);
  return deps.store.updateLeak(leak, { lease: { step, holder: deps.holder, until } }, []);
}

export function withRetries<T>(deps: WorkerDeps, fn: () => Promise<T>): Promise<T> {
  const { step_attempts, step_backoff_ms } = deps.config.remediation;
  return retryTransient(fn, { attempts: step_attempts, baseMs: step_backoff_ms });
}

export const isoNow = (deps: WorkerDeps) => new Date((deps.now ?? Date.now)()).toISOString();
