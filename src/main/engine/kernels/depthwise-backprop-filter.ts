// DepthwiseConv2dNativeBackpropFilter for the wasm backend:
//   dW[kh,kw,c,q] = sum_{n,oh,ow} x[n, oh*s+kh*d-pt, ow*s+kw*d-pl, c] * dy[n,oh,ow,c*m+q]
// With one filter per channel (m = 1, as in every MobileNet) and C % 4 == 0, each tap (kh,kw) is
// one SIMD pass over the output pixels that read inside x (wasm-simd-channels.ts), image by
// image, summed in double across images. Otherwise it is composed from XNNPACK's depthwise
// convolution: per (n,c) pair this is a correlation of x with dy, a depthwise convolution (stride
// d, dilation s) of x viewed as [1,H,W,N*C] with dy viewed as the filter [oh,ow,N*C,m], giving
// [1,kh,kw,N*C*m]; summing over n gives dW. That composition packs all of dy as a filter of
// oh x ow taps each time, XNNPACK's slow case: several times slower than the taps.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { expectChannels, expectShape, finish, float32, withScope, type Info, type Shape4 } from './wasm-kernel-utils.js';
import { simdKernels, type SimdKernels } from './wasm-simd.js';

let tapsEnabled = true;

/** Turns the SIMD taps off (tests compare both paths). */
export function setDepthwiseFilterTaps(enabled: boolean): void {
  tapsEnabled = enabled;
}

/** The range [lo, hi) of output positions whose tap at `offset` (k*d - pad) reads inside [0, size). */
function validRange(offset: number, stride: number, size: number, outSize: number): [number, number] {
  const lo = Math.max(0, Math.ceil(-offset / stride));
  const hi = Math.min(outSize, Math.floor((size - 1 - offset) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

function viaTaps(simd: SimdKernels, backend: BackendWasm, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, filterHeight: KH, filterWidth: KW } = info;
  const { top: pt, left: pl } = info.padInfo;
  const taps = KH * KW;
  const out = backend.makeOutput([KH, KW, C, 1], 'float32');
  const scratch = backend.makeOutput([taps * C], 'float32');
  try {
    const acc = backend.getMemoryOffset(scratch.dataId);
    const [xp, dp] = [backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(dy.dataId)];
    const sums = new Float64Array(taps * C);
    const cb = C * 4;
    for (let n = 0; n < N; n++) {
      const partial = backend.typedArrayFromHeap(scratch) as Float32Array;
      partial.fill(0);
      for (let kh = 0; kh < KH; kh++) {
        const [oh0, oh1] = validRange(kh * dh - pt, sh, H, OH);
        for (let kw = 0; kw < KW; kw++) {
          const [ow0, ow1] = validRange(kw * dw - pl, sw, W, OW);
          if (oh1 <= oh0 || ow1 <= ow0) continue;
          const ih0 = oh0 * sh + kh * dh - pt;
          const iw0 = ow0 * sw + kw * dw - pl;
          const xAt = xp + ((n * H + ih0) * W + iw0) * cb;
          const dyAt = dp + ((n * OH + oh0) * OW + ow0) * cb;
          simd.depthwiseTap(xAt, dyAt, oh1 - oh0, ow1 - ow0, sh * W * cb, sw * cb, OW * cb, cb, acc + (kh * KW + kw) * cb);
        }
      }
      for (let k = 0; k < taps * C; k++) sums[k] += partial[k];
    }
    (backend.typedArrayFromHeap(out) as Float32Array).set(sums);
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return out;
}

function depthwiseBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    attrs.filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: oh,
    outWidth: ow,
    outChannels,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  // No stock kernel to hand other cases to: shapes the attributes do not imply are errors.
  expectShape(tf.DepthwiseConv2dNativeBackpropFilter, 'dy', dy, info.outShape);
  expectChannels(tf.DepthwiseConv2dNativeBackpropFilter, 'filterShape', attrs.filterShape[2], C);
  const m = outChannels / C;
  const { top: pt, left: pl } = info.padInfo;
  const simd = tapsEnabled && m === 1 && C % 4 === 0 && x.dtype === 'float32' && dy.dtype === 'float32' ? simdKernels(args.backend as BackendWasm) : null;
  if (simd !== null) return viaTaps(simd, args.backend as BackendWasm, x, dy, info);
  return withScope(args.backend, (s) => {
    const xT = s.view(s.transpose(float32(s, x), [1, 2, 0, 3]), [1, H, W, N * C]);
    const dyT = s.view(s.transpose(float32(s, dy), [1, 2, 0, 3]), [oh, ow, N * C, m]);
    // Padding that makes the output exactly kh x kw (negative: crop rows no tap reaches).
    const pb = (kh - 1) * dh + (oh - 1) * sh + 1 - H - pt;
    const pr = (kw - 1) * dw + (ow - 1) * sw + 1 - W - pl;
    const out = s.conv('DepthwiseConv2dNative', xT, dyT, [dh, dw], [sh, sw], [pt, pb, pl, pr]); // [1,kh,kw,N*C*m]
    const dW = N === 1 ? out : s.run('Sum', { x: s.view(out, [kh * kw, N, C * m]) }, { axis: [1], keepDims: false });
    return finish(s, dW, [kh, kw, C, m]);
  });
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilterWasm as unknown as tf.KernelFunc,
};
