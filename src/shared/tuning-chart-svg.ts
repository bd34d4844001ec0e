// The four curves of a tuning report — memory m(B), throughput X(B), efficiency E(B) and
// goodput G(B) against the batch size — as one self-contained SVG, with the chosen batch and
// the memory budget marked; and, after a Full search, the learning-rate range test with the
// rate taken. Pure string building, so the CLI and the renderer share it; the
// live charts of the app use uPlot.
import { formatBytes } from './format.js';
import type { CurvePoint, LearningRateTest, TuningReport } from './tuning-types.js';

interface Panel {
  title: string;
  unit: (v: number) => string;
  points: { x: number; y: number; failed?: boolean }[];
  line?: { x: number; y: number }[];
  hline?: { y: number; label: string };
}

const W = 900;
const H = 640;
/** Height added for the range test's row. */
const RANGE_ROW_H = 300;
const PANEL_W = 400;
const PANEL_H = 230;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function niceNumber(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  if (v >= 10) return v.toFixed(0);
  return v.toFixed(2);
}

function panels(curves: CurvePoint[], report: TuningReport): Panel[] {
  const mem = curves.filter((c) => c.memoryBytes !== undefined);
  const fit = report.fits.memory;
  const xs = curves.map((c) => c.batchSize);
  const maxX = Math.max(...xs, report.recommendation.batchSize);
  return [
    {
      title: 'Memory per step m(B)',
      unit: formatBytes,
      points: mem.map((c) => ({ x: c.batchSize, y: c.memoryBytes!, failed: c.fits === false })),
      ...(fit && fit.b > 0
        ? {
            line: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, maxX]
              .filter((x) => x <= maxX)
              .map((x) => ({ x, y: Math.max(fit.a + fit.b * x, fit.updateFloor ?? 0) })),
          }
        : {}),
      hline: { y: report.recommendation.memoryBudgetBytes, label: `budget ${formatBytes(report.recommendation.memoryBudgetBytes)}` },
    },
    {
      title: 'Throughput X(B), samples/s',
      unit: niceNumber,
      points: curves.filter((c) => c.samplesPerSecond !== undefined).map((c) => ({ x: c.batchSize, y: c.samplesPerSecond! })),
    },
    {
      title: 'Statistical efficiency E(B)',
      unit: niceNumber,
      points: curves.filter((c) => c.efficiency !== undefined).map((c) => ({ x: c.batchSize, y: c.efficiency! })),
    },
    {
      title: 'Goodput G(B) = X·E, samples/s',
      unit: niceNumber,
      points: curves.filter((c) => c.goodput !== undefined).map((c) => ({ x: c.batchSize, y: c.goodput! })),
    },
  ];
}

