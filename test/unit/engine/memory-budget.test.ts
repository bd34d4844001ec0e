// The device memory budget per backend (memory-budget.ts): the torch engine follows tfjs's rule for
// each kind of device — CUDA 90 % of the GPU, the CPU half the free RAM — and MPS assumes half the
// unified RAM; every figure says where it comes from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceMemoryBudget, type MachineMemory } from '../../../src/main/engine/backends/memory-budget.js';
import type { BackendReport } from '../../../src/shared/run-types.js';

const GiB = 1024 ** 3;
const machine = (nvidia: number | undefined): MachineMemory => ({ nvidiaTotalBytes: () => nvidia, freeBytes: () => 6 * GiB, totalBytes: () => 16 * GiB });

test('torch-cuda: 90 % of the GPU from nvidia-smi, or 4 GiB assumed when it does not answer', () => {
  const report: BackendReport = { name: 'torch', rung: 'torch-cuda', device: 'NVIDIA H200 (CUDA, PyTorch 2.4.0)', skipped: [] };
  assert.deepEqual(deviceMemoryBudget(report, machine(141 * GiB)), { bytes: 0.9 * 141 * GiB, source: "90 % of the GPU's 141.0 GiB (nvidia-smi)" });
  assert.deepEqual(deviceMemoryBudget(report, machine(undefined)), { bytes: 4 * GiB, source: 'nvidia-smi did not answer: 4 GiB assumed' });
});

test('torch-cpu: half the free RAM, saying so', () => {
  const b = deviceMemoryBudget({ name: 'torch', rung: 'torch-cpu', device: 'CPU (PyTorch 1.13.0, Python 3.11.2)', skipped: [] }, machine(80 * GiB));
  assert.deepEqual(b, { bytes: 3 * GiB, source: 'half of the 6.0 GiB of free RAM (PyTorch on the CPU)' });
});

test('torch-mps: half the unified RAM assumed, saying why', () => {
  const b = deviceMemoryBudget({ name: 'torch', rung: 'torch-mps', device: 'Apple GPU (MPS, PyTorch 2.4.0)', skipped: [] }, machine(undefined));
  assert.equal(b.bytes, 8 * GiB);
  assert.match(b.source, /unified memory\): half of the 16\.0 GiB assumed/);
});

test('tfjs rules are unchanged: wasm its address space, webgpu on NVIDIA from nvidia-smi', () => {
  assert.equal(deviceMemoryBudget({ name: 'wasm', device: 'CPU, wasm', skipped: [] }, machine(undefined)).bytes, 0.9 * 4 * GiB);
  assert.equal(deviceMemoryBudget({ name: 'webgpu', device: 'NVIDIA GPU (Dawn, Vulkan)', skipped: [] }, machine(24 * GiB)).bytes, 0.9 * 24 * GiB);
  assert.equal(deviceMemoryBudget({ name: 'cpu', device: 'CPU', skipped: [] }, machine(undefined)).bytes, 3 * GiB);
});
