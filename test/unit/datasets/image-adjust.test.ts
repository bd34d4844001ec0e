// Image size and colour options for IDX and the bundled sample (imageSize, imageFit, grayscale),
// 'pad' for image folders, and the refusals that name the option at fault.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { importDataset, loadDataset, type LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { manifestSchema } from '../../../src/main/store/schemas.js';
import type { ImportOptions } from '../../../src/shared/dataset-types.js';
import { describeImageTransform } from '../../../src/shared/image-transform.js';
import { cleanupTmp, idx, leftovers, png, rejects, tmpDir, write } from './helpers.js';

after(cleanupTmp);

/** The sample cut to 200 digits (stratified with the default seed, so every import picks the same ones). */
const LIMIT = 200;

async function sample(options: ImportOptions): Promise<LoadedDataset> {
  const out = path.join(tmpDir(), 'o');
  await importDataset('sample:mnist', { limit: LIMIT, ...options }, out);
  return loadDataset(out);
}

/** Pixel (r, c, ch) of sample i. */
function at(ds: LoadedDataset, i: number, r: number, c: number, ch = 0): number {
  const [, W, C] = ds.manifest.inputShape as [number, number, number];
  return ds.x[i * ds.sampleSize + (r * W + c) * C + ch]!;
}

/** An IDX pair in a new folder: `dims` = [N, H, W(, C)], labels alternate 0, 1. */
function idxFolder(dims: number[], values: number[], typeCode = 0x08): string {
  const dir = path.join(tmpDir(), 'idx');
  write(path.join(dir, 'train-images-idx3-ubyte'), idx(typeCode, dims, values));
  write(
    path.join(dir, 'train-labels-idx1-ubyte'),
    idx(
      0x08,
      [dims[0]!],
      Array.from({ length: dims[0]! }, (_, i) => i % 2),
    ),
  );
  return dir;
}

