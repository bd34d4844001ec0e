// The app's wasm convolution gradient kernels against the cpu backend (the reference), on
// random shapes, strides, paddings ('valid', 'same', explicit, numeric with a rounding mode)
// and dilations. Seeded: a failure prints the case, and the seed replays it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setConv2DBackpropFilterStrategy } from '../../../src/main/engine/kernels/conv2d-backprop-filter.js';
import { setDepthwiseFilterTaps } from '../../../src/main/engine/kernels/depthwise-backprop-filter.js';
import { setSimdKernelsEnabled, simdKernels } from '../../../src/main/engine/kernels/wasm-simd.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, fmt, randomPad, relErr, rng, runOn, setUpBackends, type Arr } from './helpers.js';

const TOL = 1e-4;
const SEED = Number(process.env.KERNEL_TEST_SEED ?? 20240601);
const CASES = Number(process.env.KERNEL_TEST_CASES ?? 120);

function arr(r: ReturnType<typeof rng>, shape: number[]): Arr {
  return { shape, data: r.normals(shape.reduce((a, b) => a * b, 1)) };
}

async function compare(name: string, inputs: Record<string, Arr>, attrs: object, ref?: Arr): Promise<void> {
  const want = ref ?? (await runOn('cpu', name, inputs, attrs));
  const got = await runOn('wasm', name, inputs, attrs);
  const err = relErr(got, want);
  const shapes = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.shape]));
  assert.ok(
    err !== null && err <= TOL,
    `${name} differs from the reference: err=${err} got shape ${fmt(got.shape)} want ${fmt(want.shape)}\n  inputs ${fmt(shapes)}\n  attrs ${fmt(attrs)}`,
  );
}

/**
 * Naive depthwise-conv gradients WITH dilation: tfjs-backend-cpu's depthwise backprop kernels
 * ignore `dilations` (tfjs only calls them with dilation 1), so for dilation > 1 they are no reference.
 */
function depthwiseGradsRef(x: Arr | null, dy: Arr, w: Arr | null, info: tf.backend_util.Conv2DInfo): { dx: Arr; dw: Arr } {
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: OC,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
    filterHeight: KH,
    filterWidth: KW,
  } = info;
  const m = OC / C;
  const dx = new Float32Array(N * H * W * C);
  const dW = new Float32Array(KH * KW * C * m);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh * dh - info.padInfo.top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw * dw - info.padInfo.left;
            if (iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++)
              for (let q = 0; q < m; q++) {
                const g = dy.data[((n * OH + oh) * OW + ow) * OC + c * m + q];
                const wi = ((kh * KW + kw) * C + c) * m + q;
                const xi = ((n * H + ih) * W + iw) * C + c;
                if (w) dx[xi] += g * w.data[wi];
                if (x) dW[wi] += g * x.data[xi];
              }
          }
        }
      }
  return { dx: { shape: [N, H, W, C], data: dx }, dw: { shape: [KH, KW, C, m], data: dW } };
}

before(() => setUpBackends(1));

