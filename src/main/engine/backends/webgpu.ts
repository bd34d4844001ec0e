// WebGPU through Dawn (the `webgpu` npm package): Vulkan on Linux, Metal on macOS, D3D12 on
// Windows. tfjs's webgpu backend looks for `navigator.gpu`, which Node lacks, so we provide it.
import * as tf from '@tensorflow/tfjs';

export interface WebgpuAdapterSummary {
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
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

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
  const software =
    i.isFallbackAdapter === true || i.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${description} ${i.device ?? ''}`);
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
 * refused: on such a machine wasm trains several times faster than WebGPU over lavapipe.
 */
export async function activateWebgpu(options: { allowSoftware: boolean }): Promise<{ device: string; adapter: WebgpuAdapterSummary }> {
  const adapter = await probeWebgpuAdapter();
  if (adapter.software && !options.allowSoftware) {
    throw new Error(`the only WebGPU adapter is a CPU emulation (${adapter.description}), slower than wasm; choose --backend webgpu to use it anyway`);
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error(`tfjs could not start its webgpu backend on ${adapter.description}`);
  await tf.ready();
  return { device: `${adapter.description} (WebGPU${adapter.software ? ', software emulation' : ''})`, adapter };
}

