// Byte-sized text: DynamoDB counts item and key sizes in UTF-8 bytes, not in JavaScript characters.

const encoder = new TextEncoder();

export const utf8Bytes = (text: string): number => Buffer.byteLength(text, "utf8");

/** The longest prefix of `text` that takes at most `maxBytes` in UTF-8, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  // encodeInto writes whole characters only and says how many UTF-16 units it consumed.
  const { read } = encoder.encodeInto(text, new Uint8Array(Math.max(0, maxBytes)));
  return text.slice(0, read);
}

/** `text` if it fits in `maxBytes`, else a prefix ending in "…" that fits, so the cut shows. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const marker = "…";
  return `${utf8Prefix(text, maxBytes - utf8Bytes(marker))}${marker}`;
}
