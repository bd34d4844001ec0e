// The kernel sets the wasm benchmarks compare: tfjs-backend-wasm's own kernels against the app's
// (src/main/engine/kernels/register-wasm-kernels.ts), whole or with some put back.
import { registerWasmGradientKernels, restoreStockWasmKernels } from '../src/main/engine/kernels/register-wasm-kernels.js';
import { setConv2DBackpropFilterStrategy } from '../src/main/engine/kernels/conv2d-backprop-filter.js';
import { setSimdKernelsEnabled } from '../src/main/engine/kernels/wasm-simd.js';
import { setFusedBatchNormTraining } from '../src/main/engine/models/batch-norm-layer.js';
import { setFastActivationGradients } from '../src/main/engine/kernels/activation-grads.js';
import { setDepthwiseFilterTaps } from '../src/main/engine/kernels/depthwise-backprop-filter.js';
import { setFastTranspose } from '../src/main/engine/kernels/transpose.js';
import { setFusedAdam } from '../src/main/engine/models/fused-adam.js';

/** Paths of the app's that are not a kernel of one name, switched by a name of their own. */
const PATHS: Record<string, (enabled: boolean) => void> = {
  // The batch-norm layer's closed-form training path (models/batch-norm-layer.ts).
  BatchNormLayer: setFusedBatchNormTraining,
  // Relu's and ClipByValue's one-kernel gradients (kernels/activation-grads.ts).
  ActivationGrads: setFastActivationGradients,
  // The SIMD taps of DepthwiseConv2dNativeBackpropFilter (else its XNNPACK composition).
  DepthwiseTaps: setDepthwiseFilterTaps,
  // The SIMD transposes, in the Transpose kernel and inside the app's compositions.
  FastTranspose: setFastTranspose,
  // Conv2DBackpropFilter of 1x1 filters as one matrix product (else the convolution composition).
  PointwiseMatmul: (on) => setConv2DBackpropFilterStrategy(on ? 'auto' : 'auto-without-matmul'),
  // Adam's step as one kernel a variable (models/fused-adam.ts; the app's optimizer only).
  FusedAdam: setFusedAdam,
};

/** The app's kernels as they were before the batch-norm models' profile (2026-11-30). */
const APP_BEFORE = 'app-stock:' + [...Object.keys(PATHS), 'FusedBatchNorm', 'Identity', 'Transpose'].join('+');

/**
 * 'stock': tfjs-backend-wasm's own kernels plus only the missing gradients, in their first, plain
 * form (filter gradient as one convolution), and tfjs-layers' own batch norm; 'app': everything
 * the app installs; 'app-stock:A+B': the app's but A and B (kernel names, or the names in PATHS);
 * 'app-before': the app's before the 2026-11-30 profile of the batch-norm models (all of PATHS,
 * FusedBatchNorm, Identity and Transpose put back).
 */
export function applyKernelSet(set: string): void {
  if (set === 'app-before') {
    applyKernelSet(APP_BEFORE);
  } else if (set === 'stock') {
    for (const toggle of Object.values(PATHS)) toggle(false);
    restoreStockWasmKernels();
    setConv2DBackpropFilterStrategy('conv');
    setSimdKernelsEnabled(false);
  } else if (set === 'app' || set.startsWith('app-stock:')) {
    registerWasmGradientKernels();
    setConv2DBackpropFilterStrategy('auto');
    setSimdKernelsEnabled(true);
    for (const toggle of Object.values(PATHS)) toggle(true);
    if (set === 'app') return;
    const names = set.slice('app-stock:'.length).split('+');
    for (const name of names) PATHS[name]?.(false);
    restoreStockWasmKernels(names.filter((n) => PATHS[n] === undefined));
  } else {
    throw new Error(`unknown kernel set ${set}`);
  }
}
