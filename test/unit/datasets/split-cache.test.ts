import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DatasetImportError, detectSourceKind, importDataset, loadDataset, toFloatBatch } from '../../../src/main/engine/datasets/index.js';
import { minimumLimit, stratifiedQuota, stratifiedSplit, stratifiedSubset, validationShare } from '../../../src/main/engine/datasets/split.js';
import { cleanupTmp, gz, idx, leftovers, tmpDir, write } from './helpers.js';

after(cleanupTmp);

describe('stratified split and limit', () => {
  const y = Uint16Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i < 950 ? 1 : i < 998 ? 2 : 3));

  test('split is stratified, disjoint, complete and deterministic per seed', () => {
    const s = stratifiedSplit(y, 4, 0.2, 42);
    assert.equal(s.train.length + s.validation.length, 1000);
    const all = new Set([...s.train, ...s.validation]);
    assert.equal(all.size, 1000, 'disjoint and complete');
    const valPerClass = [0, 0, 0, 0];
    for (const i of s.validation) valPerClass[y[i]!]!++;
    assert.deepEqual(valPerClass, [140, 50, 10, 1], 'round(n·f), at least 1, at most n−1');
    assert.deepEqual(
      [...s.train],
      [...s.train].sort((a, b) => a - b),
    );
    assert.deepEqual(stratifiedSplit(y, 4, 0.2, 42), s);
    assert.notDeepEqual(stratifiedSplit(y, 4, 0.2, 43).validation, s.validation);
    assert.equal(validationShare(2, 0.01), 1);
    assert.equal(validationShare(2, 0.99), 1);
    assert.equal(validationShare(1, 0.5), 0);
    assert.equal(validationShare(10, 0), 0);
  });

  test('limit subset is stratified, seeded and keeps 2 per class', () => {
    assert.equal(minimumLimit([700, 250, 48, 2]), 8);
    const q = stratifiedQuota([700, 250, 48, 2], 100);
    assert.equal(
      q.reduce((a, b) => a + b, 0),
      100,
    );
    assert.deepEqual(q, [69, 25, 4, 2]);
    assert.deepEqual(stratifiedQuota([5, 5], 4), [2, 2]);
    const sub = stratifiedSubset(y, 4, 100, 7);
    assert.equal(sub.length, 100);
    assert.deepEqual(sub, stratifiedSubset(y, 4, 100, 7));
    assert.notDeepEqual(sub, stratifiedSubset(y, 4, 100, 8));
    const per = [0, 0, 0, 0];
    for (const i of sub) per[y[i]!]!++;
    assert.deepEqual(per, q);
  });
});

