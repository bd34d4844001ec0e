// The desktop shell's security decisions, with Electron's objects replaced by fakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { denyAllPermissions, guardNavigation, isAppUrl, isTrustedSender, secureWebPreferences } from '../../../src/main/electron/security.js';

test('windows are isolated, sandboxed, without Node, with web security', () => {
  const p = secureWebPreferences('/app/preload.cjs');
  assert.equal(p.preload, '/app/preload.cjs');
  assert.equal(p.contextIsolation, true);
  assert.equal(p.sandbox, true);
  assert.equal(p.nodeIntegration, false);
  assert.equal(p.nodeIntegrationInWorker, false);
  assert.equal(p.nodeIntegrationInSubFrames, false);
  assert.equal(p.webSecurity, true);
  assert.equal(p.allowRunningInsecureContent, false);
  assert.equal(p.webviewTag, false);
  assert.equal(p.navigateOnDragDrop, false);
});

test('only app://app URLs count as the app', () => {
  assert.ok(isAppUrl('app://app/index.html'));
  assert.ok(isAppUrl('app://app/index.html#/runs/3'));
  for (const url of ['file:///etc/passwd', 'https://app/', 'app://evil/index.html', 'http://127.0.0.1:8765/', '', 'not a url', undefined, null]) {
    assert.equal(isAppUrl(url), false, String(url));
  }
  assert.equal(isTrustedSender({ url: 'app://app/index.html' }), true);
  assert.equal(isTrustedSender({ url: 'https://evil.example/' }), false);
  assert.equal(isTrustedSender(null), false);
});

class FakeContents extends EventEmitter {
  openHandler?: (details: { url: string }) => { action: string };
  setWindowOpenHandler(h: (details: { url: string }) => { action: string }) {
    this.openHandler = h;
  }
}

function navigate(contents: FakeContents, event: string, url: string): boolean {
  let prevented = false;
  contents.emit(event, { preventDefault: () => (prevented = true) }, url);
  return prevented;
}

test('navigation away from the app, new windows and webviews are blocked', () => {
  const contents = new FakeContents();
  const opened: string[] = [];
  guardNavigation(contents as never, (url) => opened.push(url));
  assert.equal(navigate(contents, 'will-navigate', 'https://evil.example/'), true);
  assert.equal(navigate(contents, 'will-navigate', 'file:///home/user/dropped.csv'), true, 'a dropped file does not replace the app');
  assert.equal(navigate(contents, 'will-redirect', 'http://127.0.0.1/'), true);
  assert.equal(navigate(contents, 'will-navigate', 'app://app/index.html#/runs'), false, 'in-app navigation works');
  let webviewPrevented = false;
  contents.emit('will-attach-webview', { preventDefault: () => (webviewPrevented = true) });
  assert.ok(webviewPrevented);
  assert.deepEqual(contents.openHandler!({ url: 'https://docs.example/guide' }), { action: 'deny' });
  assert.deepEqual(contents.openHandler!({ url: 'file:///etc/passwd' }), { action: 'deny' });
  assert.deepEqual(contents.openHandler!({ url: 'app://app/index.html' }), { action: 'deny' });
  assert.deepEqual(opened, ['https://docs.example/guide'], 'only https links go to the system browser');
});

test('every permission request and check is denied', () => {
  const answers: boolean[] = [];
  const fake = {
    request: undefined as undefined | ((c: unknown, p: string, cb: (ok: boolean) => void) => void),
    check: undefined as undefined | (() => boolean),
    device: undefined as undefined | (() => boolean),
    setPermissionRequestHandler(h: (c: unknown, p: string, cb: (ok: boolean) => void) => void) {
      this.request = h;
    },
    setPermissionCheckHandler(h: () => boolean) {
      this.check = h;
    },
    setDevicePermissionHandler(h: () => boolean) {
      this.device = h;
    },
  };
  denyAllPermissions(fake as never);
  for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) fake.request!({}, permission, (ok) => answers.push(ok));
  assert.deepEqual(answers, [false, false, false, false, false]);
  assert.equal(fake.check!(), false);
  assert.equal(fake.device!(), false);
});