/** The range test's panel: loss against log₁₀(rate), raw dots and the smoothed line, the rate taken marked. */
function rangeTestPanel(test: LearningRateTest, ox: number, oy: number): string[] {
  const pts = test.points;
  const second = test.second && test.second.points.length > 1 ? test.second : null;
  const all = [...pts, ...(second?.points ?? [])];
  const parts: string[] = [];
  const lo = Math.log10(Math.min(...all.map((p) => p.rate)));
  const hi = Math.max(Math.log10(Math.max(...all.map((p) => p.rate))), lo + 1e-9);
  const maxY = Math.max(...all.map((p) => Math.max(p.loss, p.smoothed))) * 1.08;
  const sx = (r: number) => ox + ((Math.log10(r) - lo) / (hi - lo)) * PANEL_W;
  const sy = (y: number) => oy + PANEL_H - (Math.max(0, Math.min(y, maxY)) / maxY) * PANEL_H;
  const title = second
    ? `Learning-rate range test at batch ${test.batchSize} (solid) and ${second.batchSize} (dashed)${test.spread != null ? `: readings ${test.spread.toFixed(2)}× apart` : ''}`
    : `Learning-rate range test at batch ${test.batchSize}`;
  parts.push(`<g><text x="${ox}" y="${oy - 10}" font-weight="600" fill="#333">${escapeXml(title)}</text>`);
  parts.push(`<rect x="${ox}" y="${oy}" width="${PANEL_W}" height="${PANEL_H}" fill="#fafafa" stroke="#ccc"/>`);
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    parts.push(
      `<line x1="${sx(10 ** e)}" y1="${oy}" x2="${sx(10 ** e)}" y2="${oy + PANEL_H}" stroke="#eee"/><text x="${sx(10 ** e)}" y="${oy + PANEL_H + 15}" text-anchor="middle" fill="#666">1e${e}</text>`,
    );
  }
  for (const f of [0, 0.5, 1])
    parts.push(`<text x="${ox - 4}" y="${sy(maxY * f) + 4}" text-anchor="end" fill="#666" font-size="10">${niceNumber(maxY * f)}</text>`);
  parts.push(
    `<text x="${ox + PANEL_W / 2}" y="${oy + PANEL_H + 32}" text-anchor="middle" fill="#666">learning rate, one training step each (log scale)</text>`,
  );
  for (const p of pts) parts.push(`<circle cx="${sx(p.rate)}" cy="${sy(p.loss)}" r="2" fill="#95a5a6"/>`);
  parts.push(`<polyline fill="none" stroke="#2c6fbb" stroke-width="2" points="${pts.map((p) => `${sx(p.rate)},${sy(p.smoothed)}`).join(' ')}"/>`);
  if (second) {
    for (const p of second.points) parts.push(`<circle cx="${sx(p.rate)}" cy="${sy(p.loss)}" r="2.5" fill="none" stroke="#b9770e"/>`);
    parts.push(
      `<polyline fill="none" stroke="#b9770e" stroke-width="2" stroke-dasharray="6 4" points="${second.points.map((p) => `${sx(p.rate)},${sy(p.smoothed)}`).join(' ')}"/>`,
    );
    if (second.rate !== null && second.rate >= Math.min(...all.map((p) => p.rate))) {
      parts.push(
        `<line x1="${sx(second.rate)}" y1="${oy}" x2="${sx(second.rate)}" y2="${oy + PANEL_H}" stroke="#b9770e" stroke-width="2" stroke-dasharray="6 4"/><text x="${sx(second.rate) + 4}" y="${oy + 46}" fill="#b9770e" font-weight="600">batch ${second.batchSize} reads ${second.rate.toExponential(1)}</text>`,
      );
    }
  }
  if (test.rate !== null && test.rate >= pts[0]!.rate) {
    parts.push(
      `<line x1="${sx(test.rate)}" y1="${oy}" x2="${sx(test.rate)}" y2="${oy + PANEL_H}" stroke="#27ae60" stroke-width="2"/><text x="${sx(test.rate) + 4}" y="${oy + 14}" fill="#27ae60" font-weight="600">${second ? `batch ${test.batchSize} reads` : 'chosen'} ${test.rate.toExponential(1)}</text>`,
    );
  }
  if (test.steepestRate !== null) {
    parts.push(
      `<line x1="${sx(test.steepestRate)}" y1="${oy}" x2="${sx(test.steepestRate)}" y2="${oy + PANEL_H}" stroke="#95a5a6" stroke-dasharray="4 3"/><text x="${sx(test.steepestRate) + 4}" y="${oy + 30}" fill="#777">steepest ${test.steepestRate.toExponential(1)}</text>`,
    );
  }
  parts.push('</g>');
  return parts;
}

