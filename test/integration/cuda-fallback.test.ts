// The CUDA rung of the backend ladder with @tensorflow/tfjs-node-gpu "installed" (a stand-in
// package found through NODE_PATH) and its libraries in a fake folder (LD_LIBRARY_PATH, searched
// first): a cuDNN or CUDA runtime of the wrong version is named, with the version it needs, as
// the reason the rung was skipped, and `auto` falls back to the next backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendReport } from '../../src/shared/run-types.js';
import { TFJS_NODE_GPU_REQUIREMENTS } from '../../src/main/engine/backends/cuda-preflight.js';

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'select-backend-probe.js');

/** A temp folder with a stand-in tfjs-node-gpu package and a fake CUDA library folder. */
function setup(versions: Record<string, string>): { nodePath: string; libDir: string; cleanup(): void } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cuda-fallback-'));
  const pkg = path.join(tmp, 'node_modules/@tensorflow/tfjs-node-gpu');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', version: '4.22.0', main: 'index.js' }));
  // Never meant to load here: the preflight must stop first, or the ESM import fails on its own.
  writeFileSync(path.join(pkg, 'index.js'), "throw new Error('the stand-in tfjs-node-gpu was loaded');\n");
  const libDir = path.join(tmp, 'lib');
  mkdirSync(libDir);
  for (const { soname } of TFJS_NODE_GPU_REQUIREMENTS.libraries) {
    const real = versions[soname];
    if (real) {
      writeFileSync(path.join(libDir, real), '');
      symlinkSync(real, path.join(libDir, soname));
    } else {
      writeFileSync(path.join(libDir, soname), '');
    }
  }
  return { nodePath: path.join(tmp, 'node_modules'), libDir, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

function selectAuto(env: { nodePath: string; libDir: string }): BackendReport {
  const out = execFileSync(process.execPath, [probe, 'auto'], {
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, NODE_PATH: env.nodePath, LD_LIBRARY_PATH: env.libDir },
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; report: BackendReport; message?: string };
  assert.ok(r.ok, r.message);
  return r.report;
}

test('cuDNN 8.0.5 where 8.1 is needed: the CUDA rung names it and auto falls back', { timeout: 180_000 }, () => {
  const env = setup({ 'libcudnn.so.8': 'libcudnn.so.8.0.5', 'libcudart.so.11.0': 'libcudart.so.11.2.152' });
  try {
    const report = selectAuto(env);
    assert.notEqual(report.name, 'tensorflow');
    const cuda = report.skipped[0]!;
    assert.equal(cuda.backend, 'tensorflow (CUDA, tfjs-node-gpu)');
    assert.match(cuda.reason, /^libcudnn\.so\.8 is version 8\.0\.5 \(.*\); needs 8\.1 or later \(cuDNN 8\.1/);
    assert.ok(['webgpu', 'wasm', 'cpu'].includes(report.name), report.name);
  } finally {
    env.cleanup();
  }
});

test('the CUDA 11.0 runtime where 11.2 is needed: the CUDA rung names it and auto falls back', { timeout: 180_000 }, () => {
  const env = setup({ 'libcudart.so.11.0': 'libcudart.so.11.0.221' });
  try {
    const report = selectAuto(env);
    assert.match(report.skipped[0]!.reason, /^libcudart\.so\.11\.0 is version 11\.0\.221 .*; needs 11\.2 or later \(the CUDA 11\.2 runtime\)$/);
    assert.notEqual(report.name, 'tensorflow');
  } finally {
    env.cleanup();
  }
});

test('right versions: the preflight passes and the rung goes on to load the package', { timeout: 180_000 }, () => {
  const env = setup({ 'libcudnn.so.8': 'libcudnn.so.8.1.1', 'libcudart.so.11.0': 'libcudart.so.11.2.152' });
  try {
    const report = selectAuto(env);
    const reason = report.skipped[0]!.reason;
    assert.doesNotMatch(reason, /libcud/, 'no library complaint once the versions are right');
    assert.match(reason, /tfjs-node-gpu/);
  } finally {
    env.cleanup();
  }
});