describe('MNIST sample', () => {
  test('imports 10 000 digits of 10 classes in a few seconds', async (t) => {
    const root = tmpDir();
    const out = path.join(root, 'mnist');
    const t0 = performance.now();
    const m = await importDataset('sample:mnist', {}, out);
    const ms = performance.now() - t0;
    t.diagnostic(`mnist sample import: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 10000, `took ${ms} ms`);
    assert.equal(m.kind, 'mnist-sample');
    assert.equal(m.source, 'sample:mnist');
    assert.equal(m.count, 10000);
    assert.deepEqual(m.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(
      m.classCounts.reduce((a, b) => a + b, 0),
      10000,
    );
    assert.deepEqual(m.inputShape, [28, 28, 1]);
    assert.equal(m.featureDtype, 'uint8');
    assert.deepEqual(m.normalization, { kind: 'scale', scale: 1 / 255 });
    assert.equal(m.split.trainCount + m.split.validationCount, 10000);
    assert.equal(m.previews.length, 80);
    const ds = loadDataset(out);
    assert.equal(ds.sampleSize, 784);
    assert.equal(ds.x.length, 784 * 10000);
    let max = 0;
    for (let i = 0; i < 784; i++) max = Math.max(max, ds.x[i]!);
    assert.ok(max > 200, 'real digit strokes');
    const b = toFloatBatch(ds, ds.trainIndex.subarray(0, 32));
    assert.equal(b.length, 32 * 784);
    assert.ok(b.every((v) => v >= 0 && v <= 1));
  });

  test('limit and seed apply to the sample', async () => {
    const root = tmpDir();
    const m = await importDataset('sample:mnist', { limit: 500, seed: 1, validationFraction: 0.1 }, path.join(root, 'a'));
    assert.equal(m.count, 500);
    assert.equal(
      m.split.validationCount,
      m.classCounts.reduce((a, c) => a + validationShare(c, 0.1), 0),
    );
    assert.equal(m.split.seed, 1);
    assert.ok(m.classCounts.every((c) => c >= 40 && c <= 60));
  });
});

describe('cache folder', () => {
  test('loadDataset + toFloatBatch: scaled values, out buffer, index checks', async () => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    const px = Array.from({ length: 4 * 4 }, (_, k) => k * 16);
    write(path.join(src, 'a-images-idx3-ubyte'), idx(0x08, [4, 2, 2], px));
    write(path.join(src, 'a-labels-idx1-ubyte'), idx(0x08, [4], [0, 1, 0, 1]));
    const out = path.join(root, 'o');
    await importDataset(src, {}, out);
    const ds = loadDataset(out);
    assert.equal(ds.sampleSize, 4);
    assert.equal(ds.trainIndex.length + ds.validationIndex.length, 4);
    const buf = new Float32Array(20).fill(-1);
    const r = toFloatBatch(ds, [3, 1], buf);
    assert.equal(r.length, 8);
    assert.equal(r.buffer, buf.buffer);
    assert.deepEqual(
      [...r],
      [...px.slice(12, 16), ...px.slice(4, 8)].map((v) => Math.fround(v / 255)),
    );
    assert.equal(buf[8], -1);
    assert.throws(() => toFloatBatch(ds, [4]), RangeError);
    assert.throws(() => toFloatBatch(ds, [0, 1], new Float32Array(3)), RangeError);
    // a damaged cache is reported, not misread
    writeFileSync(path.join(out, 'y.bin'), Buffer.alloc(3));
    assert.throws(() => loadDataset(out), /y\.bin has 3 bytes, expected 8/);
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
    writeFileSync(path.join(out, 'meta.json'), JSON.stringify({ ...meta, formatVersion: 2 }));
    assert.throws(() => loadDataset(out), /unsupported formatVersion 2/);
  });

  test('the output folder must not exist; bad options are refused', async () => {
    const root = tmpDir();
    const out = path.join(root, 'exists');
    mkdirSync(out);
    await assert.rejects(importDataset('sample:mnist', {}, out), (e: unknown) => e instanceof DatasetImportError && /already exists/.test(e.message));
    await assert.rejects(importDataset('sample:mnist', { validationFraction: 1 }, path.join(root, 'x')), /validationFraction/);
    await assert.rejects(importDataset('sample:mnist', { limit: 0 }, path.join(root, 'x')), /limit must be a positive integer/);
    await assert.rejects(importDataset('sample:mnist', { imageSize: [0, 3] }, path.join(root, 'x')), /imageSize/);
    await assert.rejects(importDataset(path.join(root, 'nope'), {}, path.join(root, 'x')), /does not exist/);
    assert.equal(existsSync(path.join(root, 'x')), false);
    assert.deepEqual(leftovers(root), []);
  });
});

describe('detectSourceKind', () => {
  test('recognises each kind of source', () => {
    const root = tmpDir();
    assert.equal(detectSourceKind('sample:mnist'), 'mnist-sample');
    assert.equal(detectSourceKind('SAMPLE:MNIST'), 'mnist-sample');
    assert.throws(() => detectSourceKind('sample:cifar'), DatasetImportError);
    mkdirSync(path.join(root, 'imgs', 'cat'), { recursive: true });
    assert.equal(detectSourceKind(path.join(root, 'imgs')), 'image-folder');
    assert.equal(detectSourceKind(write(path.join(root, 'a.csv'), 'x,y\n')), 'csv');
    assert.equal(detectSourceKind(write(path.join(root, 'a.TSV'), 'x\ty\n')), 'csv');
    write(path.join(root, 'pair', 'train-images-idx3-ubyte.gz'), gz(idx(0x08, [1, 1, 1], [0])));
    write(path.join(root, 'pair', 'train-labels-idx1-ubyte.gz'), gz(idx(0x08, [1], [0])));
    assert.equal(detectSourceKind(path.join(root, 'pair')), 'idx');
    assert.equal(detectSourceKind(path.join(root, 'pair', 'train-images-idx3-ubyte.gz')), 'idx');
    assert.equal(detectSourceKind(write(path.join(root, 'digits.bin'), idx(0x08, [1, 1, 1], [0]))), 'idx');
    assert.throws(() => detectSourceKind(write(path.join(root, 'notes.txt'), 'hello')), /not a dataset/);
    assert.throws(() => detectSourceKind(path.join(root, 'missing')), /does not exist/);
  });
});
