// uPlot's legend marks each series with a square of its colour, which a reader who cannot tell
// the hues apart cannot match to a line. This plugin draws in each legend marker a short sample of
// the series as the chart draws it — its dash pattern and its point marker (series-style.ts) — so
// that legend and lines match by shape as well as by colour.
import type uPlot from 'uplot';
import { swatchOf, type Swatch } from './series-style.js';

const SVG = 'http://www.w3.org/2000/svg';

function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, String(v));
  return el;
}

/** A 28×12 sample: the line with its dash, the point marker in the middle. */
export function swatchSvg(sw: Swatch): SVGElement {
  const svg = svgElement('svg', { width: 28, height: 12, viewBox: '0 0 28 12', class: 'u-swatch', 'aria-hidden': 'true' });
  if (sw.width > 0) {
    const line = svgElement('line', { x1: 1, y1: 6, x2: 27, y2: 6, stroke: sw.stroke, 'stroke-width': Math.max(1.5, sw.width) });
    if (sw.dash.length) line.setAttribute('stroke-dasharray', sw.dash.join(' '));
    svg.append(line);
  }
  if (sw.point !== 'none') {
    svg.append(svgElement('circle', { cx: 14, cy: 6, r: 3.5, fill: sw.point === 'filled' ? sw.stroke : 'none', stroke: sw.stroke, 'stroke-width': 1.5 }));
  }
  return svg;
}

/** The plugin: swatches for the series given (those without one keep uPlot's square). */
export function legendSwatchesPlugin(series: readonly uPlot.Series[]): uPlot.Plugin {
  const swatches = series.map((s, i) => (i === 0 ? null : swatchOf(s)));
  return {
    hooks: {
      init: [
        (u: uPlot) => {
          const rows = u.root.querySelectorAll<HTMLElement>('.u-legend tr.u-series');
          // With a live legend the x series has the first row; otherwise it has none.
          const offset = rows.length === series.length ? 0 : -1;
          swatches.forEach((sw, i) => {
            const marker = sw && rows[i + offset]?.querySelector<HTMLElement>('.u-marker');
            if (!sw || !marker) return;
            marker.style.border = 'none';
            marker.style.background = 'none';
            marker.classList.add('u-has-swatch');
            marker.replaceChildren(swatchSvg(sw));
          });
        },
      ],
    },
  };
}