describe('the MNIST sample at another size or in RGB', () => {
  test('32×32 pad: every original pixel sits 2 rows and 2 columns in, the border is 0', async () => {
    const plain = await sample({});
    const padded = await sample({ imageSize: [32, 32], imageFit: 'pad' });
    const m = padded.manifest;
    assert.deepEqual(m.inputShape, [32, 32, 1]);
    assert.deepEqual(m.imageTransform, { fit: 'pad', sourceShape: [28, 28, 1] });
    assert.deepEqual(m.normalization, { kind: 'scale', scale: 1 / 255 });
    // the same samples, labels and split as without the option
    assert.deepEqual([...padded.y], [...plain.y]);
    assert.deepEqual([...padded.trainIndex], [...plain.trainIndex]);
    assert.equal(padded.x.length, LIMIT * 32 * 32);
    let ink = 0;
    for (let i = 0; i < LIMIT; i++) {
      for (let r = 0; r < 32; r++) {
        for (let c = 0; c < 32; c++) {
          const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
          const want = inside ? at(plain, i, r - 2, c - 2) : 0;
          if (at(padded, i, r, c) !== want) assert.fail(`sample ${i} (${r}, ${c}): ${at(padded, i, r, c)}, expected ${want}`);
          if (inside && want > 0) ink++;
        }
      }
    }
    assert.ok(ink > LIMIT * 50, 'the digits are there, not a blank canvas');
    assert.equal(describeImageTransform(m.imageTransform!, m.inputShape), 'padded from 28×28 to 32×32 (centred on black)');
  });

  test('resize to 16×16: each digit shrunk where it was, the ink kept', async () => {
    const plain = await sample({});
    const small = await sample({ imageSize: [16, 16] });
    assert.deepEqual(small.manifest.inputShape, [16, 16, 1]);
    assert.deepEqual(small.manifest.imageTransform, { fit: 'resize', sourceShape: [28, 28, 1] });
    assert.equal(small.x.length, LIMIT * 256);
    for (let i = 0; i < LIMIT; i++) {
      // Mean brightness survives a resize (within a few levels), and each 16×16 pixel follows the
      // 28×28 area it covers: bright where the digit is, dark where it is not.
      let sumBig = 0;
      let sumSmall = 0;
      for (let j = 0; j < 784; j++) sumBig += plain.x[i * 784 + j]!;
      for (let j = 0; j < 256; j++) sumSmall += small.x[i * 256 + j]!;
      assert.ok(Math.abs(sumBig / 784 - sumSmall / 256) < 4, `sample ${i}: mean ${sumBig / 784} became ${sumSmall / 256}`);
      let agree = 0;
      for (let r = 0; r < 16; r++) {
        for (let c = 0; c < 16; c++) {
          const r0 = Math.floor((r * 28) / 16);
          const c0 = Math.floor((c * 28) / 16);
          let area = 0;
          for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) area += at(plain, i, r0 + dr, c0 + dc);
          if (area / 4 > 128 === at(small, i, r, c) > 128) agree++;
        }
      }
      assert.ok(agree >= 256 * 0.85, `sample ${i}: only ${agree} of 256 pixels follow the original`);
    }
  });

  test('RGB: three equal channels, each the grey value; with pad too', async () => {
    const plain = await sample({});
    const rgb = await sample({ grayscale: false });
    assert.deepEqual(rgb.manifest.inputShape, [28, 28, 3]);
    assert.deepEqual(rgb.manifest.imageTransform, { sourceShape: [28, 28, 1] });
    for (let i = 0; i < LIMIT; i++) {
      for (let p = 0; p < 784; p++) {
        const v = plain.x[i * 784 + p]!;
        const o = i * 784 * 3 + p * 3;
        if (rgb.x[o] !== v || rgb.x[o + 1] !== v || rgb.x[o + 2] !== v)
          assert.fail(`sample ${i} pixel ${p}: ${[...rgb.x.subarray(o, o + 3)]}, expected ${v} ×3`);
      }
    }
    const both = await sample({ imageSize: [32, 32], imageFit: 'pad', grayscale: false });
    assert.deepEqual(both.manifest.inputShape, [32, 32, 3]);
    for (let i = 0; i < LIMIT; i += 17) {
      for (let ch = 0; ch < 3; ch++) {
        assert.equal(at(both, i, 0, 0, ch), 0);
        assert.equal(at(both, i, 31, 31, ch), 0);
        for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) assert.equal(at(both, i, r + 2, c + 2, ch), at(plain, i, r, c));
      }
    }
    assert.equal(
      describeImageTransform(both.manifest.imageTransform!, both.manifest.inputShape),
      'padded from 28×28 to 32×32 (centred on black); the grey channel copied into 3 (RGB)',
    );
  });

  test('grayscale true and the source size change nothing, and record nothing', async () => {
    const same = await sample({ imageSize: [28, 28], imageFit: 'pad', grayscale: true });
    assert.deepEqual(same.manifest.inputShape, [28, 28, 1]);
    assert.equal(same.manifest.imageTransform, undefined);
  });
});

