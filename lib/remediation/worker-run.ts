import type { TourniquetConfig } from "../config.js";
import { BusyError } from "../errors.js";
import type { AlertStore } from "../github/alert-store.js";
import type { GithubApp } from "../github/github-app.js";
import type { ReportPartStore } from "../intake/report-part-store.js";
import type { IssuerRegistry } from "../issuers/issuer-registry.js";
import type { Log } from "../log.js";
import type { NotificationChannel } from "../notify/leak-message.js";
import type { Templates } from "../notify/render-leak-message.js";
import type { RemediationQueue } from "../queue/remediation-queue.js";
import type { TokenSealer } from "../queue/token-sealer.js";
import type { SecretStore } from "../secrets/secret-store.js";
import type { Leak } from "../store/leak.js";
import type { Step } from "../store/leak-lifecycle.js";
import type { LeakStore } from "../store/leak-store.js";
import { retryTransient } from "../util/retry.js";
import type { GithubWritePace } from "./github-write-pace.js";
import type { RemediationMetrics } from "./remediation-metrics.js";

// What every remediation step shares: the worker's dependencies, its leases, retries and clock.

export interface WorkerDeps {
  config: TourniquetConfig;
  store: LeakStore;
  issuers: IssuerRegistry;
  sealer: TokenSealer;
  /** The worker's own queue: leaks revoked together go on to their next step as messages of their own. */
  queue: RemediationQueue;
  /** Notification channels by their config name. */
  channels: ReadonlyMap<string, NotificationChannel>;
  templates: Templates;
  /** The GitHub App (config `github_app`): fetches reported alerts' secrets and resolves the alerts. */
  githubApp?: Pick<GithubApp, "alerts"> | undefined;
  /** The App path's alert records; with `githubApp`. */
  alerts?: AlertStore | undefined;
  /** Mass reports' parts the intake left for the worker to record (intake/record-report-part.ts). */
  parts?: ReportPartStore | undefined;
  /** GitHub's write pacing, one per process: resolutions whose turn has not come are put off. */
  githubWritePace?: GithubWritePace | undefined;
  /** Where replacement secrets go when an issuer adapter hands one over (revoke_and_rotate). */
  secrets?: SecretStore | undefined;
  log: Log;
  /** Names this worker (process or Lambda container) in the leases it holds. */
  workerId: string;
  now?: () => number;
  /** How long a side effect (revoke, rotate, notify) may take before another worker may try it. */
  leaseMs?: number;
  /** What operators alarm on (time to revoke, failures); none locally. */
  metrics?: RemediationMetrics | undefined;
  /**
   * Once a key is revoked, the leak's next steps (rotate, notify) go back to the queue as a message of
   * their own: under a backlog, the revocations still waiting are not held behind other leaks' messages.
   */
  revokeFirst?: boolean | undefined;
  /** Epoch ms by which this delivery must be done (Lambda: now + remaining time − margin). */
  deadline?: () => number | undefined;
}

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
  return deps.store.updateLeak(leak, { lease: newLease(deps, leak, step) }, []);
}

/**
 * The lease this delivery writes to claim the step, for a step that claims it in its first write of its
 * own (notify: with its first message's intent); throws BusyError while another delivery's lease runs.
 */
export function newLease(deps: Run, leak: Leak, step: Step): NonNullable<Leak["lease"]> {
  const now = (deps.now ?? Date.now)();
  const lease = leak.lease;
  if (lease && lease.until > now && lease.holder !== deps.holder) {
    throw new BusyError(`leak ${leak.id}: ${lease.step} is in progress elsewhere`);
  }
  return { step, holder: deps.holder, until: now + (deps.leaseMs ?? 60_000) };
}

/**
 * Retries a call as the config says, never past the delivery's deadline (the Lambda's remaining
 * time): each attempt gets a signal that aborts it when the deadline comes, so a step can always
 * record its outcome before the runtime is stopped.
 */
export function withRetries<T>(
  deps: WorkerDeps,
  fn: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const { step_attempts, step_backoff_ms } = deps.config.remediation;
  const deadline = deps.deadline?.();
  const signal = () =>
    deadline === undefined ? undefined : AbortSignal.timeout(Math.max(1, deadline - Date.now()));
  return retryTransient(() => fn(signal()), { attempts: step_attempts, baseMs: step_backoff_ms, deadline });
}

export const isoNow = (deps: WorkerDeps) => new Date((deps.now ?? Date.now)()).toISOString();
