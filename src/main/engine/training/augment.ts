// Data augmentation inside the training step, on the device (see shared/fine-tuning.ts for the
// levels). Every random draw is made here on the CPU, per sample, from a generator seeded with
// (run seed, step), and reaches the device as a few small tensors: a run with the same seed sees
// the same augmented batches on every backend.
//
// One batch costs a handful of kernels whatever its size: one CropAndResize (nearest) moves and
// mirrors every image at once, filling what comes in from outside with black (its extrapolation
// value); 'standard' adds a per-channel mean, two multiplies, an add and a clip. The crop is exact
// on every backend. Each box is 0.9 pixel shorter than the crop along each side, so every sample
// lands within 0.45 pixel of its whole pixel, pulled toward the box's centre: the backends'
// nearest pixel (cpu, wasm and TensorFlow round, webgpu floors x + 0.5) is that pixel whatever
// the float rounding of the position, and at the image's edge the sample falls inside the image,
// so the kernel's out-of-range test (made on the unrounded position) keeps the edge pixel; one
// pixel further out falls at least 0.55 outside and is filled. The box is never the crop's exact
// size on purpose: wasm copies such a box row by row from the image's first column
// (tfjs-backend-wasm 4.22 ignores x1 there).
import * as tf from '@tensorflow/tfjs';
import { AUGMENT_INTENSITY_RANGE, AUGMENT_SHIFT_FRACTION, type AugmentLevel } from '../../../shared/fine-tuning.js';
import type { Normalization } from '../../../shared/dataset-types.js';
import { createRng } from '../../../shared/random.js';

/** What one batch's augmentation does to each of its samples: drawn on the CPU, applied on the device. */
export interface AugmentPlan {
  /** Largest shift along each axis, in pixels (floor of the side × AUGMENT_SHIFT_FRACTION). */
  maxShiftY: number;
  maxShiftX: number;
  /** Per sample: the content moves down by shiftY and right by shiftX pixels (negative: up, left). */
  shiftY: Int32Array;
  shiftX: Int32Array;
  /** Per sample: mirrored left to right (before the shift) when 1. */
  flip: Uint8Array;
  /** Per sample, 'standard' only: contrast around the image's per-channel mean, then brightness. */
  colour?: { brightness: Float32Array; contrast: Float32Array };
}

/** A seed for the step's generator: the run's seed and the step mixed, so neighbouring steps draw unrelated values. */
function stepSeed(seed: number, step: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ (step >>> 0), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The draws of step `step` of a run seeded `seed`, for a batch of n images of h × w pixels. */
export function augmentationPlan(level: Exclude<AugmentLevel, 'none'>, n: number, h: number, w: number, seed: number, step: number): AugmentPlan {
  const rng = createRng(stepSeed(seed, step));
  const maxShiftY = Math.floor(h * AUGMENT_SHIFT_FRACTION);
  const maxShiftX = Math.floor(w * AUGMENT_SHIFT_FRACTION);
  const shift = (max: number): number => Math.floor(rng() * (2 * max + 1)) - max;
  const factor = (): number => 1 - AUGMENT_INTENSITY_RANGE + 2 * AUGMENT_INTENSITY_RANGE * rng();
  const plan: AugmentPlan = { maxShiftY, maxShiftX, shiftY: new Int32Array(n), shiftX: new Int32Array(n), flip: new Uint8Array(n) };
  const colour = level === 'standard' ? { brightness: new Float32Array(n), contrast: new Float32Array(n) } : undefined;
  // Sample by sample, in a fixed order, so that sample i's draws do not depend on the batch's size.
  for (let i = 0; i < n; i++) {
    plan.shiftY[i] = shift(maxShiftY);
    plan.shiftX[i] = shift(maxShiftX);
    if (!colour) continue;
    plan.flip[i] = rng() < 0.5 ? 1 : 0;
    colour.brightness[i] = factor();
    colour.contrast[i] = factor();
  }
  if (colour) plan.colour = colour;
  return plan;
}

/**
 * The largest pixel value of inputs scaled this way: brightness and contrast are clipped to
 * [0, this]. Standardized inputs (tables) have no pixel range: augmentation refuses them.
 */
export function pixelRangeMax(normalization: Normalization): number {
  if (normalization.kind !== 'scale')
    throw new Error('augmentation needs images scaled to a pixel range; this dataset is standardized (a table): use augmentation "none"');
  return 255 * normalization.scale;
}

/** How far the first and last sample of a side are pulled toward the box's centre, in pixels: see the file's comment. */
const INWARD = 0.45;

/** The normalised [from, to] of a box side whose samples show pixels `first`, then one by one up to (or down to) `last`, of a side `size` long. */
function boxSide(first: number, last: number, size: number): [number, number] {
  const inward = INWARD * Math.sign(last - first);
  const span = Math.max(size - 1, 1);
  return [(first + inward) / span, (last - inward) / span];
}

/** [y1, x1, y2, x2] per sample in the image's normalised coordinates; x1 > x2 mirrors. */
function cropBoxes(plan: AugmentPlan, h: number, w: number): Float32Array {
  const n = plan.shiftY.length;
  const boxes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    // Output row r shows input row r − shiftY; output column c shows input column c − shiftX,
    // or when mirrored w − 1 − (c − shiftX).
    const top = -plan.shiftY[i]!;
    const [y1, y2] = boxSide(top, top + h - 1, h);
    const left = plan.flip[i] ? w - 1 + plan.shiftX[i]! : -plan.shiftX[i]!;
    const [x1, x2] = boxSide(left, plan.flip[i] ? left - (w - 1) : left + w - 1, w);
    boxes.set([y1, x1, y2, x2], 4 * i);
  }
  return boxes;
}

