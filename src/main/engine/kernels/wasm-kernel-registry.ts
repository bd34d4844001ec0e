// The wasm kernels the app registered over, remembered so that the app's kernels can still call
// tfjs-backend-wasm's own (see register-wasm-kernels.ts).
import * as tf from '@tensorflow/tfjs';

/** The stock kernelFuncs of the kernels the app registered over (see register-wasm-kernels.ts). */
const originals = new Map<string, tf.KernelFunc>();

/**
 * Remembers the wasm kernel registered now under `name`, so that a replacement registered
 * later can still call the original (see register-wasm-kernels.ts).
 */
export function rememberOriginal(name: string): tf.KernelConfig | undefined {
  const config = tf.getKernel(name, 'wasm');
  if (config !== undefined && !originals.has(name)) originals.set(name, config.kernelFunc);
  return config;
}

/** The kernelFunc to call for `name` on wasm: the stock one where the app replaced it. */
export function wasmKernel(name: string): tf.KernelFunc {
  const remembered = originals.get(name);
  if (remembered !== undefined) return remembered;
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`wasm backend has no ${name} kernel`);
  return config.kernelFunc;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
