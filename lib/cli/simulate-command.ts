import { type Command, Option } from "commander";
import { SANDBOX_TOKEN_TYPE, SIMULATE_TYPES } from "../../local/simulate-keys.js";
import type { CliContext } from "./cli-context.js";

// `tourniquet simulate`: the whole path against a running local stack (local/simulate.ts).

export function registerSimulateCommand(program: Command, context: CliContext): void {
  program
    .command("simulate")
    .summary("leak a live key of the local stack's issuers and follow it to its revocation")
    .description(
      "Issue a live key, report it as GitHub would (a partner report, or with --app a secret scanning alert and the GitHub App's webhook), and print the leak's timeline; needs a running local stack (npm start)",
    )
    .addOption(
      new Option("--type <type>", `the token type to leak: ${SIMULATE_TYPES.join(", ")}`).default(
        SANDBOX_TOKEN_TYPE,
      ),
    )
    .option("--app", "through the GitHub App path instead of a partner report")
    .action(async (flags: { type: string; app?: boolean }) => {
      const { apiUrl, dataDir } = context.settings();
      // Loaded when used: it brings the GitHub App's webhook signing.
      const { simulate } = await import("../../local/simulate.js");
      await simulate({
        type: flags.type,
        app: flags.app,
        url: apiUrl,
        dataDir,
        adminToken: context.io.env.TOURNIQUET_ADMIN_TOKEN || undefined,
        out: (line) => context.io.stdout.write(`${line}\n`),
      });
    });
}
