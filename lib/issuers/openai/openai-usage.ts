import type { UsageBucket } from "./openai-access.js";

// OpenAI's hourly completions usage for one key, reduced to what an owner and an admin need to judge
// abuse: totals over the window, how many hours saw use, the busiest and the last of them. Pure, so the
// rule is table-tested. Completions only: the usage API keeps embeddings, images, audio… apart, and
// completions are what a resold key is used for.

export interface KeyUsageSummary {
  since: string;
  until: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  hours_with_use: number;
  busiest_hour: { hour: string; requests: number; tokens: number } | null;
  last_hour_with_use: string | null;
}

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

export function summarizeKeyUsage(
  buckets: readonly UsageBucket[],
  window: { startTime: number; endTime: number },
): KeyUsageSummary {
  const used = buckets
    .filter((b) => b.requests > 0 || b.inputTokens + b.outputTokens > 0)
    .sort((a, b) => a.startTime - b.startTime);
  let busiest: UsageBucket | undefined;
  for (const b of used) {
    if (!busiest || b.inputTokens + b.outputTokens > busiest.inputTokens + busiest.outputTokens) busiest = b;
  }
  const last = used.at(-1);
  return {
    since: iso(window.startTime),
    until: iso(window.endTime),
    requests: used.reduce((n, b) => n + b.requests, 0),
    input_tokens: used.reduce((n, b) => n + b.inputTokens, 0),
    output_tokens: used.reduce((n, b) => n + b.outputTokens, 0),
    hours_with_use: used.length,
    busiest_hour: busiest
      ? {
          hour: iso(busiest.startTime),
          requests: busiest.requests,
          tokens: busiest.inputTokens + busiest.outputTokens,
        }
      : null,
    last_hour_with_use: last ? iso(last.startTime) : null,
  };
}

export function describeKeyUsage(usage: KeyUsageSummary): string {
  if (usage.requests === 0 && usage.input_tokens + usage.output_tokens === 0) return "none";
  return `${usage.requests} requests, ${usage.input_tokens + usage.output_tokens} tokens in ${usage.hours_with_use} hour(s); last ${usage.last_hour_with_use}`;
}
