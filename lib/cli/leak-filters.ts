import { type Command, InvalidArgumentError, Option } from "commander";
import * as z from "zod";
import { LEAK_STATUSES } from "../store/leak.js";
import type { LeakFilters } from "./admin-client.js";

// The list filters as flags, shared by `leaks list` and `leaks export`, checked here so that a typo is
// a usage error (exit 2) before any request; the API checks them again.

const dateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

function statuses(value: string, previous: string[] = []): string[] {
  const given = value.split(",").map((s) => s.trim());
  for (const status of given) {
    if (!(LEAK_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidArgumentError(`not a status; one of ${LEAK_STATUSES.join(", ")}.`);
    }
  }
  return [...previous, ...given];
}

function date(value: string): string {
  if (!dateOrTime.safeParse(value).success) {
    throw new InvalidArgumentError(
      "use a date (2026-11-27) or an ISO 8601 date-time (2026-11-27T10:00:00Z).",
    );
  }
  return value;
}

function fingerprint(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value))
    throw new InvalidArgumentError("a fingerprint is 64 hex digits (SHA-256).");
  return value.toLowerCase();
}

export function addFilterOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--status <status>",
        "only leaks in this status; repeat it or separate with commas for several",
      ).argParser(statuses),
    )
    .option("--type <token_type>", "only this token type, e.g. azure_openai_key")
    .option("--owner <owner>", "only keys of this owner (email or id, any case)")
    .addOption(
      new Option("--fingerprint <sha256>", "only the leak of this token fingerprint")
        .argParser(fingerprint)
        .conflicts("preview"),
    )
    .option("--preview <preview>", "only leaks with this exact preview, e.g. ghp_…wxyz")
    .option(
      "--since <date>",
      "first seen on or after this date (YYYY-MM-DD, that day's start) or date-time",
      date,
    )
    .option(
      "--until <date>",
      "first seen on or before this date (YYYY-MM-DD, that whole day) or date-time",
      date,
    );
}

export interface FilterFlags {
  status?: string[];
  type?: string;
  owner?: string;
  fingerprint?: string;
  preview?: string;
  since?: string;
  until?: string;
}

export const filtersOf = (flags: FilterFlags): LeakFilters => ({
  status: flags.status,
  token_type: flags.type,
  owner: flags.owner,
  fingerprint: flags.fingerprint,
  preview: flags.preview,
  since: flags.since,
  until: flags.until,
});
