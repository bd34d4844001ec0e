import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, decodeWire, encodeWire, wireResponseSchema } from '../../../src/shared/api/index.js';

test('the wire keeps NaN and ±Infinity, which plain JSON turns into null', () => {
  const value = { loss: NaN, up: Infinity, down: -Infinity, ok: 1.5, list: [NaN, 2], nested: { x: null } };
  const back = decodeWire(encodeWire(value)) as typeof value;
  assert.ok(Number.isNaN(back.loss));
  assert.equal(back.up, Infinity);
  assert.equal(back.down, -Infinity);
  assert.equal(back.ok, 1.5);
  assert.ok(Number.isNaN(back.list[0]!));
  assert.equal(back.nested.x, null);
  assert.equal(JSON.parse(JSON.stringify(value)).loss, null, 'the problem this solves');
});

test('an object that merely looks like the tag with other keys stays an object', () => {
  const back = decodeWire(JSON.stringify({ v: { $num: 'NaN', other: 1 } })) as { v: unknown };
  assert.deepEqual(back.v, { $num: 'NaN', other: 1 });
});

test('ApiError carries code, field and problems to and from the wire', () => {
  const err = new ApiError({ code: 'invalid-params', message: 'config.batchSize: too small', field: 'config.batchSize' });
  assert.equal(err.code, 'invalid-params');
  assert.equal(err.field, 'config.batchSize');
  const res = { id: 1, ok: false, error: err.toWire() };
  assert.ok(wireResponseSchema.safeParse(res).success);
  assert.equal(new ApiError(err.toWire()).message, 'config.batchSize: too small');
});
