// DepthwiseConv2dNativeBackpropFilter for the wasm backend, composed from its XNNPACK
// depthwise convolution:
//   dW[kh,kw,c,q] = sum_{n,oh,ow} x[n, oh*s+kh*d-pt, ow*s+kw*d-pl, c] * dy[n,oh,ow,c*m+q]
// Per (n,c) pair this is a correlation of x with dy: a depthwise convolution (stride d,
// dilation s) of x viewed as [1,H,W,N*C] with dy viewed as the filter [oh,ow,N*C,m], giving
// [1,kh,kw,N*C*m]; summing over n gives dW.
import * as tf from '@tensorflow/tfjs';
import { finish, withScope, type Info, type Shape4 } from './wasm-kernel-utils.js';

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
  const m = outChannels / C;
  const { top: pt, left: pl } = info.padInfo;
  return withScope(args.backend, (s) => {
    const xT = s.view(s.transpose(x, [1, 2, 0, 3]), [1, H, W, N * C]);
    const dyT = s.view(s.transpose(dy, [1, 2, 0, 3]), [oh, ow, N * C, m]);
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
