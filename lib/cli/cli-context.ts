import type { Readable, Writable } from "node:stream";
import type { AdminClient } from "./admin-client.js";
import type { Env, StackSettings } from "./cli-settings.js";

// What every command runs with: its streams and environment (the process's, or a test's), and the
// stack it talks to, resolved from --api and the environment when a command runs.

export interface CliIo {
  env: Env;
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
}

export interface CliContext {
  io: CliIo;
  /** The command line's arguments, as given. */
  args: readonly string[];
  settings(): StackSettings;
  admin(): AdminClient;
}

/** Writes lines to standard output. */
export const printLines = (io: CliIo, lines: readonly string[]) => {
  if (lines.length > 0) io.stdout.write(`${lines.join("\n")}\n`);
};

export const printJson = (io: CliIo, value: unknown): void => {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
