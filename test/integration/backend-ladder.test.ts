// The backend ladder of docs/architecture.md §4 on this machine: `auto` names why it skipped each
// higher rung; an explicit choice gets that backend or a clear reason.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { BackendReport, BackendSkip } from '../../src/shared/run-types.js';
import { missing } from '../support/parts.js';

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'select-backend-probe.js');

type ProbeResult = { ok: true; report: BackendReport } | { ok: false; message: string; skipped: BackendSkip[] };

function selectIn(choice: string): ProbeResult {
  const out = execFileSync(process.execPath, [probe, choice], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!) as ProbeResult;
}

function expectOk(r: ProbeResult): BackendReport {
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.report;
}

const require = createRequire(import.meta.url);
const installed = (pkg: string) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

test('auto: takes the first rung that starts and says why each one above was skipped', async () => {
  const report = expectOk(selectIn('auto'));
  const order = ['tensorflow (CUDA, tfjs-node-gpu)', 'webgpu (Dawn)', 'tensorflow (CPU, tfjs-node)', 'wasm', 'cpu'];
  assert.deepEqual(
    report.skipped.map((s) => s.backend),
    order.slice(0, report.skipped.length),
  );
  for (const s of report.skipped) assert.ok(s.reason.length > 10, `${s.backend}: "${s.reason}"`);
  if (!installed('@tensorflow/tfjs-node-gpu')) {
    assert.match(report.skipped[0]!.reason, /@tensorflow\/tfjs-node-gpu is not installed/);
  }
  assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(report.name));
  assert.ok(report.device.length > 0);
});

test('explicit cpu and wasm start those backends', async () => {
  const cpu = expectOk(selectIn('cpu'));
  assert.equal(cpu.name, 'cpu');
  assert.deepEqual(cpu.skipped, []);
  const wasm = expectOk(selectIn('wasm'));
  assert.equal(wasm.name, 'wasm');
  assert.match(wasm.device, /WebAssembly/);
});

test('explicit webgpu uses even a software adapter, and says so', { skip: missing('webgpu') }, () => {
  const report = expectOk(selectIn('webgpu'));
  assert.equal(report.name, 'webgpu');
  assert.ok(report.device.includes('WebGPU'));
});

function hasNvidiaDriver(): boolean {
  try {
    execFileSync('nvidia-smi', { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

test('explicit tensorflow without CUDA: a clear reason for each rung, no silent fallback', async (t) => {
  if (hasNvidiaDriver() || installed('@tensorflow/tfjs-node')) return t.skip('a native TensorFlow backend may work here');
  const r = selectIn('tensorflow');
  assert.equal(r.ok, false);
  if (r.ok) return;
  // Not installed, or installed without the CUDA libraries it needs: either way, named.
  assert.match(r.message, /tfjs-node-gpu is not installed|libcuda\.so\.1 not found/);
  assert.match(r.message, /tfjs-node is not installed/);
  assert.equal(r.skipped.length, 2);
});
