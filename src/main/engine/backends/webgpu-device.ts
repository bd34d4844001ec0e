// The GPUDevice behind tfjs's webgpu backend, created by us rather than by tfjs so that its
// failures are seen: a device-lost handler, and error scopes that a caller puts around a piece
// of work (a probe) to learn whether any of its GPU calls failed.
//
// Why: WebGPU reports errors asynchronously. An allocation that does not fit (createBuffer →
// GPUOutOfMemoryError, or a buffer or binding over the device's size limits → GPUValidationError)
// throws nothing in JavaScript: tfjs carries on with an invalid buffer and reads back zeros or
// garbage. Only an error scope (or the uncaptured-error event) says what happened.

/** Minimal shapes of the WebGPU objects used here (the `webgpu` package ships no types we use). */
interface GpuErrorLike {
  message: string;
  constructor: { name: string };
}
export interface GpuDeviceLike {
  pushErrorScope(filter: 'out-of-memory' | 'validation' | 'internal'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  lost: Promise<{ reason: string; message: string }>;
  addEventListener?(type: 'uncapturederror', listener: (ev: { error: GpuErrorLike }) => void): void;
  destroy(): void;
}

interface DeviceLoss {
  reason: string;
  message: string;
}

export class WebgpuDeviceLostError extends Error {
  constructor(readonly loss: DeviceLoss) {
    super(`WebGPU device lost (${loss.reason || 'unknown reason'}): ${loss.message.split('\n')[0] || 'no message'}`);
    this.name = 'WebgpuDeviceLostError';
  }
}

/** A GPU call inside an error scope failed: an allocation that did not fit, or another error. */
export class WebgpuScopeError extends Error {
  constructor(
    readonly kind: 'out-of-memory' | 'validation' | 'internal',
    readonly gpuMessage: string,
    /** The allocation did not fit: out of memory, or a buffer/binding above the device's limits. */
    readonly outOfMemory: boolean,
  ) {
    const first = gpuMessage.split('\n')[0]!.trim();
    super(outOfMemory ? `out of memory on the WebGPU device: ${first}` : `WebGPU ${kind} error: ${first}`);
    this.name = 'WebgpuScopeError';
  }
}

/**
 * A validation error that means "this allocation is too large for this device": Dawn's messages
 * for a buffer over maxBufferSize and a binding over maxStorageBufferBindingSize (or the uniform
 * one). A batch that needs such a buffer does not fit, exactly as if memory had run out.
 */
const OVER_SIZE_LIMIT =
  /exceeds the max buffer size|max(?:Storage|Uniform)BufferBindingSize|binding size .* (?:larger|exceeds)|buffer size .* (?:larger than|exceeds) .*limit/i;

function isOverSizeLimit(message: string): boolean {
  return OVER_SIZE_LIMIT.test(message);
}

/** Watches one device: its loss, and errors nobody captured (kept for the next scope check). */
class DeviceWatch {
  loss: DeviceLoss | undefined;
  /** Resolves when the device is lost (never rejects). */
  readonly lost: Promise<DeviceLoss>;
  private uncaptured: GpuErrorLike[] = [];

  constructor(readonly device: GpuDeviceLike) {
    this.lost = device.lost.then((info) => {
      this.loss = { reason: String(info?.reason ?? ''), message: String(info?.message ?? '') };
      return this.loss;
    });
    device.addEventListener?.('uncapturederror', (ev) => {
      // Kept short: a runaway error loop must not grow without bound.
      if (this.uncaptured.length < 16) this.uncaptured.push(ev.error);
    });
  }

  /** Errors raised outside any scope since the last call (cleared). */
  takeUncaptured(): GpuErrorLike[] {
    const out = this.uncaptured;
    this.uncaptured = [];
    return out;
  }

  /**
   * Runs `work` inside out-of-memory, validation and internal error scopes. If the device is lost
   * meanwhile, rejects with WebgpuDeviceLostError (at once: work waiting on a lost device may
   * never settle). If a scope caught an error, rejects with WebgpuScopeError (the out-of-memory
   * kind first), even when `work` itself resolved: its result came from invalid GPU objects.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.begin();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await Promise.race([work(), this.lostError()]) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await this.end(outcome.ok ? undefined : { error: outcome.error });
    return (outcome as { value: T }).value;
  }

  /**
   * Opens the error scopes that `end` closes: for GPU work spread over several calls that are not
   * awaited one by one (a training loop's steps between two readbacks).
   */
  begin(): void {
    if (this.loss) throw new WebgpuDeviceLostError(this.loss);
    const d = this.device;
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('internal');
    d.pushErrorScope('validation');
  }

  /**
   * Closes the scopes `begin` opened and throws what they caught (see `run`), else `failed.error`
   * when the work itself failed, else an error raised outside any scope meanwhile.
   */
  async end(failed?: { error: unknown }): Promise<void> {
    if (this.loss) throw new WebgpuDeviceLostError(this.loss);
    const d = this.device;
    const lost = this.lostError();
    // Scopes pop in reverse order of their push; a lost device answers null.
    const validation = await Promise.race([d.popErrorScope().catch(() => null), lost]);
    const internal = await Promise.race([d.popErrorScope().catch(() => null), lost]);
    const oom = await Promise.race([d.popErrorScope().catch(() => null), lost]);
    const stray = this.takeUncaptured()[0];
    if (oom) throw new WebgpuScopeError('out-of-memory', oom.message, true);
    if (validation) throw new WebgpuScopeError('validation', validation.message, isOverSizeLimit(validation.message));
    if (internal) throw new WebgpuScopeError('internal', internal.message, false);
    if (failed) throw failed.error;
    if (stray) throw new WebgpuScopeError('validation', stray.message, isOverSizeLimit(stray.message));
  }

  /** Rejects with WebgpuDeviceLostError when the device is lost (its rejection is handled if nobody races it). */
  private lostError(): Promise<never> {
    const lost = this.lost.then((loss) => {
      throw new WebgpuDeviceLostError(loss);
    });
    lost.catch(() => undefined);
    return lost;
  }
}

let current: DeviceWatch | undefined;

/** The watch of the device tfjs's webgpu backend uses in this process, once it has started. */
export function currentDeviceWatch(): DeviceWatch | undefined {
  return current;
}

export function watchDevice(device: GpuDeviceLike): DeviceWatch {
  current = new DeviceWatch(device);
  return current;
}
