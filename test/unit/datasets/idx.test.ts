import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { importDataset, loadDataset, toFloatBatch } from '../../../src/main/engine/datasets/index.js';
import { cleanupTmp, gz, idx, leftovers, tmpDir, rejects, write } from './helpers.js';

after(cleanupTmp);

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
    assert.deepEqual(
      [...toFloatBatch(ds, [1])],
      [10, 11, 12, 13, 14, 15].map((v) => Math.fround(v / 255)),
    );
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

  /** Imports the pair with and without skipBad: both must fail with the same one problem. */
  const fatal = async (imagesBuf: Buffer, labelsBuf: Buffer, names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    write(path.join(src, names[0]!), imagesBuf);
    write(path.join(src, names[1]!), labelsBuf);
    const out = path.join(root, 'o');
    const plain = await rejects(importDataset(src, {}, out));
    const err = await rejects(importDataset(src, { skipBad: true }, out));
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(root), []);
    assert.equal(err.problems.length, 1);
    assert.deepEqual(plain.problems, err.problems);
    assert.match(err.message, /^Cannot import /);
    return err.problems[0]!;
  };

  /** Imports the pair without skipBad (must fail, leaving nothing) and with it (must succeed). */
  const both = async (imagesBuf: Buffer, labelsBuf: Buffer, names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    write(path.join(src, names[0]!), imagesBuf);
    write(path.join(src, names[1]!), labelsBuf);
    const out = path.join(root, 'o');
    const err = await rejects(importDataset(src, {}, out));
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(root), []);
    const m = await importDataset(src, { skipBad: true }, out);
    return { err, m, ds: loadDataset(out) };
  };
  const images = idx(0x08, [N, 2, 3], pixels);
  const lab = idx(0x08, [N], labels);
  const gzNames = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte'];

  test('truncated plain files: fatal without skipBad; with it the complete records are kept', async () => {
    // 25 of 36 data bytes: 4 complete images of 6 bytes
    const { err, m, ds } = await both(images.subarray(0, images.length - 11), lab);
    const reason = 'truncated: the header declares 6 images of 2×3 (36 bytes of data) but the file holds only 4 complete ones (25 bytes of data)';
    assert.deepEqual(err.problems, [{ file: 'train-images-idx3-ubyte', reason }]);
    assert.match(err.message, /^1 bad file in .*src \(use --skip-bad to leave them out\): train-images-idx3-ubyte: truncated: /);
    assert.equal(m.count, 4);
    assert.equal(m.skipped, 2);
    assert.deepEqual(m.problems, [{ file: 'train-images-idx3-ubyte', reason: `${reason}; the other 2 were left out` }]);
    assert.deepEqual([...ds.x], pixels.slice(0, 24));
    assert.deepEqual([...ds.y], [0, 1, 0, 1]);
    // a truncated labels file
    const r2 = await both(images, lab.subarray(0, lab.length - 1));
    const reason2 = 'truncated: the header declares 6 labels (6 bytes of data) but the file holds only 5 complete ones (5 bytes of data)';
    assert.deepEqual(r2.err.problems, [{ file: 'train-labels-idx1-ubyte', reason: reason2 }]);
    assert.deepEqual(r2.m.problems, [{ file: 'train-labels-idx1-ubyte', reason: `${reason2}; the other 1 was left out` }]);
    assert.equal(r2.m.count, 5);
    assert.equal(r2.m.skipped, 1);
    assert.deepEqual([...r2.ds.x], pixels.slice(0, 30));
  });

  test('truncated gzip files: a stream that ends early or short data; fatal without skipBad', async () => {
    // 100 images of 8×8 pseudo-random bytes (incompressible), the gzip file cut in half
    let seed = 7;
    const rnd = Array.from({ length: 100 * 64 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    const big = idx(0x08, [100, 8, 8], rnd);
    const cut = gz(big).subarray(0, Math.floor(gz(big).length / 2));
    const got = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).length - 16;
    const kept = Math.floor(got / 64);
    assert.ok(kept > 10 && kept < 90, `kept ${kept}`);
    const { err, m, ds } = await both(
      cut,
      idx(
        0x08,
        [100],
        rnd.slice(0, 100).map((v) => v % 3),
      ),
      gzNames,
    );
    const reason = `truncated: the header declares 100 images of 8×8 (6400 bytes of data) but the gzip stream ends early, after ${kept} complete ones (${got} bytes of data)`;
    assert.deepEqual(err.problems, [{ file: 'train-images-idx3-ubyte.gz', reason }]);
    assert.deepEqual(m.problems, [{ file: 'train-images-idx3-ubyte.gz', reason: `${reason}; the other ${100 - kept} were left out` }]);
    assert.equal(m.count, kept);
    assert.equal(m.skipped, 100 - kept);
    assert.deepEqual([...ds.x], rnd.slice(0, kept * 64));
    // a whole gzip stream of a truncated file
    const r2 = await both(gz(images.subarray(0, images.length - 4)), lab, gzNames);
    const reason2 = 'truncated: the header declares 6 images of 2×3 (36 bytes of data) but the decompressed data holds only 5 complete ones (32 bytes of data)';
    assert.deepEqual(r2.err.problems, [{ file: 'train-images-idx3-ubyte.gz', reason: reason2 }]);
    assert.deepEqual(r2.m.problems, [{ file: 'train-images-idx3-ubyte.gz', reason: `${reason2}; the other 1 was left out` }]);
    assert.equal(r2.m.count, 5);
    assert.equal(r2.m.skipped, 1);
    // only the gzip trailer (checksum, size) is missing: all the data is there
    const whole = gz(images);
    const r3 = await both(whole.subarray(0, whole.length - 4), lab, gzNames);
    const reason3 = 'truncated: the gzip stream ends early, after all the 6 images of 2×3 (36 bytes of data) the header declares but before its checksum';
    assert.deepEqual(r3.err.problems, [{ file: 'train-images-idx3-ubyte.gz', reason: reason3 }]);
    assert.deepEqual(r3.m.problems, [{ file: 'train-images-idx3-ubyte.gz', reason: `${reason3}; the images were kept unchecked` }]);
    assert.equal(r3.m.count, N);
    assert.equal(r3.m.skipped, 0);
    assert.deepEqual([...r3.ds.x], pixels);
  });

  test('count mismatches: fatal without skipBad; with it the first min(images, labels) pairs are kept', async () => {
    const { err, m, ds } = await both(images, idx(0x08, [N - 1], labels.slice(0, -1)));
    const reason = 'count mismatch: train-images-idx3-ubyte holds 6 images but train-labels-idx1-ubyte holds 5 labels';
    assert.deepEqual(err.problems, [{ file: 'train-labels-idx1-ubyte', reason }]);
    assert.deepEqual(m.problems, [{ file: 'train-labels-idx1-ubyte', reason: `${reason}; the 1 image without a partner was left out` }]);
    assert.equal(m.count, 5);
    assert.equal(m.skipped, 1);
    assert.deepEqual([...ds.x], pixels.slice(0, 30));
    assert.deepEqual([...ds.y], [0, 1, 0, 1, 0]);
    // more labels than images
    const r2 = await both(idx(0x08, [4, 2, 3], pixels.slice(0, 24)), lab);
    const reason2 = 'count mismatch: train-images-idx3-ubyte holds 4 images but train-labels-idx1-ubyte holds 6 labels';
    assert.deepEqual(r2.err.problems, [{ file: 'train-labels-idx1-ubyte', reason: reason2 }]);
    assert.deepEqual(r2.m.problems, [{ file: 'train-labels-idx1-ubyte', reason: `${reason2}; the 2 labels without a partner were left out` }]);
    assert.equal(r2.m.count, 4);
    assert.equal(r2.m.skipped, 2);
    // truncated images (5 of 6) and 4 labels: each sample left out is counted once
    const r3 = await both(images.subarray(0, images.length - 6), idx(0x08, [4], labels.slice(0, 4)));
    assert.deepEqual(
      r3.err.problems.map((p) => p.file),
      ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
    );
    assert.match(r3.err.message, /^2 bad files in /);
    assert.deepEqual(
      r3.m.problems.map((p) => p.reason.replace(/^(truncated|count mismatch).*; /, '$1…; ')),
      ['truncated…; the other 1 was left out', 'count mismatch…; the 2 images without a partner were left out'],
    );
    assert.equal(r3.m.count, 4);
    assert.equal(r3.m.skipped, 2);
  });

  test('extra trailing bytes: fatal without skipBad; with it ignored (skipped counts 0)', async () => {
    const { err, m, ds } = await both(Buffer.concat([images, Buffer.from([1, 2])]), lab);
    const reason = 'the file holds 2 bytes more than the 6×2×3 unsigned byte values (36 bytes) its header declares';
    assert.deepEqual(err.problems, [{ file: 'train-images-idx3-ubyte', reason }]);
    assert.deepEqual(m.problems, [{ file: 'train-images-idx3-ubyte', reason: `${reason}; they were ignored` }]);
    assert.equal(m.count, N);
    assert.equal(m.skipped, 0);
    assert.deepEqual([...ds.x], pixels);
    // whole records' worth, in a gzipped file; and one extra label byte
    const r2 = await both(gz(Buffer.concat([images, Buffer.alloc(12)])), Buffer.concat([lab, Buffer.from([9])]), [
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte',
    ]);
    const reasons = [
      'the decompressed data holds 12 bytes more than the 6×2×3 unsigned byte values (36 bytes) its header declares, as much as 2 more images',
      'the file holds 1 byte more than the 6 unsigned byte values (6 bytes) its header declares, as much as 1 more label',
    ];
    assert.deepEqual(
      r2.err.problems.map((p) => p.reason),
      reasons,
    );
    assert.deepEqual(
      r2.m.problems.map((p) => p.reason),
      [`${reasons[0]}; they were ignored`, `${reasons[1]}; it was ignored`],
    );
    assert.equal(r2.m.count, N);
    assert.equal(r2.m.skipped, 0);
    assert.deepEqual([...r2.ds.x], pixels);
    assert.deepEqual(r2.m.classes, ['3', '7']);
  });

  test('nothing complete left, or a truncated header: fatal in both modes', async () => {
    const p = await fatal(images.subarray(0, images.length - 31), lab);
    assert.equal(p.file, 'train-images-idx3-ubyte');
    assert.equal(p.reason, 'truncated: the header declares 6 images of 2×3 (36 bytes of data) but the file holds only 0 complete ones (5 bytes of data)');
    const p2 = await fatal(images, idx(0x08, [0], []));
    assert.equal(p2.reason, 'count mismatch: train-images-idx3-ubyte holds 6 images but train-labels-idx1-ubyte holds 0 labels');
    assert.match((await fatal(images.subarray(0, 10), lab)).reason, /^truncated IDX header: the file has only 10 bytes/);
    assert.match(
      (await fatal(gz(images).subarray(0, 14), lab, gzNames)).reason,
      /^truncated IDX header: the gzip stream ends early, after \d decompressed bytes/,
    );
    const root = tmpDir();
    write(path.join(root, 's', 'train-images-idx3-ubyte'), images.subarray(0, 10));
    write(path.join(root, 's', 'train-labels-idx1-ubyte'), lab);
    const e = await rejects(importDataset(path.join(root, 's'), {}, path.join(root, 'o')));
    assert.match(e.message, /^Cannot import .*: train-images-idx3-ubyte: truncated IDX header/);
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
    assert.equal(
      p.reason,
      `too large: 4294967295×100000×100000 unsigned byte values (42949672950000000000 bytes); at most ${2 ** 31 - 1} bytes are supported (the file holds 36 bytes of data)`,
    );
    // 4 billion images of 28×28 in a 47 MB-looking file: not a merely truncated file
    p = await fatal(idx(0x08, [0xffffffff, 28, 28], pixels), lab);
    assert.match(p.reason, /^too large: 4294967295×28×28 unsigned byte values/);
    p = await fatal(gz(huge), lab, ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']);
    assert.match(p.reason, /more than a \d+-byte gzip file can hold/);
    // a "zip bomb": 64 MiB of zeros declared as 16 MiB — decompression stops at the declared size
    // (without skipBad it fails; with it the extra bytes are counted up to 64 MiB and ignored)
    const bomb = gz(Buffer.concat([idx(0x08, [16, 1024, 1024], []), Buffer.alloc(96 * 1024 * 1024)]));
    const root = tmpDir();
    write(path.join(root, 'b', 'train-images-idx3-ubyte.gz'), bomb);
    write(path.join(root, 'b', 'train-labels-idx1-ubyte'), idx(0x08, [16], [...labels, ...labels, 3, 7, 3, 7]));
    const e = await rejects(importDataset(path.join(root, 'b'), {}, path.join(root, 'o')));
    const extra = 'the decompressed data holds at least 67108864 bytes more than the 16×1024×1024 unsigned byte values (16777216 bytes) its header declares';
    assert.deepEqual(e.problems, [{ file: 'train-images-idx3-ubyte.gz', reason: extra }]);
    const m = await importDataset(path.join(root, 'b'), { skipBad: true, limit: 4 }, path.join(root, 'o'));
    assert.deepEqual(m.problems, [{ file: 'train-images-idx3-ubyte.gz', reason: `${extra}; they were ignored` }]);
    assert.equal(m.skipped, 0);
    assert.ok(performance.now() - t0 < 10000);
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
