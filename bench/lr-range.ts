// The learning-rate range test on its own, over several seeds: what the Full search reads from
// it (the steepest point, the minimum, the suggested rate) and how much that moves between
// seeds. By default the ramp is the search's own (24 steps from base/10 to 300·base at the base batch).
//
//   npm run bench:lr-range -- [--seeds 1,2,3,4] [--steps 24] [--model small] [--backend wasm] [--batch 32]
//       [--base-lr 1e-3] [--samples 10000] [--source sample:mnist]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importDataset, loadDataset } from '../src/main/engine/datasets/index.js';
import { selectBackend } from '../src/main/engine/backends/select-backend.js';
import { ProbeRunner } from '../src/main/engine/tuner/probe-runner.js';
import { suggestLearningRate } from '../src/shared/learning-rate-range.js';
import { BACKEND_CHOICES, MODEL_KINDS, type BackendChoice, type ModelKind } from '../src/shared/run-types.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3,4' },
    steps: { type: 'string', default: '24' },
    model: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '32' },
    'base-lr': { type: 'string', default: '1e-3' },
    samples: { type: 'string', default: '10000' },
    source: { type: 'string', default: 'sample:mnist' },
  },
});
const seeds = args.seeds.split(',').map(Number);
const batch = Number(args.batch);
const steps = Number(args.steps);
if (!Number.isInteger(steps) || steps < 8) throw new Error(`--steps: a whole number ≥ 8, got ${args.steps}`);
const base = Number(args['base-lr']);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds: whole numbers, got ${args.seeds}`);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch: a whole number ≥ 1, got ${args.batch}`);
if (!(base > 0)) throw new Error(`--base-lr: a positive rate, got ${args['base-lr']}`);
if (!(MODEL_KINDS as readonly string[]).includes(args.model)) throw new Error(`--model: one of ${MODEL_KINDS.join(', ')}`);
if (!(BACKEND_CHOICES as readonly string[]).includes(args.backend)) throw new Error(`--backend: one of ${BACKEND_CHOICES.join(', ')}`);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'autobatch-bench-lr-'));
try {
  await importDataset(args.source, { limit: Number(args.samples) }, path.join(tmp, 'data'));
  const ds = loadDataset(path.join(tmp, 'data'));
  const backend = await selectBackend(args.backend as BackendChoice);
  const rows = [
    `Learning-rate range test, ${args.model} model, batch ${batch}, ${backend.name}: ${steps} steps from ${base / 10} to ${base * 300}`,
    'seed  steps  ms     steepest   minimum    suggested',
  ];
  for (const seed of seeds) {
    const runner = new ProbeRunner({ dataset: ds, model: args.model as ModelKind, optimizer: 'adam', seed });
    try {
      const t0 = performance.now();
      const r = await runner.learningRateRange(batch, base / 10, base * 300, steps, 4);
      const ms = performance.now() - t0;
      const s = suggestLearningRate(r.rates, r.losses);
      const e = (v: number | undefined) => (v === undefined ? '—' : v.toExponential(2)).padEnd(10);
      rows.push(
        `${String(seed).padEnd(5)} ${String(r.losses.length).padEnd(6)} ${ms.toFixed(0).padEnd(6)} ${e(s?.steepestRate)} ${e(s?.minimumRate)} ${e(s?.rate)}`,
      );
    } finally {
      runner.dispose();
    }
  }
  process.stdout.write(rows.join('\n') + '\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
