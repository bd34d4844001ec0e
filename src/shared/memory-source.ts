// What a search's memory figures are, in words the report and the Tune screen show (issue 16:
// the torch engine reads memory from the device, tfjs from its own bookkeeping), and the engine
// a rung belongs to by the name a user knows it under.
import { MEMORY_SOURCES, type MemorySource } from './probe-protocol.js';
import { engineOf, type ConcreteBackend } from './run-types.js';

export const MEMORY_SOURCE_LABELS: Record<MemorySource, string> = {
  'tfjs-profile': 'peak of live tensor bytes (tf.profile)',
  'webgpu-buffers': 'GPU buffers held by WebGPU',
  'cuda-peak': 'CUDA peak allocated',
  'mps-allocated': 'MPS allocated after the step',
  'cpu-peak-rss': 'peak resident size',
  'live-tensor-bytes': 'peak live tensor bytes',
};

function isMemorySource(v: unknown): v is MemorySource {
  return typeof v === 'string' && (MEMORY_SOURCES as readonly string[]).includes(v);
}

/**
 * The source of a search's memory readings: the first memory result that names one; results from
 * tfjs before sources were named said nothing, and then the backend tells (webgpu's buffers, else
 * tfjs's profile). Null when no memory probe answered and the backend is unknown.
 */
export function memorySourceOf(backendName: string | null, results: readonly Record<string, unknown>[]): MemorySource | null {
  const named = results.map((r) => r['memorySource']).find(isMemorySource);
  if (named) return named;
  if (backendName === null || backendName === 'torch') return null;
  return backendName === 'webgpu' ? 'webgpu-buffers' : 'tfjs-profile';
}

/** The engine of a rung as the user knows it: "PyTorch" or "tfjs". */
export function engineLabel(rung: ConcreteBackend): string {
  return engineOf(rung) === 'torch' ? 'PyTorch' : 'tfjs';
}
