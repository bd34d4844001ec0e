// The backend ladder of docs/architecture.md §4. `auto` takes the first rung that starts and
// records, for each rung above it, the one-line reason it was skipped; an explicit choice takes
// that rung or fails with its reason.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendReport, BackendSkip } from '../../../shared/run-types.js';
import { cudaPreflight, describePreflight, TFJS_NODE_GPU_REQUIREMENTS } from './cuda-preflight.js';
import { activateWebgpu } from './webgpu.js';
import { activateWasm } from './wasm.js';
import { nvidiaSmiQuery } from './nvidia-smi.js';

const require = createRequire(import.meta.url);

export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    readonly skipped: BackendSkip[],
  ) {
    super(`backend ${backend} is not available: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
    this.name = 'BackendUnavailableError';
  }
}

interface Rung {
  /** Name shown to the user for this rung. */
  label: string;
  /** Which explicit choice selects it. */
  choice: Exclude<BackendChoice, 'auto'>;
  /** Starts the backend or throws an Error whose message says why not. */
  start(explicit: boolean): Promise<string>;
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

function nvidiaGpuName(): string | undefined {
  return nvidiaSmiQuery('name');
}

async function startTensorflow(pkg: string): Promise<void> {
  await import(pkg);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not start`);
  await tf.ready();
}

const RUNGS: Rung[] = [
  {
    label: 'tensorflow (CUDA, tfjs-node-gpu)',
    choice: 'tensorflow',
    async start() {
      const pkg = '@tensorflow/tfjs-node-gpu';
      if (!isInstalled(pkg))
        throw new Error(
          `${pkg} is not installed (optional: npm install ${pkg}; needs CUDA ${TFJS_NODE_GPU_REQUIREMENTS.cuda} and cuDNN ${TFJS_NODE_GPU_REQUIREMENTS.cudnn})`,
        );
      const pre = cudaPreflight();
      if (!pre.ok) throw new Error(describePreflight(pre));
      await startTensorflow(pkg);
      return `${nvidiaGpuName() ?? 'NVIDIA GPU'} (CUDA, tfjs-node-gpu)`;
    },
  },
  {
    label: 'webgpu (Dawn)',
    choice: 'webgpu',
    async start(explicit) {
      return (await activateWebgpu({ allowSoftware: explicit })).device;
    },
  },
  {
    label: 'tensorflow (CPU, tfjs-node)',
    choice: 'tensorflow',
    async start() {
      const pkg = '@tensorflow/tfjs-node';
      if (!isInstalled(pkg)) throw new Error(`${pkg} is not installed (optional native CPU backend)`);
      await startTensorflow(pkg);
      return 'CPU (libtensorflow, tfjs-node)';
    },
  },
  {
    label: 'wasm',
    choice: 'wasm',
    async start() {
      return (await activateWasm()).device;
    },
  },
  {
    label: 'cpu',
    choice: 'cpu',
    async start() {
      if (!(await tf.setBackend('cpu'))) throw new Error('the pure-JavaScript cpu backend did not start');
      await tf.ready();
      return 'CPU (pure JavaScript reference backend)';
    },
  },
];

/** The rungs of the ladder in the order `auto` tries them (for the Settings page). */
export const BACKEND_LADDER: readonly { label: string; choice: Exclude<BackendChoice, 'auto'> }[] = RUNGS.map((r) => ({ label: r.label, choice: r.choice }));

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** Starts the chosen backend in this process (a trainer process: one backend for its life). */
export async function selectBackend(choice: BackendChoice): Promise<BackendReport> {
  const skipped: BackendSkip[] = [];
  const rungs = choice === 'auto' ? RUNGS : RUNGS.filter((r) => r.choice === choice);
  for (const rung of rungs) {
    try {
      const device = await rung.start(choice !== 'auto');
      // The rung's own choice: a later run that names it trains on this very backend.
      return { name: tf.getBackend(), rung: rung.choice, device, skipped };
    } catch (err) {
      skipped.push({ backend: rung.label, reason: firstLine(err) });
    }
  }
  throw new BackendUnavailableError(choice, skipped);
}

/** Bytes the backend holds now: device memory on GPUs, tensor memory elsewhere. */
export function backendMemoryBytes(): number {
  const m = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number; numBytesInGPUAllocated?: number };
  return m.numBytesAllocatedInGPU ?? m.numBytesInGPUAllocated ?? m.numBytes;
}
