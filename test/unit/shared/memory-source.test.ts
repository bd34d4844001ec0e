// The words for a search's memory figures: the source a probe named wins; tfjs results from
// before sources were named are read by backend; PyTorch without a named source says nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineLabel, MEMORY_SOURCE_LABELS, memorySourceOf } from '../../../src/shared/memory-source.js';
import { MEMORY_SOURCES } from '../../../src/shared/probe-protocol.js';

test('the first memory result that names a source gives it', () => {
  assert.equal(memorySourceOf('torch', [{ peakBytes: 1 }, { peakBytes: 2, memorySource: 'cpu-peak-rss' }, { memorySource: 'cuda-peak' }]), 'cpu-peak-rss');
  assert.equal(memorySourceOf('wasm', [{ memorySource: 'live-tensor-bytes' }]), 'live-tensor-bytes');
});

test('results that name none: webgpu counts buffers, other tfjs backends profile tensors, torch is unknown', () => {
  assert.equal(memorySourceOf('webgpu', [{ peakBytes: 1 }]), 'webgpu-buffers');
  assert.equal(memorySourceOf('wasm', []), 'tfjs-profile');
  assert.equal(memorySourceOf('torch', [{ peakBytes: 1, memorySource: 'not-a-source' }]), null);
  assert.equal(memorySourceOf(null, []), null);
});

test('every source has its words; engines by the names users know', () => {
  for (const s of MEMORY_SOURCES) assert.ok(MEMORY_SOURCE_LABELS[s].length > 0, s);
  assert.equal(MEMORY_SOURCE_LABELS['cpu-peak-rss'], 'peak resident size');
  assert.equal(MEMORY_SOURCE_LABELS['cuda-peak'], 'CUDA peak allocated');
  assert.equal(engineLabel('torch-cpu'), 'PyTorch');
  assert.equal(engineLabel('wasm'), 'tfjs');
});
