// Batch normalisation for the wasm backend: two kernels of the app's own for training (tfjs has
// no kernels for either) and a faster FusedBatchNorm. Through tfjs-layers, a training step's batch
// norm is about 30 kernels: tf.moments (Cast, Mean, Sub, Square, Mean), FusedBatchNorm, and their
// gradients, among them a Tile of the whole activation that tfjs-backend-wasm runs in scalar C++
// (a third of a ResNet's step; see docs/benchmarks.md). Here the statistics are one pass over x,
// the normalisation one, and the gradient two:
//
//   BatchNormStatistics(x [.., C]) -> mean [C], variance [C]   (biased, over all leading axes)
//   BatchNormTrainingGrad(dy, x, mean, variance, scale; varianceEpsilon) -> dx, dScale, dOffset
//     with M = size / C, s = 1/sqrt(variance + eps), xhat = (x - mean) * s,
//     dOffset = sum(dy), dScale = sum(dy * xhat),
//     dx = scale * s * (dy - dOffset / M - xhat * dScale / M)
//
// which is the gradient of y = scale * xhat + offset through the batch's own mean and variance
// (what tfjs-layers' BatchNormalization differentiates, op by op). models/batch-norm-layer.ts calls
// them when the active backend has them. With C % 4 == 0 (every batch norm of the app's models)
// the passes are SIMD routines (wasm-simd-channels.ts); sums run in float32 over blocks of
// BLOCK_ROWS rows and the blocks add up in double. Otherwise JavaScript loops do the same.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sizeOf, wasmKernel, type Info } from './wasm-kernel-utils.js';
import { simdKernels } from './wasm-simd.js';

export const BATCH_NORM_STATISTICS = 'BatchNormStatistics';
export const BATCH_NORM_TRAINING_GRAD = 'BatchNormTrainingGrad';

/** Rows summed in float32 before the sum goes into a double: error about BLOCK_ROWS·2⁻²⁴ at worst. */
const BLOCK_ROWS = 256;

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

function channels(x: Info): { C: number; M: number } {
  if (x.dtype !== 'float32') throw new Error(`batch norm kernels take float32, got ${x.dtype}`);
  const C = x.shape[x.shape.length - 1] ?? 1;
  return { C, M: C === 0 ? 0 : sizeOf(x.shape) / C };
}

/** Per-channel float32 vectors on the heap for the SIMD routines: `count` of them, C floats each. */
class Scratch {
  private readonly t: Info;
  constructor(
    private readonly backend: BackendWasm,
    private readonly C: number,
    count: number,
  ) {
    this.t = backend.makeOutput([count * C], 'float32');
  }
  /** Byte offset of vector i. */
  at(i: number): number {
    return this.backend.getMemoryOffset(this.t.dataId) + i * this.C * 4;
  }
  /** Vector i as a view (take views after the last allocation: growing the heap detaches them). */
  view(i: number): Float32Array {
    return (this.backend.typedArrayFromHeap(this.t) as Float32Array).subarray(i * this.C, (i + 1) * this.C);
  }
  dispose(): void {
    this.backend.disposeData(this.t.dataId);
  }
}

/**
 * Per-channel sums over the rows of [M, C] data, in double: `simdBlock(r0, rows, s1, s2)` adds
 * rows r0… into the float32 scratch vectors s1, s2 (byte offsets), `scalarRow(o, s1, s2)` adds the
 * row at element offset o into doubles. Returns [sum1, sum2].
 */
function channelSums(
  backend: BackendWasm,
  C: number,
  M: number,
  simdBlock: ((r0: number, rows: number, s1: number, s2: number) => void) | null,
  scalarRow: (o: number, s1: Float64Array, s2: Float64Array) => void,
): [Float64Array, Float64Array] {
  const sum1 = new Float64Array(C);
  const sum2 = new Float64Array(C);
  if (simdBlock === null) {
    for (let o = 0; o < M * C; o += C) scalarRow(o, sum1, sum2);
    return [sum1, sum2];
  }
  const scratch = new Scratch(backend, C, 2);
  try {
    for (let r0 = 0; r0 < M; r0 += BLOCK_ROWS) {
      const a = scratch.view(0);
      const b = scratch.view(1);
      a.fill(0);
      b.fill(0);
      simdBlock(r0, Math.min(BLOCK_ROWS, M - r0), scratch.at(0), scratch.at(1));
      for (let c = 0; c < C; c++) {
        sum1[c] += a[c];
        sum2[c] += b[c];
      }
    }
  } finally {
    scratch.dispose();
  }
  return [sum1, sum2];
}

