import type { TourniquetConfig } from "../config.js";
import { githubAppFromConfig } from "../github/github-app.js";
import { partnerKeySetFetcher } from "../github/partner-key-set.js";
import { IssuerRegistry } from "../issuers/issuer-registry.js";
import type { Log } from "../log.js";
import type { SweepDeps } from "../schedule/run-sweep.js";
import { awsConfig, derived } from "./aws-config.js";
import type { Env } from "./aws-env.js";
import { awsGithubKeySetSource } from "./aws-github-keys.js";
import { awsQueue } from "./aws-queue.js";
import { awsAlertStore, awsReportPartStore, awsSavedPartnerKeys, awsStore, awsTable } from "./aws-store.js";
import { FUNCTION_SECRET_GROUPS } from "./function-secrets.js";

// The scheduled sweep's wiring. It re-sends leaks with their token still sealed, so it has no use for
// the token key. It reads the config and the issuers' secrets only to refresh issuers' caches (Azure's
// key fingerprints) and to ask an issuer how a revoked key's account was used since; the App's, to list
// its installations' open alerts (never a secret: the worker fetches those).

export async function awsSweepDeps(log: Log, env: Env = process.env): Promise<SweepDeps> {
  const table = awsTable(env);
  // Reading only (usage since revocation): AWS responder-role sessions are read-only.
  const buildIssuers = (current: TourniquetConfig) =>
    IssuerRegistry.fromConfig(current, { awsTransport: { sessionAccess: "read" } });
  const config = await awsConfig(log, env, FUNCTION_SECRET_GROUPS.Sweep, buildIssuers);
  const issuers = derived(config, buildIssuers);
  const githubApp = derived(config, (current) => githubAppFromConfig(current));
  return {
    store: awsStore(env, table),
    alerts: awsAlertStore(env, table),
    parts: awsReportPartStore(env, table),
    queue: awsQueue(env),
    log,
    fetchPartnerKeys: partnerKeySetFetcher(awsGithubKeySetSource(env)),
    savedPartnerKeys: awsSavedPartnerKeys(env, table),
    // A getter: a refreshed config (and the issuers built from it) reaches the next run.
    get issuers() {
      return issuers();
    },
    get githubApp() {
      return githubApp();
    },
  };
}
