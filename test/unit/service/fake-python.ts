// What a Python's environment probe (python/autobatch_trainer/environment.py) answers, for tests
// of discovery and resolution on a made-up machine.
import type { PythonEnvironment } from '../../../src/main/service/python-discovery.js';
import type { DetectOutcome } from '../../../src/main/engine/backends/detect-protocol.js';

/** A CPU-only Python 3.11 with `torch` (null: torch does not import), fields overridable. */
export function fakeEnvironment(torch: string | null, over: Partial<PythonEnvironment> = {}): PythonEnvironment {
  return {
    python: '3.11.2',
    executable: '/fake',
    torch,
    torchError: torch ? null : "ModuleNotFoundError: No module named 'torch'",
    cuda: { available: false, device: null, reason: 'this torch is built without CUDA (a CPU-only build)' },
    mps: { available: false, reason: "MPS is Apple's GPU API, available on macOS only" },
    cpuThreads: 2,
    ...over,
  };
}

export const skipOnWindows = process.platform === 'win32' ? 'shell-script interpreters' : false;

/** tfjs's auto on a machine without tfjs-node and with only a software GPU: wasm. */
export const tfjsOnWasm: Extract<DetectOutcome, { ok: true }> = {
  ok: true,
  report: {
    name: 'wasm',
    rung: 'wasm',
    device: 'CPU, WebAssembly SIMD, 2 threads',
    skipped: [
      { backend: 'tensorflow (CUDA, tfjs-node-gpu)', reason: '@tensorflow/tfjs-node-gpu is not installed' },
      { backend: 'webgpu (Dawn)', reason: 'only a software adapter (llvmpipe): auto skips it' },
      { backend: 'tensorflow (CPU, tfjs-node)', reason: '@tensorflow/tfjs-node is not installed' },
    ],
  },
};
