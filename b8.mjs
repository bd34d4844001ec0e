import * as tf from '@tensorflow/tfjs';
const { activateWasm } = await import('/work/main/dist/src/main/engine/backends/wasm.js');
const K = await import('/work/main/dist/src/main/engine/kernels/register-wasm-kernels.js');
const { loadDataset } = await import('/work/main/dist/src/main/engine/datasets/index.js');
const { runTrainingLoop } = await import('/work/main/dist/src/main/engine/training/train-loop.js');
await activateWasm({ threads: 1 });
const only = process.argv.slice(2);
K.restoreStockWasmKernels();
for (const c of K.wasmReplacementKernels) {
  if (!only.includes(c.kernelName)) continue;
  const cur = tf.getKernel(c.kernelName, 'wasm'); tf.unregisterKernel(c.kernelName, 'wasm'); tf.registerKernel({ ...c, setupFunc: cur.setupFunc });
}
const ds = loadDataset('/tmp/nanrepro-46OpVK/datasets/mnist-6512f095/');
const r = await runTrainingLoop({ dataset: ds, config: { model: 'small', batchSize: 32, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'wasm', seed: 1 },
  shouldStop: () => false, onStep: () => {}, onEpoch: (e) => {}, memoryBytes: () => 0, evaluate: false });
const bad = r.model.trainableWeights.filter((w) => w.read().dataSync().some((v) => !Number.isFinite(v))).map((w) => w.name);
console.log(only.join('+'), 'nan weights', bad);
