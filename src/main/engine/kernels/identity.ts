// Identity for the wasm backend, registered over the stock one, which copies the tensor. tfjs runs
// Identity for every tensor it saves for the backward pass (engine.saveTensorsForBackwardMode
// clones them), so a training step on wasm copied most of its activations once more. The data of
// a tensor never changes once written (a variable's assign swaps in another tensor's data), so,
// as the cpu backend's Identity and wasm's own Reshape do, this one shares the data and counts
// one more reference to it.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmKernel, type Info } from './wasm-kernel-utils.js';

function identityWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { x } = args.inputs as { x: Info };
  if (x.dtype === 'string') return wasmKernel(tf.Identity)({ inputs: args.inputs, backend: args.backend as object, attrs: args.attrs }) as Info;
  (args.backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identityWasm as unknown as tf.KernelFunc,
};
