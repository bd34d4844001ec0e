// Where one training step of the app's batch-norm models goes on the wasm backend: the step of
// src/main/engine/training/train-loop.ts (tf.variableGrads over model.apply(x, {training: true})
// and a softmax cross-entropy, then Adam), on the models of build-model.ts with random data.
// Prints, per model, the median step time and the top kernels by exclusive ms per step.
//
//   npm run bench:profile-step -- [--models resnet-20:32,mobilenet-0.5:64] [--batch 64]
//     [--threads 2] [--steps 6] [--top 25] [--by-shape Kernel+Kernel] [--kernels app]
//     [--compare app-before,app --rounds 8] [--augment-levels none,light,standard --rounds 8]
//
// Models are kind:side[:channels] (square side×side inputs, 3 channels unless given, 10 classes). --kernels names the kernel set
// to profile (see kernel-sets.ts: 'app', 'app-before', 'app-stock:A+B', 'stock'). With --compare
// the sets take turns step by step on the same model and data, without the profiling wrappers,
// and the median step time of each set is printed: a machine whose load changes during the run
// slows every set alike. --augment-levels does the same with augmentation levels (the app's
// kernels): each step augments its batch as the training loop does (training/augment.ts), and the
// median step time of each level and its ratio to the first are printed — the augmentation's
// cost, which end-to-end runs on a busy machine cannot resolve.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../src/main/engine/backends/wasm.js';
import { buildModel } from '../src/main/engine/models/build-model.js';
import { createOptimizer } from '../src/main/engine/models/optimizer.js';
import { MODEL_KINDS, type ModelKind } from '../src/shared/run-types.js';
import { augmentBatch } from '../src/main/engine/training/augment.js';
import { AUGMENT_LEVELS, type AugmentLevel } from '../src/shared/fine-tuning.js';
import { applyKernelSet } from './kernel-sets.js';
import { formatProfile, resetTotals, wrapAll } from './kernel-profiler.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

