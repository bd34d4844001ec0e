import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DatasetImportError, importDataset, loadDataset, toFloatBatch } from '../../../src/main/engine/datasets/index.js';
import { cleanupTmp, gz, idx, leftovers, tmpDir, write } from './helpers.js';

after(cleanupTmp);

async function rejects(p: Promise<unknown>): Promise<DatasetImportError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DatasetImportError, `expected DatasetImportError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the import to fail');
}

/** 6 images of 2×3, pixel values i*10 + j; labels 3,7,3,7,3,7. */
const N = 6;
const pixels = Array.from({ length: N * 6 }, (_, k) => Math.floor(k / 6) * 10 + (k % 6));
const labels = [3, 7, 3, 7, 3, 7];

describe('IDX import', () => {
  test('plain pair in a folder: shapes, classes, values', async () => {
    const root = tmpDir();
    const src = path.join(root, 'mnistish');
    write(path.join(src, 'train-images-idx3-ubyte'), idx(0x08, [N, 2, 3], pixels));
    write(path.join(src, 'train-labels-idx1-ubyte'), idx(0x08, [N], labels));
    write(path.join(src, 'README'), 'ignored');
    const out = path.join(root, 'o');
    const m = await importDataset(src, {}, out);
    assert.equal(m.kind, 'idx');
    assert.deepEqual(m.inputShape, [2, 3, 1]);
    assert.equal(m.featureDtype, 'uint8');
    assert.deepEqual(m.classes, ['3', '7']);
    assert.deepEqual(m.classCounts, [3, 3]);
    assert.deepEqual(m.normalization, { kind: 'scale', scale: 1 / 255 });
    const ds = loadDataset(out);
    assert.deepEqual([...ds.x], pixels);
    assert.deepEqual([...ds.y], [0, 1, 0, 1, 0, 1]);
    assert.deepEqual([...toFloatBatch(ds, [1])], [10, 11, 12, 13, 14, 15].map((v) => Math.fround(v / 255)));
    assert.equal(m.previews.length, 6);
  });

  test('gzipped pair: images file given, labels found by name; labelsPath', async () => {
    const root = tmpDir();
    const images = write(path.join(root, 't10k-images-idx3-ubyte.gz'), gz(idx(0x08, [N, 2, 3], pixels)));
    write(path.join(root, 't10k-labels-idx1-ubyte.gz'), gz(idx(0x08, [N], labels)));
    const m = await importDataset(images, {}, path.join(root, 'o1'));
    assert.equal(m.count, N);
    assert.equal(m.name, 't10k-images-idx3-ubyte');
    assert.deepEqual([...loadDataset(path.join(root, 'o1')).x], pixels);
    // gz images, plain labels somewhere else
    const other = write(path.join(root, 'elsewhere', 'lab.bin'), idx(0x08, [N], labels));
    const m2 = await importDataset(images, { labelsPath: other }, path.join(root, 'o2'));
    assert.deepEqual(m2.classes, ['3', '7']);
  });

  test('float32 images (type 0x0D) and N×H×W×C images', async () => {
    const root = tmpDir();
    const fvals = Array.from({ length: N * 4 }, (_, k) => k / 8 - 1.5);
    write(path.join(root, 'f', 'x-images-idx3-float'), idx(0x0d, [N, 2, 2], fvals));
    write(path.join(root, 'f', 'x-labels-idx1-ubyte'), idx(0x08, [N], labels));
    const m = await importDataset(path.join(root, 'f'), {}, path.join(root, 'o1'));
    assert.equal(m.featureDtype, 'float32');
    assert.deepEqual(m.normalization, { kind: 'scale', scale: 1 });
    const ds = loadDataset(path.join(root, 'o1'));
    assert.deepEqual([...ds.x], fvals);
    assert.deepEqual([...toFloatBatch(ds, [5, 0])], [...fvals.slice(20, 24), ...fvals.slice(0, 4)]);
    const rgb = Array.from({ length: N * 2 * 2 * 3 }, (_, k) => k % 256);
    write(path.join(root, 'c', 'a-images-idx4-ubyte'), idx(0x08, [N, 2, 2, 3], rgb));
    write(path.join(root, 'c', 'a-labels-idx1-ubyte'), idx(0x08, [N], labels));
    const m2 = await importDataset(path.join(root, 'c'), {}, path.join(root, 'o2'));
    assert.deepEqual(m2.inputShape, [2, 2, 3]);
    assert.deepEqual([...loadDataset(path.join(root, 'o2')).x], rgb);
  });

  test('NaN in float images is a bad sample that skipBad leaves out', async () => {
    const root = tmpDir();
    const fvals = Array.from({ length: N * 4 }, (_, k) => (k === 9 ? NaN : k));
    write(path.join(root, 'f', 'x-images-idx3-float'), idx(0x0d, [N, 2, 2], fvals));
    write(path.join(root, 'f', 'x-labels-idx1-ubyte'), idx(0x08, [N], labels));
    const err = await rejects(importDataset(path.join(root, 'f'), {}, path.join(root, 'o')));
    assert.deepEqual(err.problems, [{ file: 'x-images-idx3-float', reason: 'image 2 (0-based) holds NaN or infinite values' }]);
    const m = await importDataset(path.join(root, 'f'), { skipBad: true }, path.join(root, 'o'));
    assert.equal(m.count, N - 1);
    assert.equal(m.skipped, 1);
  });

  const fatal = async (imagesBuf: Buffer, labelsBuf: Buffer, names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    write(path.join(src, names[0]!), imagesBuf);
    write(path.join(src, names[1]!), labelsBuf);
    const out = path.join(root, 'o');
    const err = await rejects(importDataset(src, { skipBad: true }, out));
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(root), []);
    assert.equal(err.problems.length, 1);
    return err.problems[0]!;
  };

  test('truncated files, extra bytes and count mismatches are fatal and name the file', async () => {
    const images = idx(0x08, [N, 2, 3], pixels);
    const lab = idx(0x08, [N], labels);
    let p = await fatal(images.subarray(0, images.length - 5), lab);
    assert.equal(p.file, 'train-images-idx3-ubyte');
    assert.match(p.reason, /^truncated: the header declares 6×2×3 unsigned byte values \(36 bytes\) but the file holds only 31 bytes/);
    p = await fatal(Buffer.concat([images, Buffer.from([1, 2])]), lab);
    assert.match(p.reason, /holds 2 bytes more than its header declares/);
    p = await fatal(images, idx(0x08, [N - 1], labels.slice(1)));
    assert.equal(p.file, 'train-labels-idx1-ubyte');
    assert.equal(p.reason, 'count mismatch: train-images-idx3-ubyte holds 6 images but train-labels-idx1-ubyte holds 5 labels');
    p = await fatal(gz(images).subarray(0, 30), lab, ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']);
    assert.equal(p.file, 'train-images-idx3-ubyte.gz');
    assert.match(p.reason, /^truncated/);
    p = await fatal(gz(images.subarray(0, images.length - 4)), lab, ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']);
    assert.match(p.reason, /^truncated: .* the decompressed file holds only 32 bytes of data/);
    p = await fatal(images.subarray(0, 10), lab);
    assert.match(p.reason, /^truncated IDX header/);
  });

  test('bad headers: magic, type code, dimensions; huge declared sizes allocate nothing', async () => {
    const images = idx(0x08, [N, 2, 3], pixels);
    const lab = idx(0x08, [N], labels);
    const badMagic = Buffer.from(images);
    badMagic[0] = 0x12;
    let p = await fatal(badMagic, lab);
    assert.match(p.reason, /^not an IDX file: it starts with 0x12 0x00/);
    const badType = Buffer.from(images);
    badType[2] = 0x07;
    p = await fatal(badType, lab);
    assert.match(p.reason, /^unknown IDX type code 0x07/);
    p = await fatal(idx(0x08, [N * 6], pixels), lab);
    assert.match(p.reason, /expected an images file of 3 dimensions/);
    p = await fatal(images, idx(0x08, [N, 1], labels));
    assert.match(p.reason, /expected a labels file of unsigned bytes with 1 dimension/);
    // 4 billion × 100 000 × 100 000 declared: rejected from the file size, in no time
    const huge = idx(0x08, [0xffffffff, 100000, 100000], pixels);
    const t0 = performance.now();
    p = await fatal(huge, lab);
    assert.match(p.reason, /^truncated: the header declares 4294967295×100000×100000 unsigned byte values \(42949672950000000000 bytes\) but the file holds only 36 bytes/);
    p = await fatal(gz(huge), lab, ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']);
    assert.match(p.reason, /more than a \d+-byte gzip file can hold/);
    // a "zip bomb": 64 MiB of zeros declared as 16 MiB — decompression stops at the declared size
    const bomb = gz(Buffer.concat([idx(0x08, [16, 1024, 1024], []), Buffer.alloc(64 * 1024 * 1024)]));
    p = await fatal(bomb, lab, ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']);
    assert.match(p.reason, /holds more bytes than its header declares/);
    assert.ok(performance.now() - t0 < 5000);
  });

  test('folder problems: no pair, several pairs', async () => {
    const root = tmpDir();
    const src = path.join(root, 'two');
    for (const s of ['train', 't10k']) {
      write(path.join(src, `${s}-images-idx3-ubyte`), idx(0x08, [N, 2, 3], pixels));
      write(path.join(src, `${s}-labels-idx1-ubyte`), idx(0x08, [N], labels));
    }
    const e = await rejects(importDataset(src, {}, path.join(root, 'o')));
    assert.match(e.message, /found 2 IDX images files \(t10k-images-idx3-ubyte, train-images-idx3-ubyte\); import one of them by its path/);
    const m = await importDataset(path.join(src, 't10k-images-idx3-ubyte'), {}, path.join(root, 'o'));
    assert.equal(m.count, N);
    const lone = write(path.join(root, 'lone', 'x-images-idx3-ubyte'), idx(0x08, [N, 2, 3], pixels));
    const e2 = await rejects(importDataset(lone, {}, path.join(root, 'o2')));
    assert.match(e2.problems[0]!.reason, /^labels file not found: looked for x-labels-idx1-ubyte or x-labels-idx1-ubyte\.gz/);
  });
});
