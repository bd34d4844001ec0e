// A simulated device for the batch-size search, whose truth is known: a memory line, a step-time
// line, a range-test loss curve, a noise scale and validation trials given as functions. It
// answers the probe requests of src/shared/probe-protocol.ts, so the search's decisions can be
// tested without processes (test/unit/tuner/search.test.ts), through the prober interface.
import type { ProbeRequest, ProbeResult } from '../../../src/shared/probe-protocol.js';
import type { BackendReport } from '../../../src/shared/run-types.js';
import type { Prober, ProbeAnswer, ProbeAsk } from '../../../src/main/service/tuning/prober.js';

export type FailureCause = 'oom' | 'crashed' | 'hung' | 'error' | 'diverged';

export interface NoiseAnswer {
  noiseScale: number;
  windows?: { samples: number; loss: number; noiseScale: number }[];
  /**
   * A one-window request after pre-training (the late re-measurement): its window at the samples
   * it trained. Default: the last early window's trend carried on (loss ×0.8, φ ×1.25).
   */
  late?: (samples: number) => { loss: number; noiseScale: number };
}

export interface FakeDeviceSpec {
  backend?: Partial<BackendReport>;
  /** One step's memory: a + b·B bytes for the forward/backward part; the optimizer update is about constant. */
  memory: { a: number; b: number; update?: number };
  /** A forward-only pass's memory (the evaluation-batch probes): a + b·B bytes (default: the step's a, a third of its b). */
  forward?: { a: number; b: number };
  /** Batches above this run out of memory (the probe fails oom), whatever the line says. */
  oomAbove?: number;
  /**
   * Seconds per step: alpha + beta·B, of which `update` (default 0) is the optimizer update's,
   * paid once per step when a step accumulates passes of a micro-batch m: k·(alpha − update + beta·m) + update.
   */
  stepTime: { alpha: number; beta: number; update?: number };
  /** The range test's training loss at each rate (and the ramp's batch). */
  rangeLoss?: (rate: number, batchSize: number) => number;
  /** The noise probe's measurement (default φ = 400 and no windows: not forecast). */
  noise?: NoiseAnswer;
  /** A validation trial at batch B and rate η: its training losses and validation loss. */
  trial?: (batchSize: number, learningRate: number) => { losses: number[]; valLoss: number };
  /** Fail a probe (n: its 1-based order) with this cause. */
  fail?: (request: ProbeRequest, n: number) => FailureCause | undefined;
  /** Seconds the trainer takes to start, on the device's virtual clock (default 0). */
  startSeconds?: number;
  /** Seconds a probe takes on the virtual clock: 10 ms around its steps at the step-time line, as planned (default: 10 ms in all). */
  timedProbes?: boolean;
}

/** An S-shaped fall from 2.3 to 0.3 around 3e-3, blowing up past 0.05. */
export const defaultRangeLoss = (rate: number) => 0.3 + 2 / (1 + (rate / 3e-3) ** 2) + (rate > 0.05 ? (rate / 0.05) ** 4 : 0);

/** A steadily falling training loss; the validation loss grows slowly with the batch. */
export const defaultTrial = (batchSize: number) => ({
  losses: Array.from({ length: 20 }, (_, i) => 2.3 * 0.95 ** i),
  valLoss: 0.5 + 0.01 * Math.log2(batchSize),
});

export const BACKEND: BackendReport = { name: 'wasm', device: 'CPU, WebAssembly SIMD, 1 thread', skipped: [] };

export class FakeDevice implements Prober {
  readonly requests: ProbeRequest[] = [];
  started = 0;
  /** The virtual clock: the seconds started and answered so far (a search's `clock`). */
  now = 0;
  readonly clock = () => this.now;
  closed = 0;
  private id = 0;

  constructor(private readonly spec: FakeDeviceSpec) {}

  get backend(): BackendReport {
    return { ...BACKEND, ...this.spec.backend };
  }

  /** What each probe asked, as "kind batch" strings. */
  get log(): string[] {
    return this.requests.map((r) => `${r.kind} ${'batchSize' in r ? r.batchSize : r.microBatch * r.k}`);
  }

