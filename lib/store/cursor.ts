import { BadRequestError } from "../errors.js";

// Pagination cursors: DynamoDB's LastEvaluatedKey, opaque to clients. Decoding checks the shape so a
// crafted cursor cannot steer the query to other items' attributes.

type Key = Record<string, string>;
const ALLOWED = /^(pk|sk|gsi[1-4](pk|sk))$/;

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
    !Object.entries(parsed).every(([k, v]) => ALLOWED.test(k) && typeof v === "string" && v.length < 512)
  ) {
    throw new BadRequestError("cursor is not one this API returned");
  }
  return parsed as Key;
}