for (const strategy of ['conv', 'im2col', 'auto'] as const) {
  describe(`Conv2DBackpropFilter, ${strategy} composition (wasm vs cpu)`, () => {
    before(() => setConv2DBackpropFilterStrategy(strategy));
    after(() => setConv2DBackpropFilterStrategy('auto'));
    it(`matches on ${CASES} random cases (seed ${SEED})`, async () => {
      const r = rng(SEED + (strategy === 'conv' ? 0 : strategy === 'im2col' ? 10 : 20));
      let done = 0;
      while (done < CASES) {
        const channelsFirst = r.next() < 0.1;
        const [N, H, W, ci, co] = [r.int(1, 3), r.int(1, 10), r.int(1, 10), r.int(1, 5), r.int(1, 5)];
        const [kh, kw] = [r.int(1, 4), r.int(1, 4)];
        const st = r.int(1, 3);
        const strides: [number, number] = r.next() < 0.3 ? [r.int(1, 3), r.int(1, 3)] : [st, st];
        const { pad, rounding } = randomPad(r, 3);
        if (channelsFirst && Array.isArray(pad)) continue;
        const xShape = channelsFirst ? [N, ci, H, W] : [N, H, W, ci];
        const info = convInfo(xShape, [kh, kw, ci, co], strides, [1, 1], pad, rounding, false, channelsFirst ? 'channelsFirst' : 'channelsLast');
        if (info === null) continue;
        const x = arr(r, xShape);
        const dy = arr(r, info.outShape);
        await compare(
          tf.Conv2DBackpropFilter,
          { x, dy },
          { strides, pad, dataFormat: channelsFirst ? 'NCHW' : 'NHWC', dimRoundingMode: rounding, filterShape: [kh, kw, ci, co] },
        );
        done++;
      }
    });

    it('matches on MNIST-sized layers', async () => {
      const r = rng(SEED + 1);
      for (const [N, H, ci, co] of [
        [32, 28, 1, 16],
        [8, 13, 16, 32],
        [2, 26, 32, 32],
      ] as const) {
        const info = convInfo([N, H, H, ci], [3, 3, ci, co], [1, 1], [1, 1], 'valid', undefined, false)!;
        await compare(
          tf.Conv2DBackpropFilter,
          { x: arr(r, [N, H, H, ci]), dy: arr(r, info.outShape) },
          { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] },
        );
      }
    });
  });
}

describe("Conv2DBackpropInput (the app's XNNPACK replacement, wasm vs cpu)", () => {
  it(`matches on ${CASES} random cases (seed ${SEED})`, async () => {
    const r = rng(SEED + 2);
    let done = 0;
    while (done < CASES) {
      const channelsFirst = r.next() < 0.1;
      const [N, H, W, ci, co] = [r.int(1, 3), r.int(1, 10), r.int(1, 10), r.int(1, 5), r.int(1, 5)];
      const [kh, kw] = [r.int(1, 4), r.int(1, 4)];
      const strides: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const { pad, rounding } = randomPad(r, 3);
      if (channelsFirst && Array.isArray(pad)) continue;
      const xShape = channelsFirst ? [N, ci, H, W] : [N, H, W, ci];
      const info = convInfo(xShape, [kh, kw, ci, co], strides, [1, 1], pad, rounding, false, channelsFirst ? 'channelsFirst' : 'channelsLast');
      if (info === null) continue;
      await compare(
        tf.Conv2DBackpropInput,
        { dy: arr(r, info.outShape), filter: arr(r, [kh, kw, ci, co]) },
        { strides, pad, dataFormat: channelsFirst ? 'NCHW' : 'NHWC', dimRoundingMode: rounding, inputShape: xShape },
      );
      done++;
    }
  });
});

describe('Conv2DBackpropInput where dy is not the shape inputShape implies', () => {
  // tfjs-core's own conv2dTranspose test "input=8x8x8,output=4x4x8,f=8,s=1,p=same": an 8x8 dy for
  // a 4x4 output. The result has inputShape's shape (the stock kernels read dy's top-left 4x4);
  // the composition once sized it from dy (512 values for 128).
  it("returns inputShape's shape, with the cpu backend's values", async () => {
    const pattern = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i % 5);
    const inputs = { dy: { shape: [1, 8, 8, 8], data: pattern(512) }, filter: { shape: [8, 8, 8, 8], data: pattern(4096) } };
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [1, 4, 4, 8] };
    const got = await runOn('wasm', tf.Conv2DBackpropInput, inputs, attrs);
    assert.deepEqual(got.shape, [1, 4, 4, 8]);
    assert.equal(got.data.length, 128);
    await compare(tf.Conv2DBackpropInput, inputs, attrs);
  });
});

