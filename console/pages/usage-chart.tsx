import type { ChartConfiguration } from "chart.js";
import { useCallback } from "preact/hooks";
import { BarChart } from "../charts/bar-chart";
import { accentColor, prefersDark } from "../charts/status-colors";
import type { UsageSeries } from "./evidence";

const SECOND = () => (prefersDark() ? "#fbbf24" : "#b45309");

/** The issuer's usage figures as grouped bars, with the same figures as a table. */
export function UsageChart({ series }: { series: UsageSeries[] }) {
  const labels = [...new Set(series.flatMap((s) => s.points.map((p) => p.label)))];
  const config = useCallback(
    (): ChartConfiguration<"bar"> => ({
      type: "bar",
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.name,
          data: labels.map((l) => s.points.find((p) => p.label === l)?.value ?? 0),
          backgroundColor: i % 2 ? SECOND() : accentColor(),
        })),
      },
      options: { scales: { y: { beginAtZero: true } }, plugins: { legend: { position: "bottom" } } },
    }),
    [series],
  );
  return (
    <>
      <BarChart
        label={`Key usage reported by the issuer: ${series.map((s) => s.name).join(", ")}`}
        config={config}
        height={200}
      />
      <table class="compact">
        <caption class="visually-hidden">Key usage figures</caption>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            {series.map((s) => (
              <th scope="col" class="num">
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((label) => (
            <tr>
              <th scope="row">{label}</th>
              {series.map((s) => (
                <td class="num">
                  {s.points.find((p) => p.label === label)?.value.toLocaleString("en-US") ?? "—"}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
