// Reading the issuer's evidence, whose shape is the issuer's own: when the key was last used, and the
// usage figures some issuers give (Azure Monitor totals, OpenAI usage) as series for a small chart.

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function lastUse(evidence: Json | null): string | undefined {
  if (!evidence) return undefined;
  const candidates = [
    evidence.last_used_at,
    isObject(evidence.last_used) ? evidence.last_used.date : evidence.last_used,
    ...Object.values(evidence)
      .filter(isObject)
      .map((v) => v.last_hour_with_use),
  ];
  return candidates.find((v): v is string => typeof v === "string" && v.length > 0);
}

export interface UsageSeries {
  /** e.g. "usage.last_24h" */
  name: string;
  points: { label: string; value: number }[];
}

/**
 * Numbers under evidence keys that name usage: `{usage: {last_24h: {requests: 3, …}, last_7d: {…}}}`
 * gives one series a period, `{usage_24h: {requests: 3, …}}` one series.
 */
export function usageSeries(evidence: Json | null): UsageSeries[] {
  if (!evidence) return [];
  const series: UsageSeries[] = [];
  for (const [key, value] of Object.entries(evidence)) {
    if (!/usage/i.test(key) || !isObject(value)) continue;
    const own = numbersOf(value);
    if (own.length) series.push({ name: key, points: own });
    for (const [inner, nested] of Object.entries(value)) {
      if (!isObject(nested)) continue;
      const points = numbersOf(nested);
      if (points.length) series.push({ name: `${key}.${inner}`, points });
    }
  }
  return series;
}

const numbersOf = (value: Json) =>
  Object.entries(value)
    .filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]))
    .map(([label, n]) => ({ label: label.replace(/_/g, " "), value: n }));

/** Evidence's plain values (strings, numbers, booleans) for a definition list. */
export function evidenceFacts(evidence: Json | null): [string, string][] {
  if (!evidence) return [];
  return Object.entries(evidence)
    .filter(([, v]) => ["string", "number", "boolean"].includes(typeof v))
    .map(([k, v]) => [k.replace(/_/g, " "), String(v)]);
}
