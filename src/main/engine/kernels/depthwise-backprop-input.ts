// DepthwiseConv2dNativeBackpropInput for the wasm backend, composed from its XNNPACK
// depthwise convolution:
//   dx[n,ih,iw,c] = sum_{kh,kw,q} dy[n,oh,ow,c*m+q] * W[kh,kw,c,q],  ih = oh*s + kh*d - pt
// dy with s-1 zeros inserted between rows/columns, convolved (stride 1, dilation d, "full"
// padding) with the spatially reversed filter as an [kh,kw,C*m,1] depthwise filter, gives
// [N,H,W,C*m]; summing the m multipliers of each channel gives dx.
import * as tf from '@tensorflow/tfjs';
import { expectChannels, expectShape, finish, float32, withScope, type Info, type Shape4 } from './wasm-kernel-utils.js';

function depthwiseBackpropInputWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape as Shape4,
    filter.shape as Shape4,
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
    outChannels,
    outHeight: oh,
    outWidth: ow,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  // No stock kernel to hand other cases to: shapes the attributes do not imply are errors, other
  // dtypes are cast (flipFilter and the convolution read float32).
  expectShape(tf.DepthwiseConv2dNativeBackpropInput, 'dy', dy, info.outShape);
  expectChannels(tf.DepthwiseConv2dNativeBackpropInput, 'filter', filter.shape[2], C);
  const m = outChannels / C;
  const { top: pt, left: pl } = info.padInfo;
  return withScope(args.backend, (s) => {
    const dyU = s.upsample(float32(s, dy), sh, sw); // [N, oh*sh, ow*sw, C*m]
    const wR = s.view(s.flipFilter(float32(s, filter), false), [kh, kw, C * m, 1]);
    const top = (kh - 1) * dh - pt;
    const left = (kw - 1) * dw - pl;
    const bottom = H - oh * sh - top + (kh - 1) * dh;
    const right = W - ow * sw - left + (kw - 1) * dw;
    const out = s.conv('DepthwiseConv2dNative', dyU, wR, [1, 1], [dh, dw], [top, bottom, left, right]); // [N,H,W,C*m]
    const dx = m === 1 ? out : s.run('Sum', { x: s.view(out, [N * H * W * C, m]) }, { axis: [1], keepDims: false });
    return finish(s, dx, [N, H, W, C]);
  });
}

export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInputWasm as unknown as tf.KernelFunc,
};
