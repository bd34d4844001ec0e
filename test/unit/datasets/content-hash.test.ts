import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { datasetContentHash } from '../../../src/main/engine/datasets/content-hash.js';
import { cleanupTmp, tmpDir, write } from './helpers.js';

after(cleanupTmp);

const meta = { inputShape: [2, 2, 1], featureDtype: 'uint8' as const, classes: ['a', 'b'], normalization: { kind: 'scale' as const, scale: 1 / 255 } };

/** A cache folder with these bytes in x.bin (two 2×2 samples), and meta.json that names it. */
function cache(x: number[], name = 'n'): string {
  const dir = tmpDir();
  write(path.join(dir, 'x.bin'), Uint8Array.from(x));
  write(path.join(dir, 'y.bin'), Uint8Array.from([0, 0, 1, 0]));
  write(path.join(dir, 'train.idx'), Uint8Array.from([0, 0, 0, 0]));
  write(path.join(dir, 'val.idx'), Uint8Array.from([1, 0, 0, 0]));
  write(path.join(dir, 'meta.json'), JSON.stringify({ name, createdAt: new Date().toISOString() }));
  return dir;
}

test('the same content hashes the same, whatever the dataset is called or when it was imported', async () => {
  const x = [0, 1, 2, 3, 4, 5, 6, 7];
  const a = await datasetContentHash(cache(x, 'first'), meta);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(await datasetContentHash(cache(x, 'second'), meta), a);
});

test('one changed byte, another split or another normalization changes the hash', async () => {
  const x = [0, 1, 2, 3, 4, 5, 6, 7];
  const a = await datasetContentHash(cache(x), meta);
  assert.notEqual(await datasetContentHash(cache([0, 1, 2, 3, 4, 5, 6, 8]), meta), a);
  const split = cache(x);
  write(path.join(split, 'val.idx'), Uint8Array.from([0, 0, 0, 0]));
  assert.notEqual(await datasetContentHash(split, meta), a);
  assert.notEqual(await datasetContentHash(cache(x), { ...meta, normalization: { kind: 'scale', scale: 1 } }), a);
});

test('a cache that lost a file is refused, not hashed as something else', async () => {
  const dir = cache([0, 1, 2, 3, 4, 5, 6, 7]);
  rmSync(path.join(dir, 'y.bin'));
  await assert.rejects(datasetContentHash(dir, meta), /ENOENT.*y\.bin/);
});
