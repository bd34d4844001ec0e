import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { importDataset, loadDataset, toFloatBatch } from '../../../src/main/engine/datasets/index.js';
import { defaultImageSize, describeContent } from '../../../src/main/engine/datasets/image-folder.js';
import { bmp24, cleanupTmp, gif, jpeg, leftovers, ls, png, tmpDir, rejects, write } from './helpers.js';

after(cleanupTmp);

describe('image folder import', () => {
  test('grey 2×2 PNGs round-trip exactly; classes sorted; junk files ignored', async () => {
    const root = tmpDir();
    const src = path.join(root, 'digits');
    write(path.join(src, 'b', 'one.png'), await png(2, 2, 1, [0, 50, 100, 255]));
    write(path.join(src, 'b', 'two.png'), await png(2, 2, 1, [1, 2, 3, 4]));
    write(path.join(src, 'a', 'x.png'), await png(2, 2, 1, [9, 8, 7, 6]));
    write(path.join(src, 'a', 'nested', 'y.png'), await png(2, 2, 1, [10, 20, 30, 40]));
    write(path.join(src, 'a', '.DS_Store'), 'junk');
    write(path.join(src, 'a', 'Thumbs.db'), 'junk');
    write(path.join(src, 'b', 'desktop.ini'), 'junk');
    write(path.join(src, '.hidden', 'z.png'), await png(2, 2, 1, [0, 0, 0, 0]));
    const out = path.join(root, 'cache', 'ds1');
    const phases = new Set<string>();
    const m = await importDataset(src, {}, out, (p) => phases.add(p.phase));
    assert.equal(m.kind, 'image-folder');
    assert.equal(m.name, 'digits');
    assert.deepEqual(m.inputShape, [2, 2, 1]);
    assert.equal(m.featureDtype, 'uint8');
    assert.deepEqual(m.classes, ['a', 'b']);
    assert.deepEqual(m.classCounts, [2, 2]);
    assert.equal(m.count, 4);
    assert.deepEqual(m.problems, []);
    assert.equal(m.skipped, 0);
    assert.deepEqual(m.normalization, { kind: 'scale', scale: 1 / 255 });
    assert.deepEqual([...phases].sort(), ['decoding', 'scanning', 'writing']);
    assert.deepEqual(ls(out), ['meta.json', 'previews', 'train.idx', 'val.idx', 'x.bin', 'y.bin']);
    assert.equal(m.previews.length, 4);
    for (const p of m.previews) assert.ok(existsSync(path.join(out, p.image!)), p.image);
    const ds = loadDataset(out);
    // files in sorted order: a/nested/y.png, a/x.png, b/one.png, b/two.png
    assert.deepEqual([...ds.x], [10, 20, 30, 40, 9, 8, 7, 6, 0, 50, 100, 255, 1, 2, 3, 4]);
    assert.deepEqual([...ds.y], [0, 0, 1, 1]);
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8')), m);
    const batch = toFloatBatch(ds, [2]);
    assert.deepEqual(
      [...batch],
      [0, 50, 100, 255].map((v) => Math.fround(v / 255)),
    );
    assert.deepEqual(leftovers(path.dirname(out)), []);
  });

  test('RGB PNG, BMP, GIF (first frame), JPEG and WebP decode; alpha flattened on black', async () => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    const rgb = [10, 20, 30, 200, 100, 50, 0, 0, 0, 255, 255, 255];
    write(path.join(src, 'png', 'a.png'), await png(2, 2, 3, rgb));
    write(path.join(src, 'png', 'alpha.png'), await png(2, 2, 4, [255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 255, 255, 9, 9, 9, 255]));
    write(path.join(src, 'bmp', 'a.bmp'), bmp24(2, 2, rgb));
    write(path.join(src, 'bmp', 'misnamed.png'), bmp24(2, 2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    write(path.join(src, 'gif', 'a.gif'), await gif(2, 2, [200, 30]));
    write(path.join(src, 'gif', 'b.gif'), await gif(2, 2, [40, 250]));
    write(path.join(src, 'jpg', 'a.jpg'), await jpeg(2, 2, [250, 10, 10]));
    write(path.join(src, 'jpg', 'b.jpeg'), await jpeg(2, 2, [10, 10, 250]));
    write(
      path.join(src, 'webp', 'a.webp'),
      await sharp(Buffer.from(rgb), { raw: { width: 2, height: 2, channels: 3 } })
        .webp({ lossless: true })
        .toBuffer(),
    );
    write(
      path.join(src, 'webp', 'b.webp'),
      await sharp(Buffer.from(rgb), { raw: { width: 2, height: 2, channels: 3 } })
        .webp({ lossless: true })
        .toBuffer(),
    );
    const out = path.join(root, 'out');
    const m = await importDataset(src, {}, out);
    assert.deepEqual(m.inputShape, [2, 2, 3], 'colour images give RGB');
    assert.deepEqual(m.classes, ['bmp', 'gif', 'jpg', 'png', 'webp']);
    assert.deepEqual(m.classCounts, [2, 2, 2, 2, 2]);
    const ds = loadDataset(out);
    const sample = (i: number) => [...ds.x.subarray(i * 12, (i + 1) * 12)];
    assert.deepEqual(sample(0), rgb, 'BMP pixels exact');
    assert.deepEqual(sample(1), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'format sniffed from content');
    assert.deepEqual(sample(2), Array(12).fill(200), 'first GIF frame');
    assert.deepEqual(sample(3), Array(12).fill(40), 'first GIF frame');
    const jpg = sample(4);
    assert.ok(jpg[0]! > 200 && jpg[1]! < 60 && jpg[2]! < 60, `JPEG red ${jpg}`);
    assert.deepEqual(sample(6), rgb, 'PNG pixels exact');
    assert.deepEqual(sample(7), [0, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9], 'alpha flattened on black');
    assert.deepEqual(sample(8), rgb, 'lossless WebP exact');
  });

  test('default size is the most common one, capped at 64; options override size and channels', async () => {
    assert.deepEqual(
      defaultImageSize([
        { width: 12, height: 10 },
        { width: 12, height: 10 },
        { width: 20, height: 20 },
      ]),
      [10, 12],
    );
    assert.deepEqual(defaultImageSize([{ width: 50, height: 100 }]), [64, 32]);
    assert.deepEqual(defaultImageSize([{ width: 28, height: 28 }]), [28, 28]);
    const root = tmpDir();
    const src = path.join(root, 'src');
    const grey = (v: number, w: number, h: number) => png(w, h, 1, Array(w * h).fill(v));
    write(path.join(src, 'a', '1.png'), await grey(10, 12, 10));
    write(path.join(src, 'a', '2.png'), await grey(20, 12, 10));
    write(path.join(src, 'b', '1.png'), await grey(30, 20, 20));
    write(path.join(src, 'b', '2.png'), await grey(40, 12, 10));
    const m1 = await importDataset(src, {}, path.join(root, 'o1'));
    assert.deepEqual(m1.inputShape, [10, 12, 1]);
    const ds1 = loadDataset(path.join(root, 'o1'));
    assert.equal(ds1.x[2 * 120], 30, 'the 20×20 image was resized (fill)');
    const m2 = await importDataset(src, { imageSize: [4, 5], grayscale: false }, path.join(root, 'o2'));
    assert.deepEqual(m2.inputShape, [4, 5, 3]);
    const ds2 = loadDataset(path.join(root, 'o2'));
    assert.equal(ds2.x.length, 4 * 60);
    assert.deepEqual([...ds2.x.subarray(0, 3)], [10, 10, 10]);
  });

  test('RGB files holding grey pixels default to grayscale', async () => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    for (const c of ['x', 'y']) for (const i of [1, 2]) write(path.join(src, c, `${i}.png`), await png(2, 2, 3, Array(12).fill(i * 40)));
    const m = await importDataset(src, {}, path.join(root, 'o'));
    assert.deepEqual(m.inputShape, [2, 2, 1]);
  });

  const badSource = async (root: string): Promise<string> => {
    const src = path.join(root, 'pets');
    const good = await png(2, 2, 1, [1, 2, 3, 4]);
    for (const c of ['cat', 'dog']) for (const i of [1, 2, 3]) write(path.join(src, c, `${i}.png`), good);
    write(path.join(src, 'cat', 'notes.txt'), 'not an image at all');
    write(path.join(src, 'cat', 'broken.png'), good.subarray(0, good.length - 20));
    write(path.join(src, 'dog', 'short.bmp'), bmp24(4, 4, Array(48).fill(7)).subarray(0, 70));
    write(path.join(src, 'dog', 'empty.jpg'), '');
    write(path.join(src, 'fish', '.keep'), '');
    return src;
  };

  test('bad files: every problem is named, the import fails whole and leaves nothing', async () => {
    const root = tmpDir();
    const src = await badSource(root);
    const out = path.join(root, 'cache', 'pets');
    const err = await rejects(importDataset(src, {}, out));
    const byFile = new Map(err.problems.map((p) => [p.file, p.reason]));
    assert.equal(byFile.get('cat/notes.txt'), 'not an image: its content is text ("not an image at all"); expected PNG, JPEG, GIF, BMP, WebP or TIFF');
    assert.match(byFile.get('cat/broken.png') ?? '', /^corrupt PNG: /);
    assert.match(byFile.get('dog/short.bmp') ?? '', /^corrupt BMP: truncated/);
    assert.equal(byFile.get('dog/empty.jpg'), 'not an image: the file is empty; expected PNG, JPEG, GIF, BMP, WebP or TIFF');
    assert.match(byFile.get('fish') ?? '', /^empty class folder/);
    assert.equal(err.problems.length, 5);
    // The empty class folder is a problem but no file: the count says so.
    assert.match(err.message, /^4 bad files and 1 other problem in .*pets \(use --skip-bad to leave them out\): cat\/broken\.png: corrupt PNG.*; and 4 more$/);
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(path.join(root, 'cache')), false, 'created parent folders are removed too');
  });

  test('skipBad leaves bad files and empty classes out and counts them', async () => {
    const root = tmpDir();
    const src = await badSource(root);
    const out = path.join(root, 'pets-cache');
    const m = await importDataset(src, { skipBad: true }, out);
    assert.deepEqual(m.classes, ['cat', 'dog']);
    assert.deepEqual(m.classCounts, [3, 3]);
    assert.equal(m.skipped, 4);
    assert.equal(m.problems.length, 5);
    assert.ok(m.problems.some((p) => p.file === 'cat/broken.png'));
    assert.deepEqual(leftovers(root), []);
  });

  test('a file named like an image whose content is none says what its content is, not its name', async () => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    const good = await png(2, 2, 1, [1, 2, 3, 4]);
    for (const c of ['a', 'b']) for (const i of [1, 2]) write(path.join(src, c, `${i}.png`), good);
    write(path.join(src, 'a', 'text.png'), 'this is not a PNG file at all\n');
    write(path.join(src, 'a', 'lfs.png'), 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n');
    write(path.join(src, 'b', 'zip.jpg'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]));
    write(path.join(src, 'b', 'bytes.png'), Buffer.from([0x00, 0x9c, 0xff, 0x12, 0x80, 0x01]));
    const err = await rejects(importDataset(src, {}, path.join(root, 'o')));
    const byFile = new Map(err.problems.map((p) => [p.file, p.reason]));
    const expected = '; expected PNG, JPEG, GIF, BMP, WebP or TIFF';
    assert.equal(byFile.get('a/text.png'), `not an image: its content is text ("this is not a PNG file a…")${expected}`);
    assert.equal(
      byFile.get('a/lfs.png'),
      `not an image: its content is a Git LFS pointer (the image itself was never downloaded: run "git lfs pull")${expected}`,
    );
    assert.equal(byFile.get('b/zip.jpg'), `not an image: its content is a ZIP archive${expected}`);
    assert.equal(byFile.get('b/bytes.png'), `not an image: its content is unknown (it starts with the bytes 00 9c ff 12)${expected}`);
    for (const reason of byFile.values()) assert.doesNotMatch(reason, /"\.(png|jpg)"/, 'the name is not given as what the file is');
  });

  test('content that is no image is named from its first bytes', () => {
    const bytes = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Uint8Array.from(s));
    assert.equal(describeContent(bytes('a,b,label\n1,2,cat\n')), 'text ("a,b,label 1,2,cat")');
    assert.equal(describeContent(bytes('\ufeffnaïve café, déjà vu — a long line of words')), 'text ("naïve café, déjà vu — a …")');
    assert.equal(describeContent(bytes(' \n\t ')), 'blank text');
    // A two-byte character cut by the end of the bytes read is still text.
    assert.equal(describeContent(bytes('abc é').subarray(0, 5)), 'text ("abc")');
    assert.equal(describeContent(bytes('<!DOCTYPE html><html><body>Not found')), 'a web page (HTML)');
    assert.equal(describeContent(bytes('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">')), 'an SVG drawing, a format not read here');
    assert.equal(describeContent(bytes([0x1f, 0x8b, 8, 0])), 'gzip-compressed data');
    assert.equal(describeContent(bytes('%PDF-1.7\n')), 'a PDF document');
    assert.equal(describeContent(bytes([0, 0, 0, 0x18, ...Buffer.from('ftypheic')])), 'a HEIC/HEIF image, a format not read here (convert it to JPEG or PNG)');
    assert.equal(describeContent(bytes([0, 0, 0, 0x1c, ...Buffer.from('ftypavif')])), 'an AVIF image, a format not read here (convert it to PNG or JPEG)');
    assert.equal(describeContent(bytes([0, 0, 0, 0x20, ...Buffer.from('ftypisom')])), 'a video (MP4 or QuickTime)');
    assert.equal(describeContent(bytes([0x7f, 0x45, 0x4c, 0x46, 2, 1])), 'unknown (it starts with the bytes 7f 45 4c 46)', 'a control character is not text');
    assert.equal(describeContent(bytes([0xab, 0x01])), 'unknown (it starts with the bytes ab 01)');
  });

  test('a class with one image is a problem; fewer than 2 classes is fatal even with skipBad', async () => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    const good = await png(2, 2, 1, [1, 2, 3, 4]);
    write(path.join(src, 'a', '1.png'), good);
    write(path.join(src, 'a', '2.png'), good);
    write(path.join(src, 'b', '1.png'), good);
    write(path.join(src, 'c', '1.png'), good);
    write(path.join(src, 'c', '2.png'), good);
    const err = await rejects(importDataset(src, {}, path.join(root, 'o1')));
    assert.deepEqual(err.problems, [{ file: 'b', reason: 'class "b" has only 1 sample; at least 2 are needed to split it into training and validation' }]);
    const m = await importDataset(src, { skipBad: true }, path.join(root, 'o2'));
    assert.deepEqual(m.classes, ['a', 'c']);
    assert.equal(m.skipped, 1);
    const src2 = path.join(root, 'src2');
    write(path.join(src2, 'only', '1.png'), good);
    write(path.join(src2, 'only', '2.png'), good);
    const e2 = await rejects(importDataset(src2, { skipBad: true }, path.join(root, 'o3')));
    assert.match(e2.message, /^Cannot import .*only 1 usable class/);
    const src3 = path.join(root, 'src3');
    write(path.join(src3, 'loose.png'), good);
    const e3 = await rejects(importDataset(src3, {}, path.join(root, 'o4')));
    assert.match(e3.problems[0]!.reason, /no class subfolders: found 1 image directly in the folder/);
    assert.deepEqual(leftovers(root), []);
  });

  test('limit keeps a stratified subset before decoding', async () => {
    const root = tmpDir();
    const src = path.join(root, 'src');
    const good = await png(2, 2, 1, [1, 2, 3, 4]);
    for (let i = 0; i < 30; i++) write(path.join(src, 'a', `${i}.png`), good);
    for (let i = 0; i < 10; i++) write(path.join(src, 'b', `${i}.png`), good);
    const m = await importDataset(src, { limit: 8, validationFraction: 0.25 }, path.join(root, 'o'));
    assert.equal(m.count, 8);
    assert.deepEqual(m.classCounts, [6, 2]);
    assert.equal(m.split.validationCount, 3);
  });
});
