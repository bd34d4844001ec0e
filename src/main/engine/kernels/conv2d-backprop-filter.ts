// Conv2DBackpropFilter for the wasm backend, composed from its XNNPACK kernels:
//   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
// Two compositions, by the number of input channels:
// - 'conv': a stride-1 convolution, at dilation s, of x transposed to [ci,H,W,N] (batch ci,
//   channels N) with dy transposed to [oh,ow,N,co] (as an HWIO filter), giving [ci,kh,kw,co].
// - 'im2col' (few input channels, e.g. a network's first layer): the windows of x, gathered by
//   a convolution with a one-hot filter into [N*oh*ow, kh*kw*ci], transposed and multiplied by
//   dy as [N*oh*ow, co] (one XNNPACK matrix product), giving [kh,kw,ci,co] directly. The conv
//   form has only kh*kw*ci output pixels there and pays mostly for packing dy as a filter.
// - 'matmul' (1x1 filters, which every pointwise convolution of a MobileNet and every projection
//   shortcut of a ResNet has): x, subsampled at the stride where the stride is above 1, is a
//   [N*oh*ow, ci] matrix, and dW = x^T.dy one XNNPACK matrix product. The conv form is several
//   times slower there (a 16x16 "filter" of N channels for a 1x1 output, XNNPACK's slow case).
import * as tf from '@tensorflow/tfjs';
import { expectChannels, expectShape, finish, float32, withScope, type Info, type Shape4, type WasmScope } from './wasm-kernel-utils.js';

type FilterGradStrategy = 'auto' | 'auto-without-matmul' | 'conv' | 'im2col' | 'matmul';
let strategy: FilterGradStrategy = 'auto';

/**
 * Forces one composition (tests, benchmarks) where it applies ('matmul': 1x1 filters that read
 * no padding; elsewhere 'auto'); 'auto' picks by filter size and input channels, and
 * 'auto-without-matmul' by input channels alone (as before 'matmul' existed).
 */
export function setConv2DBackpropFilterStrategy(s: FilterGradStrategy): void {
  strategy = s;
}

/**
 * At or below this many input channels 'auto' uses im2col (measured with bench/kernels-wasm.ts at
 * batch 32–64: clearly faster for one input channel, even for two to four, slower from eight on).
 */
const IM2COL_MAX_IN_CHANNELS = 2;

function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const format = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    attrs.filterShape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    format,
  );
  // The wasm backend has no Conv2DBackpropFilter to hand other cases to: shapes the attributes do
  // not imply are errors, other dtypes are cast (as the cpu backend reads any dtype as numbers).
  expectShape(tf.Conv2DBackpropFilter, 'dy', dy, info.outShape);
  expectChannels(tf.Conv2DBackpropFilter, 'filterShape', attrs.filterShape[2], info.inChannels);
  const useMatmul = (strategy === 'auto' || strategy === 'matmul') && pointwiseWithoutPadding(info);
  const auto = strategy === 'auto' || strategy === 'auto-without-matmul';
  const useIm2col = !useMatmul && (strategy === 'im2col' || (auto && info.inChannels <= IM2COL_MAX_IN_CHANNELS));
  return withScope(args.backend, (s) => {
    const [xf, dyf] = [float32(s, x), float32(s, dy)];
    return useMatmul ? viaMatmul(s, xf, dyf, info) : useIm2col ? viaIm2col(s, xf, dyf, info) : viaConv(s, xf, dyf, info);
  });
}

/** A 1x1 filter whose every tap reads inside x (no padding is read), channels last. */
function pointwiseWithoutPadding(info: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, padInfo, outHeight, outWidth, strideHeight, strideWidth, inHeight, inWidth } = info;
  return (
    info.dataFormat === 'channelsLast' &&
    filterHeight === 1 &&
    filterWidth === 1 &&
    padInfo.top === 0 &&
    padInfo.left === 0 &&
    (outHeight - 1) * strideHeight < inHeight &&
    (outWidth - 1) * strideWidth < inWidth
  );
}

