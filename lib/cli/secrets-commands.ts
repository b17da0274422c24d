import { join } from "node:path";
import type { Command } from "commander";
import { LocalKeySealer } from "../queue/local-key-sealer.js";
import { LocalSecretStore } from "../secrets/local-secret-store.js";
import { type CliContext, printLines } from "./cli-context.js";

// `tourniquet secrets get NAME`: a replacement secret the local stack keeps for a key's owner.

export function registerSecretsCommands(program: Command, context: CliContext): void {
  program
    .command("secrets")
    .description("the local secret store, where the local stack keeps replacement secrets")
    .command("get")
    .description("print a replacement secret kept in the local secret store")
    .argument("<name>", "the secret's name, as the leak's replacement says")
    .action(async (name: string) => {
      const { dataDir } = context.settings();
      const store = new LocalSecretStore(
        join(dataDir, "secrets"),
        LocalKeySealer.loadKey(join(dataDir, "queue.key")),
      );
      printLines(context.io, [await store.get(name)]);
    });
}