describe('IDX images at another size or in RGB', () => {
  // 2 images of 2×3, values 1…6 and 7…12
  const values = Array.from({ length: 12 }, (_, k) => k + 1);

  test('pad 2×3 → 5×6: centred, the odd margin row and column at the bottom and right', async () => {
    const out = path.join(tmpDir(), 'o');
    const m = await importDataset(idxFolder([2, 2, 3], values), { imageSize: [5, 6], imageFit: 'pad', validationFraction: 0 }, out);
    assert.deepEqual(m.inputShape, [5, 6, 1]);
    assert.deepEqual(m.imageTransform, { fit: 'pad', sourceShape: [2, 3, 1] });
    const ds = loadDataset(out);
    // top = floor(3/2) = 1, left = floor(3/2) = 1
    // prettier-ignore
    assert.deepEqual([...ds.x.subarray(0, 30)], [
      0, 0, 0, 0, 0, 0,
      0, 1, 2, 3, 0, 0,
      0, 4, 5, 6, 0, 0,
      0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0,
    ]);
    assert.deepEqual(
      [...ds.x.subarray(30, 60)].filter((v) => v !== 0),
      [7, 8, 9, 10, 11, 12],
    );
  });

  test('resize: a left-white, right-black image stays so at twice the size', async () => {
    // 4×4: columns 0–1 are 255, 2–3 are 0; the second image is the mirror
    const img = (left: number) => Array.from({ length: 16 }, (_, k) => (k % 4 < 2 ? left : 255 - left));
    const out = path.join(tmpDir(), 'o');
    const m = await importDataset(idxFolder([2, 4, 4], [...img(255), ...img(0)]), { imageSize: [8, 8], validationFraction: 0 }, out);
    assert.deepEqual(m.inputShape, [8, 8, 1]);
    const ds = loadDataset(out);
    for (let r = 0; r < 8; r++) {
      for (const c of [0, 1, 2]) assert.ok(at(ds, 0, r, c) > 200 && at(ds, 1, r, c) < 55, `row ${r} column ${c}`);
      for (const c of [5, 6, 7]) assert.ok(at(ds, 0, r, c) < 55 && at(ds, 1, r, c) > 200, `row ${r} column ${c}`);
    }
  });

  test('RGB from 1-channel IDX; 3-channel IDX resized keep their colours', async () => {
    const out = path.join(tmpDir(), 'o');
    await importDataset(idxFolder([2, 2, 3], values), { grayscale: false, validationFraction: 0 }, out);
    const ds = loadDataset(out);
    assert.deepEqual(ds.manifest.inputShape, [2, 3, 3]);
    assert.deepEqual([...ds.x.subarray(0, 6)], [1, 1, 1, 2, 2, 2]);
    // a pure red 2×2 image and a pure blue one, to 4×4
    const red = [255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0];
    const blue = [0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255];
    const out2 = path.join(tmpDir(), 'o');
    await importDataset(idxFolder([2, 2, 2, 3], [...red, ...blue]), { imageSize: [4, 4], grayscale: false, validationFraction: 0 }, out2);
    const colour = loadDataset(out2);
    assert.deepEqual(colour.manifest.inputShape, [4, 4, 3]);
    assert.deepEqual(colour.manifest.imageTransform, { fit: 'resize', sourceShape: [2, 2, 3] });
    assert.deepEqual([at(colour, 0, 3, 3, 0), at(colour, 0, 3, 3, 1), at(colour, 0, 3, 3, 2)], [255, 0, 0]);
    assert.deepEqual([at(colour, 1, 0, 0, 0), at(colour, 1, 0, 0, 1), at(colour, 1, 0, 0, 2)], [0, 0, 255]);
  });

  test('float images (0x0D) can be padded, with their values as they were', async () => {
    const fvals = [-1.5, 0.25, 3, 7.75];
    const out = path.join(tmpDir(), 'o');
    const m = await importDataset(idxFolder([2, 1, 2], fvals, 0x0d), { imageSize: [3, 4], imageFit: 'pad', validationFraction: 0 }, out);
    assert.equal(m.featureDtype, 'float32');
    assert.deepEqual(m.normalization, { kind: 'scale', scale: 1 });
    const ds = loadDataset(out);
    assert.deepEqual([...ds.x.subarray(0, 12)], [0, 0, 0, 0, 0, -1.5, 0.25, 0, 0, 0, 0, 0]);
  });
});

