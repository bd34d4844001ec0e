// MaxPoolGrad for the wasm backend, registered over the stock one. The stock C++ kernel walks,
// for every input pixel, all the windows that hold it through a generic 3D pooling template
// (slow: see the per-kernel profile in docs/benchmarks.md), and it starts its max search at
// FLT_MIN, so a window of zeros or negatives (common after ReLU) sends its gradient nowhere.
// This one makes one pass over the output windows on the wasm heap: each window's gradient goes
// to its first maximum in row-major order, as on the cpu backend (and in TensorFlow).
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sameShape, stockKernel, type Info } from './wasm-kernel-utils.js';
import { simdKernels } from './wasm-simd.js';

function maxPoolGradWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  // The passes read float32 and take dy to be the [N, OH, OW, C] the attributes imply: other
  // cases go to the stock kernel.
  const handled = input.dtype === 'float32' && dy.dtype === 'float32' && sameShape(dy.shape, info.outShape);
  if (!handled) return stockKernel(tf.MaxPoolGrad, args);
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: KH,
    filterWidth: KW,
  } = info;
  const { top: pt, left: pl } = info.padInfo;
  const out = backend.makeOutput(input.shape.slice(), 'float32');
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const simd = simdKernels(backend);
  if (KH === 2 && KW === 2 && sh === 2 && sw === 2 && pt === 0 && pl === 0 && 2 * OH <= H && 2 * OW <= W) {
    if (simd !== null && C % 4 === 0) {
      const [xp, gp, dxp] = [input, dy, out].map((t) => backend.getMemoryOffset(t.dataId));
      const rb = W * C * 4;
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < OH; oh++) {
          const row = (n * H + 2 * oh) * W * C * 4;
          simd.maxPool2x2GradRow(xp + row, gp + (n * OH + oh) * OW * C * 4, dxp + row, OW, C * 4, rb);
        }
      }
      zeroOutsideWindows(dx, N, H, W, C, OH, OW);
    } else {
      pool2x2(x, g, dx, N, H, W, C, OH, OW);
    }
  } else {
    generic(x, g, dx, N, H, W, C, OH, OW, sh, sw, KH, KW, pt, pl);
  }
  return out;
}

/** 2x2 windows at stride 2 without padding (the usual pooling layer): every input pixel is in at most one window. */
function pool2x2(x: Float32Array, g: Float32Array, dx: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number): void {
  const rowStride = W * C;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const rowBase = (n * H + 2 * oh) * rowStride;
      for (let ow = 0; ow < OW; ow++) {
        const i0 = rowBase + 2 * ow * C;
        const i1 = i0 + C;
        const i2 = i0 + rowStride;
        const i3 = i2 + C;
        const yBase = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          // First maximum in row-major order, starting below everything (as the cpu backend).
          let best = -Infinity;
          let k = -1;
          const a = x[i0 + c];
          if (a > best) {
            best = a;
            k = 0;
          }
          const b = x[i1 + c];
          if (b > best) {
            best = b;
            k = 1;
          }
          const d = x[i2 + c];
          if (d > best) {
            best = d;
            k = 2;
          }
          const e = x[i3 + c];
          if (e > best) {
            k = 3;
          }
          const v = g[yBase + c];
          dx[i0 + c] = k === 0 ? v : 0;
          dx[i1 + c] = k === 1 ? v : 0;
          dx[i2 + c] = k === 2 ? v : 0;
          dx[i3 + c] = k === 3 ? v : 0;
        }
      }
      // A last odd column is in no window.
      if (2 * OW < W) {
        for (let r = 0; r < 2; r++) dx.fill(0, rowBase + r * rowStride + 2 * OW * C, rowBase + (r + 1) * rowStride);
      }
    }
    // Rows below the last window are in none.
    if (2 * OH < H) dx.fill(0, (n * H + 2 * OH) * rowStride, (n + 1) * H * rowStride);
  }
}

/** Zeroes what no 2x2 window covers: a last odd column and a last odd row. */
function zeroOutsideWindows(dx: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number): void {
  const rowStride = W * C;
  for (let n = 0; n < N; n++) {
    if (2 * OW < W) {
      for (let r = 0; r < 2 * OH; r++) {
        const rowBase = (n * H + r) * rowStride;
        dx.fill(0, rowBase + 2 * OW * C, rowBase + rowStride);
      }
    }
    if (2 * OH < H) dx.fill(0, (n * H + 2 * OH) * rowStride, (n + 1) * H * rowStride);
  }
}

/** Any window size, stride and padding: windows may overlap, so gradients accumulate. */
function generic(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  N: number,
  H: number,
  W: number,
  C: number,
  OH: number,
  OW: number,
  sh: number,
  sw: number,
  KH: number,
  KW: number,
  pt: number,
  pl: number,
): void {
  dx.fill(0);
  // Offsets of the window's taps; windows cut by the border use a shorter list.
  const taps = new Int32Array(KH * KW);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - pt;
      const hLo = Math.max(0, h0);
      const hHi = Math.min(H, h0 + KH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - pl;
        const wLo = Math.max(0, w0);
        const wHi = Math.min(W, w0 + KW);
        let nt = 0;
        for (let ih = hLo; ih < hHi; ih++) {
          for (let iw = wLo; iw < wHi; iw++) taps[nt++] = ((n * H + ih) * W + iw) * C;
        }
        const yBase = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let p = -1;
          for (let t = 0; t < nt; t++) {
            const v = x[taps[t] + c];
            if (v > best) {
              best = v;
              p = taps[t] + c;
            }
          }
          if (p >= 0) dx[p] += g[yBase + c];
        }
      }
    }
  }
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc,
};