function positive(name: string, fallback: string): number {
  const v = Number(arg(name, fallback));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${arg(name, fallback)}`);
  return v;
}

interface ModelSpec {
  kind: ModelKind;
  side: number;
  channels: number;
}

function parseModels(text: string): ModelSpec[] {
  return text.split(',').map((item) => {
    const [kind, side, channels] = item.split(':');
    if (!(MODEL_KINDS as readonly string[]).includes(kind!)) throw new Error(`--models: unknown model ${kind}`);
    const n = Number(side ?? '32');
    if (!Number.isInteger(n) || n < 8) throw new Error(`--models: ${item} needs a side of at least 8 (kind:side)`);
    const c = Number(channels ?? '3');
    if (c !== 1 && c !== 3) throw new Error(`--models: ${item}: channels must be 1 or 3 (kind:side:channels)`);
    return { kind: kind as ModelKind, side: n, channels: c };
  });
}

const models = parseModels(arg('models', 'resnet-20:32,mobilenet-0.5:64'));
const batch = positive('batch', '64');
const threads = positive('threads', '2');
const steps = positive('steps', '6');
const top = positive('top', '25');
const rounds = positive('rounds', '8');
const byShape = new Set(arg('by-shape', '').split('+').filter(Boolean));
const compare = process.argv.includes('--compare') ? arg('compare', 'app').split(',') : null;
const kernels = arg('kernels', 'app');
const augmentLevels = process.argv.includes('--augment-levels')
  ? arg('augment-levels', 'none,light,standard')
      .split(',')
      .map((level) => {
        if (!(AUGMENT_LEVELS as readonly string[]).includes(level)) throw new Error(`--augment-levels: unknown level ${level}`);
        return level as AugmentLevel;
      })
  : null;

interface Trainer {
  step(i: number, augment?: AugmentLevel): void;
  dispose(): void;
}

/** The train loop's step on `spec` at the batch size, over a pool of 2 random batches. */
function trainer(spec: ModelSpec): Trainer {
  const model = buildModel(spec.kind, { inputShape: [spec.side, spec.side, spec.channels], classes: 10 }, 1);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { optimizer } = createOptimizer('adam', 1e-3, 0);
  const pool = Array.from({ length: 2 }, () => ({
    // Pixels in [0, 1], as the app's images are (augmentation clips to that range).
    x: tf.randomUniform([batch, spec.side, spec.side, spec.channels]),
    y: tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10).toFloat()),
  }));
  return {
    step(i, augment = 'none') {
      const { x, y } = pool[i % pool.length]!;
      const loss = tf.tidy(() => {
        const input = augmentBatch(x, augment, 1, i, { kind: 'scale', scale: 1 / 255 });
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(input, { training: true }) as tf.Tensor) as tf.Scalar,
          vars,
        );
        optimizer.applyGradients(grads);
        return value;
      });
      const v = loss.dataSync()[0]!;
      loss.dispose();
      if (!Number.isFinite(v)) throw new Error(`${spec.kind}: the loss became ${v}`);
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
      tf.dispose(pool.flatMap((p) => [p.x, p.y]));
    },
  };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function timed(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function profileModel(spec: ModelSpec): void {
  const t = trainer(spec);
  for (let i = 0; i < 2; i++) t.step(i); // warm-up: operator caches, Adam's slots
  resetTotals();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) times.push(timed(() => t.step(i)));
  const total = times.reduce((a, b) => a + b, 0);
  console.log(
    `${spec.kind} ${spec.side}x${spec.side}x${spec.channels} batch ${batch}: median step ${median(times).toFixed(1)} ms (${times.map((x) => x.toFixed(0)).join(', ')})`,
  );
  console.log(formatProfile(`${spec.kind} batch ${batch}`, steps, total, top));
  t.dispose();
}

function compareModel(spec: ModelSpec, sets: readonly string[]): void {
  const t = trainer(spec);
  const times = sets.map(() => [] as number[]);
  for (const set of sets) {
    applyKernelSet(set);
    t.step(0); // warm-up per set (operator caches)
  }
  for (let r = 0; r < rounds; r++) {
    sets.forEach((set, k) => {
      applyKernelSet(set);
      times[k]!.push(timed(() => t.step(r)));
    });
  }
  sets.forEach((set, k) => {
    const m = median(times[k]!);
    const ratio = k === 0 ? '' : `, ${(median(times[0]!) / m).toFixed(2)}x the first`;
    console.log(`  ${spec.kind} batch ${batch} [${set}]: median ${m.toFixed(1)} ms/step${ratio} (${times[k]!.map((x) => x.toFixed(0)).join(', ')})`);
  });
  t.dispose();
}

/** The augmentation levels take turns step by step on the same model and data. */
function compareAugmentation(spec: ModelSpec, levels: readonly AugmentLevel[]): void {
  const t = trainer(spec);
  const times = levels.map(() => [] as number[]);
  for (const level of levels) t.step(0, level); // warm-up per level (its kernels' first calls)
  for (let r = 0; r < rounds; r++) levels.forEach((level, k) => times[k]!.push(timed(() => t.step(r, level))));
  levels.forEach((level, k) => {
    const m = median(times[k]!);
    const ratio = k === 0 ? '' : `, ${(m / median(times[0]!)).toFixed(3)}× the first's time`;
    console.log(
      `  ${spec.kind} ${spec.side}x${spec.side}x${spec.channels} batch ${batch} [augment ${level}]: median ${m.toFixed(1)} ms/step${ratio} (${times[k]!.map((x) => x.toFixed(0)).join(', ')})`,
    );
  });
  t.dispose();
}

async function main(): Promise<void> {
  tf.env().set('PROD', true);
  const { device } = await activateWasm({ threads });
  console.log(`backend ${tf.getBackend()}: ${device}; tfjs ${tf.version.tfjs}; node ${process.version}`);
  if (augmentLevels !== null) {
    applyKernelSet(kernels);
    console.log(`interleaved, ${rounds} rounds: augment ${augmentLevels.join(' | ')}`);
    for (const spec of models) compareAugmentation(spec, augmentLevels);
    return;
  }
  if (compare !== null) {
    console.log(`interleaved, ${rounds} rounds: ${compare.join(' | ')}`);
    for (const spec of models) compareModel(spec, compare);
    return;
  }
  applyKernelSet(kernels);
  console.log(`kernels: ${kernels}`);
  wrapAll('wasm', (name) => byShape.has(name));
  for (const spec of models) profileModel(spec);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