describe('The added gradient kernels reject a dy the attributes do not imply (no stock kernel to hand it to)', () => {
  const dy = { shape: [1, 5, 5, 2], data: new Float32Array(50) };
  const cases: Array<[string, Record<string, Arr>, object]> = [
    [
      tf.Conv2DBackpropFilter,
      { x: { shape: [1, 4, 4, 2], data: new Float32Array(32) }, dy },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 2, 2] },
    ],
    [
      tf.DepthwiseConv2dNativeBackpropFilter,
      { x: { shape: [1, 4, 4, 2], data: new Float32Array(32) }, dy },
      { strides: 1, dilations: 1, pad: 'valid', filterShape: [2, 2, 2, 1] },
    ],
    [
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy, filter: { shape: [2, 2, 2, 1], data: new Float32Array(8) } },
      { strides: 1, dilations: 1, pad: 'valid', inputShape: [1, 4, 4, 2] },
    ],
  ];
  for (const [name, inputs, attrs] of cases) {
    it(name, async () => {
      await assert.rejects(runOn('wasm', name, inputs, attrs), /dy has shape \[1,5,5,2\], but the attributes imply \[1,3,3,2\]/);
    });
  }
});

describe('The added gradient kernels read int32 inputs as numbers, as the cpu backend does', () => {
  const ints = (n: number): number[] => Array.from({ length: n }, (_, i) => (i % 7) - 3);
  const cases: Array<[string, Record<string, [number[], number[]]>, object]> = [
    [
      tf.Conv2DBackpropFilter,
      { x: [[1, 4, 4, 2], ints(32)], dy: [[1, 3, 3, 2], ints(18)] },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 2, 2] },
    ],
    [
      tf.DepthwiseConv2dNativeBackpropFilter,
      { x: [[1, 4, 4, 2], ints(32)], dy: [[1, 3, 3, 2], ints(18)] },
      { strides: 1, dilations: 1, pad: 'valid', filterShape: [2, 2, 2, 1] },
    ],
    [
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy: [[1, 3, 3, 2], ints(18)], filter: [[2, 2, 2, 1], ints(8)] },
      { strides: 1, dilations: 1, pad: 'valid', inputShape: [1, 4, 4, 2] },
    ],
  ];
  async function run(backend: 'cpu' | 'wasm', name: string, inputs: Record<string, [number[], number[]]>, attrs: object): Promise<number[]> {
    await tf.setBackend(backend);
    const tensors = Object.fromEntries(Object.entries(inputs).map(([k, [shape, data]]) => [k, tf.tensor(data, shape, 'int32')]));
    const out = tf.engine().runKernel(name, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
    const data = Array.from(await out.data());
    tf.dispose([out, ...Object.values(tensors)]);
    return data;
  }
  for (const [name, inputs, attrs] of cases) {
    it(name, async () => {
      assert.deepEqual(await run('wasm', name, inputs, attrs), await run('cpu', name, inputs, attrs));
    });
  }
});

