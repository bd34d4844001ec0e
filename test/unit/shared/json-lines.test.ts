import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJsonLine, encodeJsonLine, LineSplitter } from '../../../src/shared/json-lines.js';

test('non-finite numbers travel as tags and come back as numbers', () => {
  const value = { a: Number.NaN, b: [Number.POSITIVE_INFINITY, -Infinity, 1.5], c: { d: -0.25 }, e: 'NaN' };
  const line = encodeJsonLine(value);
  assert.equal(line, '{"a":{"$f":"NaN"},"b":[{"$f":"Infinity"},{"$f":"-Infinity"},1.5],"c":{"d":-0.25},"e":"NaN"}');
  assert.deepEqual(decodeJsonLine(line), value);
});

test('only an exact tag is decoded: other objects with $f stay objects', () => {
  assert.deepEqual(decodeJsonLine('{"x":{"$f":"nan"},"y":{"$f":"NaN","z":1}}'), { x: { $f: 'nan' }, y: { $f: 'NaN', z: 1 } });
  assert.throws(() => decodeJsonLine('{"x": NaN}'), SyntaxError);
});

test('the line splitter joins lines split across chunks and drops an overlong one', () => {
  const lines: string[] = [];
  const overflows: number[] = [];
  const splitter = new LineSplitter(
    (l) => lines.push(l),
    10,
    (n) => overflows.push(n),
  );
  splitter.push('{"a"');
  splitter.push(':1}\n\n{"b":2}\n{"c"');
  splitter.push(':3}\n');
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  splitter.push('x'.repeat(25));
  assert.deepEqual(overflows, [25]);
  splitter.push('\n{"d":4}\n');
  assert.deepEqual(lines.slice(3), ['{"d":4}']);
});
