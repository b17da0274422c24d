// Whether a leaked key is the one behind an admin API listing's `redacted_value`. OpenAI's spec shows
// redactions as `sk-abc...def` (openai-openapi: ProjectApiKey, redacted_value) without saying how many
// characters each side keeps, so the rule reads any redaction as prefix + marker (`...`, `…`, or a run
// of `*`) + suffix and asks that the key start with the one and end with the other. Several keys may
// share a redaction: the issuer then acts on none of them.

const MARKER = /(\.{3}|…|\*+)/;
/** A redaction showing fewer characters than this (prefix and suffix together) is not trusted. */
const MIN_SHOWN = 4;

export interface Redaction {
  prefix: string;
  suffix: string;
}

export function parseRedaction(redacted: string): Redaction | undefined {
  const match = MARKER.exec(redacted);
  if (!match) return undefined;
  const prefix = redacted.slice(0, match.index);
  const suffix = redacted.slice(match.index + match[0].length);
  if (MARKER.test(suffix)) return undefined; // two markers: not a shape we know
  if (prefix.length + suffix.length < MIN_SHOWN || suffix.length === 0) return undefined;
  return { prefix, suffix };
}

export function matchesRedaction(key: string, redacted: string): boolean {
  const r = parseRedaction(redacted);
  if (!r) return false;
  return key.length > r.prefix.length + r.suffix.length && key.startsWith(r.prefix) && key.endsWith(r.suffix);
}
