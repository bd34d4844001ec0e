// WebGPU through Dawn (the `webgpu` npm package): Vulkan on Linux, Metal on macOS, D3D12 on
// Windows. tfjs's webgpu backend looks for `navigator.gpu`, which Node lacks, so we provide it.
import * as tf from '@tensorflow/tfjs';
import { watchDevice, type GpuDeviceLike } from './webgpu-device.js';

interface WebgpuAdapterSummary {
  description: string;
  vendor: string;
  architecture: string;
  /** A CPU emulation such as Mesa's lavapipe/llvmpipe or SwiftShader. */
  software: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  limits: Record<string, number> & { maxBufferSize: number; maxStorageBufferBindingSize: number };
  features: Set<string>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<GpuDeviceLike>;
}
type WebgpuBackendClass = new (device: GpuDeviceLike, adapterInfo: unknown) => tf.KernelBackend;

let gpu: GpuLike | undefined;

async function dawn(): Promise<GpuLike> {
  if (gpu) return gpu;
  // Dawn on Linux wants a runtime folder; a desktop session has one, a service or CI may not.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  let mod: DawnModule;
  try {
    mod = (await import('webgpu')) as unknown as DawnModule;
  } catch (err) {
    throw new Error(`the webgpu package (Dawn) could not be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
  Object.assign(globalThis, mod.globals);
  gpu = mod.create([]);
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
  return gpu;
}

export async function probeWebgpuAdapter(): Promise<WebgpuAdapterSummary> {
  const g = await dawn();
  const adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter: no Vulkan/Metal/D3D12 driver was found for a GPU');
  const i = adapter.info;
  const description = i.description || [i.vendor, i.device].filter(Boolean).join(' ') || 'unknown GPU';
  const software = i.isFallbackAdapter === true || i.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${description} ${i.device ?? ''}`);
  return {
    description,
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    software,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/**
 * Starts tfjs's webgpu backend. With allowSoftware false (the auto ladder) a CPU emulation is
 * refused: on such a machine wasm trains several times faster than WebGPU over lavapipe
 * (docs/benchmarks.md).
 */
export async function activateWebgpu(options: { allowSoftware: boolean }): Promise<{ device: string; adapter: WebgpuAdapterSummary }> {
  const adapter = await probeWebgpuAdapter();
  if (adapter.software && !options.allowSoftware) {
    throw new Error(`the only WebGPU adapter is a CPU emulation (${adapter.description}), slower than wasm; choose --backend webgpu to use it anyway`);
  }
  const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend: WebgpuBackendClass };
  registerWatchedWebgpu(mod.WebGPUBackend);
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error(`tfjs could not start its webgpu backend on ${adapter.description}`);
  await tf.ready();
  return { device: `${adapter.description} (WebGPU${adapter.software ? ', software emulation' : ''})`, adapter };
}

/** Limits tfjs asks for (as its own factory does): the adapter's best, so large batches fit. */
const TFJS_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
] as const;

/**
 * Replaces the factory tfjs registered for 'webgpu' with one that does what tfjs's does (same
 * adapter, features and limits) but keeps hold of the device: its loss and its errors are
 * watched (webgpu-device.ts), so that an allocation that does not fit fails the probe that made
 * it instead of passing unnoticed, and a lost device ends the process cleanly.
 */
function registerWatchedWebgpu(WebGPUBackend: WebgpuBackendClass): void {
  if (tf.findBackend('webgpu')) return; // already started in this process
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const g = await dawn();
      const adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('no WebGPU adapter');
      const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
      const requiredLimits = Object.fromEntries(TFJS_LIMITS.map((k) => [k, adapter.limits[k]!]));
      const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
      watchDevice(device);
      return new WebGPUBackend(device, adapter.info);
    },
    3,
  );
}
