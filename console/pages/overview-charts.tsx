import type { ChartConfiguration } from "chart.js";
import { useCallback } from "preact/hooks";
import { LEAK_STATUSES, type Overview, type RevokeTimes } from "../api-types";
import { BarChart } from "../charts/bar-chart";
import { accentColor, statusColor } from "../charts/status-colors";
import { bucketLabel, formatDuration, statusLabel } from "../format";

/** Leaks per day, stacked by status: one bar a day, one colour a status (named in the legend). */
export function StatusByDayChart({ byDay }: { byDay: Overview["by_day"] }) {
  const config = useCallback((): ChartConfiguration<"bar"> => {
    const present = LEAK_STATUSES.filter((s) => byDay.some((d) => (d.counts[s] ?? 0) > 0));
    return {
      type: "bar",
      data: {
        labels: byDay.map((d) => d.day.slice(5)),
        datasets: present.map((status) => ({
          label: statusLabel(status),
          data: byDay.map((d) => d.counts[status] ?? 0),
          backgroundColor: statusColor(status),
        })),
      },
      options: {
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    };
  }, [byDay]);
  const total = byDay.reduce((n, d) => n + Object.values(d.counts).reduce((a, b) => a + (b ?? 0), 0), 0);
  return (
    <BarChart
      label={`Leaks per day by status, ${byDay[0]?.day ?? ""} to ${byDay.at(-1)?.day ?? ""}: ${total} in all`}
      config={config}
    />
  );
}

/** How the time to revoke spreads: leaks per bucket (upper bounds from the API). */
export function RevokeHistogram({ times }: { times: RevokeTimes }) {
  const config = useCallback(
    (): ChartConfiguration<"bar"> => ({
      type: "bar",
      data: {
        labels: times.histogram.map((b, i) => bucketLabel(b.le_ms, times.histogram[i - 1]?.le_ms ?? null)),
        datasets: [
          {
            label: `leaks (${times.token_type})`,
            data: times.histogram.map((b) => b.count),
            backgroundColor: accentColor(),
          },
        ],
      },
      options: {
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: false } },
      },
    }),
    [times],
  );
  return (
    <BarChart
      label={`Distribution of time to revoke for ${times.token_type}: median ${formatDuration(times.median_ms)}, p90 ${formatDuration(times.p90_ms)}, p99 ${formatDuration(times.p99_ms)}`}
      config={config}
      height={200}
    />
  );
}
