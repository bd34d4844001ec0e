// The Auto-tune benchmark's tables, built from its raw results alone (./records.ts), so that no
// figure in docs/benchmarks.md is copied by hand. Pure: records in, Markdown out.
import { median, scoreGrid } from './grid.js';
import { TIMED_SETTINGS, type BenchRecord, type MetaRecord, type OracleRecord, type TimedRecord, type TimedSetting } from './records.js';

export const SETTING_LABELS: Record<TimedSetting, string> = {
  quick: 'Auto-tune Quick',
  full: 'Auto-tune Full',
  a: '(a) 32 @ 1e-3',
  b: '(b) power-mode batch, rate unchanged',
  'b-linear': '(b) power-mode batch, linear rule',
  c: "(c) LR finder at 32, Lightning 2.x's suggestion",
  'c-log': '(c) LR finder at 32, steepest in log(rate)',
  oracle: 'oracle: best grid setting',
};
const BASELINES: TimedSetting[] = ['oracle', 'a', 'b', 'b-linear', 'c', 'c-log'];
const SHORT: Record<TimedSetting, string> = {
  quick: 'Quick',
  full: 'Full',
  a: '(a)',
  b: '(b)',
  'b-linear': '(b) linear',
  c: '(c)',
  'c-log': '(c) log',
  oracle: 'the oracle',
};

/** A timed run's score: its search plus the training seconds to the target, or to its end when it never got there. */
export function totalSeconds(r: TimedRecord): { seconds: number; reached: boolean } {
  const hit = r.epochs.find((e) => e.valAccuracy >= r.target - 1e-12);
  return hit ? { seconds: r.searchSeconds + hit.time, reached: true } : { seconds: r.searchSeconds + r.endTime, reached: false };
}

export interface SettingSummary {
  setting: TimedSetting;
  runs: TimedRecord[];
  /** Median of the totals, a seed that never reached the target counting its whole time. */
  median: number;
  min: number;
  max: number;
  reached: number;
  searchMedian: number;
}

export function summarise(records: readonly BenchRecord[]): Map<TimedSetting, SettingSummary> {
  const out = new Map<TimedSetting, SettingSummary>();
  for (const setting of TIMED_SETTINGS) {
    const runs = records.filter((r): r is TimedRecord => r.kind === 'timed' && r.setting === setting).sort((a, b) => a.seed - b.seed);
    if (runs.length === 0) continue;
    const totals = runs.map(totalSeconds);
    const secs = totals.map((t) => t.seconds);
    out.set(setting, {
      setting,
      runs,
      median: median(secs),
      min: Math.min(...secs),
      max: Math.max(...secs),
      reached: totals.filter((t) => t.reached).length,
      searchMedian: median(runs.map((r) => r.searchSeconds)),
    });
  }
  return out;
}

const s1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const rate = (x: number) => x.toPrecision(2);
/**
 * a's median over b's. A seed that never reached the target counts its whole time, which is
 * less than its time to the target would have been: a median with such a seed is a lower bound,
 * so the ratio is one too (≥) or an upper bound (≤), and unknown when both are bounds.
 */
export function ratio(a: SettingSummary | undefined, b: SettingSummary | undefined): string {
  if (!a || !b || !(b.median > 0)) return '—';
  const aLow = a.reached < a.runs.length;
  const bLow = b.reached < b.runs.length;
  if (aLow && bLow) return '—';
  return `${aLow ? '≥ ' : bLow ? '≤ ' : ''}${(a.median / b.median).toFixed(2)}×`;
}
/** Training seconds alone (the search left out): how good the pick was, apart from what it cost to make. */
const trainingSeconds = (s: SettingSummary) => median(s.runs.map((r) => totalSeconds(r).seconds - r.searchSeconds));
function trainingRatio(a: SettingSummary, b: SettingSummary | undefined): string {
  if (!b) return '—';
  const aLow = a.reached < a.runs.length;
  const bLow = b.reached < b.runs.length;
  if (aLow && bLow) return '—';
  return `${aLow ? '≥ ' : bLow ? '≤ ' : ''}${(trainingSeconds(a) / trainingSeconds(b)).toFixed(2)}×`;
}
/** A summary's median, marked where some seed never reached the target (its whole time counted). */
const marked = (s: SettingSummary) => `${s1(s.median)}${s.reached < s.runs.length ? ` (${s.runs.length - s.reached}✗)` : ''}`;

