// MaxPoolGrad for the wasm backend, registered over the stock one. The stock C++ kernel walks,
// for every input pixel, all the windows that hold it through a generic 3D pooling template
// (about 4 ms for a 32x26x26x16 input), and it starts its max search at FLT_MIN, so a window
// of zeros or negatives (common after ReLU) sends its gradient nowhere. This one makes one
// pass over the output windows on the wasm heap: each window's gradient goes to its first
// maximum in row-major order, as on the cpu backend (and in TensorFlow).
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Info } from './wasm-kernel-utils.js';

export function maxPoolGradWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW,
    strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = info;
  const { top: pt, left: pl } = info.padInfo;
  const out = backend.makeOutput(input.shape.slice(), 'float32');
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  // Offsets of the window's taps relative to its top-left corner; windows cut by the border
  // use a shorter list.
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
  return out;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc,
};