/** Applies a plan to a batch [n, h, w, c] of inputs in [0, pixelMax]; returns a new tensor. */
export function applyAugmentation(x: tf.Tensor4D, plan: AugmentPlan, pixelMax: number): tf.Tensor4D {
  const [n, h, w] = x.shape;
  if (plan.shiftY.length !== n) throw new Error(`augmentation plan for ${plan.shiftY.length} samples, batch of ${n}`);
  return tf.tidy(() => {
    const boxes = tf.tensor2d(cropBoxes(plan, h, w), [n, 4]);
    const boxIndex = tf.tensor1d(
      Int32Array.from({ length: n }, (_, i) => i),
      'int32',
    );
    const moved = tf.image.cropAndResize(x, boxes, boxIndex, [h, w], 'nearest', 0);
    if (!plan.colour) return moved;
    // b·((v − m)·c + m) = v·(b·c) + m·(b·(1 − c)), m the image's per-channel mean.
    const { brightness, contrast } = plan.colour;
    const scale = tf.tensor4d(
      brightness.map((b, i) => b * contrast[i]!),
      [n, 1, 1, 1],
    );
    const offset = tf.tensor4d(
      brightness.map((b, i) => b * (1 - contrast[i]!)),
      [n, 1, 1, 1],
    );
    const mean = tf.mean(moved, [1, 2], true);
    return tf.clipByValue(tf.add(tf.mul(moved, scale), tf.mul(mean, offset)), 0, pixelMax) as tf.Tensor4D;
  });
}

/**
 * The batch as this step trains on it: `x` itself for 'none', else a new tensor (`x` is left to
 * the caller). `x` is [n, h, w, c] images normalised as `normalization` says.
 */
export function augmentBatch(x: tf.Tensor, level: AugmentLevel, seed: number, step: number, normalization: Normalization): tf.Tensor {
  if (level === 'none') return x;
  if (x.rank !== 4) throw new Error(`augmentation "${level}" needs a batch of images [n, h, w, c]; got inputs of shape [${x.shape.join(', ')}]`);
  const pixelMax = pixelRangeMax(normalization);
  const [n, h, w] = x.shape as [number, number, number, number];
  return applyAugmentation(x as tf.Tensor4D, augmentationPlan(level, n, h, w, seed, step), pixelMax);
}
