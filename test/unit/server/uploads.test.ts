import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeRelativePath, UploadError } from '../../../src/main/server/uploads.js';
import { resolveStatic } from '../../../src/main/server/static-files.js';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

test('upload paths keep their folders and refuse anything that could leave the upload folder', () => {
  assert.deepEqual(sanitizeRelativePath('digits/3/a.png'), ['digits', '3', 'a.png']);
  assert.deepEqual(sanitizeRelativePath('train.csv'), ['train.csv']);
  for (const bad of [
    '',
    '../x',
    'a/../../b',
    '/etc/passwd',
    'C:/Windows/x',
    'C:x',
    '\\\\server\\share',
    'a\\..\\b',
    'a//b',
    './a',
    'a/./b',
    'a/\0b',
    'a/b:c',
    'x/'.repeat(40) + 'f',
  ]) {
    assert.throws(
      () => sanitizeRelativePath(bad),
      (e: unknown) => e instanceof UploadError && e.status === 400 && /^path: /.test(e.message),
      JSON.stringify(bad),
    );
  }
  assert.throws(() => sanitizeRelativePath(undefined), UploadError);
});

test('static files never leave the renderer folder', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'autobatch-static-'));
  mkdirSync(path.join(root, 'assets'));
  writeFileSync(path.join(root, 'index.html'), '<p>hi</p>');
  writeFileSync(path.join(root, 'assets', 'app.js'), '1');
  writeFileSync(path.join(path.dirname(root), 'secret.txt'), 'no');
  assert.equal(resolveStatic(root, '/index.html'), path.join(root, 'index.html'));
  assert.equal(resolveStatic(root, '/assets/app.js'), path.join(root, 'assets', 'app.js'));
  for (const bad of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/%00', '/assets', '/missing.js', '/%E0%A4%A']) {
    assert.equal(resolveStatic(root, bad), undefined, bad);
  }
});
