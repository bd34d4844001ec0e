// The one zod-error formatter (src/shared/schema-errors.ts): the API's invalid-params answers,
// the service's settings errors, the store's damaged columns and the process messages all use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { describeSchemaError, schemaErrorField } from '../../../src/shared/schema-errors.js';

const schema = z.strictObject({
  name: z.string(),
  config: z.strictObject({ batchSize: z.number().int().min(1), layers: z.array(z.number()).optional() }),
});

function errorOf(value: unknown): z.ZodError {
  const r = schema.safeParse(value);
  assert.equal(r.success, false);
  return r.error!;
}

test('each bad field is named by its dotted path, with what is wrong', () => {
  const e = errorOf({ name: 'a', config: { batchSize: 0, layers: [1, 'x'] } });
  const text = describeSchemaError(e);
  assert.match(text, /^config\.batchSize: .*>=\s?1/);
  assert.match(text, /; config\.layers\.1: .*number/);
  assert.equal(schemaErrorField(e), 'config.batchSize');
});

test('unknown fields are named, nested ones by their whole path', () => {
  const top = errorOf({ name: 'a', config: { batchSize: 1 }, extra: 1, other: 2 });
  assert.equal(describeSchemaError(top), 'extra, other: unknown fields');
  assert.equal(schemaErrorField(top), 'extra');
  const nested = errorOf({ name: 'a', config: { batchSize: 1, lr: 1 } });
  assert.equal(describeSchemaError(nested), 'config.lr: unknown field');
  assert.equal(schemaErrorField(nested), 'config.lr');
});

test('a wrong whole value is labelled by root when given, bare otherwise', () => {
  const e = errorOf('not an object');
  assert.match(describeSchemaError(e, 'params'), /^params: .*object/);
  assert.doesNotMatch(describeSchemaError(e), /:.*:/);
  assert.equal(schemaErrorField(e), undefined);
});

test('at most five issues are listed', () => {
  const many = z.strictObject(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, z.number()])));
  const r = many.safeParse({});
  assert.equal(r.success, false);
  assert.equal(describeSchemaError(r.error!).split('; ').length, 5);
});
