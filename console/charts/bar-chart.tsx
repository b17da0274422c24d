import type { ChartConfiguration } from "chart.js";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { Chart, themed } from "./chart-setup";

/**
 * A Chart.js bar chart on a canvas, described for screen readers by `label` (the figures it draws are
 * also on the page as text). Drawn synchronously in a layout effect, redrawn when the colour scheme
 * changes.
 */
export function BarChart(props: { label: string; config: () => ChartConfiguration<"bar">; height?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [scheme, setScheme] = useState(0);

  useLayoutEffect(() => {
    const query = window.matchMedia?.("(prefers-color-scheme: dark)");
    const redraw = () => setScheme((n) => n + 1);
    query?.addEventListener("change", redraw);
    return () => query?.removeEventListener("change", redraw);
  }, []);

  useLayoutEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, themed(props.config()));
    return () => chart.destroy();
  }, [props.config, scheme]);

  return (
    <div class="chart" style={{ height: `${props.height ?? 260}px` }}>
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}