function viaMatmul(s: WasmScope, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, strideHeight: sh, strideWidth: sw } = info;
  const P = N * oh * ow;
  // The pixels the filter reads: all of x at stride 1, else every sh-th row and sw-th column.
  let xs = x;
  if (sh !== 1 || sw !== 1 || oh !== H || ow !== W) {
    xs = s.adopt(s.backend.makeOutput([N, oh, ow, ci], 'float32'));
    const dst = s.backend.typedArrayFromHeap(xs) as Float32Array;
    const src = s.backend.typedArrayFromHeap(x) as Float32Array;
    for (let n = 0, o = 0; n < N; n++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++, o += ci) {
          const from = ((n * H + i * sh) * W + j * sw) * ci;
          dst.set(src.subarray(from, from + ci), o);
        }
      }
    }
  }
  const X = s.view(xs, [P, ci]);
  const D = s.view(dy, [P, co]);
  // The right operand is the smaller one: XNNPACK packs it for every product (measured several
  // times the cost of transposing the other, e.g. 27 ms against 4 for x [65536, 8], dy [65536, 48]).
  // So dW = X^T.dy where dy is narrower, else dW = (dy^T.X)^T (a small transpose at the end). The
  // right operand (cached by tfjs-backend-wasm under its id) is a tensor in its own shape.
  if (co <= ci) {
    const out = s.run(tf.BatchMatMul, { a: s.view(s.transpose(X, [1, 0]), [1, ci, P]), b: s.view(D, [1, P, co]) }, { transposeA: false, transposeB: false });
    return finish(s, out, [1, 1, ci, co]);
  }
  const outT = s.run(tf.BatchMatMul, { a: s.view(s.transpose(D, [1, 0]), [1, co, P]), b: s.view(X, [1, P, ci]) }, { transposeA: false, transposeB: false });
  return finish(s, s.transpose(s.view(outT, [co, ci]), [1, 0]), [1, 1, ci, co]);
}

function viaConv(s: WasmScope, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const {
    inHeight: H,
    inWidth: W,
    inChannels: ci,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  const { top: pt, left: pl } = info.padInfo;
  const last = info.dataFormat === 'channelsLast';
  const xT = s.transpose(x, last ? [3, 1, 2, 0] : [1, 2, 3, 0]); // [ci,H,W,N]
  const dyT = s.transpose(dy, last ? [1, 2, 0, 3] : [2, 3, 0, 1]); // [oh,ow,N,co]
  // Bottom/right padding that makes the output exactly kh x kw (negative: crop unused rows).
  const pb = kh - 1 + (oh - 1) * sh + 1 - H - pt;
  const pr = kw - 1 + (ow - 1) * sw + 1 - W - pl;
  const out = s.conv('Conv2D', xT, dyT, [1, 1], [sh, sw], [pt, pb, pl, pr]); // [ci,kh,kw,co]
  return finish(s, s.transpose(out, [1, 2, 0, 3]), [kh, kw, ci, co]);
}

function viaIm2col(s: WasmScope, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const {
    batchSize: N,
    inChannels: ci,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  const { top: pt, bottom: pb, left: pl, right: pr } = info.padInfo;
  const last = info.dataFormat === 'channelsLast';
  const K = kh * kw * ci;
  const P = N * oh * ow;
  // im2col by convolution: a one-hot filter copies tap (i,j,c) of each window to column
  // (i*kw+j)*ci+c, with the forward pass's own strides and padding.
  const eye = s.backend.makeOutput([kh, kw, ci, K], 'float32');
  s.adopt(eye);
  const e = s.backend.typedArrayFromHeap(eye) as Float32Array;
  e.fill(0);
  for (let k = 0; k < K; k++) e[k * K + k] = 1;
  const xL = last ? x : s.transpose(x, [0, 2, 3, 1]);
  // The output may need more rows than the forward padding gives (dimRoundingMode 'ceil').
  const extraB = Math.max(0, (oh - 1) * sh + kh - (xL.shape[1] + pt + pb));
  const extraR = Math.max(0, (ow - 1) * sw + kw - (xL.shape[2] + pl + pr));
  const colsFull = s.conv('Conv2D', xL, eye, [sh, sw], [1, 1], [pt, pb + extraB, pl, pr + extraR]);
  const cols = colsFull.shape[1] === oh && colsFull.shape[2] === ow ? colsFull : s.run('Slice', { x: colsFull }, { begin: [0, 0, 0, 0], size: [N, oh, ow, K] });
  const colsT = s.transpose(s.view(cols, [P, K]), [1, 0]); // [K,P]
  const dy2 = last ? s.view(dy, [P, co]) : s.view(s.transpose(dy, [0, 2, 3, 1]), [P, co]);
  const out = s.run(tf.BatchMatMul, { a: s.view(colsT, [1, K, P]), b: s.view(dy2, [1, P, co]) }, { transposeA: false, transposeB: false });
  return finish(s, out, [kh, kw, ci, co]);
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
};
