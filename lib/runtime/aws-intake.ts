import type { TourniquetConfig } from "../config.js";
import type { SecretGroup } from "../config-secrets.js";
import { PartnerKeyCache } from "../github/partner-key-cache.js";
import { partnerKeySetLoader } from "../github/partner-key-set.js";
import { savedPartnerKeysLoader } from "../github/saved-partner-keys.js";
import type { IntakeDeps } from "../intake/receive-partner-report.js";
import { IssuerRegistry } from "../issuers/issuer-registry.js";
import type { Log } from "../log.js";
import { awsConfig, derived } from "./aws-config.js";
import type { Env } from "./aws-env.js";
import { awsGithubKeySetSource } from "./aws-github-keys.js";
import { awsQueue } from "./aws-queue.js";
import { awsSealer } from "./aws-sealer.js";
import { awsReportPartStore, awsSavedPartnerKeys, awsStore, awsTable } from "./aws-store.js";
import { FUNCTION_SECRET_GROUPS } from "./function-secrets.js";

// The intake Lambda's wiring. Called once per container (the handler memoises it), so clients and the
// key cache live across invocations.

export async function awsIntakeDeps(
  log: Log,
  env: Env = process.env,
  // The issuers' HMAC secrets only: the intake never sees a channel's or the GitHub App's.
  groups: readonly SecretGroup[] = FUNCTION_SECRET_GROUPS.PartnerReport,
): Promise<IntakeDeps> {
  // Verifying only: AWS responder-role sessions are read-only (the worker alone writes).
  const buildIssuers = (current: TourniquetConfig) =>
    IssuerRegistry.fromConfig(current, { awsTransport: { sessionAccess: "read" } });
  const config = await awsConfig(log, env, groups, buildIssuers);
  const issuers = derived(config, buildIssuers);
  const table = awsTable(env);
  return {
    // Getters: a refreshed config (and the issuers built from it) reaches the next invocation.
    get config() {
      return config();
    },
    get issuers() {
      return issuers();
    },
    store: awsStore(env, table),
    parts: awsReportPartStore(env, table),
    queue: awsQueue(env),
    sealer: awsSealer(env),
    keys: new PartnerKeyCache({
      load: partnerKeySetLoader(awsGithubKeySetSource(env)),
      coldFallback: savedPartnerKeysLoader(awsSavedPartnerKeys(env, table)),
      onRefreshError: (error) =>
        log.warn("partner key refresh failed; using cached keys", { error: String(error) }),
    }),
    log,
  };
}