describe('DepthwiseConv2dNativeBackpropFilter (wasm vs cpu)', () => {
  it(`matches on ${CASES} random cases with dilation 1 (seed ${SEED})`, async () => {
    const r = rng(SEED + 3);
    let done = 0;
    while (done < CASES) {
      const [N, H, W, C, m] = [r.int(1, 3), r.int(1, 10), r.int(1, 10), r.int(1, 5), r.int(1, 3)];
      const [kh, kw] = [r.int(1, 4), r.int(1, 4)];
      const strides: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const { pad, rounding } = randomPad(r, 3);
      const info = convInfo([N, H, W, C], [kh, kw, C, m], strides, [1, 1], pad, rounding, true);
      if (info === null) continue;
      await compare(
        tf.DepthwiseConv2dNativeBackpropFilter,
        { x: arr(r, [N, H, W, C]), dy: arr(r, info.outShape) },
        { strides, dilations: [1, 1], pad, dimRoundingMode: rounding, filterShape: [kh, kw, C, m] },
      );
      done++;
    }
  });

  it(`matches a naive reference with dilations (and strides) > 1 (seed ${SEED})`, async () => {
    const r = rng(SEED + 4);
    let done = 0;
    while (done < CASES / 2) {
      const [N, H, W, C, m] = [r.int(1, 3), r.int(1, 12), r.int(1, 12), r.int(1, 4), r.int(1, 3)];
      const [kh, kw] = [r.int(1, 3), r.int(1, 3)];
      const strides: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const dilations: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const { pad, rounding } = randomPad(r, 3);
      const info = convInfo([N, H, W, C], [kh, kw, C, m], strides, dilations, pad, rounding, true);
      if (info === null) continue;
      const x = arr(r, [N, H, W, C]);
      const dy = arr(r, info.outShape);
      const ref = depthwiseGradsRef(x, dy, null, info).dw;
      await compare(
        tf.DepthwiseConv2dNativeBackpropFilter,
        { x, dy },
        { strides, dilations, pad, dimRoundingMode: rounding, filterShape: [kh, kw, C, m] },
        ref,
      );
      done++;
    }
  });
});

describe('Conv2DBackpropFilter of 1x1 filters, matmul composition (wasm vs cpu)', () => {
  before(() => setConv2DBackpropFilterStrategy('matmul'));
  after(() => setConv2DBackpropFilterStrategy('auto'));
  it(`matches on ${CASES} random cases: strides 1-3, odd sizes, more or fewer output than input channels (seed ${SEED})`, async () => {
    const r = rng(SEED + 11);
    for (let done = 0; done < CASES; done++) {
      const [N, H, W] = [r.int(1, 4), r.int(1, 13), r.int(1, 13)];
      const [ci, co] = [r.pick([1, 3, 4, 8, 13, 16]), r.pick([1, 2, 5, 8, 12, 32])];
      const strides: [number, number] = r.next() < 0.3 ? [r.int(1, 3), r.int(1, 3)] : [r.pick([1, 2]), r.pick([1, 2])];
      const pad = r.pick(['valid', 'same'] as const);
      const info = convInfo([N, H, W, ci], [1, 1, ci, co], strides, [1, 1], pad, undefined, false)!;
      await compare(
        tf.Conv2DBackpropFilter,
        { x: arr(r, [N, H, W, ci]), dy: arr(r, info.outShape) },
        { strides, pad, dataFormat: 'NHWC', filterShape: [1, 1, ci, co] },
      );
    }
  });

  it('matches on MobileNet- and ResNet-sized pointwise layers', async () => {
    const r = rng(SEED + 12);
    for (const [N, H, ci, co, s] of [
      [16, 16, 16, 96, 1],
      [16, 32, 48, 8, 1],
      [8, 16, 16, 32, 2],
    ] as const) {
      const info = convInfo([N, H, H, ci], [1, 1, ci, co], [s, s], [1, 1], 'same', undefined, false)!;
      await compare(
        tf.Conv2DBackpropFilter,
        { x: arr(r, [N, H, H, ci]), dy: arr(r, info.outShape) },
        { strides: [s, s], pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, ci, co] },
      );
    }
  });
});

