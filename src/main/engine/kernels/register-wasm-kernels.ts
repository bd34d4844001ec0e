// Registers, for tfjs-backend-wasm 4.22, the gradient kernels it lacks (a CNN cannot train
// without Conv2DBackpropFilter) and faster replacements for some of its slow kernels.
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { batchNormStatisticsConfig, batchNormTrainingGradConfig, fusedBatchNormConfig } from './batch-norm.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { sumConfig } from './sum.js';
import { identityConfig } from './identity.js';
import { adamUpdateConfig } from './adam.js';
import { transposeConfig } from './transpose.js';
import { clipByValueGradConfig, installActivationGradients, reluGradConfig } from './activation-grads.js';
import { rememberOriginal } from './wasm-kernel-utils.js';

/** Kernels the wasm backend does not have. */
export const wasmGradientKernels: readonly tf.KernelConfig[] = [conv2DBackpropFilterConfig, depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig];

/**
 * The app's own kernels, which tfjs does not define: batch norm in training (used by
 * models/batch-norm-layer.ts), the ReLU and clip gradients (used by the gradients that
 * activation-grads.ts registers) and Adam's update (models/fused-adam.ts), wherever the active
 * backend has them.
 */
export const wasmAppKernels: readonly tf.KernelConfig[] = [
  batchNormStatisticsConfig,
  batchNormTrainingGradConfig,
  reluGradConfig,
  clipByValueGradConfig,
  adamUpdateConfig,
];

/**
 * Kernels the wasm backend has, but slowly (scalar C++ loops, needless transposes): replaced by
 * XNNPACK compositions (Conv2DBackpropInput, transposed BatchMatMul), or (MaxPoolGrad, Sum over
 * leading axes, FusedBatchNorm, Transpose) SIMD passes on the wasm heap; Identity shares instead of copying.
 */
const wasmReplacementKernels: readonly tf.KernelConfig[] = [
  conv2DBackpropInputConfig,
  batchMatMulConfig,
  maxPoolGradConfig,
  sumConfig,
  fusedBatchNormConfig,
  identityConfig,
  transposeConfig,
];

/**
 * The names of every kernel registerWasmGradientKernels registers on wasm (the upstream-spec run,
 * test/unit/kernels/upstream-specs.test.ts, runs tfjs-core's tests of each).
 */
export function registeredWasmKernelNames(): string[] {
  return [...wasmGradientKernels, ...wasmAppKernels, ...wasmReplacementKernels].map((k) => k.kernelName);
}

const stock = new Map<string, tf.KernelConfig>();

function install(config: tf.KernelConfig): void {
  const current = tf.getKernel(config.kernelName, 'wasm');
  if (current !== undefined && current.kernelFunc === config.kernelFunc) return;
  if (current !== undefined) {
    if (!stock.has(config.kernelName)) stock.set(config.kernelName, current);
    rememberOriginal(config.kernelName);
    tf.unregisterKernel(config.kernelName, 'wasm');
  }
  // Keep the stock kernel's setupFunc (its cwrap of the C++ function): the replacement may call
  // the stock kernelFunc, and the engine runs setupFuncs when the backend initialises.
  const setupFunc = current?.setupFunc;
  tf.registerKernel(setupFunc === undefined ? { ...config } : { ...config, setupFunc });
}

/**
 * Registers the missing wasm gradient kernels (Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput), the app's own
 * (wasmAppKernels, and the gradients that use them) and, unless `replaceSlowKernels` is false,
 * the faster Conv2DBackpropInput, BatchMatMul, MaxPoolGrad, Sum, FusedBatchNorm, Identity and Transpose.
 * Idempotent; call it before or after `tf.setBackend('wasm')`.
 */
export function registerWasmGradientKernels(options: { replaceSlowKernels?: boolean } = {}): void {
  for (const config of [...wasmGradientKernels, ...wasmAppKernels]) install(config);
  installActivationGradients();
  if (options.replaceSlowKernels ?? true) {
    for (const config of wasmReplacementKernels) install(config);
  } else {
    restoreStockWasmKernels();
  }
}

/**
 * Puts back the stock wasm kernels that registerWasmGradientKernels replaced (for benchmarks):
 * all of them, or those named.
 */
export function restoreStockWasmKernels(names?: readonly string[]): void {
  for (const [name, config] of stock) {
    if (names !== undefined && !names.includes(name)) continue;
    if (tf.getKernel(name, 'wasm')?.kernelFunc === config.kernelFunc) continue;
    const current = tf.getKernel(name, 'wasm');
    if (current !== undefined) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
}
