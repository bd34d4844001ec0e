// The CSV writer of the exports (src/shared/csv.ts): each quoting rule by itself, then a round
// trip through csv-parse (the reader the app already depends on) of awkward cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { csvCell, csvLine, csvText } from '../../../src/shared/csv.js';

test('plain cells are written as they are; null and undefined are empty', () => {
  assert.equal(csvCell('mnist'), 'mnist');
  assert.equal(csvCell(''), '');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(csvCell(true), 'true');
  assert.equal(csvCell(false), 'false');
  assert.equal(csvLine(['a', null, 3, undefined, 'b']), 'a,,3,,b');
});

test('numbers as JavaScript prints them: exponents, negatives and the non-finite ones kept', () => {
  assert.equal(csvCell(0.1 + 0.2), '0.30000000000000004');
  assert.equal(csvCell(1e-7), '1e-7');
  assert.equal(csvCell(-2.5), '-2.5');
  assert.equal(csvCell(Number.NaN), 'NaN');
  assert.equal(csvCell(Number.POSITIVE_INFINITY), 'Infinity');
  assert.equal(csvCell(Number.NEGATIVE_INFINITY), '-Infinity');
});

test('commas, quotes, line breaks and edge spaces are quoted; quotes inside are doubled', () => {
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('"'), '""""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell('cr\rlf'), '"cr\rlf"');
  assert.equal(csvCell(' padded'), '" padded"');
  assert.equal(csvCell('padded\t'), '"padded\t"');
  assert.equal(csvCell('in side'), 'in side', 'a space inside needs no quotes');
  assert.equal(csvCell('[1,2]'), '"[1,2]"');
});

test('csvText: a header, then each row, every line ended by a newline', () => {
  assert.equal(
    csvText(
      ['a', 'b'],
      [
        [1, 'x'],
        [null, 'y,z'],
      ],
    ),
    'a,b\n1,x\n,"y,z"\n',
  );
  assert.equal(csvText(['only'], []), 'only\n');
});

test('round trip: csv-parse reads back exactly the cells written', () => {
  const header = ['name', 'note', 'value'];
  const rows = [
    ['plain', 'a "quoted" word', '1'],
    ['comma, inside', 'line one\nline two', '-0.5'],
    [' leading space', 'trailing space ', 'NaN'],
    ['ünïcödé ✓', '', '1e-7'],
    ['=SUM(A1)', '"', 'Infinity'],
    ['crlf', 'one\r\ntwo', '[0.1,0.2]'],
  ];
  const text = csvText(header, rows);
  const back = parse(text, { relax_column_count: false }) as string[][];
  assert.deepEqual(back, [header, ...rows]);
});
