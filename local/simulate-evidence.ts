// What `tourniquet simulate` prints of a leak's evidence: what the owner is told about the key (where it
// lived, its last use) and, where the issuer measured it (Azure Monitor), how the account was used
// before revocation, so the abuse is visible.

interface Totals {
  prompt_tokens?: number;
  generated_tokens?: number;
  requests?: number;
}

interface Usage {
  available?: boolean;
  reason?: string;
  note?: string;
  last_24h?: Totals;
  last_7d?: Totals;
  busiest_hour?: { hour: string; tokens?: number; requests?: number } | null;
  unusual_last_24h?: boolean;
  rule?: string;
  per_deployment?: { deployment: string; last_24h: Totals; last_7d: Totals }[];
}

export function evidenceLines(
  evidence: Record<string, unknown> | null | undefined,
  keyDetails: readonly { label: string; value: string }[] = [],
): string[] {
  // What the owner's message says about the key, whatever the issuer.
  const lines =
    keyDetails.length > 0 ? ["about the key:", ...keyDetails.map((d) => `  ${d.label}: ${d.value}`)] : [];
  if (!evidence) return lines;
  const { account, resource_group, subscription, slot } = evidence as Record<string, string | undefined>;
  if (account && subscription)
    lines.push(
      `evidence: account ${account} (${resource_group}, subscription ${subscription}), slot ${slot}`,
    );
  const usage = evidence.usage as Usage | undefined;
  if (!usage) return lines;
  if (!usage.available) return [...lines, `  usage unavailable: ${usage.reason ?? "unknown reason"}`];
  lines.push(`  last 24 h: ${totals(usage.last_24h)}`, `  last 7 d:  ${totals(usage.last_7d)}`);
  const busiest = usage.busiest_hour;
  if (busiest) {
    const value =
      busiest.tokens !== undefined ? `${fmt(busiest.tokens)} tokens` : `${fmt(busiest.requests)} requests`;
    lines.push(`  busiest hour: ${busiest.hour} (${value})`);
  }
  lines.push(`  unusual last 24 h: ${usage.unusual_last_24h ? "YES" : "no"} (${usage.rule})`);
  for (const d of usage.per_deployment ?? [])
    lines.push(`  deployment ${d.deployment}: last 24 h ${totals(d.last_24h)}`);
  if (usage.note) lines.push(`  note: ${usage.note}`);
  return lines;
}

const fmt = (n: number | undefined) => (n ?? 0).toLocaleString("en-US");
const totals = (t: Totals | undefined) =>
  `${fmt(t?.prompt_tokens)} prompt + ${fmt(t?.generated_tokens)} generated tokens, ${fmt(t?.requests)} requests`;