  start(): Promise<BackendReport> {
    this.started++;
    this.now += this.spec.startSeconds ?? 0;
    return Promise.resolve(this.backend);
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
  memory(ask: ProbeAsk<'memory'>): Promise<ProbeAnswer> {
    return Promise.resolve(this.answer({ kind: 'memory', id: ++this.id, ...ask }));
  }
  throughput(ask: ProbeAsk<'throughput'>): Promise<ProbeAnswer> {
    return Promise.resolve(this.answer({ kind: 'throughput', id: ++this.id, ...ask }));
  }
  rangeTest(ask: ProbeAsk<'learning-rate'>): Promise<ProbeAnswer> {
    return Promise.resolve(this.answer({ kind: 'learning-rate', id: ++this.id, ...ask }));
  }
  noise(ask: ProbeAsk<'noise'>): Promise<ProbeAnswer> {
    return Promise.resolve(this.answer({ kind: 'noise', id: ++this.id, ...ask }));
  }
  trial(ask: ProbeAsk<'trial'>): Promise<ProbeAnswer> {
    return Promise.resolve(this.answer({ kind: 'trial', id: ++this.id, ...ask }));
  }

  /** The device's answer to one request. */
  answer(request: ProbeRequest): ProbeAnswer {
    this.requests.push(request);
    const seconds = this.spec.timedProbes ? 0.01 + this.stepsSeconds(request) : 0.01;
    this.now += seconds;
    const cause = this.spec.fail?.(request, this.requests.length) ?? this.outOfMemory(request);
    if (cause) return { ok: false, cause, message: `the fake device failed (${cause})`, seconds };
    return { ok: true, result: this.measure(request), seconds };
  }

  private outOfMemory(request: ProbeRequest): FailureCause | undefined {
    // An accumulated step needs a pass's memory, not its batch's.
    const b =
      request.kind === 'throughput' && request.microBatch !== undefined
        ? Math.min(request.microBatch, request.batchSize)
        : 'batchSize' in request
          ? request.batchSize
          : request.microBatch * request.k;
    return this.spec.oomAbove !== undefined && b > this.spec.oomAbove ? 'oom' : undefined;
  }

  /** Seconds of a probe's training steps, as asked. */
  private stepsSeconds(q: ProbeRequest): number {
    switch (q.kind) {
      case 'memory':
        return q.forwardOnly ? this.stepSeconds(q.batchSize) / 3 : this.stepSeconds(q.batchSize);
      case 'throughput':
        return (q.warmupSteps + q.steps) * this.stepSeconds(q.batchSize, q.microBatch);
      case 'learning-rate':
        return q.steps * this.stepSeconds(q.batchSize);
      case 'noise':
        return q.steps * q.k * this.stepSeconds(q.microBatch) + (q.pretrainSteps ?? 0) * this.stepSeconds(q.microBatch * q.k);
      case 'trial':
        return q.seconds;
    }
  }

  stepSeconds(b: number, micro?: number): number {
    const { alpha, beta, update = 0 } = this.spec.stepTime;
    if (micro === undefined || micro >= b) return alpha + beta * b;
    const passes = Math.ceil(b / micro);
    return passes * (alpha - update) + beta * b + update;
  }

  private measure(request: ProbeRequest): ProbeResult {
    switch (request.kind) {
      case 'memory': {
        if (request.forwardOnly) {
          const f = this.spec.forward ?? { a: this.spec.memory.a, b: this.spec.memory.b / 3 };
          const peak = f.a + f.b * request.batchSize;
          return { kind: 'memory', peakBytes: peak, stepMs: (this.stepSeconds(request.batchSize) * 1000) / 3, engineBytes: peak };
        }
        const { a, b, update } = this.spec.memory;
        const grad = a + b * request.batchSize;
        const peak = Math.max(grad, update ?? 0);
        return {
          kind: 'memory',
          peakBytes: peak,
          stepMs: this.stepSeconds(request.batchSize) * 1000,
          engineBytes: peak,
          gradientBytes: grad,
          ...(update !== undefined ? { updateBytes: update } : {}),
        };
      }
      case 'throughput': {
        const t = this.stepSeconds(request.batchSize, request.microBatch);
        const micro = request.microBatch !== undefined && request.microBatch < request.batchSize ? { microBatch: request.microBatch } : {};
        return { kind: 'throughput', secondsPerStep: t, samplesPerSecond: request.batchSize / t, ...micro };
      }
      case 'learning-rate':
        return this.rangeTestAnswer(request);
      case 'noise': {
        const n = this.spec.noise ?? { noiseScale: 400 };
        const lastWindow = n.windows?.at(-1);
        if (request.windows === 1 && (request.pretrainSteps ?? 0) > 0 && lastWindow) {
          const samples = ((request.pretrainSteps ?? 0) + request.steps) * request.microBatch * request.k;
          const w = n.late?.(samples) ?? { loss: lastWindow.loss * 0.8, noiseScale: lastWindow.noiseScale * 1.25 };
          return {
            kind: 'noise',
            gradSq: 1,
            traceSigma: w.noiseScale,
            noiseScale: w.noiseScale,
            steps: request.steps,
            windows: [{ samples, ...w, gradSq: 1, traceSigma: w.noiseScale }],
          };
        }
        return {
          kind: 'noise',
          gradSq: 1,
          traceSigma: n.noiseScale,
          noiseScale: n.noiseScale,
          steps: request.steps,
          ...(n.windows ? { windows: n.windows.map((w) => ({ ...w, gradSq: 1, traceSigma: w.noiseScale })) } : {}),
        };
      }
      case 'trial': {
        const t = (this.spec.trial ?? defaultTrial)(request.batchSize, request.learningRate);
        return { kind: 'trial', steps: t.losses.length, samples: t.losses.length * request.batchSize, losses: t.losses, valLoss: t.valLoss, valAccuracy: 0.9 };
      }
    }
  }

  private rangeTestAnswer(request: Extract<ProbeRequest, { kind: 'learning-rate' }>): ProbeResult {
    const loss = this.spec.rangeLoss ?? defaultRangeLoss;
    const rates: number[] = [];
    const losses: number[] = [];
    let lowest = Infinity;
    for (let i = 0; i < request.steps; i++) {
      const rate = request.minRate * (request.maxRate / request.minRate) ** (i / (request.steps - 1));
      const l = loss(rate, request.batchSize);
      rates.push(rate);
      losses.push(l);
      lowest = Math.min(lowest, l);
      if (!Number.isFinite(l) || l > request.stopFactor * lowest) break;
    }
    return { kind: 'learning-rate', rates, losses };
  }
}
