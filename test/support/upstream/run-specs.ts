// One run of tfjs-core's published op tests on the wasm backend (a child process of
// test/unit/kernels/upstream-specs.test.ts, started with `node --import register-loader.js`):
//   node run-specs.js <stock|app|app-small> <out.json> <spec file, relative to tfjs-core/dist>…
// `stock` runs tfjs-backend-wasm as published; `app` with the app's kernels registered
// (registerWasmGradientKernels); `app-small` too, with the paths the app's kernels keep for large
// tensors (the SIMD Transpose) or many channels (Conv2DBackpropFilter's convolution) taken for the
// specs' small ones. (The SIMD paths that need a multiple of 4 channels — Sum, MaxPoolGrad's 2x2,
// FusedBatchNorm, the depthwise filter taps — no tfjs-core spec reaches: test/unit/kernels covers
// them.) Every spec's full name, status and first failure go to out.json.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SpecOutcome } from './compare.js';

const require = createRequire(import.meta.url);

interface JasmineSpecResult {
  fullName: string;
  status: string;
  failedExpectations: Array<{ message: string }>;
}

interface JasmineEnv {
  addReporter(r: { specDone(result: JasmineSpecResult): void }): void;
  configure(c: object): void;
  execute(): Promise<unknown>;
}

const coreDist = path.dirname(require.resolve('@tensorflow/tfjs-core/dist/index.js'));
const coreModule = (file: string): Promise<Record<string, unknown>> =>
  import(pathToFileURL(path.join(coreDist, file)).href) as Promise<Record<string, unknown>>;

/** Jasmine's globals (describe, it, expect, jasmine…), as its own boot script installs them. */
function installJasmine(): JasmineEnv {
  const jasmineRequire = require('jasmine-core/lib/jasmine-core/jasmine.js') as {
    core(r: unknown): { getEnv(): JasmineEnv };
    interface(j: unknown, env: JasmineEnv): Record<string, unknown>;
  };
  const jasmine = jasmineRequire.core(jasmineRequire);
  const env = jasmine.getEnv();
  Object.assign(globalThis, jasmineRequire.interface(jasmine, env));
  // Specs in file order: the two runs must see the same sequence (and a failure replays).
  env.configure({ random: false, stopOnSpecFailure: false });
  return env;
}

export type RunMode = 'stock' | 'app' | 'app-small';

/** Makes the app's kernels take their large-tensor paths on small tensors too. */
async function smallTensorsTakeFastPaths(): Promise<void> {
  const { setTransposeSimdForSmallTensors } = await import('../../../src/main/engine/kernels/transpose.js');
  const { setConv2DBackpropFilterStrategy } = await import('../../../src/main/engine/kernels/conv2d-backprop-filter.js');
  setTransposeSimdForSmallTensors(true);
  // 'auto' takes im2col for the one or two input channels of tfjs-core's gradient tests.
  setConv2DBackpropFilterStrategy('conv');
}

async function startWasm(mode: RunMode): Promise<void> {
  const tf = (await import('@tensorflow/tfjs')) as typeof import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  if (mode !== 'stock') {
    const { registerWasmGradientKernels } = await import('../../../src/main/engine/kernels/register-wasm-kernels.js');
    registerWasmGradientKernels();
  }
  if (mode === 'app-small') await smallTensorsTakeFastPaths();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend could not start');
}

async function main(): Promise<void> {
  const [mode, out, ...files] = process.argv.slice(2);
  if ((mode !== 'stock' && mode !== 'app' && mode !== 'app-small') || out === undefined || files.length === 0) {
    throw new Error('usage: run-specs.js <stock|app|app-small> <out.json> <spec files…>');
  }
  const env = installJasmine();
  // tfjs-core's ES modules first, so that their gradient registrations come before the app's
  // (installActivationGradients registers Relu's and ClipByValue's over tfjs's own).
  await coreModule('index.js');
  const util = await coreModule('jasmine_util.js');
  (util.setTestEnvs as (envs: object[]) => void)([{ name: 'test-wasm', backendName: 'wasm', isDataSync: true }]);
  await startWasm(mode);
  const outcomes: SpecOutcome[] = [];
  env.addReporter({
    specDone(r) {
      const status = r.status === 'passed' || r.status === 'failed' || r.status === 'excluded' ? r.status : 'pending';
      outcomes.push({ name: r.fullName, status, ...(r.failedExpectations[0] ? { failure: r.failedExpectations[0].message.slice(0, 300) } : {}) });
    },
  });
  for (const file of files) await coreModule(file);
  await env.execute();
  writeFileSync(out, JSON.stringify(outcomes));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
