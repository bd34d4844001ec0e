// Augmentation of training batches (engine/training/augment.ts) on cpu and wasm: 'none' is the
// batch itself; 'light' moves every image by whole pixels within ±side/8 and fills with black,
// found by searching every allowed shift; a flip mirrors exactly; 'standard' stays in the pixel
// range, clips, and matches a plain reference of shift, flip, contrast around the per-channel mean
// and brightness; the draws depend only on (seed, step), so both backends give the same batch; no
// tensor is left behind; standardized inputs are refused.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { applyAugmentation, augmentationPlan, augmentBatch, type AugmentPlan } from '../../../src/main/engine/training/augment.js';
import { AUGMENT_INTENSITY_RANGE, type AugmentLevel } from '../../../src/shared/fine-tuning.js';
import type { Normalization } from '../../../src/shared/dataset-types.js';
import { rng, setUpBackends, type Backend } from '../kernels/helpers.js';

const SCALE: Normalization = { kind: 'scale', scale: 1 / 255 };
// Not square, so that each side's own limit is checked: ±2 rows, ±1 column.
const [N, HEIGHT, WIDTH, CHANNELS] = [32, 17, 12, 3];
const [H, W, C] = [HEIGHT, WIDTH, CHANNELS];

/** Pixel values in [0.05, 1], so that a black (0) fill can be told from the image. */
function images(seed: number, lo = 0.05): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: N * H * W * C }, () => lo + (1 - lo) * r.next());
}

async function run(backend: Backend, data: Float32Array, f: (x: tf.Tensor4D) => tf.Tensor, shape = [N, H, W, C]): Promise<Float32Array> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(data, shape as [number, number, number, number]);
  const before = tf.memory().numTensors;
  const y = f(x);
  const out = (await y.data()) as Float32Array;
  if (y !== x) y.dispose();
  assert.equal(tf.memory().numTensors, before, `tensors left behind on ${backend}`);
  x.dispose();
  return out;
}

/** Sample i moved down dy and right dx (mirrored first when flip), black outside: a plain reference. */
function moved(data: Float32Array, i: number, dy: number, dx: number, flip: boolean, [H, W, C] = [HEIGHT, WIDTH, CHANNELS]): Float32Array {
  const out = new Float32Array(H * W * C);
  for (let r = 0; r < H; r++)
    for (let col = 0; col < W; col++) {
      const sr = r - dy;
      const sc0 = col - dx;
      if (sr < 0 || sr >= H || sc0 < 0 || sc0 >= W) continue;
      const sc = flip ? W - 1 - sc0 : sc0;
      for (let ch = 0; ch < C; ch++) out[(r * W + col) * C + ch] = data[((i * H + sr) * W + sc) * C + ch]!;
    }
  return out;
}

function sample(data: Float32Array, i: number): Float32Array {
  return data.subarray(i * H * W * C, (i + 1) * H * W * C);
}

