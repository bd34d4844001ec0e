// Conv2DBackpropInput for the wasm backend, registered over the stock one (a scalar C++ loop)
// and composed from its XNNPACK Conv2D:
//   dx[n,ih,iw,ci] = sum_{kh,kw,co} dy[n,oh,ow,co] * W[kh,kw,ci,co],  ih = oh*s + kh - pt
// dy with s-1 zeros inserted between rows/columns, convolved (stride 1, "full" padding) with
// the filter reversed in space and transposed to [kh,kw,co,ci], gives dx.
// The composition takes every size from `inputShape` and the filter, and so assumes dy is the
// [N, oh, ow, co] (or NCHW) those imply, both float32: any other case (tfjs-core's conv2dTranspose
// test passes an 8x8 dy for a 4x4 output, whose top-left 4x4 the stock kernel reads) goes to the
// stock kernel, so that every attribute means what it means there.
import * as tf from '@tensorflow/tfjs';
import { finish, sameShape, stockKernel, withScope, type Info, type Shape4 } from './wasm-kernel-utils.js';

function conv2DBackpropInputWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const format = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape as Shape4,
    filter.shape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    format,
  );
  const handled = dy.dtype === 'float32' && filter.dtype === 'float32' && sameShape(dy.shape, info.outShape) && filter.shape[2] === info.inChannels;
  if (!handled) return stockKernel(tf.Conv2DBackpropInput, args);
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: ci,
    outHeight: oh,
    outWidth: ow,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  const { top: pt, left: pl } = info.padInfo;
  const last = format === 'channelsLast';
  return withScope(args.backend, (s) => {
    const dyL = last ? dy : s.transpose(dy, [0, 2, 3, 1]);
    const dyU = s.upsample(dyL, sh, sw); // [N, oh*sh, ow*sw, co]
    const wR = s.flipFilter(filter, true); // [kh,kw,co,ci], reversed in space
    const top = kh - 1 - pt;
    const left = kw - 1 - pl;
    const bottom = H - oh * sh - top + kh - 1;
    const right = W - ow * sw - left + kw - 1;
    const out = s.conv('Conv2D', dyU, wR, [1, 1], [1, 1], [top, bottom, left, right]); // [N,H,W,ci]
    if (last) return finish(s, out, [N, H, W, ci]);
    return finish(s, s.transpose(out, [0, 3, 1, 2]), [N, ci, H, W]);
  });
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm as unknown as tf.KernelFunc,
};
