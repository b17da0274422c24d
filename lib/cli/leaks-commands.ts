import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { DISMISS_REASONS } from "../admin/leak-actions.js";
import { NotFoundError, TourniquetError } from "../errors.js";
import { durationText } from "../util/duration-text.js";
import type { ExportFormat, LeakItem } from "./admin-client.js";
import { type CliContext, printJson, printLines } from "./cli-context.js";
import { addFilterOptions, type FilterFlags, filtersOf } from "./leak-filters.js";
import { leakDetailText, leakTable } from "./leak-text.js";

// `tourniquet leaks …`: the admin API's list, detail, export, retry and dismiss.

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new InvalidArgumentError("a whole number from 1 to 100.");
  return n;
}

export function registerLeakCommands(program: Command, context: CliContext): void {
  const leaks = program.command("leaks").description("the leak history: list, show, export, retry, dismiss");

  addFilterOptions(
    leaks
      .command("list")
      .description("list leaks, newest first, as a table (or --json)")
      .option("--limit <n>", "leaks per page (1-100, default 25)", limit)
      .option("--cursor <cursor>", "start at this page (a next_cursor the previous page gave)")
      .option("--all", "follow the pages to the end")
      .option("--json", "print the API's JSON ({items, next_cursor, partial?})"),
  ).action(
    async (flags: FilterFlags & { limit?: number; cursor?: string; all?: boolean; json?: boolean }) => {
      const client = context.admin();
      const filters = filtersOf(flags);
      const items: LeakItem[] = [];
      let cursor = flags.cursor;
      let partial = false;
      do {
        const page = await client.listLeaks(filters, { limit: flags.limit, cursor });
        items.push(...page.items);
        partial ||= page.partial === true;
        cursor = page.next_cursor ?? undefined;
      } while (flags.all && cursor);
      if (flags.json)
        return printJson(context.io, { items, next_cursor: cursor ?? null, ...(partial ? { partial } : {}) });
      printLines(context.io, items.length > 0 ? leakTable(items) : ["no leaks match"]);
      if (partial && !flags.all) {
        printLines(context.io, [
          "(partial page: the search stopped at its budget of leaks read before filling the page; more may match)",
        ]);
      }
      if (cursor) printLines(context.io, [`more: add --cursor ${cursor} (or --all)`]);
    },
  );

  leaks
    .command("show")
    .description("one leak in full: its timeline, deliveries, sightings, failure and dismissal")
    .argument("<id>", "the leak's id (lk_…)")
    .option("--json", "print the API's JSON")
    .action(async (id: string, flags: { json?: boolean }) => {
      const leak = await context.admin().getLeak(id);
      if (flags.json) printJson(context.io, leak);
      else printLines(context.io, leakDetailText(leak));
    });

  addFilterOptions(
    leaks
      .command("export")
      .description("export the leaks the filters match, page after page, as CSV or JSON lines")
      .addOption(new Option("--format <format>", "csv or jsonl").choices(["csv", "jsonl"]).default("csv"))
      .option("--output <file>", "write to this file (default: standard output)"),
  ).action(async (flags: FilterFlags & { format: ExportFormat; output?: string }) => {
    const started = Date.now();
    const exported = flags.output
      ? await exportToFile(context, flags, flags.output)
      : await exportTo(context, flags, context.io.stdout);
    context.io.stderr.write(
      `exported ${exported.pages} page${exported.pages === 1 ? "" : "s"} (${exported.bytes} bytes) to ${flags.output ?? "standard output"} in ${durationText(Date.now() - started)}\n`,
    );
  });

  leaks
    .command("retry")
    .description("resume a failed leak from the step that failed (or verify an unknown token again)")
    .argument("<id>", "the leak's id (lk_…)")
    .option("--json", "print the API's JSON")
    .action(async (id: string, flags: { json?: boolean }) => {
      const answer = await context.admin().retryLeak(id);
      if (flags.json) return printJson(context.io, answer);
      printLines(context.io, [
        answer.retried
          ? `leak ${answer.leak.id}: retry started (now ${answer.leak.status}); follow it with: tourniquet leaks show ${answer.leak.id}`
          : `leak ${answer.leak.id}: nothing to retry (${answer.leak.status})`,
      ]);
    });

  leaks
    .command("dismiss")
    .description("close a settled, unrevoked leak with a reason")
    .argument("<id>", "the leak's id (lk_…)")
    .addOption(new Option("--reason <reason>", "why").choices(DISMISS_REASONS).makeOptionMandatory())
    .option("--note <note>", "a note for the history")
    .option("--json", "print the API's JSON")
    .action(async (id: string, flags: { reason: string; note?: string; json?: boolean }) => {
      const answer = await context.admin().dismissLeak(id, { reason: flags.reason, note: flags.note });
      if (flags.json) return printJson(context.io, answer);
      printLines(context.io, [
        answer.dismissed
          ? `leak ${answer.leak.id}: dismissed as ${flags.reason}`
          : `leak ${answer.leak.id}: already dismissed`,
      ]);
    });
}

/**
 * Every export page written to `out` as it arrives (contract: each answer is one bounded page, and
 * X-Next-Cursor leads to the next), so memory holds one chunk, not the export.
 */
async function exportTo(
  context: CliContext,
  flags: FilterFlags & { format: ExportFormat },
  out: Writable,
): Promise<{ pages: number; bytes: number }> {
  const client = context.admin();
  const filters = filtersOf(flags);
  let cursor: string | undefined;
  let pages = 0;
  let bytes = 0;
  let last = 0x0a;
  do {
    const page = await client.exportLeaks(filters, flags.format, cursor).catch((error: unknown) => {
      // On a stack without the route, /export reads as a leak id.
      if (error instanceof NotFoundError && pages === 0) {
        throw new NotFoundError(`${error.message} (does this stack serve GET /v1/admin/leaks/export?)`, {
          cause: error,
        });
      }
      throw error;
    });
    // Pages join line to line even should one not end with a newline.
    if (last !== 0x0a) await write(out, Buffer.from("\n"));
    for await (const chunk of page.body) {
      if (chunk.length === 0) continue;
      await write(out, chunk);
      bytes += chunk.length;
      last = chunk[chunk.length - 1] ?? last;
    }
    pages++;
    cursor = page.nextCursor;
  } while (cursor);
  return { pages, bytes };
}

/** Writes `chunk`, waiting while `out` is full; a failed or closed output fails the export. */
async function write(out: Writable, chunk: Uint8Array): Promise<void> {
  if (out.errored) throw out.errored;
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = () => {
      out.off("drain", settle).off("close", settle);
      if (out.writableNeedDrain || out.destroyed) {
        reject(out.errored ?? new TourniquetError("the output was closed before the export ended"));
      } else resolve();
    };
    out.on("drain", settle).on("close", settle);
  });
}

/** The export into `file`, whole or not at all: written beside it, renamed once the last page is in. */
async function exportToFile(
  context: CliContext,
  flags: FilterFlags & { format: ExportFormat },
  file: string,
): Promise<{ pages: number; bytes: number }> {
  const partial = `${file}.part`;
  const out = createWriteStream(partial, { mode: 0o600 });
  // Write errors surface through `write` and `finished`; this keeps one from escaping as well.
  out.on("error", () => {});
  try {
    await once(out, "open");
    const exported = await exportTo(context, flags, out);
    out.end();
    await finished(out);
    await rename(partial, file);
    return exported;
  } catch (error) {
    out.destroy();
    await finished(out).catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
}
