// What a failed probe means for the process that ran it: an out-of-memory error the probe cleaned
// up after (the process goes on), or a dead backend (the process must be replaced).
import * as tf from '@tensorflow/tfjs';
import { looksLikeOutOfMemory } from '../../../shared/failure-text.js';
import { WebgpuDeviceLostError, WebgpuScopeError } from '../backends/webgpu-device.js';

export interface ProbeFailure {
  cause: 'oom' | 'error';
  /** The backend cannot be used any more: answer, then exit. */
  fatal: boolean;
  message: string;
}

/** An emscripten abort: once thrown, every later call into the module throws it again. */
const WASM_ABORT = /\bAborted\(|RuntimeError|\bunreachable\b/;
/** WebGPU's device is gone (driver reset, out of memory at the driver level). */
const GPU_LOST = /device (?:was |is |has been )?lost|GPUDevice.*destroyed/i;
/** A wasm abort with this much heap is taken for an out-of-memory abort (wasm32 can address 4 GiB). */
export const WASM_OOM_HEAP_BYTES = 2 * 1024 ** 3;

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim() || (err instanceof Error ? err.name : 'unknown error');
}

/**
 * Classifies what a probe threw on `backend`. `wasmHeapBytes` is the wasm module's memory size
 * (an abort of the C++ side, e.g. a failed `new` in a kernel, says only "Aborted()"; near the
 * 4 GiB limit that is an out-of-memory failure).
 */
export function classifyProbeFailure(err: unknown, backend: string, wasmHeapBytes?: number): ProbeFailure {
  // WebGPU's own reports (error scopes, device loss) say exactly what happened.
  if (err instanceof WebgpuScopeError) {
    // The scope caught the failed call; tfjs's pool has been purged of its invalid buffers.
    return { cause: err.outOfMemory ? 'oom' : 'error', fatal: false, message: err.message };
  }
  if (err instanceof WebgpuDeviceLostError) {
    // A driver that runs out of memory mid-step may lose the device instead of failing the
    // allocation; its message says so (Vulkan: VK_ERROR_OUT_OF_DEVICE_MEMORY).
    const oom = looksLikeOutOfMemory(err.message) || /OUT_OF_(?:DEVICE|HOST)_MEMORY/.test(err.loss.message);
    return { cause: oom ? 'oom' : 'error', fatal: true, message: `${err.message}; the webgpu backend cannot be used any more, this trainer process exits` };
  }
  const name = err instanceof Error ? err.name : '';
  const message = firstLine(err);
  const text = `${name} ${message}`;
  const wasmAbort = backend === 'wasm' && (name === 'RuntimeError' || name === WASM_HEAP_ERROR || WASM_ABORT.test(text));
  const gpuLost = backend === 'webgpu' && GPU_LOST.test(text);
  const fatal = wasmAbort || gpuLost;
  let oom = looksLikeOutOfMemory(text);
  let detail = message;
  if (wasmAbort && !oom && wasmHeapBytes !== undefined && wasmHeapBytes >= WASM_OOM_HEAP_BYTES) {
    oom = true;
    detail = `${message} (the wasm heap had grown to ${(wasmHeapBytes / 1024 ** 3).toFixed(2)} GiB: out of memory)`;
  }
  if (fatal) detail = `${detail}; the ${backend} backend cannot be used any more, this trainer process exits`;
  return { cause: oom ? 'oom' : 'error', fatal, message: detail };
}

/** The wasm module's memory size, if the wasm backend is active and readable. */
export function currentWasmHeapBytes(): number | undefined {
  try {
    if (tf.getBackend() !== 'wasm') return undefined;
    return (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.buffer.byteLength;
  } catch {
    return undefined;
  }
}

const GUARDED = Symbol('malloc-guarded');
/** wasm32's address space. */
const WASM_ADDRESS_SPACE = 2 ** 32;
/** malloc's size arithmetic in this build is not safe at or above 2 GiB. */
const WASM_MAX_ALLOCATION = 2 ** 31;
/** Name of the error thrown when malloc handed out memory outside the heap: the module is not to be trusted. */
export const WASM_HEAP_ERROR = 'WasmHeapError';

/**
 * Makes the wasm backend's tensor allocations fail like an out-of-memory error instead of going
 * wrong quietly. tfjs-backend-wasm 4.22 passes malloc sizes of 4 GiB or more truncated to 32
 * bits, and never checks what malloc returns; and this build's malloc, asked for more than the
 * heap can grow to, can return 0 or (when the new heap size wraps past 4 GiB) an address whose
 * block runs past the heap. So: a request of 2 GiB or more, or one that could only be met by
 * growing the heap past 4 GiB, fails before malloc; a 0 from malloc fails as out of memory; a
 * block outside the heap fails as a WasmHeapError (the allocator's state is then unknown: fatal).
 * A kernel's own allocations inside the C++ code are not covered; their failure aborts the
 * module (see classifyProbeFailure). Returns whether the guard is in place.
 */
export function guardWasmAllocations(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const mod = (tf.backend() as unknown as { wasm?: { _malloc?: (n: number) => number; _free?: (p: number) => void; HEAPU8?: Uint8Array; [GUARDED]?: true } })
    .wasm;
  if (!mod || typeof mod._malloc !== 'function') return false;
  if (mod[GUARDED]) return true;
  // Emscripten's export starts as a stub that replaces itself with the real function on its first
  // call, which would also replace a wrapper put around the stub: call it once first.
  mod._free?.(mod._malloc(16));
  const malloc = mod._malloc.bind(mod);
  const heapBytes = () => mod.HEAPU8?.buffer.byteLength ?? 0;
  mod._malloc = (bytes: number) => {
    const heap = heapBytes();
    if (bytes >= WASM_MAX_ALLOCATION || heap + bytes > WASM_ADDRESS_SPACE) {
      throw new Error(`out of memory: ${bytes} bytes requested from a wasm heap of ${heap} bytes (it cannot grow past 4 GiB, nor give 2 GiB at once)`);
    }
    const ptr = malloc(bytes) >>> 0;
    if (ptr === 0 && bytes > 0) {
      throw new Error(`out of memory: the wasm heap (${heapBytes()} bytes) could not grow to allocate ${bytes} bytes`);
    }
    if (ptr + bytes > heapBytes()) {
      const err = new Error(`out of memory: wasm malloc returned a block of ${bytes} bytes at ${ptr}, past the end of its ${heapBytes()}-byte heap`);
      err.name = WASM_HEAP_ERROR;
      throw err;
    }
    return ptr;
  };
  mod[GUARDED] = true;
  return true;
}
