import { PassThrough, Readable } from "node:stream";
import { runCli } from "../../lib/cli/cli-program.js";

// The tourniquet command line run in this process, with its own environment and streams: what a
// shell would see (exit code, standard output and error), without a process start per call.

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
  options: { stdin?: string; stdout?: PassThrough } = {},
): Promise<CliRun> {
  const stdout = options.stdout ?? new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const code = await runCli(args, {
    // Nothing from the machine's environment leaks into a test's: only what it passes.
    env: { PATH: process.env.PATH, ...env },
    stdout,
    stderr,
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
  });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}
