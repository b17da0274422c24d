import { tmpdir } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_CONFIG_PATH } from "../../local/local-stack.js";
import { type ConfigCheck, checkConfigFile, configJsonSchema, configProblemsMessage } from "../config.js";
import { ConfigError, NotConfiguredError } from "../errors.js";
import { IssuerRegistry } from "../issuers/issuer-registry.js";
import { createChannels } from "../notify/channel-registry.js";
import { type CliContext, printJson, printLines } from "./cli-context.js";

// `tourniquet config check [FILE]` and `config schema`.

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

export function registerConfigCommands(program: Command, context: CliContext): void {
  const config = program
    .command("config")
    .description("the config file: check one, or print its JSON Schema");

  config
    .command("check")
    .description(
      "check a config file and list every problem in it: fields, missing environment variables, JSON syntax",
    )
    .argument("[file]", "the file (default: $TOURNIQUET_CONFIG, else config/local.json)")
    .action((file: string | undefined) => {
      const path = resolve(file ?? context.io.env.TOURNIQUET_CONFIG ?? DEFAULT_CONFIG_PATH);
      const check = checkConfigFile(path, { ...LOCAL_STACK_SECRETS, ...context.io.env });
      const problems = [...check.problems, ...constructionProblems(check)];
      if (!check.config || problems.length > 0) {
        throw new ConfigError(configProblemsMessage(`config file ${path}`, problems));
      }
      const issuers = Object.keys(check.config.issuers).length;
      const types = Object.keys(check.config.token_types).length;
      printLines(context.io, [`${path}: valid (${issuers} issuers, ${types} token types)`]);
    });

  config
    .command("schema")
    .description("print the config file's JSON Schema (config/tourniquet.schema.json)")
    .action(() => printJson(context.io, configJsonSchema()));
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
