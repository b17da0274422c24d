import * as z from "zod";
import type { Owner } from "./issuer.js";

// Cloud resources name their owner in tags (an Azure account's, an IAM user's). Which tags are read is
// the issuer's `owner_tags` setting, in order; the first that holds an email wins.

const isEmail = (value: string) => z.email().safeParse(value.trim()).success;

/**
 * The owner named by `tags`, with `id` kept either way so the config's `owners` can still name who to
 * tell. Tag names are matched case-insensitively (Azure's are; IAM's are not, but people vary the case).
 */
export function ownerFromTags(tags: Record<string, string>, wanted: readonly string[], id: string): Owner {
  const entries = Object.entries(tags);
  for (const name of wanted) {
    const value = entries.find(([tag]) => tag.toLowerCase() === name.toLowerCase())?.[1];
    if (value && isEmail(value)) return { id, email: value.trim() };
  }
  return { id };
}
