import { BadRequestError } from "../errors.js";
import { TABLE_INDEXES, TABLE_KEYS } from "./table-schema.js";

// Pagination cursors: DynamoDB's LastEvaluatedKey, opaque to clients. Decoding checks the shape so a
// crafted cursor cannot steer the query to other items' attributes.

type Key = Record<string, string>;
const KEY_NAMES: ReadonlySet<string> = new Set([
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  ...TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
]);

export function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString("base64url") : null;
}

export function decodeCursor(cursor: string): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new BadRequestError("cursor is not one this API returned");
  }
  if (
    !parsed ||
    typeof parsed !== "object" ||
    Array.isArray(parsed) ||
    !Object.entries(parsed).every(([k, v]) => KEY_NAMES.has(k) && typeof v === "string" && v.length < 512)
  ) {
    throw new BadRequestError("cursor is not one this API returned");
  }
  return parsed as Key;
}
