// How an imported distributed run is told, the same in the CLI and the UI: "PyTorch DDP,
// 2 workers, gloo on CPU, PyTorch 2.1.0 — from the plan of tuning 3". Pure.
import type { DistributedRun } from './api/data.js';

const ENGINE_NAMES: Record<DistributedRun['engine'], string> = { 'pytorch-ddp': 'PyTorch DDP' };

/** torch's device name as people write it: 'cuda:0' → 'CUDA', 'cpu' → 'CPU'. */
export function deviceName(device: string): string {
  const base = device.split(':')[0] ?? device;
  return base === 'cpu' || base === 'cuda' || base === 'mps' ? base.toUpperCase() : device;
}

/** Where it ran, in one phrase: "PyTorch DDP, 2 workers, gloo on CPU, PyTorch 2.1.0". */
export function distributedWhere(d: DistributedRun): string {
  return `${ENGINE_NAMES[d.engine]}, ${d.workers} worker${d.workers === 1 ? '' : 's'}, ${d.worldBackend} on ${deviceName(d.device)}, PyTorch ${d.torchVersion}`;
}

/** Where the plan came from: "the plan of tuning 3". */
export function distributedOrigin(d: DistributedRun): string {
  return `the plan of ${d.origin.kind} ${d.origin.id}`;
}

/** The whole provenance in a sentence. */
export function distributedText(d: DistributedRun): string {
  return `${distributedWhere(d)} — from ${distributedOrigin(d)}`;
}

/** A list's backend column: "pytorch-ddp ×2" for an imported run, else the backend it trained on. */
export function backendLabel(run: { backend: string | null; distributed?: DistributedRun }): string | null {
  return run.distributed ? `${run.distributed.engine} ×${run.distributed.workers}` : run.backend;
}

/** The plan's per-worker batch in words: "8 per worker × 2 = 16 (micro-batch 4)". */
export function distributedBatchText(d: DistributedRun): string {
  const p = d.plan;
  return `${p.perWorkerBatch} per worker × ${p.workers} = ${p.globalBatch}${p.microBatch < p.perWorkerBatch ? ` (micro-batch ${p.microBatch}, accumulated)` : ''}`;
}