function equal(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/** 'standard''s reference: contrast c around the per-channel mean of the moved image, brightness b, clipped to [0, 1]. */
function coloured(img: Float32Array, b: number, c: number): Float32Array {
  const mean = new Float64Array(C);
  for (let k = 0; k < img.length; k++) mean[k % C] += img[k]! / (H * W);
  return img.map((v, k) => Math.min(1, Math.max(0, b * ((v - mean[k % C]!) * c + mean[k % C]!))));
}

before(() => setUpBackends(1));

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`augmentBatch on ${backend}`, () => {
    it("returns the batch itself for 'none'", async () => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(images(1), [N, H, W, C]);
      assert.equal(augmentBatch(x, 'none', 1, 1, SCALE), x);
      x.dispose();
    });

    it("'light' moves each image by whole pixels within ±side/8, fills with black, and the moves vary", async () => {
      const data = images(2);
      const out = await run(backend, data, (x) => augmentBatch(x, 'light', 7, 3, SCALE));
      const plan = augmentationPlan('light', N, H, W, 7, 3);
      assert.deepEqual([plan.maxShiftY, plan.maxShiftX], [2, 1]);
      const seen = new Set<string>();
      for (let i = 0; i < N; i++) {
        const matches: string[] = [];
        for (let dy = -2; dy <= 2; dy++) for (let dx = -1; dx <= 1; dx++) if (equal(sample(out, i), moved(data, i, dy, dx, false))) matches.push(`${dy},${dx}`);
        assert.deepEqual(matches, [`${plan.shiftY[i]},${plan.shiftX[i]}`], `sample ${i}: no allowed shift (or another than drawn) gives the output`);
        seen.add(matches[0]!);
      }
      assert.ok(seen.size >= 6, `only ${seen.size} different shifts in ${N} samples`);
    });

    it('moves large images exactly too (positions far from the origin, in float32)', async () => {
      const [n, h, w] = [3, 224, 200];
      const r = rng(8);
      const data = Float32Array.from({ length: n * h * w }, () => 0.05 + 0.95 * r.next());
      for (const level of ['light', 'standard'] as const) {
        const plan = augmentationPlan(level, n, h, w, 13, 1);
        assert.deepEqual([plan.maxShiftY, plan.maxShiftX], [28, 25]);
        // Only the geometry: the plan without its colour changes.
        const out = await run(backend, data, (x) => applyAugmentation(x, { ...plan, colour: undefined }, 1), [n, h, w, 1]);
        for (let i = 0; i < n; i++) {
          const want = moved(data, i, plan.shiftY[i]!, plan.shiftX[i]!, plan.flip[i] === 1, [h, w, 1]);
          assert.ok(
            equal(out.subarray(i * h * w, (i + 1) * h * w), want),
            `${level} sample ${i}: shift ${plan.shiftY[i]},${plan.shiftX[i]} flip ${plan.flip[i]}`,
          );
        }
      }
    });

    it('gives the same batch for the same (seed, step) and another for another step or seed', async () => {
      const data = images(3);
      for (const level of ['light', 'standard'] as const) {
        const a = await run(backend, data, (x) => augmentBatch(x, level, 11, 5, SCALE));
        const b = await run(backend, data, (x) => augmentBatch(x, level, 11, 5, SCALE));
        const nextStep = await run(backend, data, (x) => augmentBatch(x, level, 11, 6, SCALE));
        const otherSeed = await run(backend, data, (x) => augmentBatch(x, level, 12, 5, SCALE));
        assert.ok(equal(a, b), `${level}: same seed and step, different batches`);
        assert.ok(!equal(a, nextStep), `${level}: the next step drew the same batch`);
        assert.ok(!equal(a, otherSeed), `${level}: another seed drew the same batch`);
      }
    });

    it('mirrors left to right exactly, with and without a shift', async () => {
      const data = images(4);
      const plan: AugmentPlan = {
        maxShiftY: 2,
        maxShiftX: 1,
        shiftY: Int32Array.from({ length: N }, (_, i) => (i % 5) - 2),
        shiftX: Int32Array.from({ length: N }, (_, i) => (i % 3) - 1),
        flip: Uint8Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 1 : 0)),
      };
      const out = await run(backend, data, (x) => applyAugmentation(x, plan, 1));
      for (let i = 0; i < N; i++) assert.ok(equal(sample(out, i), moved(data, i, plan.shiftY[i]!, plan.shiftX[i]!, plan.flip[i] === 1)), `sample ${i}`);
    });

    it("'standard' draws flips and factors in range, matches the reference, and clips to the pixel range", async () => {
      // Values up to 1 and some bright images, so that a brightness above 1 must clip.
      const data = images(5, 0);
      for (let i = 0; i < N; i += 4) sample(data, i).fill(0.97);
      const plan = augmentationPlan('standard', N, H, W, 21, 9);
      const { brightness, contrast } = plan.colour!;
      for (const f of [...brightness, ...contrast]) assert.ok(f >= 1 - AUGMENT_INTENSITY_RANGE && f <= 1 + AUGMENT_INTENSITY_RANGE, `factor ${f}`);
      const flips = plan.flip.reduce((s, v) => s + v, 0);
      assert.ok(flips > 0 && flips < N, `${flips} of ${N} flipped`);
      const out = await run(backend, data, (x) => augmentBatch(x, 'standard', 21, 9, SCALE));
      let clipped = 0;
      for (let i = 0; i < N; i++) {
        const want = coloured(moved(data, i, plan.shiftY[i]!, plan.shiftX[i]!, plan.flip[i] === 1), brightness[i]!, contrast[i]!);
        const got = sample(out, i);
        for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-5, `sample ${i} value ${k}: ${got[k]} vs ${want[k]}`);
        clipped += got.filter((v) => v === 1).length;
      }
      assert.ok(out.every((v) => v >= 0 && v <= 1));
      assert.ok(clipped > 0, 'no value reached the top of the range: the clip was not exercised');
    });

    it('refuses standardized inputs and inputs that are not images', async () => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(images(6), [N, H, W, C]);
      const table = tf.zeros([4, 3]);
      const standardize: Normalization = { kind: 'standardize', mean: [0], std: [1] };
      assert.throws(() => augmentBatch(x, 'light', 1, 1, standardize), /standardized .*use augmentation "none"/);
      assert.throws(() => augmentBatch(table, 'standard', 1, 1, SCALE), /needs a batch of images \[n, h, w, c\]; got inputs of shape \[4, 3\]/);
      tf.dispose([x, table]);
    });
  });
}

describe('augmentBatch across backends', () => {
  it('gives cpu and wasm the same batch for the same seed and step', async () => {
    const data = images(7);
    for (const level of ['light', 'standard'] satisfies AugmentLevel[]) {
      const cpu = await run('cpu', data, (x) => augmentBatch(x, level, 5, 2, SCALE));
      const wasm = await run('wasm', data, (x) => augmentBatch(x, level, 5, 2, SCALE));
      const worst = cpu.reduce((m, v, k) => Math.max(m, Math.abs(v - wasm[k]!)), 0);
      if (level === 'light') assert.equal(worst, 0, 'light: the moves differ');
      else assert.ok(worst <= 1e-6, `standard: differs by ${worst}`);
    }
  });
});
