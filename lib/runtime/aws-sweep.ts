import { partnerKeySetFetcher } from "../github/partner-key-set.js";
import type { Log } from "../log.js";
import type { SweepDeps } from "../schedule/run-sweep.js";
import type { Env } from "./aws-env.js";
import { awsGithubKeySetSource } from "./aws-github-keys.js";
import { awsQueue } from "./aws-queue.js";
import { awsSavedPartnerKeys, awsStore, awsTable } from "./aws-store.js";

// The scheduled sweep's wiring. It re-sends leaks with their token still sealed, so it has no use for
// the token key, and it reads no config.

export function awsSweepDeps(log: Log, env: Env = process.env): SweepDeps {
  const table = awsTable(env);
  return {
    store: awsStore(env, table),
    queue: awsQueue(env),
    log,
    fetchPartnerKeys: partnerKeySetFetcher(awsGithubKeySetSource(env)),
    savedPartnerKeys: awsSavedPartnerKeys(env, table),
  };
}
