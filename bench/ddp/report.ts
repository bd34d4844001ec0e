// The DDP efficiency benchmark's measure and its tables (bench/ddp-efficiency.ts): pure, so that
// the tests can hold docs/benchmarks.md to the committed results.

export type Variant = 'k1' | 'plan' | 'kb';

/** The mean of the last `window` losses up to index i (inclusive). */
export function trailingMean(losses: readonly number[], i: number, window: number): number {
  const from = Math.max(0, i - window + 1);
  let s = 0;
  for (let j = from; j <= i; j++) s += losses[j]!;
  return s / (i - from + 1);
}

/** Steps until the trailing mean over `window` steps first reaches `loss`; null if never. */
export function stepsTo(losses: readonly number[], loss: number, window: number): number | null {
  const j = losses.findIndex((_, i) => i + 1 >= window && trailingMean(losses, i, window) <= loss);
  return j < 0 ? null : j + 1;
}

/** The measured statistical efficiency: samples to the same loss at the base batch over those at the global batch. */
export function measuredEfficiency(base: { steps: number | null; batch: number }, run: { steps: number | null; batch: number }): number | null {
  return base.steps === null || run.steps === null ? null : (base.steps * base.batch) / (run.steps * run.batch);
}

interface MeasureRecord {
  seed: number;
  variant: Variant;
  globalBatch: number;
  targetLoss: number;
  steps: number | null;
  measured: number | null;
  predicted: number;
}

/** One workload's results as a markdown table: per variant, each seed's steps and measured efficiency against the prediction. */
export function ddpTable(lines: readonly Record<string, unknown>[]): string {
  const meta = lines.find((l) => l['kind'] === 'meta') as
    { workload: string; plan: { base: { batchSize: number; learningRate: number }; noiseScale: number | null; noiseScaleSource: string | null } } | undefined;
  const rows = lines.filter((l) => l['kind'] === 'measure') as unknown as MeasureRecord[];
  if (!meta) return '';
  const names: Record<Variant, string> = { k1: 'K = 1 (the tuned batch)', plan: 'K = 2 as planned', kb: 'K = 2 at K·B' };
  const out = [
    `**${meta.workload}**: B = ${meta.plan.base.batchSize} @ ${meta.plan.base.learningRate.toPrecision(3)}, φ ≈ ${meta.plan.noiseScale === null ? '—' : Math.round(meta.plan.noiseScale)} (${meta.plan.noiseScaleSource ?? 'none'})`,
    '',
    '| run | global batch | steps to the loss K = 1 had after one epoch, per seed | measured E, per seed | predicted E |',
    '|---|---|---|---|---|',
  ];
  for (const v of ['k1', 'plan', 'kb'] as const) {
    const mine = rows.filter((r) => r.variant === v).sort((a, b) => a.seed - b.seed);
    if (mine.length === 0) continue;
    out.push(
      `| ${names[v]} | ${mine[0]!.globalBatch} | ${mine.map((r) => `s${r.seed}: ${r.steps ?? '—'} (loss ${r.targetLoss.toFixed(3)})`).join(', ')} | ${mine.map((r) => (r.measured === null ? '—' : r.measured.toFixed(2))).join(', ')} | ${mine[0]!.predicted.toFixed(2)} |`,
    );
  }
  return out.join('\n') + '\n';
}
