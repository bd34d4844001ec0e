// Electron's security checklist, checked against the shell's code and configuration without
// launching Electron (it cannot run in CI). The behaviour of each guard (navigation, new
// windows, webviews, permissions, IPC senders) is unit-tested with fakes in test/unit/electron/;
// this test checks the configuration as a whole: every window gets the secure preferences,
// nothing anywhere turns a protection off, no code evaluates strings, the CSP allows no eval,
// and the custom protocol is the only content source. `npm run check:electron` runs Doyensec's
// electronegativity scanner on the same files (see docs/reliability.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy } from '../../src/shared/csp.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string, exts = ['.ts', '.cts', '.svelte', '.js', '.html']): { file: string; text: string }[] {
  const abs = path.join(root, dir);
  let names: string[] = [];
  try {
    names = readdirSync(abs);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = path.join(abs, n);
    if (statSync(p).isDirectory()) return sources(path.join(dir, n), exts);
    return exts.includes(path.extname(n)) ? [{ file: path.join(dir, n), text: readFileSync(p, 'utf8') }] : [];
  });
}

/** Source without comments, so that a comment quoting a bad setting does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const electron = sources('src/main/electron');
const preload = sources('src/preload');
const app = [...electron, ...preload, ...sources('src/renderer'), ...sources('src/shared')];

test('the Electron shell and preload are where the checks look', () => {
  assert.ok(
    electron.some((f) => f.file.endsWith('main.ts')),
    'src/main/electron/main.ts',
  );
  assert.ok(preload.length > 0, 'src/preload');
});

test('every BrowserWindow gets isolated, sandboxed preferences without Node', () => {
  const windows = electron.flatMap((f) => [...code(f.text).matchAll(/new BrowserWindow\(\{([\s\S]*?)\n\s*\}\);/g)].map((m) => ({ file: f.file, body: m[1]! })));
  assert.ok(windows.length >= 1, 'a BrowserWindow is created');
  for (const w of windows) {
    assert.match(w.body, /webPreferences:\s*\{\s*\.\.\.secureWebPreferences\(/, `${w.file}: webPreferences from secureWebPreferences`);
    for (const flag of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false']) assert.ok(w.body.includes(flag), `${w.file}: ${flag}`);
  }
  const security = code(electron.find((f) => f.file.endsWith('security.ts'))!.text);
  for (const flag of [
    'contextIsolation: true',
    'sandbox: true',
    'nodeIntegration: false',
    'nodeIntegrationInWorker: false',
    'nodeIntegrationInSubFrames: false',
    'webSecurity: true',
    'allowRunningInsecureContent: false',
    'experimentalFeatures: false',
    'webviewTag: false',
  ]) {
    assert.ok(security.includes(flag), `secureWebPreferences sets ${flag}`);
  }
});

test('nothing turns a protection off, evaluates strings or opens a remote module', () => {
  const forbidden: [RegExp, string][] = [
    [/nodeIntegration(InWorker|InSubFrames)?\s*:\s*true/, 'Node integration on'],
    [/contextIsolation\s*:\s*false/, 'context isolation off'],
    [/sandbox\s*:\s*false/, 'sandbox off'],
    [/webSecurity\s*:\s*false/, 'web security off'],
    [/allowRunningInsecureContent\s*:\s*true/, 'insecure content'],
    [/experimentalFeatures\s*:\s*true/, 'experimental features'],
    [/enableBlinkFeatures/, 'Blink features enabled'],
    [/webviewTag\s*:\s*true/, 'webview tag'],
    [/enableRemoteModule|@electron\/remote/, 'the remote module'],
    [/\beval\s*\(|new Function\s*\(/, 'string evaluation'],
    [/setTimeout\(\s*['"`]/, 'setTimeout with a string'],
    [/insertAdjacentHTML|\.innerHTML\s*=|\{@html /, 'raw HTML injection'],
    [/setPermissionRequestHandler\(\s*\([^)]*\)\s*=>\s*[^]*?callback\(true\)/, 'a permission granted'],
    [/certificate-error[^]*?callback\(true\)/, 'certificate errors accepted'],
    [/registerFileProtocol|interceptFileProtocol|protocol\.handle\(\s*['"]file['"]/, 'file:// served or intercepted'],
  ];
  for (const f of app) {
    const c = code(f.text);
    for (const [re, what] of forbidden) assert.doesNotMatch(c, re, `${f.file}: ${what}`);
  }
});

test('navigation, new windows, webviews and permissions are guarded for every web contents', () => {
  const main = code(electron.find((f) => f.file.endsWith('main.ts'))!.text);
  assert.match(main, /app\.on\('web-contents-created',[^\n]*guardNavigation\(contents/, 'every web contents gets the navigation guard');
  assert.match(main, /denyAllPermissions\(/, 'the permission handlers are installed');
  assert.match(main, /registerSchemesAsPrivileged\(/, 'app:// is registered before ready');
  for (const m of main.matchAll(/loadURL\(([^)]*)\)/g)) assert.match(m[1]!, /^`?\$?\{?APP_INDEX_URL/, `windows load only the app:// page: loadURL(${m[1]})`);
  assert.doesNotMatch(main, /loadFile\(/, 'no file:// pages');
  const security = code(electron.find((f) => f.file.endsWith('security.ts'))!.text);
  for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) assert.ok(security.includes(`'${event}'`), event);
  assert.match(security, /setWindowOpenHandler\([^]*?action: 'deny'/);
  assert.match(security, /\^https:/, 'only https links leave for the system browser');
});

test('the CSP allows scripts only from the app itself, no eval, no plugins, no framing', () => {
  for (const csp of [contentSecurityPolicy(), contentSecurityPolicy({ connectSrc: ['ws://127.0.0.1:8765'] })]) {
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k!, v]),
    );
    assert.deepEqual(directives.get('script-src'), ["'self'"], csp);
    assert.doesNotMatch(csp, /unsafe-eval|wasm-unsafe-eval|unsafe-hashes|\*/);
    assert.deepEqual(directives.get('object-src'), ["'none'"]);
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(directives.get('base-uri'), ["'none'"]);
    assert.deepEqual(directives.get('default-src'), ["'self'"]);
  }
  // The desktop shell and the server send this policy.
  assert.ok(
    electron.some((f) => /contentSecurityPolicy\(/.test(f.text) && /'content-security-policy'/.test(f.text)),
    'app:// answers carry the CSP',
  );
});

test('the preload exposes one bridge object through contextBridge and nothing of Node', () => {
  for (const f of preload) {
    const c = code(f.text);
    assert.match(c, /contextBridge\.exposeInMainWorld\(/, f.file);
    assert.doesNotMatch(c, /require\(['"](fs|child_process|path|os|net|http)['"]\)|from ['"]node:/, `${f.file} imports no Node module`);
    assert.doesNotMatch(c, /exposeInMainWorld\([^,]+,\s*(ipcRenderer|require|process)\b/, `${f.file} exposes no raw ipcRenderer/require/process`);
  }
});
