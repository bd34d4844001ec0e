// Conv2DBackpropFilter for the wasm backend, composed from its XNNPACK Conv2D:
//   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
// is a stride-1 convolution, at dilation s, of x transposed to [ci,H,W,N] (batch ci, channels
// N) with dy transposed to [oh,ow,N,co] (as an HWIO filter), giving [ci,kh,kw,co].
import * as tf from '@tensorflow/tfjs';
import { finish, withScope, type Info, type Shape4 } from './wasm-kernel-utils.js';

export function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const format = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, attrs.filterShape as Shape4, attrs.strides, 1,
    attrs.pad, attrs.dimRoundingMode, false, format);
  const { inHeight: H, inWidth: W, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co,
    strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { top: pt, left: pl } = info.padInfo;
  const last = format === 'channelsLast';
  return withScope(args.backend, (s) => {
    const xT = s.transpose(x, last ? [3, 1, 2, 0] : [1, 2, 3, 0]); // [ci,H,W,N]
    const dyT = s.transpose(dy, last ? [1, 2, 0, 3] : [2, 3, 0, 1]); // [oh,ow,N,co]
    // Bottom/right padding that makes the output exactly kh x kw (negative: crop unused rows).
    const pb = kh - 1 + (oh - 1) * sh + 1 - H - pt;
    const pr = kw - 1 + (ow - 1) * sw + 1 - W - pl;
    const out = s.conv('Conv2D', xT, dyT, [1, 1], [sh, sw], [pt, pb, pl, pr]); // [ci,kh,kw,co]
    return finish(s, s.transpose(out, [1, 2, 0, 3]), [kh, kw, ci, co]);
  });
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
};
