import { Command, CommanderError } from "commander";
import { httpAdminClient } from "./admin-client.js";
import type { CliContext, CliIo } from "./cli-context.js";
import { stackSettings } from "./cli-settings.js";
import { registerConfigCommands } from "./config-commands.js";
import { EXIT, EXIT_CODES_HELP, exitCodeOf } from "./exit-codes.js";
import { registerLeakCommands } from "./leaks-commands.js";
import { registerReportCommand } from "./report-command.js";
import { registerSecretsCommands } from "./secrets-commands.js";
import { registerSimulateCommand } from "./simulate-command.js";

// The `tourniquet` command line: its commands, their help, and what each outcome exits with.

const ENVIRONMENT_HELP = `environment:
  TOURNIQUET_URL          the API (default http://127.0.0.1:$PORT, PORT default 3000); --api overrides it
  TOURNIQUET_ADMIN_TOKEN  the admin API's bearer token (default, for a stack on this machine: the one
                          the local stack wrote to $TOURNIQUET_DATA_DIR/admin-token)
  TOURNIQUET_DATA_DIR     the local stack's data dir (default .tourniquet); report and simulate sign
                          with its development key, so the stack and the CLI must share it
  TOURNIQUET_CONFIG       the config file config check reads by default`;

export function cliProgram(io: CliIo, args: readonly string[]): Command {
  const program = new Command("tourniquet")
    .description("Tourniquet's command line: the leak history, reports to the local stack, config checks")
    .option("--api <url>", "the Tourniquet API (default: TOURNIQUET_URL, else http://127.0.0.1:$PORT)")
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", `\n${ENVIRONMENT_HELP}`)
    .addHelpText("afterAll", `\n${EXIT_CODES_HELP}`)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const settings = () => stackSettings(io.env, program.opts<{ api?: string }>().api);
  const context: CliContext = { io, args, settings, admin: () => httpAdminClient(settings()) };
  registerLeakCommands(program, context);
  registerReportCommand(program, context);
  registerSimulateCommand(program, context);
  registerConfigCommands(program, context);
  registerSecretsCommands(program, context);
  return program;
}

/** Runs the command line; answers the exit code (EXIT). */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const program = cliProgram(io, args);
  if (args.length === 0) {
    program.outputHelp();
    return EXIT.ok;
  }
  try {
    await program.parseAsync([...args], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    // Commander has said what was wrong with the command line already.
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version"
        ? EXIT.ok
        : EXIT.usage;
    }
    io.stderr.write(`tourniquet: ${(error as Error).message}\n`);
    return exitCodeOf(error);
  }
}
