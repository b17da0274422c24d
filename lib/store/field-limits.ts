import type { KeyDetail, Owner } from "../issuers/issuer.js";
import { truncateUtf8, utf8Bytes } from "../util/utf8.js";
import type { NewSighting } from "./leak-store.js";

// Size limits on what issuers and reporters send, applied before it reaches a leak: a leak's item must
// stay under DynamoDB's 400 KB with its timeline and first sightings, and the owner and token type feed
// index keys (partition ≤ 2048 bytes, sort ≤ 1024). Values that would be wrong if cut (an email, an id,
// a token type) are dropped or refused; text shown to people is cut with a visible "…".

/** RFC 5321's longest address; a longer "email" cannot be delivered to. */
export const OWNER_EMAIL_MAX_BYTES = 254;
export const OWNER_ID_MAX_BYTES = 256;
export const OWNER_NAME_MAX_BYTES = 256;
/** An issuer's key id names the key to revoke, so one over the limit is refused, never cut. */
export const KEY_ID_MAX_BYTES = 512;
/** Token type names are short identifiers (`azure_openai_key`); the type is an index key (gsi2pk). */
export const TOKEN_TYPE_MAX_BYTES = 256;
export const SIGHTING_URL_MAX_BYTES = 2_048;
/** Room for `github_app:<owner>/<repo>` (39 + 100 characters) and then some. */
export const SIGHTING_SOURCE_MAX_BYTES = 256;

/** The owner within limits, and which fields were dropped for their size. */
export function boundOwner(owner: Owner | undefined): { owner: Owner | undefined; dropped: string[] } {
  if (!owner) return { owner: undefined, dropped: [] };
  const dropped: string[] = [];
  const keep = (field: "id" | "email", value: string | undefined, maxBytes: number) => {
    if (value === undefined || utf8Bytes(value) <= maxBytes) return value;
    dropped.push(field);
    return undefined;
  };
  const bounded: Owner = {};
  const id = keep("id", owner.id, OWNER_ID_MAX_BYTES);
  const email = keep("email", owner.email, OWNER_EMAIL_MAX_BYTES);
  if (id !== undefined) bounded.id = id;
  if (email !== undefined) bounded.email = email;
  if (owner.name !== undefined) bounded.name = truncateUtf8(owner.name, OWNER_NAME_MAX_BYTES);
  return { owner: Object.keys(bounded).length > 0 ? bounded : undefined, dropped };
}

/** A sighting within limits; an over-long URL keeps its start (host and path) and shows the cut. */
export function boundSighting(sighting: NewSighting): NewSighting {
  return {
    url: truncateUtf8(sighting.url, SIGHTING_URL_MAX_BYTES),
    source: truncateUtf8(sighting.source, SIGHTING_SOURCE_MAX_BYTES),
  };
}

/** Lines of key details a message carries, and their sizes: a summary, not a second evidence. */
export const KEY_DETAILS_MAX = 20;
export const KEY_DETAIL_LABEL_MAX_BYTES = 64;
export const KEY_DETAIL_VALUE_MAX_BYTES = 512;

export function boundKeyDetails(details: readonly KeyDetail[] | undefined): KeyDetail[] | undefined {
  if (!details || details.length === 0) return undefined;
  return details
    .filter((d) => typeof d?.label === "string" && typeof d?.value === "string")
    .slice(0, KEY_DETAILS_MAX)
    .map((d) => ({
      label: truncateUtf8(d.label, KEY_DETAIL_LABEL_MAX_BYTES),
      value: truncateUtf8(d.value, KEY_DETAIL_VALUE_MAX_BYTES),
    }));
}
