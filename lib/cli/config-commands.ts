import { resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_CONFIG_PATH } from "../../local/local-config-path.js";
import { type CliContext, printJson, printLines } from "./cli-context.js";

// `tourniquet config check [FILE]` and `config schema`.

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
    .action(async (file: string | undefined) => {
      const path = resolve(file ?? context.io.env.TOURNIQUET_CONFIG ?? DEFAULT_CONFIG_PATH);
      const { checkConfigForCli } = await import("./config-check.js");
      const config = checkConfigForCli(path, context.io.env);
      const issuers = Object.keys(config.issuers).length;
      const types = Object.keys(config.token_types).length;
      printLines(context.io, [`${path}: valid (${issuers} issuers, ${types} token types)`]);
    });

  config
    .command("schema")
    .description("print the config file's JSON Schema (config/tourniquet.schema.json)")
    .action(async () => printJson(context.io, (await import("../config.js")).configJsonSchema()));
}
