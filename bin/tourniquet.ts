import { runCli } from "../lib/cli/cli-program.js";

// The tourniquet command line (lib/cli/): `npx tourniquet --help`.

// A reader that stopped early (`| head`) is not a failure of the command.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
