// The device watch's error scopes, on a stand-in device that records its scope stack and reports
// what a real one reports (a GPUValidationError's message for a binding over the device's limit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchDevice, WebgpuDeviceLostError, WebgpuScopeError, type GpuDeviceLike } from '../../../src/main/engine/backends/webgpu-device.js';

const OVER_LIMIT = 'Binding size (155750400) of [Buffer (unlabeled)] is larger than the maximum storage buffer binding size (134217728).';

/** A device whose GPU calls are `fail(filter, message)`: each error lands in the innermost scope of its filter. */
function fakeDevice() {
  const scopes: { filter: string; error: { message: string; constructor: { name: string } } | null }[] = [];
  let lose: (info: { reason: string; message: string }) => void = () => undefined;
  const device: GpuDeviceLike = {
    pushErrorScope: (filter) => void scopes.push({ filter, error: null }),
    popErrorScope: async () => {
      const top = scopes.pop();
      if (!top) throw new Error('popErrorScope on an empty stack');
      return top.error;
    },
    lost: new Promise((resolve) => (lose = resolve)),
    destroy: () => undefined,
  };
  return {
    device,
    scopes,
    fail(filter: string, message: string) {
      const scope = [...scopes].reverse().find((s) => s.filter === filter);
      if (scope && !scope.error) scope.error = { message, constructor: { name: 'GPUValidationError' } };
    },
    lose: (message: string) => lose({ reason: 'unknown', message }),
  };
}

test('begin/end: a binding over the limit in work spread over several calls is out of memory, and the scopes are all closed', async () => {
  const gpu = fakeDevice();
  const watch = watchDevice(gpu.device);
  watch.begin();
  assert.equal(gpu.scopes.length, 3);
  gpu.fail('validation', OVER_LIMIT);
  const err = await watch.end().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WebgpuScopeError, String(err));
  assert.equal(err.outOfMemory, true);
  assert.match(err.message, /^out of memory on the WebGPU device: Binding size/);
  assert.equal(gpu.scopes.length, 0);
});

test('begin/end: nothing caught → no error; another validation error is not out of memory; the work’s own failure comes after the scopes’', async () => {
  const gpu = fakeDevice();
  const watch = watchDevice(gpu.device);
  watch.begin();
  await watch.end();
  watch.begin();
  gpu.fail('validation', 'Texture format mismatch.');
  await assert.rejects(watch.end(), (e: unknown) => e instanceof WebgpuScopeError && !e.outOfMemory && /^WebGPU validation error/.test(e.message));
  watch.begin();
  await assert.rejects(watch.end({ error: new Error('a kernel threw') }), /a kernel threw/);
  watch.begin();
  gpu.fail('out-of-memory', 'Allocation failed.');
  await assert.rejects(watch.end({ error: new Error('a kernel threw') }), (e: unknown) => e instanceof WebgpuScopeError && e.kind === 'out-of-memory');
  assert.equal(gpu.scopes.length, 0);
});

test('run: the same scopes around one piece of work; a lost device rejects at once, and begin refuses afterwards', async () => {
  const gpu = fakeDevice();
  const watch = watchDevice(gpu.device);
  assert.equal(await watch.run(async () => 7), 7);
  await assert.rejects(
    watch.run(async () => {
      gpu.fail('validation', OVER_LIMIT);
      return 1;
    }),
    (e: unknown) => e instanceof WebgpuScopeError && e.outOfMemory,
  );
  const never = watch.run(() => new Promise<number>(() => undefined));
  gpu.lose('the driver reset');
  await assert.rejects(never, WebgpuDeviceLostError);
  assert.throws(() => watch.begin(), WebgpuDeviceLostError);
});
