// What `autobatch datasets import --skip-bad` and `datasets show` say about problems, and the
// count the app's dataset list shows: the counts agree with the problems listed below them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { importDataset } from '../../../src/main/engine/datasets/index.js';
import { problemLines } from '../../../src/main/cli/commands/datasets.js';
import { datasetSummary } from '../../../src/main/service/api-views.js';
import type { DatasetRecord } from '../../../src/main/store/index.js';
import { bmp24, cleanupTmp, png, tmpDir, write } from '../datasets/helpers.js';

after(cleanupTmp);

function record(kind: DatasetRecord['kind'], manifest: DatasetRecord['manifest']): DatasetRecord {
  return { id: 1, name: manifest.name, kind, source: manifest.source, cacheDir: '/nowhere', createdAt: manifest.createdAt, manifest, contentHash: null };
}

test('image folder with --skip-bad: an empty class folder is a problem, not a file left out', async () => {
  const root = tmpDir();
  const src = path.join(root, 'pets');
  const good = await png(2, 2, 1, [1, 2, 3, 4]);
  for (const c of ['cat', 'dog']) for (const i of [1, 2, 3]) write(path.join(src, c, `${i}.png`), good);
  write(path.join(src, 'cat', 'notes.txt'), 'not an image at all');
  write(path.join(src, 'dog', 'short.bmp'), bmp24(4, 4, Array(48).fill(7)).subarray(0, 70));
  write(path.join(src, 'dog', 'empty.jpg'), '');
  write(path.join(src, 'fish', '.keep'), '');
  const m = await importDataset(src, { skipBad: true }, path.join(root, 'out'));
  assert.equal(m.skipped, 3);

  const lines = problemLines({ kind: 'image-folder', problems: m.problems, skipped: m.skipped });
  assert.equal(lines[0], '  4 problems found; 3 files were left out:');
  assert.equal(lines.length - 1, 4, 'as many problems listed as counted');
  assert.ok(
    lines.some((l) => /^ {4}fish: empty class folder/.test(l)),
    lines.join('\n'),
  );
  assert.equal(datasetSummary(record('image-folder', m)).problemCount, 4);
});

test('a long list: the first 20 are printed, the rest counted, problems beyond the stored 1000 included', async () => {
  const root = tmpDir();
  const rows = ['a,b,label'];
  for (let i = 0; i < 1500; i++) rows.push(`${i},oops,${i % 2}`);
  for (let i = 0; i < 10; i++) rows.push(`${i},${i},${i % 2}`);
  const file = write(path.join(root, 'big.csv'), rows.join('\n'));
  const m = await importDataset(file, { skipBad: true }, path.join(root, 'out'));
  assert.equal(m.problems.length, 1001, '1000 listed and one entry counting the rest');

  const lines = problemLines({ kind: 'csv', problems: m.problems, skipped: m.skipped });
  assert.equal(lines[0], '  1,500 problems found; 1,500 rows were left out:');
  assert.equal(lines.length, 1 + 20 + 1);
  assert.match(lines[1]!, /^ {4}big\.csv:2: /);
  assert.equal(lines.at(-1), '    … and 1,480 more (see --json)');
  assert.equal(datasetSummary(record('csv', m)).problemCount, 1500);
});

test('no problems: nothing is printed', async () => {
  const root = tmpDir();
  const good = await png(2, 2, 1, [1, 2, 3, 4]);
  for (const c of ['a', 'b']) for (const i of [1, 2]) write(path.join(root, 'src', c, `${i}.png`), good);
  const m = await importDataset(path.join(root, 'src'), {}, path.join(root, 'out'));
  assert.deepEqual(problemLines({ kind: 'image-folder', problems: m.problems, skipped: m.skipped }), []);
});