/** Ratios of each tuner mode to the oracle and the baselines: one row per workload and backend. */
export function ratioRow(records: readonly BenchRecord[]): string | null {
  const meta = records.find((r): r is MetaRecord => r.kind === 'meta');
  const oracle = records.find((r): r is OracleRecord => r.kind === 'oracle');
  const sum = summarise(records);
  if (!meta || !oracle || !sum.get('quick') || !sum.get('full')) return null;
  const cells = (mode: 'quick' | 'full') => BASELINES.map((b) => ratio(sum.get(mode), sum.get(b)));
  return `| ${meta.workload} | ${meta.backend} | ${measured(meta)} | ${pct(oracle.target)} | ${sum.get('quick')!.runs.length} | ${cells('quick').join(' | ')} | ${cells('full').join(' | ')} |`;
}

/** When, and which code: "2026-12-01 (abc1234)". */
function measured(meta: MetaRecord): string {
  return `${meta.date.slice(0, 10)}${meta.commit ? ` (${meta.commit})` : ''}`;
}

export const RATIO_HEADER = [
  '| workload | backend | timed | target | timed seeds | Quick ÷ oracle | ÷ (a) | ÷ (b) | ÷ (b) linear | ÷ (c) | ÷ (c) log | Full ÷ oracle | ÷ (a) | ÷ (b) | ÷ (b) linear | ÷ (c) | ÷ (c) log |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
].join('\n');

/** The grid of one workload: median seconds to the target per (batch, rate) on the picking seeds. */
function gridTable(records: readonly BenchRecord[], meta: MetaRecord, oracle: OracleRecord): string[] {
  const grid = records.filter((r) => r.kind === 'grid');
  const { scores } = scoreGrid(grid, meta.pickSeeds);
  const ks = [...new Set(scores.map((s) => s.k))].sort((a, b) => a - b);
  const batches = [...new Set(scores.map((s) => s.batch))].sort((a, b) => a - b);
  const head = `| batch | ${ks.map((k) => `×${2 ** k >= 1 ? 2 ** k : `1/${2 ** -k}`}`).join(' | ')} |`;
  const rows = batches.map((b) => {
    const cells = ks.map((k) => {
      const s = scores.find((x) => x.batch === b && x.k === k);
      if (!s) return '';
      const text = `${rate(s.rate)}: ${Number.isFinite(s.seconds) ? `${s1(s.seconds)} s` : `— (${pct(s.accuracy)})`}${s.reached && s.reached < s.seeds ? ` ${s.reached}/${s.seeds}` : ''}`;
      return b === oracle.batch && k === oracle.k ? `**${text}**` : text;
    });
    return `| ${b} | ${cells.join(' | ')} |`;
  });
  return [head, `|---|${ks.map(() => '---|').join('')}`, ...rows];
}