for (const taps of [true, false]) {
  describe(`DepthwiseConv2dNativeBackpropFilter, channels a multiple of 4, ${taps ? 'SIMD taps' : 'XNNPACK composition'} (wasm vs a naive reference)`, () => {
    before(() => setDepthwiseFilterTaps(taps));
    after(() => setDepthwiseFilterTaps(true));
    it(`matches on ${CASES / 2} random cases: strides, dilations, paddings (seed ${SEED})`, async () => {
      const r = rng(SEED + 13);
      let done = 0;
      while (done < CASES / 2) {
        const [N, H, W, C] = [r.int(1, 3), r.int(1, 12), r.int(1, 12), r.pick([4, 8, 12, 16, 48])];
        const [kh, kw] = [r.int(1, 4), r.int(1, 4)];
        const strides: [number, number] = [r.int(1, 3), r.int(1, 3)];
        const dilations: [number, number] = r.next() < 0.3 ? [r.int(1, 3), r.int(1, 3)] : [1, 1];
        const { pad, rounding } = randomPad(r, 3);
        const info = convInfo([N, H, W, C], [kh, kw, C, 1], strides, dilations, pad, rounding, true);
        if (info === null) continue;
        const x = arr(r, [N, H, W, C]);
        const dy = arr(r, info.outShape);
        const ref = depthwiseGradsRef(x, dy, null, info).dw;
        await compare(
          tf.DepthwiseConv2dNativeBackpropFilter,
          { x, dy },
          { strides, dilations, pad, dimRoundingMode: rounding, filterShape: [kh, kw, C, 1] },
          ref,
        );
        done++;
      }
    });
  });
}

describe('DepthwiseConv2dNativeBackpropInput (wasm vs cpu)', () => {
  it(`matches on ${CASES} random cases with dilation 1 (seed ${SEED})`, async () => {
    const r = rng(SEED + 5);
    let done = 0;
    while (done < CASES) {
      const [N, H, W, C, m] = [r.int(1, 3), r.int(1, 10), r.int(1, 10), r.int(1, 5), r.int(1, 3)];
      const [kh, kw] = [r.int(1, 4), r.int(1, 4)];
      const strides: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const { pad, rounding } = randomPad(r, 3);
      const info = convInfo([N, H, W, C], [kh, kw, C, m], strides, [1, 1], pad, rounding, true);
      if (info === null) continue;
      await compare(
        tf.DepthwiseConv2dNativeBackpropInput,
        { dy: arr(r, info.outShape), filter: arr(r, [kh, kw, C, m]) },
        { strides, dilations: [1, 1], pad, dimRoundingMode: rounding, inputShape: [N, H, W, C] },
      );
      done++;
    }
  });

  it(`matches a naive reference with dilations (and strides) > 1 (seed ${SEED})`, async () => {
    const r = rng(SEED + 6);
    let done = 0;
    while (done < CASES / 2) {
      const [N, H, W, C, m] = [r.int(1, 3), r.int(1, 12), r.int(1, 12), r.int(1, 4), r.int(1, 3)];
      const [kh, kw] = [r.int(1, 3), r.int(1, 3)];
      const strides: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const dilations: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const { pad, rounding } = randomPad(r, 3);
      const info = convInfo([N, H, W, C], [kh, kw, C, m], strides, dilations, pad, rounding, true);
      if (info === null) continue;
      const dy = arr(r, info.outShape);
      const w = arr(r, [kh, kw, C, m]);
      const ref = depthwiseGradsRef(null, dy, w, info).dx;
      await compare(
        tf.DepthwiseConv2dNativeBackpropInput,
        { dy, filter: w },
        { strides, dilations, pad, dimRoundingMode: rounding, inputShape: [N, H, W, C] },
        ref,
      );
      done++;
    }
  });
});

describe('BatchMatMul (the registered wasm kernel, wasm vs cpu)', () => {
  it('matches for every transpose combination and batch shapes', async () => {
    const r = rng(SEED + 7);
    for (let i = 0; i < 40; i++) {
      const [M, K, Nn] = [r.int(1, 40), r.int(1, 40), r.int(1, 40)];
      const transposeA = r.next() < 0.5;
      const transposeB = r.next() < 0.5;
      const batch = r.pick([[], [1], [2], [3, 2]]);
      const a = arr(r, [...batch, ...(transposeA ? [K, M] : [M, K])]);
      const b = arr(r, [...batch, ...(transposeB ? [Nn, K] : [K, Nn])]);
      await compare(tf.BatchMatMul, { a, b }, { transposeA, transposeB });
    }
  });
});

