import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { APP_CSP, appUrlToFile, createAppProtocolHandler, PRIVILEGED_SCHEMES } from '../../../src/main/electron/app-protocol.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'autobatch-app-'));
mkdirSync(path.join(root, 'assets'));
writeFileSync(path.join(root, 'index.html'), '<!doctype html><p>app</p>');
writeFileSync(path.join(root, 'assets', 'main.js'), 'console.log(1)');
writeFileSync(path.join(path.dirname(root), 'outside.txt'), 'secret');

test('app:// maps onto the renderer folder and nowhere else', () => {
  assert.equal(appUrlToFile(root, 'app://app/'), path.join(root, 'index.html'));
  assert.equal(appUrlToFile(root, 'app://app/assets/main.js'), path.join(root, 'assets', 'main.js'));
  for (const bad of [
    'app://app/../outside.txt',
    'app://app/%2e%2e/outside.txt',
    'app://app/..%2Foutside.txt',
    'app://other/index.html',
    'file:///etc/passwd',
    'app://app/%00',
    'nonsense',
  ]) {
    const file = appUrlToFile(root, bad);
    assert.ok(file === undefined || file.startsWith(root + path.sep), `${bad} → ${file}`);
    assert.notEqual(file, path.join(path.dirname(root), 'outside.txt'));
  }
});

test('the protocol answers files with the CSP, client routes with the page, and 404 otherwise', async () => {
  const handle = createAppProtocolHandler(root);
  const js = await handle(new Request('app://app/assets/main.js'));
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('content-security-policy'), APP_CSP);
  assert.equal(await js.text(), 'console.log(1)');
  const route = await handle(new Request('app://app/runs'));
  assert.equal(route.status, 200);
  assert.match(await route.text(), /<p>app<\/p>/);
  assert.equal((await handle(new Request('app://app/missing.js'))).status, 404);
  assert.equal((await handle(new Request('app://app/%2e%2e/outside.txt'))).status, 404);
  assert.doesNotMatch(APP_CSP, /unsafe-eval/);
  assert.match(APP_CSP, /script-src 'self'(;|$)/);
  assert.match(APP_CSP, /object-src 'none'/);
});

test('app:// is registered as a standard, secure scheme', () => {
  assert.deepEqual(
    PRIVILEGED_SCHEMES.map((s) => [s.scheme, s.privileges.standard, s.privileges.secure]),
    [['app', true, true]],
  );
});
