// `npm run bench:tuner -- --settings 32@1e-3,64@2e-3 [--repeats 3] [--target 0.97] …`: only these
// fixed (batch @ rate) settings, each trained to the target on seeds 1…N, their median time to it.
// For comparisons of fixed settings (docs/benchmarks.md, ResNet-20 against the small CNN); the
// oracle and the baselines are the grid's business (./runner.ts).
import type { Bench } from '../harness.js';
import { median } from './grid.js';
import { trainToTarget, type PytorchUserOptions } from './pytorch-user.js';

/** `32@1e-3,64@4e-3`: [batch, rate] pairs, checked. */
export function parseSettings(text: string): [number, number][] {
  return text.split(',').map((pair) => {
    const m = /^\s*(\d+)\s*@\s*([0-9.eE+-]+)\s*$/.exec(pair);
    const b = m ? Number(m[1]) : NaN;
    const lr = m ? Number(m[2]) : NaN;
    if (!Number.isInteger(b) || b < 1 || !(lr > 0)) throw new Error(`--settings: expected batch@rate pairs like 32@1e-3, got "${pair}"`);
    return [b, lr];
  });
}

export async function fixedSettings(
  bench: Bench,
  o: Pick<PytorchUserOptions, 'datasetId' | 'model' | 'maxEpochs' | 'backend' | 'validationsPerEpoch' | 'target' | 'seeds'>,
  settings: [number, number][],
): Promise<void> {
  const out = [`Time to ${(o.target * 100).toFixed(1)} % validation accuracy, ${o.model}, ${o.backend}, ≤ ${o.maxEpochs} epochs, median of ${o.seeds} seed(s)`];
  const fmt = (t: number) => (Number.isFinite(t) ? t.toFixed(1) : '—');
  for (const [b, lr] of settings) {
    const times: number[] = [];
    for (let seed = 1; seed <= o.seeds; seed++) times.push(await trainToTarget(bench, o, b, lr, 0, seed));
    const m = median(times);
    bench.log(`fixed ${b} @ ${lr}: ${fmt(m)} s [${times.map(fmt).join(', ')}]`);
    out.push(
      `batch ${String(b).padStart(5)}  lr ${lr.toPrecision(3).padEnd(9)} ${Number.isFinite(m) ? `${m.toFixed(1)} s` : 'not reached'}  [${times.map(fmt).join(', ')}]`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}
