import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { DEV_SIGNING_KEY_FILE, loadDevSigningKey, signedPartnerReport } from "../../local/dev-signing-key.js";
import { ConfigError, UsageError } from "../errors.js";
import { fingerprintToken } from "../intake/fingerprint.js";
import { type LeakStatus, SETTLED_STATUSES } from "../store/leak.js";
import { type CliContext, type CliIo, printLines } from "./cli-context.js";
import { answerError, callStack } from "./stack-http.js";

// `tourniquet report <token> --type <type>`: a partner report of any token, signed with the local
// stack's development key exactly as GitHub signs, so a newcomer can try a token without an openssl
// recipe. The token is sent and fingerprinted, never printed, not even in an error.

const WAIT_MS = 30_000;

export function registerReportCommand(program: Command, context: CliContext): void {
  program
    .command("report")
    .summary("report a token to the local stack as GitHub's secret scanning would")
    .description(
      "Report a token to the stack as GitHub's secret scanning does: a partner report signed with the local stack's development key ($TOURNIQUET_DATA_DIR/dev-github-signing-key.pem), POSTed to /v1/github/secret-scanning. Prints the answer and the leak the token became (found by its fingerprint); the token itself is never printed.",
    )
    .argument(
      "<token>",
      "the token; - reads it from standard input, which keeps it out of the shell's history",
    )
    .requiredOption("--type <type>", "its token type, e.g. tourniquet_sandbox_token or azure_openai_key")
    .option("--url <url>", "where it was found", "")
    .option("--source <source>", "where in GitHub it was found (content, commit, …)", "content")
    .option("--wait", `follow the leak until it settles (at most ${WAIT_MS / 1_000} s)`)
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(text),
      writeErr: (text) => context.io.stderr.write(text),
      // Commander quotes what it could not parse; that may be the token (one that starts with "-").
      outputError: (text, write) => write(hideArguments(text, context.args)),
    })
    .action(async (given: string, flags: { type: string; url: string; source: string; wait?: boolean }) => {
      const token = given === "-" ? await readToken(context.io) : given;
      if (!token) throw new UsageError("the token is empty");
      const { apiUrl, dataDir } = context.settings();
      const keyFile = join(dataDir, DEV_SIGNING_KEY_FILE);
      // Made here, the key would be one the stack does not know.
      if (!existsSync(keyFile)) {
        throw new ConfigError(
          `no development signing key at ${keyFile}: the local stack writes it into its data dir when it starts; run the CLI with the stack's TOURNIQUET_DATA_DIR (the stack and the CLI must share it)`,
        );
      }
      const report = signedPartnerReport(loadDevSigningKey(keyFile), [
        { token, type: flags.type, url: flags.url, source: flags.source },
      ]);
      const url = `${apiUrl}/v1/github/secret-scanning`;
      const response = await callStack(url, { method: "POST", ...report });
      const hints = {
        401: (answer: { error?: string }) =>
          answer.error === "signature"
            ? `the stack does not take reports signed with ${keyFile}: run the CLI with the stack's TOURNIQUET_DATA_DIR (the stack and the CLI must share it)`
            : "",
      };
      if (!response.ok) throw await answerError(response, "POST", hints, [token]);
      const feedback = (await response.json()) as { token_type: string; label: string }[];
      const labels = feedback.map((f) => `${f.token_type} ${f.label}`).join(", ");
      printLines(context.io, [
        `report accepted by ${url} (HTTP ${response.status}); feedback: ${labels || "none yet (the worker verifies)"}`,
      ]);
      await printLeak(context, fingerprintToken(token), flags.wait === true);
    });
}

async function printLeak(context: CliContext, fingerprint: string, wait: boolean): Promise<void> {
  const client = context.admin();
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const [item] = (await client.listLeaks({ fingerprint }, { limit: 1 })).items;
    if (!item) return printLines(context.io, ["no leak was recorded for it"]);
    const settled = SETTLED_STATUSES.has(item.status as LeakStatus);
    if (!wait || settled || Date.now() > deadline) {
      const time = item.time_to_revoke_ms !== null ? ` in ${item.time_to_revoke_ms} ms` : "";
      return printLines(context.io, [
        `leak ${item.id}: ${item.status}${time} (${item.preview})${wait && !settled ? " — not settled yet" : ""}`,
        `  its timeline: tourniquet leaks show ${item.id}`,
      ]);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readToken(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8").trim();
}

/** `text` with every longer argument after `report` that is not a flag's name blanked out. */
export function hideArguments(text: string, args: readonly string[]): string {
  const after = args.slice(args.indexOf("report") + 1).filter((arg) => !/^--[a-z-]+$/.test(arg));
  let hidden = text;
  for (const arg of after.sort((a, b) => b.length - a.length))
    if (arg.length >= 8) hidden = hidden.replaceAll(arg, "…");
  return hidden;
}
