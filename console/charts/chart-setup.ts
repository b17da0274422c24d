import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";

// Chart.js with only the parts the console draws (bar charts), registered once: tree-shaken by esbuild.

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** Text and grid colours from the page's colour scheme (styles.css), so charts read in light and dark. */
export function themed(config: ChartConfiguration<"bar">): ChartConfiguration<"bar"> {
  const text = cssVar("--fg") || "#1f2328";
  const grid = cssVar("--grid") || "#d0d7de";
  Chart.defaults.color = text;
  Chart.defaults.borderColor = grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  return {
    ...config,
    options: {
      // No animation: the figures are drawn at once (and the overview's render time is measured).
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      ...config.options,
    },
  };
}

export { Chart };
