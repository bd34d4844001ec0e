import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  compareVersions,
  cudaPreflight,
  describePreflight,
  installedVersion,
  TFJS_NODE_GPU_REQUIREMENTS,
} from '../../../src/main/engine/backends/cuda-preflight.js';

function fakeLibDir(names: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-cuda-'));
  for (const n of names) writeFileSync(path.join(dir, n), '');
  return dir;
}

const all = TFJS_NODE_GPU_REQUIREMENTS.libraries.map((l) => l.soname);

test('all libraries present: ok, with where each was found', () => {
  const dir = fakeLibDir(all);
  const r = cudaPreflight({ searchDirs: [dir], useLdconfig: false });
  assert.equal(r.ok, true);
  assert.deepEqual(r.missing, []);
  assert.equal(r.found['libcudnn.so.8'], path.join(dir, 'libcudnn.so.8'));
});

test('a missing cuDNN is named with the version needed', () => {
  const dir = fakeLibDir(all.filter((n) => n !== 'libcudnn.so.8'));
  const r = cudaPreflight({ searchDirs: [dir], useLdconfig: false });
  assert.equal(r.ok, false);
  assert.equal(r.missing.length, 1);
  assert.match(r.missing[0]!, /libcudnn\.so\.8 not found \(cuDNN 8\.1/);
});

test('a wrong CUDA version is named as found but unusable', () => {
  const dir = fakeLibDir([...all.filter((n) => n !== 'libcudart.so.11.0'), 'libcudart.so.12']);
  const r = cudaPreflight({ searchDirs: [dir], useLdconfig: false });
  assert.equal(r.ok, false);
  assert.match(r.missing[0]!, /libcudart\.so\.11\.0 not found \(the CUDA 11\.2 runtime\); libcudart\.so\.12 is there, the wrong version/);
});

test('an empty folder lists every library', () => {
  const r = cudaPreflight({ searchDirs: [fakeLibDir([])], useLdconfig: false });
  assert.equal(r.missing.length, all.length);
});

test('without a driver the line names it first and lists the rest briefly', () => {
  const r = cudaPreflight({ searchDirs: [fakeLibDir(['libcudart.so.12'])], useLdconfig: false });
  const line = describePreflight(r);
  assert.match(line, /^libcuda\.so\.1 not found \(the NVIDIA driver\); also missing: libcudart\.so\.11\.0, libcublas\.so\.11/);
  assert.ok(line.length < 300, line);
});

/** A fake library folder where `soname` is a link to a file named with its full version, as installers lay it out. */
function fakeLibDirWithVersion(soname: string, realName: string): string {
  const dir = fakeLibDir(all.filter((n) => n !== soname));
  writeFileSync(path.join(dir, realName), '');
  symlinkSync(realName, path.join(dir, soname));
  return dir;
}

test('cuDNN 8.0 behind libcudnn.so.8: named with the version found and the version needed', () => {
  const dir = fakeLibDirWithVersion('libcudnn.so.8', 'libcudnn.so.8.0.5');
  const r = cudaPreflight({ searchDirs: [dir], useLdconfig: false });
  assert.equal(r.ok, false);
  assert.deepEqual(r.missing, [`libcudnn.so.8 is version 8.0.5 (${path.join(dir, 'libcudnn.so.8')}); needs 8.1 or later (cuDNN 8.1 or a later 8.x)`]);
  assert.equal(r.found['libcudnn.so.8'], undefined);
});

test('the CUDA 11.0 runtime behind libcudart.so.11.0 is too old for 11.2; 11.2 and later 11.x pass', () => {
  const old = cudaPreflight({ searchDirs: [fakeLibDirWithVersion('libcudart.so.11.0', 'libcudart.so.11.0.221')], useLdconfig: false });
  assert.equal(old.ok, false);
  assert.match(old.missing[0]!, /^libcudart\.so\.11\.0 is version 11\.0\.221 .*; needs 11\.2 or later \(the CUDA 11\.2 runtime\)$/);
  for (const real of ['libcudart.so.11.2.152', 'libcudart.so.11.8.89']) {
    const ok = cudaPreflight({ searchDirs: [fakeLibDirWithVersion('libcudart.so.11.0', real)], useLdconfig: false });
    assert.equal(ok.ok, true, `${real}: ${ok.missing.join('; ')}`);
  }
});

test('versions are read from the resolved file name, and compared number by number', () => {
  const dir = fakeLibDirWithVersion('libcudnn.so.8', 'libcudnn.so.8.9.7');
  assert.equal(installedVersion(path.join(dir, 'libcudnn.so.8'), 'libcudnn.so.8'), '8.9.7');
  assert.equal(installedVersion(path.join(dir, 'libcublas.so.11'), 'libcublas.so.11'), undefined, 'a plain file says no more than its soname');
  assert.ok(compareVersions('8.10', '8.9') > 0);
  assert.ok(compareVersions('11.0.221', '11.2') < 0);
  assert.equal(compareVersions('11.2', '11.2.0'), 0);
});
