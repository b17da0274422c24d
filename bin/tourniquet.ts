import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { configJsonSchema, loadConfig } from "../lib/config.js";
import { NotConfiguredError } from "../lib/errors.js";
import { IssuerRegistry } from "../lib/issuers/issuer-registry.js";
import { createChannels } from "../lib/notify/channel-registry.js";
import { LocalKeySealer } from "../lib/queue/local-key-sealer.js";
import { LocalSecretStore } from "../lib/secrets/local-secret-store.js";
import { DEFAULT_CONFIG_PATH } from "../local/local-stack.js";
import { simulate } from "../local/simulate.js";
import { SIMULATE_TYPES } from "../local/simulate-keys.js";

// The tourniquet command line.

const usage = `usage: tourniquet <command>

commands:
  simulate [--type T] [--app]
                       issue a live key, report it as GitHub would (a partner report, or with --app a
                       secret scanning alert and the GitHub App's webhook), and print the leak's timeline
                       (needs a running local stack: npm start); T is one of
                       ${SIMULATE_TYPES.join(", ")}
                       (default tourniquet_sandbox_token; the Azure types use the stack's fake Azure)
  config check [FILE]  validate a config file (default: $TOURNIQUET_CONFIG, else config/local.json)
  config schema        print the config file's JSON Schema
  secrets get NAME     print a replacement secret kept in the local secret store

environment: TOURNIQUET_URL (default http://127.0.0.1:$PORT or :3000), TOURNIQUET_DATA_DIR (.tourniquet),
             TOURNIQUET_ADMIN_TOKEN (default: the one the local stack wrote to the data dir)`;

async function main(args: string[]): Promise<number> {
  const [command, sub, file] = args;
  if (command === "simulate") {
    const { values } = parseArgs({
      args: args.slice(1),
      options: { type: { type: "string" }, app: { type: "boolean" } },
    });
    await simulate({
      type: values.type,
      app: values.app,
      url: process.env.TOURNIQUET_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`,
      dataDir: process.env.TOURNIQUET_DATA_DIR ?? ".tourniquet",
      adminToken: process.env.TOURNIQUET_ADMIN_TOKEN || undefined,
    });
    return 0;
  }
  if (command === "config" && sub === "check") {
    const path = file ?? process.env.TOURNIQUET_CONFIG ?? DEFAULT_CONFIG_PATH;
    // The local config takes its secrets from the data dir at start; any value does for a check.
    const config = loadConfig(path, {
      TOURNIQUET_SANDBOX_SECRET: "check",
      TOURNIQUET_GITHUB_WEBHOOK_SECRET: "check",
      TOURNIQUET_GITHUB_APP_PRIVATE_KEY: "check",
      TOURNIQUET_SANDBOX_AZURE_SECRET: "check",
      TOURNIQUET_SANDBOX_OPENAI_ADMIN_KEY: "check",
      TOURNIQUET_SANDBOX_SLACK_BOT_TOKEN: "check",
      ...process.env,
    });
    // What the functions build from the config, built the same way: a config that passes this check
    // cannot fail at run time for a value the check could see (an http URL off loopback, say).
    // Building calls no issuer: Azure's adapter loads with its first call.
    IssuerRegistry.fromConfig(config);
    createChannels(config, {
      outboxDir: tmpdir(),
      ses: async () => {
        throw new NotConfiguredError("config check sends no email");
      },
    });
    const types = Object.keys(config.token_types);
    process.stdout.write(
      `${path}: valid (${Object.keys(config.issuers).length} issuers, ${types.length} token types)\n`,
    );
    return 0;
  }
  if (command === "secrets" && sub === "get" && file) {
    const dataDir = process.env.TOURNIQUET_DATA_DIR ?? ".tourniquet";
    const store = new LocalSecretStore(
      join(dataDir, "secrets"),
      LocalKeySealer.loadKey(join(dataDir, "queue.key")),
    );
    process.stdout.write(`${await store.get(file)}\n`);
    return 0;
  }
  if (command === "config" && sub === "schema") {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  }
  process.stderr.write(`${usage}\n`);
  return command === undefined || command === "help" || command === "--help" ? 0 : 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`tourniquet: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
