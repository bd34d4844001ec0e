// The memory budget M of docs/architecture.md §5.2, per backend: how many bytes a training step may
// use.
import os from 'node:os';
import { nvidiaSmiQuery } from './nvidia-smi.js';
import type { BackendReport } from '../../../shared/run-types.js';

interface MemoryBudget {
  bytes: number;
  /** Where the figure comes from, in plain words. */
  source: string;
}

const GiB = 1024 ** 3;

function nvidiaTotalBytes(): number | undefined {
  const mib = Number(nvidiaSmiQuery('memory.total', 'csv,noheader,nounits'));
  return Number.isFinite(mib) && mib > 0 ? mib * 1024 * 1024 : undefined;
}

export function deviceMemoryBudget(report: BackendReport): MemoryBudget {
  if ((report.name === 'tensorflow' || report.name === 'torch') && /CUDA/.test(report.device)) {
    const total = nvidiaTotalBytes();
    if (total) return { bytes: total * 0.9, source: `90 % of the GPU's ${(total / GiB).toFixed(1)} GiB (nvidia-smi)` };
    return { bytes: 4 * GiB, source: 'nvidia-smi did not answer: 4 GiB assumed' };
  }
  if (report.name === 'webgpu') {
    // WebGPU has no way to ask how much memory the device has; on an NVIDIA GPU nvidia-smi does.
    if (/nvidia/i.test(report.device)) {
      const total = nvidiaTotalBytes();
      if (total) return { bytes: total * 0.9, source: `90 % of the GPU's ${(total / GiB).toFixed(1)} GiB (nvidia-smi)` };
    }
    return { bytes: 4 * GiB, source: 'WebGPU cannot report device memory: 4 GiB assumed (set a budget to match your GPU)' };
  }
  if (report.name === 'wasm') {
    return { bytes: 0.9 * 4 * GiB, source: "90 % of 32-bit WebAssembly's 4 GiB address space" };
  }
  const free = os.freemem();
  return { bytes: free / 2, source: `half of the ${(free / GiB).toFixed(1)} GiB of free RAM` };
}
