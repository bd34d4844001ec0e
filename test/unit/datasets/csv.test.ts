import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { importDataset, loadDataset, toFloatBatch } from '../../../src/main/engine/datasets/index.js';
import { chooseDelimiter } from '../../../src/main/engine/datasets/csv.js';
import { cleanupTmp, leftovers, tmpDir, rejects, write } from './helpers.js';

after(cleanupTmp);

/** 3 classes × 5 rows of 4 numeric features, label named `species`. */
function irisLike(): string {
  const rows = ['sepal_length,sepal_width,petal_length,petal_width,species'];
  for (let i = 0; i < 15; i++) {
    const cls = ['setosa', 'versicolor', 'virginica'][i % 3]!;
    rows.push(`${i},${i * 2 + 1},${(i % 4) * 0.5},7,${cls}`);
  }
  return rows.join('\n') + '\n';
}

describe('CSV import', () => {
  test('header, default label column, standardisation on the train split', async () => {
    const root = tmpDir();
    const file = write(path.join(root, 'data.csv'), 'a,b,Label\n1,10,x\n2,20,y\n3,30,x\n4,40,y\n5,50,x\n6,60,y\n7,70,x\n8,80,y\n');
    const out = path.join(root, 'o');
    const m = await importDataset(file, {}, out);
    assert.equal(m.kind, 'csv');
    assert.equal(m.name, 'data');
    assert.deepEqual(m.inputShape, [2]);
    assert.equal(m.featureDtype, 'float32');
    assert.deepEqual(m.classes, ['x', 'y']);
    assert.deepEqual(m.classCounts, [4, 4]);
    assert.equal(m.count, 8);
    assert.equal(m.split.trainCount, 6);
    assert.equal(m.split.validationCount, 2);
    const ds = loadDataset(out);
    assert.deepEqual([...ds.x], [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60, 7, 70, 8, 80]);
    assert.deepEqual([...ds.y], [0, 1, 0, 1, 0, 1, 0, 1]);
    // mean and population std of the train rows only
    const train = [...ds.trainIndex];
    const col0 = train.map((i) => i + 1);
    const mean = col0.reduce((a, b) => a + b, 0) / col0.length;
    const std = Math.sqrt(col0.reduce((a, b) => a + (b - mean) ** 2, 0) / col0.length);
    assert.ok(m.normalization.kind === 'standardize');
    assert.ok(Math.abs(m.normalization.mean[0]! - mean) < 1e-9);
    assert.ok(Math.abs(m.normalization.std[0]! - std) < 1e-9);
    assert.ok(Math.abs(m.normalization.mean[1]! - mean * 10) < 1e-9);
    const f = toFloatBatch(ds, ds.trainIndex);
    for (const j of [0, 1]) {
      let s = 0;
      let s2 = 0;
      for (let r = 0; r < train.length; r++) {
        s += f[r * 2 + j]!;
        s2 += f[r * 2 + j]! ** 2;
      }
      assert.ok(Math.abs(s / train.length) < 1e-6, 'train mean 0');
      assert.ok(Math.abs(s2 / train.length - 1) < 1e-5, 'train variance 1');
    }
    const v = toFloatBatch(ds, [0]);
    assert.ok(Math.abs(v[0]! - (1 - mean) / std) < 1e-6);
    assert.equal(m.previews.length, 8);
    assert.deepEqual(m.previews[0], { classIndex: 0, index: 0, values: [1, 10] });
  });

  test('no header: the first row is data, label is the last column, numeric classes sort numerically', async () => {
    const root = tmpDir();
    const file = write(path.join(root, 'n.csv'), '1.5,2,10\n-3,4e1,2\n.5,6,10\n7,8,2\n');
    const m = await importDataset(file, {}, path.join(root, 'o'));
    assert.deepEqual(m.classes, ['2', '10']);
    assert.equal(m.count, 4);
    const ds = loadDataset(path.join(root, 'o'));
    assert.deepEqual([...ds.x], [1.5, 2, -3, 40, 0.5, 6, 7, 8]);
    assert.deepEqual([...ds.y], [1, 0, 1, 0]);
  });

  test('a std of 0 becomes 1', async () => {
    const root = tmpDir();
    const file = write(path.join(root, 'c.csv'), 'f,g,label\n5,1,a\n5,2,b\n5,3,a\n5,4,b\n');
    const m = await importDataset(file, {}, path.join(root, 'o'));
    assert.ok(m.normalization.kind === 'standardize');
    assert.equal(m.normalization.std[0], 1);
    assert.equal(m.normalization.mean[0], 5);
    assert.deepEqual(
      [...toFloatBatch(loadDataset(path.join(root, 'o')), [0, 1])].filter((_, i) => i % 2 === 0),
      [0, 0],
    );
  });

  test('label column by name (any case) and by 0-based index', async () => {
    const root = tmpDir();
    const file = write(path.join(root, 'iris.csv'), irisLike());
    const m1 = await importDataset(file, { labelColumn: 'SPECIES' }, path.join(root, 'o1'));
    assert.deepEqual(m1.classes, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual(m1.inputShape, [4]);
    const m2 = await importDataset(file, { labelColumn: '4' }, path.join(root, 'o2'));
    assert.deepEqual(m2.classes, m1.classes);
    assert.deepEqual(m2.classCounts, [5, 5, 5]);
  });

  test('label column in the middle, by index, with a header of names', async () => {
    const root = tmpDir();
    const file = write(path.join(root, 'mid.csv'), 'p,kind,q\n1,a,2\n3,b,4\n5,a,6\n7,b,8\n');
    const m = await importDataset(file, { labelColumn: '1' }, path.join(root, 'o'));
    assert.deepEqual(m.classes, ['a', 'b']);
    assert.deepEqual([...loadDataset(path.join(root, 'o')).x], [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('quoted fields, CRLF, BOM, blank lines; TSV and semicolons', async () => {
    const root = tmpDir();
    const file = write(path.join(root, 'q.csv'), '\uFEFF"x","y","label"\r\n"1",2,"cat, big"\r\n3,"4","dog"\r\n\r\n5,6,"cat, big"\r\n7,8,"dog"\r\n');
    const m = await importDataset(file, {}, path.join(root, 'o1'));
    assert.deepEqual(m.classes, ['cat, big', 'dog']);
    assert.deepEqual([...loadDataset(path.join(root, 'o1')).x], [1, 2, 3, 4, 5, 6, 7, 8]);
    const tsv = write(path.join(root, 't.tsv'), 'x\ty\tclass\n1\t2\ta\n3\t4\tb\n5\t6\ta\n7\t8\tb\n');
    const m2 = await importDataset(tsv, {}, path.join(root, 'o2'));
    assert.deepEqual(m2.classes, ['a', 'b']);
    assert.deepEqual(m2.inputShape, [2]);
    assert.equal(chooseDelimiter('a;b;c', '.csv'), ';');
    assert.equal(chooseDelimiter('a,b;c', '.csv'), ',');
    assert.equal(chooseDelimiter('a\tb,c', '.tsv'), '\t');
  });

  test('bad rows are reported with their row and what was expected', async () => {
    const root = tmpDir();
    const lines = irisLike().trimEnd().split('\n');
    lines[3] = '1,2,3,setosa'; // row 4: ragged
    lines[6] = '1,2,3,abc,virginica'; // row 7: not a number
    lines[8] = '1,,3,4,setosa'; // row 9: empty cell
    lines[10] = '1,2,3,4,'; // row 11: empty label
    lines.splice(12, 0, '"1\n2",x,3,4,setosa'); // rows 13-14: multi-line quoted cell, not a number
    const file = write(path.join(root, 'data.csv'), lines.join('\n') + '\n');
    const out = path.join(root, 'o');
    const err = await rejects(importDataset(file, {}, out));
    assert.deepEqual(err.problems, [
      { file: 'data.csv', row: 4, reason: 'expected 5 columns, found 4' },
      { file: 'data.csv', row: 7, reason: 'column "petal_width" is "abc", expected a number' },
      { file: 'data.csv', row: 9, reason: 'column "sepal_width" is empty, expected a number' },
      { file: 'data.csv', row: 11, reason: 'label column "species" is empty, expected a class label' },
      { file: 'data.csv', row: 13, reason: 'column "sepal_length" is "1\\n2", expected a number (and 1 more bad cell in this row)' },
    ]);
    assert.match(err.message, /^5 bad rows in .*data\.csv \(use --skip-bad to leave them out\): data\.csv, row 4: expected 5 columns, found 4; and 4 more$/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(root), []);
    const m = await importDataset(file, { skipBad: true }, out);
    assert.equal(m.skipped, 5);
    assert.equal(m.count, 11);
    assert.equal(m.problems.length, 5);
  });

  test('a missing label column, an empty file, a one-column file are fatal', async () => {
    const root = tmpDir();
    const file = write(path.join(root, 'iris.csv'), irisLike());
    const e1 = await rejects(importDataset(file, { labelColumn: 'kind', skipBad: true }, path.join(root, 'o1')));
    assert.equal(e1.problems[0]!.reason, 'label column "kind" does not exist; the columns are: sepal_length, sepal_width, petal_length, petal_width, species');
    const e2 = await rejects(importDataset(file, { labelColumn: '9' }, path.join(root, 'o2')));
    assert.equal(e2.problems[0]!.reason, 'label column 9 does not exist: the file has 5 columns (0–4)');
    // The option at fault, for the API's answer to name.
    assert.deepEqual([e1.option, e2.option], ['labelColumn', 'labelColumn']);
    const nohead = write(path.join(root, 'nh.csv'), '1,2,a\n3,4,b\n');
    const e3 = await rejects(importDataset(nohead, { labelColumn: 'label' }, path.join(root, 'o3')));
    assert.match(e3.problems[0]!.reason, /give the label column by 0-based index/);
    const empty = write(path.join(root, 'e.csv'), '');
    const e4 = await rejects(importDataset(empty, {}, path.join(root, 'o4')));
    assert.match(e4.message, /the file is empty/);
    const one = write(path.join(root, 'one.csv'), 'a\n1\n2\n');
    const e5 = await rejects(importDataset(one, {}, path.join(root, 'o5')));
    assert.match(e5.problems[0]!.reason, /expected at least 2 columns/);
    assert.equal(e5.option, undefined, 'the data is at fault, not an option');
    const headerOnly = write(path.join(root, 'h.csv'), 'a,b,label\n');
    const e6 = await rejects(importDataset(headerOnly, {}, path.join(root, 'o6')));
    assert.match(e6.problems[0]!.reason, /header but no data rows/);
    assert.deepEqual(leftovers(root), []);
  });

  test('the problem list is capped with a count of the rest', async () => {
    const root = tmpDir();
    const rows = ['a,b,label'];
    for (let i = 0; i < 1500; i++) rows.push(`${i},oops,${i % 2}`);
    for (let i = 0; i < 10; i++) rows.push(`${i},${i},${i % 2}`);
    const file = write(path.join(root, 'big.csv'), rows.join('\n'));
    const err = await rejects(importDataset(file, {}, path.join(root, 'o')));
    assert.equal(err.problems.length, 1001);
    assert.equal(err.omitted, 500);
    assert.equal(err.problems[1000]!.reason, 'and 500 more problems not listed');
    assert.match(err.message, /^1500 bad rows/);
    const m = await importDataset(file, { skipBad: true }, path.join(root, 'o2'));
    assert.equal(m.skipped, 1500);
    assert.equal(m.count, 10);
    assert.equal(m.problems.length, 1001);
  });

  test('limit keeps a stratified subset of rows', async () => {
    const root = tmpDir();
    const rows = ['a,label'];
    for (let i = 0; i < 100; i++) rows.push(`${i},${i < 75 ? 'big' : 'small'}`);
    const file = write(path.join(root, 'l.csv'), rows.join('\n'));
    const m = await importDataset(file, { limit: 20 }, path.join(root, 'o'));
    assert.equal(m.count, 20);
    assert.deepEqual(m.classCounts, [15, 5]);
    const e = await rejects(importDataset(file, { limit: 3 }, path.join(root, 'o2')));
    assert.match(e.message, /limit 3 is too small: at least 4 samples/);
    assert.equal(e.option, 'limit');
  });
});
