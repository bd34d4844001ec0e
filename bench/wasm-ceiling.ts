// A real memory ceiling, not a simulated one: a model (the large CNN by default; ResNet-18 and
// MobileNetV2 ×1.0 at 128×128 or 224×224 too) under the wasm backend, whose 32-bit heap cannot
// grow past 4 GiB. Quick Auto-tune must find the largest
// batch that fits in the budget (90 % of 4 GiB) with real training steps, store any step that
// ran out of memory as an `oom` trial, and go on to the throughput curve.
//
//   npm run bench:ceiling -- [--model large|resnet-18|mobilenet-1.0|…] [--size 128] [--samples 6400]
//       [--channels 1|3] [--budget 3.6GiB]
//
// The dataset is generated (an IDX pair: one bright square per class on a noisy background),
// so the benchmark needs nothing but this repository.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes } from '../src/shared/format.js';
import { createRng } from '../src/shared/random.js';
import type { TrialRecord } from '../src/shared/tuning-types.js';
import { byteSize } from '../src/main/cli/parse-flags.js';
import { encodeIdxHeader } from '../src/main/engine/datasets/idx.js';
import { tuningToEnd } from '../src/shared/api/index.js';
import { benchCore } from './harness.js';
import { MODEL_KINDS, type ModelKind } from '../src/shared/run-types.js';
import { architectureInfo, trainableParameters } from '../src/shared/model-families.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    samples: { type: 'string', default: '6400' },
    classes: { type: 'string', default: '4' },
    model: { type: 'string', default: 'large' },
    channels: { type: 'string', default: '1' },
    budget: { type: 'string' },
  },
});
const size = Number(args.size);
const samples = Number(args.samples);
const classes = Number(args.classes);
if (!(MODEL_KINDS as readonly string[]).includes(args.model)) throw new Error(`--model: expected one of ${MODEL_KINDS.join(', ')}, got "${args.model}"`);
const model = args.model as ModelKind;
if (args.channels !== '1' && args.channels !== '3') throw new Error(`--channels: expected 1 or 3, got "${args.channels}"`);

const bench = benchCore('ceiling');
const { api, log } = bench;

/** Writes train-images/-labels IDX files: class c has a bright square in its own quarter. */
function writeDataset(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const rng = createRng(7);
  const pixels = Buffer.alloc(samples * size * size);
  const labels = Buffer.alloc(samples);
  const side = Math.floor(size / 4);
  for (let n = 0; n < samples; n++) {
    const c = n % classes;
    labels[n] = c;
    const base = n * size * size;
    for (let i = 0; i < size * size; i++) pixels[base + i] = Math.floor(rng() * 96);
    const ox = (c % 2) * (size / 2) + Math.floor(rng() * side);
    const oy = (Math.floor(c / 2) % 2) * (size / 2) + Math.floor(rng() * side);
    for (let y = oy; y < oy + side; y++) for (let x = ox; x < ox + side; x++) pixels[base + y * size + x] = 255;
  }
  writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [samples, size, size]), pixels]));
  writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [samples]), labels]));
}

async function main(): Promise<void> {
  const src = path.join(bench.home, 'generated-idx');
  writeDataset(src);
  // Three channels: the grey squares replicated (the import's RGB option), as a photo set would load.
  const ds = await api.importDataset({ source: src, name: `squares-${size}`, ...(args.channels === '3' ? { grayscale: false } : {}) });
  log(`dataset: ${ds.trainCount} train samples of ${ds.inputShape.join('×')}`);
  const trials: TrialRecord[] = [];
  api.on('tune-trial', ({ trial }) => {
    trials.push(trial);
    const r = trial.result as { peakBytes?: number; samplesPerSecond?: number };
    log(
      `  ${trial.kind.padEnd(10)} batch ${String(trial.batchSize).padStart(4)}  ${trial.status.padEnd(7)} ${trial.seconds.toFixed(1).padStart(6)} s  ${r.peakBytes ? formatBytes(r.peakBytes) : ''}${r.samplesPerSecond ? `${r.samplesPerSecond.toFixed(1)} samples/s` : ''}${trial.cause ? `  (${trial.cause})` : ''}`,
    );
  });
  const started = performance.now();
  const t = await tuningToEnd(api, () =>
    api.startTuning({
      dataset: ds.id,
      model,
      mode: 'quick',
      backend: 'wasm',
      ...(args.budget ? { memoryBudgetBytes: byteSize(args.budget) } : {}),
    }),
  );
  if (!t.report) throw new Error(`tuning failed: ${t.error}`);
  const rec = t.report.recommendation;
  const mem = trials.filter((x) => x.kind === 'memory');
  const largestOk = Math.max(...mem.filter((x) => x.status === 'ok').map((x) => x.batchSize));
  const out = [
    `Real memory ceiling: ${architectureInfo(model).label} (${trainableParameters(model, ds.inputShape, classes).toLocaleString('en-US')} trainable parameters), ${ds.inputShape.join('×')} inputs, wasm (4 GiB heap), budget ${formatBytes(rec.memoryBudgetBytes)}`,
    `memory ceiling ${rec.memoryCeiling} (largest verified step: ${largestOk}); recommended batch ${rec.batchSize} at ${rec.expectedSamplesPerSecond.toFixed(1)} samples/s`,
    `memory probes: ${mem.map((x) => `${x.batchSize}${x.status === 'ok' ? '' : ` ${x.status}`}`).join(', ')}; out of memory: ${trials.filter((x) => x.status === 'oom').length}`,
    `search ${t.report.searchSeconds.toFixed(1)} s (wall ${((performance.now() - started) / 1000).toFixed(1)} s)`,
    ...t.report.reasons.slice(0, 1),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

bench.run(main);