describe("MaxPoolGrad (the app's replacement, wasm vs cpu)", () => {
  it(`matches on ${CASES} random cases, ties included (seed ${SEED})`, async () => {
    const r = rng(SEED + 8);
    let done = 0;
    while (done < CASES) {
      const [N, H, W, C] = [r.int(1, 3), r.int(1, 10), r.int(1, 10), r.int(1, 6)];
      const filterSize: [number, number] = [r.int(1, 4), r.int(1, 4)];
      const strides: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const kind = r.pick(['valid', 'same', 'number'] as const);
      const pad = kind === 'number' ? r.int(0, Math.min(filterSize[0], filterSize[1]) - 1) : kind;
      const rounding = kind === 'number' ? r.pick(['floor', 'round', 'ceil', undefined] as const) : undefined;
      const info = tf.backend_util.computePool2DInfo([N, H, W, C], filterSize, strides, 1, pad, rounding);
      if (info.outHeight < 1 || info.outWidth < 1) continue;
      // Values after a ReLU, coarsely quantised: many windows hold ties (all zeros, say).
      const x = arr(r, [N, H, W, C]);
      x.data.forEach((v, i) => {
        x.data[i] = Math.max(0, Math.round(v * 3));
      });
      const output = { shape: info.outShape, data: new Float32Array(info.outShape.reduce((a, b) => a * b, 1)) };
      await compare(tf.MaxPoolGrad, { dy: arr(r, info.outShape), input: x, output }, { filterSize, strides, pad, dimRoundingMode: rounding });
      done++;
    }
  });
});

for (const simd of [true, false]) {
  describe(`MaxPoolGrad and Sum, 2x2 pooling and bias gradients ${simd ? 'with' : 'without'} the SIMD routines (wasm vs cpu)`, () => {
    before(() => setSimdKernelsEnabled(simd));
    after(() => setSimdKernelsEnabled(true));

    it(`the SIMD routines are ${simd ? 'available' : 'off'}`, async () => {
      await tf.setBackend('wasm');
      assert.equal(simdKernels(tf.backend() as BackendWasm) !== null, simd);
    });

    it('MaxPoolGrad 2x2/2 matches, odd sizes, ties and -Infinity windows included', async () => {
      const r = rng(SEED + 9);
      for (let i = 0; i < 40; i++) {
        const [N, H, W, C] = [r.int(1, 3), r.int(2, 13), r.int(2, 13), r.pick([4, 8, 12, 16, 32, 3])];
        const pad = r.pick(['valid', 'valid', 'same'] as const);
        const info = tf.backend_util.computePool2DInfo([N, H, W, C], [2, 2], [2, 2], 1, pad);
        const x = arr(r, [N, H, W, C]);
        x.data.forEach((v, k) => {
          x.data[k] = r.next() < 0.05 ? -Infinity : Math.max(0, Math.round(v * 3));
        });
        const output = { shape: info.outShape, data: new Float32Array(info.outShape.reduce((a, b) => a * b, 1)) };
        await compare(tf.MaxPoolGrad, { dy: arr(r, info.outShape), input: x, output }, { filterSize: [2, 2], strides: [2, 2], pad });
      }
    });

    it('Sum over leading axes (and others) matches', async () => {
      const r = rng(SEED + 10);
      for (let i = 0; i < 40; i++) {
        const rank = r.int(2, 4);
        const shape = Array.from({ length: rank - 1 }, () => r.int(1, 24));
        shape.push(r.pick([4, 8, 16, 32, 3, 5]));
        const leading = r.next() < 0.8;
        const axis = leading ? Array.from({ length: rank - 1 }, (_, k) => k) : [r.int(0, rank - 1)];
        await compare(tf.Sum, { x: arr(r, shape) }, { axis, keepDims: r.next() < 0.3 });
      }
    });
  });
}
