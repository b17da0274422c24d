// Azure Monitor's part of the fake Azure: metric points per account, answered in the shape of
// Microsoft.Insights/metrics (azure-rest-api-specs, monitor stable/2018-01-01 GetMetric.json and the
// 2024-02-01 `Response`): one `value[]` entry per metric, one `timeseries[]` entry per dimension value
// when `$filter=<Dimension> eq '*'` splits, one `data[]` point per interval; an interval without data
// has a point with only `timeStamp`, as Azure answers.

/** The metrics Azure OpenAI / AI Services accounts publish that the fake knows (REST names). */
export const KNOWN_METRICS: Record<string, string> = {
  AzureOpenAIRequests: "Azure OpenAI Requests",
  ProcessedPromptTokens: "Processed Prompt Tokens",
  GeneratedTokens: "Generated Completion Tokens",
  TokenTransaction: "Processed Inference Tokens",
  ModelRequests: "Model Requests",
  InputTokens: "Input Tokens",
  OutputTokens: "Output Tokens",
  TotalTokens: "Total Tokens",
  TotalCalls: "Total Calls",
};

export interface MetricPoint {
  /** Start of the interval the usage falls in (any instant works; it is bucketed per interval). */
  timeStamp: string;
  total: number;
  /** ModelDeploymentName of the usage. */
  deployment?: string | undefined;
}

export interface MetricsQueryParams {
  resourceId: string;
  region: string;
  timespan: string;
  interval: string;
  metricnames: string;
  aggregation: string;
  filter: string | undefined;
}

export type MetricsAnswer =
  | { status: 200; body: Record<string, unknown> }
  /** Monitor's own validation errors use its top-level `{code, message}` body (2018-01-01 ErrorResponse). */
  | { status: 400; body: { code: string; message: string } };

const DURATIONS: Record<string, number> = {
  PT1M: 60_000,
  PT5M: 300_000,
  PT15M: 900_000,
  PT30M: 1_800_000,
  PT1H: 3_600_000,
  PT6H: 21_600_000,
  PT12H: 43_200_000,
  P1D: 86_400_000,
};
const DIMENSION_FILTER = /^\s*(\w+)\s+eq\s+'\*'\s*$/i;

export class SandboxMetrics {
  private readonly points = new Map<string, Map<string, MetricPoint[]>>();

  add(resourceId: string, metric: string, points: MetricPoint[]): void {
    const byMetric = this.points.get(resourceId.toLowerCase()) ?? new Map<string, MetricPoint[]>();
    byMetric.set(metric, [...(byMetric.get(metric) ?? []), ...points]);
    this.points.set(resourceId.toLowerCase(), byMetric);
  }

  query(q: MetricsQueryParams): MetricsAnswer {
    const [startText, endText] = q.timespan.split("/");
    const start = Date.parse(startText ?? "");
    const end = Date.parse(endText ?? "");
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
      return bad(`Invalid timespan '${q.timespan}': expected <start>/<end> in ISO 8601.`);
    }
    const step = DURATIONS[q.interval.toUpperCase()];
    if (!step) return bad(`Invalid interval '${q.interval}'.`);
    if (!q.aggregation.split(",").some((a) => a.trim().toLowerCase() === "total")) {
      return bad(`The fake answers aggregation Total only, not '${q.aggregation}'.`);
    }
    let dimension: string | undefined;
    if (q.filter) {
      const match = DIMENSION_FILTER.exec(q.filter);
      if (match?.[1]?.toLowerCase() !== "modeldeploymentname") {
        return bad(`Invalid $filter '${q.filter}': the fake splits by ModelDeploymentName only.`);
      }
      dimension = match[1];
    }
    const names = q.metricnames.split(",").map((n) => n.trim());
    const unknown = names.find((n) => !(n in KNOWN_METRICS));
    if (unknown) {
      return bad(
        `Failed to find metric configuration for provider: Microsoft.CognitiveServices, resource Type: accounts, metric: ${unknown}, Valid metrics: ${Object.keys(KNOWN_METRICS).join(",")}`,
      );
    }
    const stored = this.points.get(q.resourceId.toLowerCase());
    const value = names.map((name) => ({
      id: `${q.resourceId}/providers/Microsoft.Insights/metrics/${name}`,
      type: "Microsoft.Insights/metrics",
      name: { value: name, localizedValue: KNOWN_METRICS[name] },
      displayDescription: `${KNOWN_METRICS[name]} (sandbox).`,
      unit: "Count",
      timeseries: series(stored?.get(name) ?? [], start, end, step, dimension),
      errorCode: "Success",
    }));
    return {
      status: 200,
      body: {
        cost: Math.round((end - start) / step) * names.length,
        timespan: q.timespan,
        interval: q.interval,
        value,
        namespace: "Microsoft.CognitiveServices/accounts",
        resourceregion: q.region,
      },
    };
  }
}

function series(points: MetricPoint[], start: number, end: number, step: number, dimension?: string) {
  const inRange = points.filter((p) => {
    const t = Date.parse(p.timeStamp);
    return t >= start && t < end;
  });
  const groups = new Map<string | undefined, MetricPoint[]>();
  if (dimension) {
    for (const p of inRange) {
      const key = p.deployment ?? "";
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
  } else {
    groups.set(undefined, inRange);
  }
  return [...groups].map(([value, group]) => {
    const totals = new Map<number, number>();
    for (const p of group) {
      const bucket = start + Math.floor((Date.parse(p.timeStamp) - start) / step) * step;
      totals.set(bucket, (totals.get(bucket) ?? 0) + p.total);
    }
    const data: { timeStamp: string; total?: number }[] = [];
    for (let t = start; t < end; t += step) {
      const total = totals.get(t);
      const timeStamp = new Date(t).toISOString().replace(/\.000Z$/, "Z");
      data.push(total === undefined ? { timeStamp } : { timeStamp, total });
    }
    const metadatavalues =
      value === undefined
        ? []
        : [{ name: { value: dimension?.toLowerCase(), localizedValue: dimension }, value }];
    return { metadatavalues, data };
  });
}

function bad(message: string): MetricsAnswer {
  return { status: 400, body: { code: "BadRequest", message } };
}