describe('image options that cannot apply are refused, naming the option', () => {
  async function refused(source: string, options: ImportOptions, field: string, message: RegExp): Promise<void> {
    const root = tmpDir();
    const out = path.join(root, 'o');
    const err = await rejects(importDataset(source, options, out));
    assert.equal(err.option, field, err.message);
    assert.match(err.message, message);
    assert.ok(err.message.includes(field), `the message names ${field}: ${err.message}`);
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(root), []);
  }

  test('pad to a size smaller than the images, with both sizes in the message', async () => {
    await refused(
      'sample:mnist',
      { imageSize: [20, 32], imageFit: 'pad' },
      'imageSize',
      /imageSize 20×32 is smaller than the sample images \(28×28×1\).*at least 28×28/,
    );
    await refused(idxFolder([2, 2, 3], Array(12).fill(1)), { imageSize: [4, 2], imageFit: 'pad' }, 'imageSize', /4×2 .*IDX images \(2×3×1\).*at least 2×3/);
  });

  test('imageFit without imageSize on IDX and the sample', async () => {
    await refused('sample:mnist', { imageFit: 'pad' }, 'imageFit', /imageFit "pad" needs an imageSize/);
    await refused(idxFolder([2, 2, 3], Array(12).fill(1)), { imageFit: 'resize' }, 'imageFit', /needs an imageSize/);
  });

  test('image options on a CSV file', async () => {
    const csv = write(path.join(tmpDir(), 't.csv'), 'a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n');
    await refused(csv, { imageSize: [8, 8] }, 'imageSize', /imageSize applies to images; t\.csv is a CSV file/);
    await refused(csv, { imageFit: 'pad' }, 'imageFit', /imageFit applies to images/);
    await refused(csv, { grayscale: false }, 'grayscale', /grayscale applies to images/);
  });

  test('a fit that is none, and a grayscale that is no boolean', async () => {
    await refused('sample:mnist', { imageSize: [32, 32], imageFit: 'crop' as never }, 'imageFit', /imageFit must be one of resize, pad, got "crop"/);
    await refused('sample:mnist', { grayscale: 'yes' as never }, 'grayscale', /grayscale must be true or false/);
  });

  test('channels IDX cannot give: grey from colour, RGB from 2 channels; resizing float or 2-channel images', async () => {
    await refused(idxFolder([2, 1, 1, 3], Array(6).fill(9)), { grayscale: true }, 'grayscale', /have 3 channels; only grey/);
    await refused(idxFolder([2, 1, 1, 2], Array(4).fill(9)), { grayscale: false }, 'grayscale', /have 2 channels/);
    await refused(idxFolder([2, 1, 2], [0, 1, 2, 3], 0x0d), { imageSize: [4, 4] }, 'imageFit', /float images cannot be resized; imageFit 'pad'/);
    await refused(idxFolder([2, 2, 2, 2], Array(16).fill(9)), { imageSize: [4, 4] }, 'imageFit', /images of 2 channels cannot be resized/);
  });
});

describe('image folders: imageFit pad', () => {
  test('a wide image is scaled to fit and centred on black, aspect kept', async () => {
    const root = tmpDir();
    const src = path.join(root, 'imgs');
    // 8×4 (width × height), all white
    const wide = await png(8, 4, 1, new Uint8Array(32).fill(255));
    for (const cls of ['a', 'b']) for (const n of [1, 2]) write(path.join(src, cls, `${n}.png`), wide);
    const out = path.join(root, 'o');
    const m = await importDataset(src, { imageSize: [8, 8], imageFit: 'pad', validationFraction: 0 }, out);
    assert.deepEqual(m.inputShape, [8, 8, 1]);
    assert.deepEqual(m.imageTransform, { fit: 'pad' });
    const ds = loadDataset(out);
    for (let r = 0; r < 8; r++) {
      const want = r >= 2 && r < 6 ? 255 : 0;
      for (let c = 0; c < 8; c++) assert.equal(at(ds, 0, r, c), want, `row ${r} column ${c}`);
    }
    assert.equal(describeImageTransform(m.imageTransform!, m.inputShape), 'scaled to fit 8×8 and centred on black (aspect ratio kept)');
    // the default stretches it over the whole canvas
    const out2 = path.join(root, 'o2');
    const m2 = await importDataset(src, { imageSize: [8, 8], validationFraction: 0 }, out2);
    assert.deepEqual(m2.imageTransform, { fit: 'resize' });
    assert.ok([...loadDataset(out2).x].every((v) => v === 255));
  });
});

test('the store reads manifests with and without imageTransform (caches from before it)', async () => {
  const out = path.join(tmpDir(), 'o');
  const m = await importDataset('sample:mnist', { limit: LIMIT, imageSize: [32, 32], imageFit: 'pad' }, out);
  assert.equal(manifestSchema.safeParse(m).success, true);
  const { imageTransform, ...old } = m;
  assert.ok(imageTransform);
  assert.equal(manifestSchema.safeParse(old).success, true);
  assert.equal(manifestSchema.safeParse({ ...m, imageTransform: { fit: 'crop' } }).success, false);
});
