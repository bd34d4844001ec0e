// What a Python's environment probe (python/autobatch_trainer/environment.py) answers, for tests
// of discovery and resolution on a made-up machine.
import type { PythonEnvironment } from '../../../src/main/service/python-discovery.js';

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