/** The section of one workload on one backend. */
export function workloadSection(records: readonly BenchRecord[], about?: string): string {
  const meta = records.find((r): r is MetaRecord => r.kind === 'meta');
  if (!meta) return '';
  const oracle = records.find((r): r is OracleRecord => r.kind === 'oracle');
  const ceiling = records.find((r) => r.kind === 'ceiling');
  const out = [
    `#### ${meta.workload} on ${meta.backend}`,
    '',
    `${about ? `${about[0]!.toUpperCase()}${about.slice(1)}: ` : ''}${meta.trainCount} training and ${meta.validationCount} validation samples, at most ${meta.maxEpochs} epochs, one validation an epoch, Adam. ` +
      `App ${meta.appVersion}${meta.commit ? ` (${meta.commit})` : ''}; ${meta.machine}; started ${meta.date.slice(0, 16).replace('T', ' ')} UTC.` +
      (ceiling && ceiling.kind === 'ceiling' ? ` Memory ceiling (one untimed Quick search): ${ceiling.memoryCeiling}.` : '') +
      (meta.gridFrom
        ? ` The ceiling, grid, target and oracle are those of [${meta.gridFrom.split('/').slice(-3).join('/')}](bench-results/${meta.gridFrom.split('/').slice(-3).join('/')}) (the same workload and settings; they do not depend on the search); every timed run below is new.`
        : ''),
    '',
  ];
  if (!oracle) {
    out.push(`The grid is not finished (${records.filter((r) => r.kind === 'grid').length} runs so far).`, '');
    return out.join('\n');
  }
  out.push(
    `**Target ${pct(oracle.target)}**: 98 % of ${pct(oracle.bestGridAccuracy)}, the best grid setting's median best accuracy, rounded down to 0.5 %. ` +
      `Grid: median seconds of training to the target on seeds ${meta.pickSeeds.join(', ')} (a seed that never reached it counts as never; "n/3": reached on n seeds; "—": not on most, its median best accuracy shown). ` +
      `Columns: the rate as a multiple of 1e-3 × √(batch/32). Bold: the oracle.`,
    '',
    ...gridTable(records, meta, oracle),
    '',
  );
  const sum = summarise(records);
  if (sum.size === 0) return out.join('\n');
  const seeds = [...new Set([...sum.values()].flatMap((s) => s.runs.map((r) => r.seed)))].sort((a, b) => a - b);
  out.push(
    `Timed on fresh seeds ${seeds.join(', ')}, seed-major; seconds to the target with the search (or finder) included. ✗: seeds that never reached it (their whole ${meta.maxEpochs}-epoch time counted, so such a median is a lower bound and its ratios read ≥ or ≤; "—" where both sides are bounds).`,
    '',
    '| setting | choice per seed | search s (median) | training s (median) | total s: median | min–max | ÷ oracle |',
    '|---|---|---|---|---|---|---|',
  );
  for (const s of sum.values()) {
    const choices = s.runs.map((r) => `${r.batch} @ ${rate(r.rate)}`).join('; ');
    out.push(
      `| ${SETTING_LABELS[s.setting]} | ${choices} | ${s1(s.searchMedian)} | ${s1(trainingSeconds(s))} | ${marked(s)} | ${s1(s.min)}–${s1(s.max)} | ${ratio(s, sum.get('oracle'))} |`,
    );
  }
  out.push('');
  for (const mode of ['quick', 'full'] as const) {
    const s = sum.get(mode);
    if (!s) continue;
    const epoch = median(s.runs.map((r) => r.epochSeconds ?? NaN).filter(Number.isFinite));
    out.push(
      `- ${SETTING_LABELS[mode]}: ${BASELINES.map((b) => `${ratio(s, sum.get(b))} ${SHORT[b]}`).join(', ')}. ` +
        `Search cost: ${s1(s.searchMedian)} s = ${Number.isFinite(epoch) ? `${((s.searchMedian / (10 * epoch)) * 100).toFixed(0)} % of a 10-epoch run at its pick (${s1(10 * epoch)} s, one validation an epoch)` : '—'}. ` +
        `Its picks' training alone: ${trainingRatio(s, sum.get('oracle'))} the oracle's. ` +
        `Picks: ${s.runs.map((r) => `seed ${r.seed} ${r.batch} @ ${rate(r.rate)} (search ${s1(r.searchSeconds)} s)`).join('; ')}.`,
    );
  }
  const notes = [...(sum.get('c')?.runs ?? []), ...(sum.get('b')?.runs ?? []).slice(0, 1)].map((r) => `seed ${r.seed}, ${r.note}`);
  if (notes.length) out.push(`- Baselines' choices: ${notes.join('; ')}.`);
  out.push('');
  return out.join('\n');
}
