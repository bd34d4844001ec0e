// The CPU threads an engine computes with when none are asked for, one rule for both engines
// (the wasm backend's XNNPACK pool and PyTorch's intra-op pool), so that tfjs and PyTorch runs on
// the same machine compare at the same setting.
import os from 'node:os';

/**
 * Half the logical cores (tfjs-backend-wasm's own rule, which assumes two hardware threads a
 * core), at least 1, at most 4. On a 2-core machine that is 1: there a second thread competes
 * with the host and with anything else running, and measured anywhere from somewhat faster
 * (large CNN, quiet machine) to much slower (small CNN, busy machine); see the threads note in
 * docs/benchmarks.md. AUTOBATCH_WASM_THREADS (inherited by trainer processes) overrides it, e.g.
 * for a benchmark that must use the same thread count as its peer; `cap` bounds the override.
 */
export function defaultCpuThreads(cap = 256, env: NodeJS.ProcessEnv = process.env): number {
  const forced = Number(env.AUTOBATCH_WASM_THREADS);
  if (Number.isInteger(forced) && forced >= 1) return Math.min(cap, forced);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}
