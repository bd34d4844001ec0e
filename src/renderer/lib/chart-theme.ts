// Chart colours come from the CSS custom properties of the current theme, so the canvases
// uPlot draws match the rest of the page in light and dark.
export interface ChartPalette {
  series: string[];
  grid: string;
  axis: string;
  text: string;
  accent: string;
  bad: string;
  muted: string;
}

export function readPalette(): ChartPalette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    series: [v('--chart-1'), v('--chart-2'), v('--chart-3'), v('--chart-4'), v('--warn'), v('--bad')],
    grid: v('--chart-grid'),
    axis: v('--chart-axis'),
    text: v('--text'),
    accent: v('--accent'),
    bad: v('--bad'),
    muted: v('--text-muted'),
  };
}
