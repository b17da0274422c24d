import type { MetricSeries } from "./azure-management.js";

// Azure Monitor's hourly series for an account, reduced to what an owner and an admin need to judge
// abuse: totals for the last 24 hours and 7 days, the busiest hour, whether the last day is unusual,
// and the same per model deployment. Pure, so the rule is table-tested.

export const PROMPT_TOKENS = "ProcessedPromptTokens";
export const GENERATED_TOKENS = "GeneratedTokens";
export const REQUESTS = "AzureOpenAIRequests";
export const USAGE_METRICS = [PROMPT_TOKENS, GENERATED_TOKENS, REQUESTS];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The last 24 hours are unusual above this many times the median hourly use of the days before. */
export const UNUSUAL_FACTOR = 3;
/** Evidence is bounded (store/bound-evidence.ts): the busiest deployments only. */
const MAX_DEPLOYMENTS = 10;

export const PER_ACCOUNT_NOTE =
  "Azure Monitor metrics are per account, not per key: they count every caller of the account (both key slots and Entra ID tokens).";

export interface Totals {
  prompt_tokens: number;
  generated_tokens: number;
  requests: number;
}

/** Sums each metric's points at or after `fromMs` (all series of a metric: split or not). */
export function totalsSince(series: readonly MetricSeries[], fromMs: number): Totals {
  const sum = (metric: string) =>
    series
      .filter((s) => s.metric === metric)
      .flatMap((s) => s.points)
      .filter((p) => Date.parse(p.timeStamp) >= fromMs)
      .reduce((total, p) => total + p.total, 0);
  return {
    prompt_tokens: sum(PROMPT_TOKENS),
    generated_tokens: sum(GENERATED_TOKENS),
    requests: sum(REQUESTS),
  };
}

const median = (values: number[]) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export function summarizeUsage(series: readonly MetricSeries[], window: { startMs: number; endMs: number }) {
  const dayStart = window.endMs - DAY_MS;
  const week = totalsSince(series, window.startMs);
  // Tokens where the account has them (OpenAI); requests otherwise (other kinds count no tokens).
  const measure = week.prompt_tokens + week.generated_tokens > 0 ? "tokens" : "requests";
  const counted = measure === "tokens" ? [PROMPT_TOKENS, GENERATED_TOKENS] : [REQUESTS];

  const hourly = new Map<number, number>();
  for (const s of series) {
    if (!counted.includes(s.metric)) continue;
    for (const p of s.points) {
      const hour = Math.floor(Date.parse(p.timeStamp) / HOUR_MS) * HOUR_MS;
      if (hour >= window.startMs - HOUR_MS) hourly.set(hour, (hourly.get(hour) ?? 0) + p.total);
    }
  }
  let busiest: { hour: string; [k: string]: unknown } | null = null;
  let busiestValue = 0;
  for (const [hour, value] of hourly) {
    if (value > busiestValue) {
      busiestValue = value;
      busiest = { hour: new Date(hour).toISOString(), [measure]: value };
    }
  }
  // Every hour of the days before counts, silent ones as 0: a rarely used key has a median of 0, and
  // any use in the last day is then unusual, which is what a stolen idle key looks like.
  const before: number[] = [];
  const firstHour = Math.ceil(window.startMs / HOUR_MS) * HOUR_MS;
  for (let hour = firstHour; hour < dayStart; hour += HOUR_MS) before.push(hourly.get(hour) ?? 0);
  const day = totalsSince(series, dayStart);
  const dayValue = measure === "tokens" ? day.prompt_tokens + day.generated_tokens : day.requests;
  const medianBefore = median(before);
  const averageLastDay = dayValue / 24;

  return {
    available: true,
    note: PER_ACCOUNT_NOTE,
    window: {
      start: new Date(window.startMs).toISOString(),
      end: new Date(window.endMs).toISOString(),
      interval: "PT1H",
    },
    last_24h: day,
    last_7d: week,
    busiest_hour: busiest,
    measure,
    unusual_last_24h: dayValue > 0 && averageLastDay > UNUSUAL_FACTOR * medianBefore,
    rule: `unusual when the last 24 h average hourly ${measure} (${round(averageLastDay)}) exceed ${UNUSUAL_FACTOR}× the median hourly ${measure} of the days before (${round(medianBefore)})`,
    per_deployment: perDeployment(series, window.startMs, dayStart),
  };
}

function perDeployment(series: readonly MetricSeries[], weekStart: number, dayStart: number) {
  const names = [...new Set(series.map((s) => s.dimension).filter((d): d is string => Boolean(d)))];
  return names
    .map((deployment) => {
      const own = series.filter((s) => s.dimension === deployment);
      return { deployment, last_24h: totalsSince(own, dayStart), last_7d: totalsSince(own, weekStart) };
    })
    .sort((a, b) => weight(b.last_7d) - weight(a.last_7d))
    .slice(0, MAX_DEPLOYMENTS);
}

const weight = (t: Totals) => t.prompt_tokens + t.generated_tokens + t.requests;
const round = (n: number) => Math.round(n * 100) / 100;
