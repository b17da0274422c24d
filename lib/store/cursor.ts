import { BadRequestError } from "../errors.js";

// Pagination cursors, opaque to clients: the sort key a listing stopped at and the listing it belongs
// to. A position is a bound on a sort key, never a start key handed to DynamoDB, so a crafted cursor
// cannot steer a query to other items; one from another listing is refused rather than silently
// skipping matches.

interface CursorBody {
  /** Where the listing stopped: the next page holds what sorts after it. */
  p: string;
  /** Which listing (its filters, or the leak whose sightings these are). */
  l: string;
}

export function encodeCursor(position: string, listing: string): string {
  const body: CursorBody = { p: position, l: listing };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/**
 * The position in `cursor`, checked to be one this API returned for `listing` and shaped as `shape`
 * says; BadRequestError naming `what` (the query parameter) otherwise.
 */
export function decodeCursor(cursor: string, listing: string, shape: RegExp, what = "cursor"): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new BadRequestError(`${what} is not one this API returned`);
  }
  const body = parsed as Partial<CursorBody> | null;
  if (
    !body ||
    typeof body !== "object" ||
    Array.isArray(body) ||
    Object.keys(body).length !== 2 ||
    typeof body.p !== "string" ||
    typeof body.l !== "string" ||
    !shape.test(body.p)
  ) {
    throw new BadRequestError(`${what} is not one this API returned`);
  }
  if (body.l !== listing) throw new BadRequestError(`${what} does not belong to this listing`);
  return body.p;
}