function batchNormStatisticsWasm(args: KernelArgs): Info[] {
  const { x } = args.inputs as { x: Info };
  const backend = args.backend as BackendWasm;
  const { C, M } = channels(x);
  const mean = backend.makeOutput([C], 'float32');
  const variance = backend.makeOutput([C], 'float32');
  const simd = C % 4 === 0 && M > 0 ? simdKernels(backend) : null;
  // Sums of x - shift, shift = the first row: close to the mean, so that the variance,
  // E[(x-shift)²] - E[x-shift]², does not lose digits to a mean far from zero.
  const shift = new Scratch(backend, C, 1);
  try {
    // Views taken here serve the scalar path, which allocates nothing.
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    shift.view(0).set(xs.subarray(0, M > 0 ? C : 0));
    const k = Float64Array.from(shift.view(0));
    const xp = backend.getMemoryOffset(x.dataId);
    const [s1, s2] = channelSums(backend, C, M, simd && ((r0, rows, a, b) => simd.shiftedSums(xp + r0 * C * 4, rows, C * 4, shift.at(0), a, b)), (o, a, b) => {
      for (let c = 0; c < C; c++) {
        const t = xs[o + c] - k[c];
        a[c] += t;
        b[c] += t * t;
      }
    });
    const m = backend.typedArrayFromHeap(mean) as Float32Array;
    const s = backend.typedArrayFromHeap(variance) as Float32Array;
    for (let c = 0; c < C; c++) {
      const d = M === 0 ? 0 : s1[c] / M;
      m[c] = k[c] + d;
      s[c] = M === 0 ? 0 : Math.max(0, s2[c] / M - d * d);
    }
  } finally {
    shift.dispose();
  }
  return [mean, variance];
}

