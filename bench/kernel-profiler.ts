// Per-kernel timing for the wasm benchmarks: every kernel registered for a backend is wrapped
// with a timer that records exclusive time (a composite kernel's inner kernels that go through
// the registry are counted under their own names, not twice). tf.profile cannot do this on wasm:
// its kernelMs comes from backend timers the wasm backend does not have, and it would report
// the gradient's kernels without the calls nested in the app's composite kernels.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';

export interface KernelTotal {
  ms: number;
  calls: number;
}

/** Which kernels to split up by their input shapes (the key becomes `name [shape] [shape]`). */
export type ShapeKeys = (name: string) => boolean;

const totals = new Map<string, KernelTotal>();
const stack: number[] = [];
const wrappers = new WeakSet<tf.KernelFunc>();

/** Wraps every kernel registered now for `backend` (again after any re-registration). */
export function wrapAll(backend: string, byShape: ShapeKeys = () => false): void {
  for (const config of tf.getKernelsForBackend(backend)) {
    const inner = config.kernelFunc;
    if (wrappers.has(inner)) continue;
    const name = config.kernelName;
    const wrapped: tf.KernelFunc = (args) => {
      const key = byShape(name)
        ? `${name} ${Object.values(args.inputs)
            .filter((t) => t !== undefined)
            .map((t) => `[${String((t as tf.TensorInfo).shape)}]`)
            .join(' ')}`
        : name;
      stack.push(0);
      const t0 = performance.now();
      try {
        return inner(args);
      } finally {
        const dt = performance.now() - t0;
        const nested = stack.pop() ?? 0;
        if (stack.length > 0) stack[stack.length - 1] += dt;
        const e = totals.get(key) ?? { ms: 0, calls: 0 };
        e.ms += dt - nested;
        e.calls++;
        totals.set(key, e);
      }
    };
    wrappers.add(wrapped);
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...config, kernelFunc: wrapped });
  }
}

export function resetTotals(): void {
  totals.clear();
}

export function kernelTotals(): ReadonlyMap<string, KernelTotal> {
  return totals;
}

/**
 * The profile as text: the step, the time inside kernels and outside them, then the `top`
 * kernels by time, per step over `steps` steps that took `ms` in all.
 */
export function formatProfile(title: string, steps: number, ms: number, top: number): string {
  const kernelMs = [...totals.values()].reduce((a, e) => a + e.ms, 0);
  const width = Math.max(34, ...[...totals.keys()].map((k) => k.length + 2));
  const rows = [...totals.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(
      ([k, e]) =>
        `    ${k.padEnd(width)} ${(e.ms / steps).toFixed(2).padStart(8)} ms/step ${((100 * e.ms) / ms).toFixed(1).padStart(5)}%  ${(e.calls / steps).toFixed(0).padStart(5)} calls`,
    );
  return [
    `  profile ${title}: step ${(ms / steps).toFixed(2)} ms, kernels ${(kernelMs / steps).toFixed(2)} ms, outside kernels (tape, JS, bookkeeping) ${((ms - kernelMs) / steps).toFixed(2)} ms`,
    ...rows,
  ].join('\n');
}
