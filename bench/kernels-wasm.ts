// Micro benchmark of one training step on the wasm backend (tf.variableGrads + Adam, random 28x28x1
// data), for the reference CNNs of docs/architecture.md §7; prints samples/s and, with --profile,
// where the time goes per kernel (exclusive time: a composite kernel's inner kernels are counted
// under their own names).
//
//   node dist/bench/kernels-wasm.js [--models small,large] [--batches 32,64,256]
//     [--kernels stock,app] [--seconds 3] [--profile] [--by-shape] [--threads N] [--backend wasm|cpu]
//     [--interleave]
//
// Kernel sets: 'stock', 'app', and 'app-stock:<Kernel>[+<Kernel>…]' (the app's kernels with the
// named ones put back to tfjs-backend-wasm's own, e.g. app-stock:BatchMatMul). Normally each set
// is measured in turn; with --interleave the sets take turns step by step on the same model and
// data, so that a machine whose load changes during the run slows all of them alike.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../src/main/engine/backends/wasm.js';
import { applyKernelSet } from './kernel-sets.js';
import { formatProfile, resetTotals, wrapAll } from './kernel-profiler.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const models = arg('models', 'small,large').split(',');
const batches = arg('batches', '32,64,256').split(',').map(Number);
const kernelSets = arg('kernels', 'stock,app').split(',');
const seconds = Number(arg('seconds', '3'));
const profile = process.argv.includes('--profile') || process.argv.includes('--by-shape');
const byShape = process.argv.includes('--by-shape');
const threads = process.argv.includes('--threads') ? Number(arg('threads', '1')) : undefined;
const interleave = process.argv.includes('--interleave');

function build(kind: string): tf.Sequential {
  const m = tf.sequential();
  const conv = (filters: number, first = false): tf.layers.Layer =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      activation: 'relu',
      padding: 'valid',
      ...(first ? { inputShape: [28, 28, 1] } : {}),
    });
  if (kind === 'small') {
    m.add(conv(16, true));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(conv(32));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 10 }));
  } else {
    m.add(conv(32, true));
    m.add(conv(32));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(conv(64));
    m.add(conv(64));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 10 }));
  }
  return m;
}

/** Trains `kind` at `batch`; with several kernel sets, they take turns step by step. */
async function measure(kind: string, batch: number, sets: readonly string[]): Promise<Array<{ sps: number; stepMs: number }>> {
  const model = build(kind);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(1e-3);
  const pool = Array.from({ length: 4 }, () => ({
    x: tf.randomUniform([batch, 28, 28, 1]),
    y: tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10).toFloat()),
  }));
  const step = (i: number): void => {
    const { x, y } = pool[i % pool.length];
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    value.dataSync();
    tf.dispose([value, grads]);
  };
  const turn = (i: number): number => {
    const k = i % sets.length;
    if (sets.length > 1) applyKernelSet(sets[k]);
    return k;
  };
  for (let i = 0; i < 3 * sets.length; i++) {
    turn(i);
    step(i); // warm-up (operator caches, optimizer slots)
  }
  resetTotals();
  const setMs = sets.map(() => 0);
  const setSteps = sets.map(() => 0);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 * sets.length || n < 3 * sets.length) {
    const k = turn(n);
    const s0 = performance.now();
    step(n++);
    setMs[k] += performance.now() - s0;
    setSteps[k]++;
  }
  const ms = performance.now() - t0;
  if (profile) console.log(formatProfile(`${kind} batch ${batch}`, n, ms, byShape ? 30 : 14));
  optimizer.dispose();
  model.dispose();
  tf.dispose(pool.flatMap((p) => [p.x, p.y]));
  return sets.map((_, k) => ({ sps: (setSteps[k] * batch) / (setMs[k] / 1000), stepMs: setMs[k] / setSteps[k] }));
}

async function main(): Promise<void> {
  tf.env().set('PROD', true);
  const backendName = arg('backend', 'wasm');
  let device = 'cpu (JavaScript)';
  if (backendName === 'wasm') device = (await activateWasm(threads === undefined ? {} : { threads })).device;
  else await tf.setBackend(backendName);
  console.log(`backend ${tf.getBackend()}: ${device}`);
  const sets = backendName === 'wasm' ? kernelSets : ['-'];
  if (interleave && profile) throw new Error('--interleave and --profile do not mix (switching kernels undoes the profiling wrappers)');
  // Interleaved: one pass in which the sets take turns; otherwise one pass per set.
  for (const group of interleave ? [sets] : sets.map((set) => [set])) {
    if (group.length === 1 && group[0] !== '-') applyKernelSet(group[0]);
    if (profile) wrapAll(backendName, (name) => byShape && (name === 'Conv2D' || name === 'Transpose' || name === 'Sum'));
    for (const kind of models) {
      for (const batch of batches) {
        const results = await measure(kind, batch, group);
        results.forEach((r, k) =>
          console.log(
            JSON.stringify({
              backend: tf.getBackend(),
              device,
              kernels: group[k],
              model: kind,
              batch_size: batch,
              samples_per_s: Math.round(r.sps),
              step_ms: +r.stepMs.toFixed(2),
            }),
          ),
        );
      }
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
