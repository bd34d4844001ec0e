import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cudaPreflight, describePreflight, TFJS_NODE_GPU_REQUIREMENTS } from '../../../src/main/engine/backends/cuda-preflight.js';

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