function batchNormTrainingGradWasm(args: KernelArgs): Info[] {
  const { dy, x, mean, variance, scale } = args.inputs as { dy: Info; x: Info; mean: Info; variance: Info; scale: Info };
  const backend = args.backend as BackendWasm;
  const eps = (args.attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
  const { C, M } = channels(x);
  for (const [name, t] of [
    ['mean', mean],
    ['variance', variance],
    ['scale', scale],
  ] as const) {
    if (sizeOf(t.shape) !== C || t.dtype !== 'float32') throw new Error(`${BATCH_NORM_TRAINING_GRAD}: ${name} must be float32 of ${C} values`);
  }
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dScale = backend.makeOutput([C], 'float32');
  const dOffset = backend.makeOutput([C], 'float32');
  const simd = C % 4 === 0 && M > 0 ? simdKernels(backend) : null;
  const ptr = (t: Info): number => backend.getMemoryOffset(t.dataId);
  const heap = (t: Info): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;
  // Pass 1: per channel, sum(dy) and sum(dy * (x - mean)). (Views for the scalar path, which allocates nothing.)
  const [dyV, xV, meanV] = [heap(dy), heap(x), heap(mean)];
  const [s1, s2] = channelSums(
    backend,
    C,
    M,
    simd && ((r0, rows, a, b) => simd.gradSums(ptr(dy) + r0 * C * 4, ptr(x) + r0 * C * 4, rows, C * 4, ptr(mean), a, b)),
    (o, a, b) => {
      for (let c = 0; c < C; c++) {
        a[c] += dyV[o + c];
        b[c] += dyV[o + c] * (xV[o + c] - meanV[c]);
      }
    },
  );
  // Pass 2: dx = k1 * dy + k2 * x + k3, per channel.
  const k = new Scratch(backend, C, 3);
  try {
    const [k1, k2, k3] = [k.view(0), k.view(1), k.view(2)];
    const [mu, v, gamma, ds, dOff] = [mean, variance, scale, dScale, dOffset].map(heap) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    for (let c = 0; c < C; c++) {
      const inv = 1 / Math.sqrt(v[c] + eps);
      ds[c] = s2[c] * inv;
      dOff[c] = s1[c];
      const a = gamma[c] * inv;
      const b = M === 0 ? 0 : (-a * inv * inv * s2[c]) / M;
      k1[c] = a;
      k2[c] = b;
      k3[c] = (M === 0 ? 0 : (-a * s1[c]) / M) - mu[c] * b;
    }
    if (simd !== null) {
      simd.affine2(ptr(dy), ptr(x), M, C * 4, k.at(0), k.at(1), k.at(2), ptr(dx));
    } else {
      const [out, g, xs] = [heap(dx), heap(dy), heap(x)];
      for (let o = 0; o < M * C; o += C) {
        for (let c = 0; c < C; c++) out[o + c] = k1[c] * g[o + c] + k2[c] * xs[o + c] + k3[c];
      }
    }
  } finally {
    k.dispose();
  }
  return [dx, dScale, dOffset];
}

/**
 * FusedBatchNorm, y = (x - mean) * scale / sqrt(variance + eps) + offset, as one SIMD pass of
 * y = x * a + b (a, b per channel) where the parameters are per channel or scalars and C % 4 == 0;
 * otherwise the stock kernel (a scalar C++ loop, several times slower).
 */
function fusedBatchNormWasm(args: KernelArgs): Info {
  const { x, mean, variance, offset, scale } = args.inputs as { x: Info; mean: Info; variance: Info; offset?: Info; scale?: Info };
  const backend = args.backend as BackendWasm;
  const eps = (args.attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
  const C = x.shape[x.shape.length - 1] ?? 0;
  const params = [mean, variance, offset, scale];
  const fits = params.every((t) => t === undefined || (t.dtype === 'float32' && (sizeOf(t.shape) === C || sizeOf(t.shape) === 1)));
  const simd = fits && x.dtype === 'float32' && C > 0 && C % 4 === 0 && sizeOf(x.shape) > 0 ? simdKernels(backend) : null;
  if (simd === null) return wasmKernel(tf.FusedBatchNorm)({ inputs: args.inputs, backend: args.backend as object, attrs: args.attrs }) as Info;
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const ab = new Scratch(backend, C, 2);
  try {
    const value = (t: Info | undefined, fallback: number): ((c: number) => number) => {
      if (t === undefined) return () => fallback;
      const v = backend.typedArrayFromHeap(t) as Float32Array;
      return v.length === 1 ? () => v[0] : (c) => v[c];
    };
    const [mu, vr, off, sc] = [value(mean, 0), value(variance, 1), value(offset, 0), value(scale, 1)];
    const [a, b] = [ab.view(0), ab.view(1)];
    for (let c = 0; c < C; c++) {
      a[c] = sc(c) / Math.sqrt(vr(c) + eps);
      b[c] = off(c) - mu(c) * a[c];
    }
    simd.affine(backend.getMemoryOffset(x.dataId), sizeOf(x.shape) / C, C * 4, ab.at(0), ab.at(1), backend.getMemoryOffset(out.dataId));
  } finally {
    ab.dispose();
  }
  return out;
}

export const batchNormStatisticsConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_STATISTICS,
  backendName: 'wasm',
  kernelFunc: batchNormStatisticsWasm as unknown as tf.KernelFunc,
};

export const batchNormTrainingGradConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAINING_GRAD,
  backendName: 'wasm',
  kernelFunc: batchNormTrainingGradWasm as unknown as tf.KernelFunc,
};

export const fusedBatchNormConfig: tf.KernelConfig = {
  kernelName: tf.FusedBatchNorm,
  backendName: 'wasm',
  kernelFunc: fusedBatchNormWasm as unknown as tf.KernelFunc,
};
