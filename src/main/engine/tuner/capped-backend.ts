// The memory-capped test backend: every allocation that would take the live tensor bytes
// (tf.memory().numBytes, the engine's count) above a cap fails with an Error that reads like a
// real out-of-memory error. It lets tests drive the batch-size search into "out of memory"
// without a GPU, and without actually exhausting anything.
//
// How: every tfjs backend creates each new buffer through its `write` (cpu, webgpu and wasm's
// makeTensorInfo/makeOutput all call it), so checking there catches tensor creation and kernel
// outputs alike. Outputs that share an input's buffer (reshape, clone on cpu) allocate nothing and
// are not checked, although the engine counts their bytes.
//   - cpu: a MathBackendCPU subclass registered as its own backend, 'cpu-capped', with the cpu
//     kernels registered for it too, so tf.getBackend() itself says it is the test backend.
//   - any other backend: its instance's `write` is wrapped in place (the name stays, the report's
//     device says it is capped).
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendChoice, BackendReport } from '../../../shared/run-types.js';
import { selectBackend } from '../backends/select-backend.js';

export const CAPPED_CPU_BACKEND = 'cpu-capped';

let capBytes = Number.POSITIVE_INFINITY;

/** Sets the cap of every capped backend in this process (Infinity: no cap). */
export function setMemoryCap(bytes: number): void {
  if (!(bytes > 0)) throw new Error(`a memory cap must be positive, got ${bytes}`);
  capBytes = bytes;
}

export function memoryCap(): number {
  return capBytes;
}

export class CappedMemoryError extends Error {
  constructor(
    readonly requestedBytes: number,
    readonly liveBytes: number,
    readonly capBytes: number,
  ) {
    super(`out of memory: ${requestedBytes} bytes requested, cap ${capBytes} bytes, ${liveBytes} bytes live (memory-capped test backend)`);
    this.name = 'CappedMemoryError';
  }
}

function bytesOf(shape: number[], dtype: tf.DataType): number {
  if (dtype === 'string' || dtype === 'complex64') return 0; // the engine counts neither here
  return tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);
}

/** Throws a CappedMemoryError if allocating `shape`×`dtype` would pass the cap. */
export function checkAllocation(shape: number[], dtype: tf.DataType): void {
  if (capBytes === Number.POSITIVE_INFINITY) return;
  const requested = bytesOf(shape, dtype);
  const live = tf.engine().state.numBytes;
  if (live + requested > capBytes) throw new CappedMemoryError(requested, live, capBytes);
}

/** MathBackendCPU that refuses allocations above the cap. */
export class CappedCpuBackend extends MathBackendCPU {
  override write(values: Parameters<MathBackendCPU['write']>[0], shape: number[], dtype: tf.DataType): ReturnType<MathBackendCPU['write']> {
    checkAllocation(shape, dtype);
    return super.write(values, shape, dtype);
  }
}

const WRAPPED = Symbol('memory-capped');

/** Wraps the `write` of a backend instance so that it checks the cap first (idempotent). */
export function capBackendInstance(backend: tf.KernelBackend): void {
  const b = backend as tf.KernelBackend & { [WRAPPED]?: true };
  if (b[WRAPPED]) return;
  const write = backend.write.bind(backend);
  backend.write = (values, shape, dtype) => {
    checkAllocation(shape, dtype);
    return write(values, shape, dtype);
  };
  b[WRAPPED] = true;
}

/** Registers 'cpu-capped' (once per process): the capped class plus every cpu kernel under its name. */
export function registerCappedCpuBackend(): void {
  if (tf.findBackendFactory(CAPPED_CPU_BACKEND) !== null) return;
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    tf.registerKernel({ ...kernel, backendName: CAPPED_CPU_BACKEND });
  }
  tf.registerBackend(CAPPED_CPU_BACKEND, () => new CappedCpuBackend(), 0);
}

function describeCap(bytes: number): string {
  return `memory-capped test backend: allocations above ${bytes} live tensor bytes fail`;
}

/**
 * Starts the backend of `choice` with allocations capped at `bytes` and says so in the report.
 * cpu becomes 'cpu-capped'; any other choice starts as selectBackend would and has its instance
 * wrapped. Tests only.
 */
export async function activateCappedBackend(choice: BackendChoice, bytes: number): Promise<BackendReport> {
  setMemoryCap(bytes);
  if (choice === 'cpu') {
    registerCappedCpuBackend();
    if (!(await tf.setBackend(CAPPED_CPU_BACKEND))) throw new Error('the memory-capped cpu test backend did not start');
    await tf.ready();
    return { name: CAPPED_CPU_BACKEND, device: `CPU (pure JavaScript reference backend; ${describeCap(bytes)})`, skipped: [] };
  }
  const report = await selectBackend(choice);
  capBackendInstance(tf.backend());
  return { ...report, device: `${report.device} (${describeCap(bytes)})` };
}
