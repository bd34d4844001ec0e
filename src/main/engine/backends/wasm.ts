// The `wasm` compute backend (docs/architecture.md §4): tfjs-backend-wasm's XNNPACK/SIMD kernels
// plus the gradient kernels it lacks, registered by the app.
//
// Threads. tfjs-backend-wasm 4.22 never runs its threaded build in Node: the flag
// WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false there (tfjs issue #3830), and forcing it
// true fails, because emscripten's pthread glue starts each worker from a `blob:` URL, which
// Node's worker_threads.Worker refuses (ERR_WORKER_PATH), and tells it to load the main script
// from a Blob, which the worker cannot read. Emscripten's glue otherwise supports Node (its
// workers are worker_threads), so for threads > 1 activateWasm() starts the threaded build with
// a small shim (see startThreaded): the pthread workers are started from the worker script's
// source (eval) and pointed at the threaded glue's file in node_modules. The C++ side caps the
// XNNPACK thread pool at min(requested, 8, logical cores / 2); os.cpus() is what it counts,
// and the shim makes it count enough for the requested threads.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels } from '../kernels/register-wasm-kernels.js';
import { defaultCpuThreads } from '../util/cpu-threads.js';

interface WasmActivation {
  device: string;
  threads: number;
}

/** XNNPACK's thread pool in tfjs-backend-wasm has at most 8 threads (8 pre-started workers). */
const MAX_WASM_THREADS = 8;

const require = createRequire(import.meta.url);

/** The folder that holds tfjs-backend-wasm's .wasm binaries (its dist folder), with a trailing separator. */
function wasmBinaryFolder(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/** Threads used when none are asked for: the rule both engines share (util/cpu-threads.ts), at most the pool's size. */
function defaultWasmThreads(): number {
  return defaultCpuThreads(MAX_WASM_THREADS);
}

/**
 * Makes `wasm` the active tfjs backend, with `threads` XNNPACK threads (default:
 * defaultWasmThreads(); 1 runs the single-threaded SIMD build without workers). The thread count is
 * fixed when the backend first starts in this process; later calls report the count it has.
 * If the threaded build cannot start, falls back to one thread. Throws an Error that says why
 * when the backend cannot start at all.
 */
export async function activateWasm(options: { threads?: number } = {}): Promise<WasmActivation> {
  if (typeof (globalThis as { WebAssembly?: unknown }).WebAssembly !== 'object') {
    throw new Error('wasm backend: this runtime has no WebAssembly');
  }
  const requested = options.threads ?? defaultWasmThreads();
  if (!Number.isInteger(requested) || requested < 1) {
    throw new Error(`wasm backend: threads must be a positive integer, got ${String(options.threads)}`);
  }
  const folder = wasmBinaryFolder();
  registerWasmGradientKernels();
  const started = tf.engine().registry.wasm !== undefined;
  if (!started) {
    setWasmPaths(folder);
    const threads = Math.min(requested, MAX_WASM_THREADS);
    let ok = false;
    let failure: unknown = null;
    if (threads > 1) {
      try {
        ok = await startThreaded(threads);
      } catch (err) {
        failure = err;
      }
    }
    if (!ok) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      setThreadsCount(1);
      try {
        ok = await tf.setBackend('wasm');
      } catch (err) {
        failure = err;
      }
    }
    if (!ok) {
      throw new Error(
        `wasm backend could not start (binaries looked up in ${folder})` + (failure === null ? '; see the tfjs warnings above' : `: ${describe(failure)}`),
      );
    }
  } else if (!(await tf.setBackend('wasm'))) {
    throw new Error('wasm backend could not be selected');
  }
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error(`wasm backend could not start: tfjs runs ${tf.getBackend()}`);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  let threads = 1;
  try {
    threads = Math.max(1, getThreadsCount());
  } catch {
    threads = 1;
  }
  const device = `CPU (WebAssembly${simd ? ', SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
  return { device, threads };
}

/**
 * Starts tfjs-backend-wasm's threaded-SIMD build in Node (see the note at the top). Returns
 * false (leaving no backend behind) when its files are missing or tfjs reports a failed start.
 */
async function startThreaded(threads: number): Promise<boolean> {
  const wasmOut = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'wasm-out');
  const glue = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const workerModule = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js');
  // Check what can be checked up front: an error inside a pthread worker is thrown, uncaught,
  // by emscripten's glue on the main thread.
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  if (!fs.existsSync(glue) || !fs.existsSync(workerModule) || !fs.existsSync(path.join(wasmBinaryFolder(), 'tfjs-backend-wasm-threaded-simd.wasm'))) {
    return false;
  }
  // The worker script, as tfjs's own locateFile makes it (its '\n' escapes must stay escapes).
  const workerSource = (require(workerModule) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');

  const workers: NodeWorker[] = [];
  class PthreadWorker extends NodeWorker {
    constructor(_url: unknown, _options?: WorkerOptions) {
      super(workerSource, { eval: true });
      workers.push(this);
    }
    override postMessage(message: unknown, transfer?: Parameters<NodeWorker['postMessage']>[1]): void {
      // 'load' names the main script as a Blob (unreadable in a worker): give it the file.
      if (typeof message === 'object' && message !== null && (message as { cmd?: unknown }).cmd === 'load') {
        message = { ...(message as object), urlOrBlob: glue };
      }
      super.postMessage(message, transfer);
    }
  }

  const g = globalThis as Record<string, unknown>;
  const workerBefore = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const cpusBefore = os.cpus;
  // The glue assigns worker_threads.Worker to the global Worker and then starts its workers with
  // `new Worker(url)`: keep ours in place while it does.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => PthreadWorker, set: () => undefined });
  os.cpus = () => {
    const cpus = cpusBefore();
    while (cpus.length > 0 && cpus.length < 2 * threads) cpus.push(cpus[0]);
    return cpus;
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
    // Emscripten refs a worker while it runs a pthread; the thread pool's threads run for good,
    // and must not keep the process alive.
    for (const worker of workers) worker.unref();
    return ok;
  } finally {
    if (!ok) for (const worker of workers) void worker.terminate();
    os.cpus = cpusBefore;
    if (workerBefore !== undefined) {
      Object.defineProperty(globalThis, 'Worker', workerBefore);
    } else {
      // What the stock glue leaves behind (it assigns worker_threads.Worker), but one that works
      // should it ever start another pthread worker.
      delete g.Worker;
      g.Worker = PthreadWorker;
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
