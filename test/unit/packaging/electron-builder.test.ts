// electron-builder.yml is checked against electron-builder's own schema (packaging itself needs
// downloads this machine cannot make), and for what the app needs: all three platforms, native
// modules outside asar, the compiled Electron entry as main, no rebuild at npm install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const require = createRequire(path.join(root, 'package.json'));

interface BuilderConfig {
  asarUnpack: string[];
  extraMetadata: { main: string };
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
  files: string[];
}

const yaml = require('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
  optionalDependencies: Record<string, string>;
};

test("electron-builder.yml passes electron-builder's schema", async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration(c: unknown, log: unknown): Promise<void> };
  await validateConfiguration(config, { add() {}, isEnabled: false });
  await assert.rejects(validateConfiguration({ ...config, linux: { target: 'AppImage', bogus: 1 } }, { add() {}, isEnabled: false }), 'the check can fail');
});

test('targets, unpacked native modules and the entry point', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  for (const p of ['**/*.node', 'node_modules/better-sqlite3/**', 'node_modules/sharp/**', 'node_modules/@tensorflow/**', 'node_modules/webgpu/**'])
    assert.ok(config.asarUnpack.includes(p), p);
  assert.equal(config.extraMetadata.main, pkg.main);
  assert.equal(pkg.main, 'dist/src/main/electron/main.js');
  assert.ok(config.files.includes('dist/renderer/**'));
  assert.ok('@tensorflow/tfjs-node-gpu' in pkg.optionalDependencies);
  assert.match(pkg.scripts.dist!, /^electron-builder install-app-deps && .*electron-builder/);
  assert.ok(!pkg.scripts.postinstall?.includes('electron-builder'), 'never at install');
});