export function tuningChartSvg(report: TuningReport, title: string): string {
  const choice = report.recommendation.batchSize;
  const all = report.curves.map((c) => c.batchSize);
  const minX = Math.max(1, Math.min(...all, choice));
  const maxX = Math.max(...all, choice, minX * 2);
  const lx = (x: number) => Math.log2(x);
  const parts: string[] = [];
  const rangeTest = report.learningRateTest && report.learningRateTest.points.length > 1 ? report.learningRateTest : null;
  const h = H + (rangeTest ? RANGE_ROW_H : 0);
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${h}" fill="#fff"/>`);
  parts.push(`<text x="20" y="28" font-size="16" font-weight="600" fill="#222">${escapeXml(title)}</text>`);
  panels(report.curves, report).forEach((p, i) => {
    const ox = 40 + (i % 2) * (PANEL_W + 60);
    const oy = 60 + Math.floor(i / 2) * (PANEL_H + 70);
    const ys = [...p.points.map((q) => q.y), ...(p.line ?? []).map((q) => q.y), ...(p.hline ? [p.hline.y] : [])].filter(Number.isFinite);
    const maxY = ys.length ? Math.max(...ys) * 1.08 : 1;
    const sx = (x: number) => ox + ((lx(x) - lx(minX)) / Math.max(lx(maxX) - lx(minX), 1e-9)) * PANEL_W;
    const sy = (y: number) => oy + PANEL_H - (Math.max(0, Math.min(y, maxY)) / maxY) * PANEL_H;
    parts.push(`<g><text x="${ox}" y="${oy - 10}" font-weight="600" fill="#333">${escapeXml(p.title)}</text>`);
    parts.push(`<rect x="${ox}" y="${oy}" width="${PANEL_W}" height="${PANEL_H}" fill="#fafafa" stroke="#ccc"/>`);
    for (let x = minX; x <= maxX; x *= 2) {
      parts.push(
        `<line x1="${sx(x)}" y1="${oy}" x2="${sx(x)}" y2="${oy + PANEL_H}" stroke="#eee"/><text x="${sx(x)}" y="${oy + PANEL_H + 15}" text-anchor="middle" fill="#666">${x}</text>`,
      );
    }
    for (const f of [0, 0.5, 1]) {
      parts.push(`<text x="${ox - 4}" y="${sy(maxY * f) + 4}" text-anchor="end" fill="#666" font-size="10">${escapeXml(p.unit(maxY * f))}</text>`);
    }
    parts.push(`<text x="${ox + PANEL_W / 2}" y="${oy + PANEL_H + 32}" text-anchor="middle" fill="#666">batch size (log scale)</text>`);
    if (p.hline) {
      parts.push(
        `<line x1="${ox}" y1="${sy(p.hline.y)}" x2="${ox + PANEL_W}" y2="${sy(p.hline.y)}" stroke="#c0392b" stroke-dasharray="6 4"/><text x="${ox + PANEL_W - 4}" y="${sy(p.hline.y) - 4}" text-anchor="end" fill="#c0392b">${escapeXml(p.hline.label)}</text>`,
      );
    }
    if (p.line) parts.push(`<polyline fill="none" stroke="#95a5a6" stroke-dasharray="3 3" points="${p.line.map((q) => `${sx(q.x)},${sy(q.y)}`).join(' ')}"/>`);
    const ok = p.points.filter((q) => !q.failed).sort((a, b) => a.x - b.x);
    if (ok.length > 1) parts.push(`<polyline fill="none" stroke="#2c6fbb" stroke-width="2" points="${ok.map((q) => `${sx(q.x)},${sy(q.y)}`).join(' ')}"/>`);
    for (const q of p.points) {
      parts.push(
        q.failed
          ? `<text x="${sx(q.x)}" y="${sy(q.y) + 4}" text-anchor="middle" fill="#c0392b" font-weight="700">×</text>`
          : `<circle cx="${sx(q.x)}" cy="${sy(q.y)}" r="3.5" fill="#2c6fbb"/>`,
      );
    }
    if (p.points.length === 0)
      parts.push(`<text x="${ox + PANEL_W / 2}" y="${oy + PANEL_H / 2}" text-anchor="middle" fill="#999">not measured in this mode</text>`);
    parts.push(
      `<line x1="${sx(choice)}" y1="${oy}" x2="${sx(choice)}" y2="${oy + PANEL_H}" stroke="#27ae60" stroke-width="2"/><text x="${sx(choice) + 4}" y="${oy + 14}" fill="#27ae60" font-weight="600">chosen ${choice}</text>`,
    );
    parts.push('</g>');
  });
  if (rangeTest) parts.push(...rangeTestPanel(rangeTest, 40, 60 + 2 * (PANEL_H + 70)));
  parts.push('</svg>');
  return parts.join('\n');
}
