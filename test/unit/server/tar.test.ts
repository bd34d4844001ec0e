import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tarArchive } from '../../../src/main/service/tar.js';
import { missing } from '../../support/parts.js';

test('the model archive is a tar that tar itself unpacks byte for byte', { skip: missing('tar') }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autobatch-tar-'));
  const weights = Buffer.from(Array.from({ length: 1500 }, (_, i) => i % 251));
  const longName = `run-1-${'x'.repeat(120)}/model.json`;
  const archive = await tarArchive([
    { name: 'run-1/model.json', data: Buffer.from('{"a":1}') },
    { name: 'run-1/weights.bin', data: weights },
    { name: longName, data: Buffer.from('long') },
  ]);
  assert.equal(archive.length % 512, 0);
  const file = path.join(dir, 'm.tar');
  writeFileSync(file, archive);
  const list = spawnSync('tar', ['-tf', file], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(list.stdout.trim().split('\n'), ['run-1/model.json', 'run-1/weights.bin', longName]);
  const x = spawnSync('tar', ['-xf', file, '-C', dir], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  assert.deepEqual(readFileSync(path.join(dir, 'run-1', 'weights.bin')), weights);
  assert.equal(readFileSync(path.join(dir, longName), 'utf8'), 'long');
});
