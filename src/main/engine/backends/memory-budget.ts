// The memory budget M of docs/architecture.md §5.2, per backend: how many bytes a training step may
// use. The torch engine follows the same rule for each kind of device as tfjs: CUDA 90 % of the
// GPU (nvidia-smi), the CPU half the free RAM; Apple's MPS shares the RAM with the CPU (unified
// memory) and has no way to ask what it may take, so half the machine's RAM is assumed.
import os from 'node:os';
import { nvidiaSmiQuery } from './nvidia-smi.js';
import type { BackendReport } from '../../../shared/run-types.js';

interface MemoryBudget {
  bytes: number;
  /** Where the figure comes from, in plain words. */
  source: string;
}

/** What the budget reads from the machine (tests pass their own). */
export interface MachineMemory {
  /** The NVIDIA GPU's memory (nvidia-smi), undefined when it does not answer. */
  nvidiaTotalBytes(): number | undefined;
  freeBytes(): number;
  totalBytes(): number;
}

const GiB = 1024 ** 3;

function nvidiaTotalBytes(): number | undefined {
  const mib = Number(nvidiaSmiQuery('memory.total', 'csv,noheader,nounits'));
  return Number.isFinite(mib) && mib > 0 ? mib * 1024 * 1024 : undefined;
}

const THIS_MACHINE: MachineMemory = { nvidiaTotalBytes, freeBytes: () => os.freemem(), totalBytes: () => os.totalmem() };

function nvidiaBudget(machine: MachineMemory): MemoryBudget | undefined {
  const total = machine.nvidiaTotalBytes();
  return total ? { bytes: total * 0.9, source: `90 % of the GPU's ${(total / GiB).toFixed(1)} GiB (nvidia-smi)` } : undefined;
}

function torchBudget(report: BackendReport, machine: MachineMemory): MemoryBudget | undefined {
  if (report.rung === 'torch-mps' || (!report.rung && /MPS/.test(report.device))) {
    const total = machine.totalBytes();
    return { bytes: total / 2, source: `Apple GPUs share the RAM (unified memory): half of the ${(total / GiB).toFixed(1)} GiB assumed` };
  }
  if (report.rung === 'torch-cpu') {
    const free = machine.freeBytes();
    return { bytes: free / 2, source: `half of the ${(free / GiB).toFixed(1)} GiB of free RAM (PyTorch on the CPU)` };
  }
  return undefined;
}

export function deviceMemoryBudget(report: BackendReport, machine: MachineMemory = THIS_MACHINE): MemoryBudget {
  if ((report.name === 'tensorflow' || report.name === 'torch') && (report.rung === 'torch-cuda' || /CUDA/.test(report.device))) {
    return nvidiaBudget(machine) ?? { bytes: 4 * GiB, source: 'nvidia-smi did not answer: 4 GiB assumed' };
  }
  const torch = report.name === 'torch' ? torchBudget(report, machine) : undefined;
  if (torch) return torch;
  if (report.name === 'webgpu') {
    // WebGPU has no way to ask how much memory the device has; on an NVIDIA GPU nvidia-smi does.
    const nvidia = /nvidia/i.test(report.device) ? nvidiaBudget(machine) : undefined;
    return nvidia ?? { bytes: 4 * GiB, source: 'WebGPU cannot report device memory: 4 GiB assumed (set a budget to match your GPU)' };
  }
  if (report.name === 'wasm') {
    return { bytes: 0.9 * 4 * GiB, source: "90 % of 32-bit WebAssembly's 4 GiB address space" };
  }
  const free = machine.freeBytes();
  return { bytes: free / 2, source: `half of the ${(free / GiB).toFixed(1)} GiB of free RAM` };
}
