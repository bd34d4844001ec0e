// How a chart's series are told apart beyond their colour, for readers who cannot tell the hues
// apart: a dash pattern per series, and the sample of line and marker their legend shows
// (drawn by legend-swatches.ts). No DOM here, so the unit tests reach it.

/** How one series looks: what its legend sample draws. */
export interface Swatch {
  stroke: string;
  /** Line width in CSS pixels; 0 for points only. */
  width: number;
  /** The dash pattern ([] solid). */
  dash: number[];
  point: 'none' | 'filled' | 'hollow';
}

/** The part of a uPlot series' options a swatch is made of. */
export interface SeriesLook {
  stroke?: unknown;
  width?: number;
  dash?: number[];
  points?: { show?: unknown; fill?: unknown };
}

/** Solid, dashed, dotted, dash-dot, even dashes, long dashes: distinct at a glance. */
export const SERIES_DASHES: readonly (readonly number[])[] = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [14, 4]];

/** The dash pattern of the i-th series of a chart. */
export function seriesDash(i: number): number[] {
  return [...SERIES_DASHES[i % SERIES_DASHES.length]!];
}

/** The swatch of a series as given in its options, or null where its colour is not a plain string. */
export function swatchOf(s: SeriesLook): Swatch | null {
  if (typeof s.stroke !== 'string') return null;
  const points = s.points ?? {};
  const point = points.show === true ? (points.fill === 'transparent' ? 'hollow' : 'filled') : 'none';
  return { stroke: s.stroke, width: s.width ?? 1, dash: s.dash ? [...s.dash] : [], point };
}
