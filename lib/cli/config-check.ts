import { tmpdir } from "node:os";
import { type ConfigCheck, checkConfigFile, configProblemsMessage } from "../config.js";
import { ConfigError, NotConfiguredError } from "../errors.js";
import { IssuerRegistry } from "../issuers/issuer-registry.js";
import { createChannels } from "../notify/channel-registry.js";
import type { Env } from "./cli-settings.js";

// `tourniquet config check`: the run-time loader's check of the file (lib/config.ts), then what the
// functions build from it, built the same way. Loaded only by that command: it pulls in every issuer
// and channel.

/**
 * The local config's secrets, which the local stack generates into its data dir at start: any value
 * does for a check, so that the shipped local config checks without them.
 */
const LOCAL_STACK_SECRETS = {
  TOURNIQUET_SANDBOX_SECRET: "check",
  TOURNIQUET_GITHUB_WEBHOOK_SECRET: "check",
  TOURNIQUET_GITHUB_APP_PRIVATE_KEY: "check",
  TOURNIQUET_SANDBOX_AZURE_SECRET: "check",
  TOURNIQUET_SANDBOX_OPENAI_ADMIN_KEY: "check",
  TOURNIQUET_SANDBOX_SLACK_BOT_TOKEN: "check",
};

/** The config at `path`, valid, or a ConfigError under its name that lists every problem found. */
export function checkConfigForCli(path: string, env: Env) {
  const check = checkConfigFile(path, { ...LOCAL_STACK_SECRETS, ...env });
  const problems = [...check.problems, ...constructionProblems(check)];
  if (!check.config || problems.length > 0) {
    throw new ConfigError(configProblemsMessage(`config file ${path}`, problems));
  }
  return check.config;
}

/**
 * What the functions build from the config, built the same way: a config that passes the check cannot
 * fail at run time for a value the check could see (a secret Slack URL over http, say). Building calls
 * no issuer: Azure's adapter loads with its first call.
 */
function constructionProblems({ config }: ConfigCheck): string[] {
  if (!config) return [];
  try {
    IssuerRegistry.fromConfig(config);
    createChannels(config, {
      outboxDir: tmpdir(),
      ses: async () => {
        throw new NotConfiguredError("config check sends no email");
      },
    });
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}
