// The automatic batch-size search (docs/architecture.md §5), driving a probe session in a trainer
// process: memory ceiling → throughput curve → (Full) gradient noise scale → goodput → learning
// rate → equal-time validation trials → report. Every probe is stored as a trial, including the
// ones that ran out of memory or crashed; a dead probe process is replaced and the search goes on.
import { CeilingSearch } from '../../shared/ceiling-search.js';
import { formatBytes as fmtBytes } from '../../shared/format.js';
import type { ProbeRequest, ProbeResult, ProbeSession } from '../../shared/probe-protocol.js';
import type { BackendReport } from '../../shared/run-types.js';
import type {
  CurvePoint,
  LearningRateTest,
  NoiseForecast,
  TrialKind,
  TrialRecord,
  TrialStatus,
  TuningProgress,
  TuningReport,
  TuningRequest,
} from '../../shared/tuning-types.js';
import {
  efficiency,
  fitLine,
  forecastNoiseScale,
  goodput,
  goodputOptimum,
  pickByGoodput,
  scaleLearningRate,
  scaleOutSpeedup,
  warmupSteps,
  type LinearFit,
} from '../../shared/tuner-math.js';
import { suggestLearningRate } from '../../shared/learning-rate-range.js';
import { deviceMemoryBudget } from '../engine/backends/memory-budget.js';
import type { DatasetRecord, Store } from '../store/index.js';
import { ProbeHost, type ProbeOutcome } from './probe-host.js';
import type { TrainerSpawner } from './trainer-host.js';

export interface TunerContext {
  store: Store;
  sessionId: number;
  dataset: DatasetRecord;
  request: TuningRequest;
  spawn?: TrainerSpawner;
  /** Tests: the memory-capped test backend with this cap. */
  memoryCapBytes?: number;
  shouldStop(): boolean;
  onProgress(p: TuningProgress): void;
  onTrial(t: TrialRecord): void;
  onBackend(r: BackendReport): void;
}

export class TuningStoppedError extends Error {
  constructor() {
    super('the search was stopped');
  }
}

const SMALL_BATCHES = [1, 2, 4, 8, 16];
/** Measuring windows of the noise probe (Full): enough to see φ grow as the loss falls. */
const NOISE_WINDOWS = 3;
/**
 * The learning-rate range test: LR_RANGE_STEPS steps from base/10 to base×300, stopped once the
 * smoothed loss is 4× its lowest, in both modes. The reading depends on the ramp's length (fewer
 * steps train less at each rate and read higher: on the small CNN 24 steps read 4.1–6.1e-3 at
 * batch 32, 40 steps 3.1–4.9e-3, 60 steps 1.7–3.0e-3), and the rule (learning-rate-range.ts) is
 * calibrated for this one: at batch 64 the 24-step reading trained to 97.5 % in 9.5 s (median of
 * 5 seeds), the 40-step one in 11.9 s, and it costs 0.2 s instead of 0.4.
 */
const LR_RANGE_STEPS = 24;
const LR_RANGE_FROM = 1 / 10;
const LR_RANGE_TO = 300;
/**
 * Goodput at least this share of the best counts as a tie, settled for the smallest batch (as
 * Quick mode settles throughput within 10 %). On the MNIST sample on CPU, goodput from 32 to 256
 * spans ~5 % while the forecast noise scale moved from 400 to 10 000 between seeds, which
 * otherwise swung the choice from 64 to 256 (and its rate from 6.5e-3 to 1.3e-2).
 */
const GOODPUT_TIE = 0.95;
/** A trial's validation loss this many times the best trial's overrules the goodput choice. */
const WORSE_OVERRULES = 1.5;

const round = (x: number, digits = 0) => Number(x.toFixed(digits));

/** Runs the whole search; resolves with the report (stored by the caller). */
export async function runTuning(ctx: TunerContext): Promise<TuningReport> {
  const started = performance.now();
  const { request, dataset } = ctx;
  const trainCount = dataset.manifest.split.trainCount;
  // At least ~20 steps per epoch (docs/architecture.md §5.2): larger batches are not wanted for
  // this dataset.
  const cap = Math.max(1, Math.floor(trainCount / 20));
  const session: ProbeSession = {
    kind: 'probe-session',
    datasetDir: dataset.cacheDir,
    model: request.model,
    optimizer: request.optimizer,
    backend: request.backend,
    seed: request.seed,
    ...(ctx.memoryCapBytes ? { memoryCapBytes: ctx.memoryCapBytes } : {}),
  };
  const host = new ProbeHost(session, { spawn: ctx.spawn });
  const backend = await host.start();
  ctx.onBackend(backend);
  const device = deviceMemoryBudget(backend);
  let budget = device.bytes;
  let budgetSource = device.source;
  if (ctx.memoryCapBytes) {
    budget = ctx.memoryCapBytes;
    budgetSource = 'the test cap';
  }
  if (request.memoryBudgetBytes && request.memoryBudgetBytes < budget) {
    budget = request.memoryBudgetBytes;
    budgetSource = 'your budget';
  }
  ctx.store.tuning.setBackend(ctx.sessionId, backend, budget);

  let seq = 0;
  const probeSeconds: number[] = [];
  let plannedLeft = 0;
  const progress = (phase: TuningProgress['phase'], batchSize: number | null, message: string) => {
    const avg = probeSeconds.length ? probeSeconds.reduce((a, b) => a + b, 0) / probeSeconds.length : null;
    ctx.onProgress({
      sessionId: ctx.sessionId,
      phase,
      trial: seq + 1,
      batchSize,
      etaSeconds: avg === null ? null : round(avg * Math.max(plannedLeft, 0), 1),
      message,
    });
  };

  /** Runs one probe, stores it as a trial, replaces the process if it died. */
  const probe = async (
    kind: TrialKind,
    batchSize: number,
    learningRate: number | null,
    make: (id: number) => ProbeRequest,
  ): Promise<{ outcome: ProbeOutcome; status: TrialStatus }> => {
    if (ctx.shouldStop()) throw new TuningStoppedError();
    if (!host.running) {
      const again = await host.start();
      if (again.name !== backend.name) throw new Error(`the replacement probe process started ${again.name}, not ${backend.name}`);
    }
    seq++;
    const outcome = await host.run(make(seq));
    probeSeconds.push(outcome.seconds);
    plannedLeft--;
    const status: TrialStatus = outcome.ok
      ? 'ok'
      : outcome.cause === 'oom'
        ? 'oom'
        : outcome.cause === 'diverged'
          ? 'diverged'
          : outcome.cause === 'error'
            ? 'error'
            : 'crashed';
    const trial: TrialRecord = {
      seq,
      kind,
      batchSize,
      learningRate,
      status,
      result: outcome.ok ? { ...outcome.result } : {},
      cause: outcome.ok ? null : outcome.message,
      seconds: outcome.seconds,
    };
    ctx.store.tuning.addTrial(ctx.sessionId, trial);
    ctx.onTrial(trial);
    return { outcome, status };
  };

  try {
    // ---- 1. memory ceiling --------------------------------------------------------------
    // peak: the whole step; grad: its forward/backward part, which grows with the batch; update:
    // the optimizer's part, about constant (see the probe protocol). m(B) = max(grad line, update).
    const memory = new Map<number, { peak?: number; grad?: number; update?: number; fits: boolean; stepMs?: number }>();
    const small = SMALL_BATCHES.filter((b) => b <= cap);
    plannedLeft = small.length + 4;
    for (const b of small) {
      progress('memory', b, `one training step at batch ${b}`);
      const { outcome } = await probe('memory', b, null, (id) => ({ kind: 'memory', id, batchSize: b }));
      const r = outcome.ok && outcome.result.kind === 'memory' ? outcome.result : undefined;
      memory.set(b, {
        peak: r?.peakBytes,
        grad: r?.gradientBytes ?? r?.peakBytes,
        update: r?.updateBytes,
        stepMs: r?.stepMs,
        fits: r !== undefined && r.peakBytes <= budget,
      });
    }
    const fitted = [...memory].filter(([, m]) => m.fits && m.peak !== undefined);
    if (fitted.length === 0) {
      const first = memory.get(1);
      throw new Error(
        first?.peak
          ? `even a batch of 1 needs ${fmtBytes(first.peak)}, more than the ${fmtBytes(budget)} budget`
          : 'even a batch of 1 could not run a training step (see the trials)',
      );
    }
    const memFit: LinearFit = fitLine(
      fitted.map(([b]) => b),
      fitted.map(([, m]) => m.grad ?? m.peak!),
    );
    const updateFloor = Math.max(0, ...fitted.map(([, m]) => m.update ?? 0));
    const failedSmall = [...memory].filter(([, m]) => !m.fits).map(([b]) => b);
    const search = new CeilingSearch({
      budgetBytes: budget,
      fit: memFit,
      largestFitted: Math.max(...fitted.map(([b]) => b)),
      ...(failedSmall.length ? { smallestFailed: Math.min(...failedSmall) } : {}),
      cap,
    });
    for (let b = search.next(); b !== undefined; b = search.next()) {
      progress('memory', b, `verifying that batch ${b} fits`);
      const { outcome } = await probe('memory', b, null, (id) => ({ kind: 'memory', id, batchSize: b }));
      const r = outcome.ok && outcome.result.kind === 'memory' ? outcome.result : undefined;
      const fits = r !== undefined && r.peakBytes <= budget;
      memory.set(b, { peak: r?.peakBytes, grad: r?.gradientBytes ?? r?.peakBytes, update: r?.updateBytes, stepMs: r?.stepMs, fits });
      search.report(b, fits);
    }
    const ceiling = search.result();

    // ---- 2. throughput ------------------------------------------------------------------
    const maxBatch = Math.min(ceiling.ceiling, cap);
    // Powers of two from 8 (below it a step is all overhead and no batch that small is ever the
    // fastest to a target; the memory probes still cover 1…4).
    const candidates: number[] = [];
    for (let b = maxBatch >= 8 ? 8 : 1; b <= maxBatch; b *= 2) candidates.push(b);
    const throughput = new Map<number, { secondsPerStep: number; samplesPerSecond: number }>();
    // Then the range test, and in Full the noise probe, the neighbour's timing and three trials.
    plannedLeft = candidates.length + (request.mode === 'full' ? 5 : 0) + (request.searchLearningRate === false ? 0 : 1);
    const timeAt = async (b: number) => {
      // Enough steps for ~60 ms of timing (the probe keeps the fastest third), judged from the
      // one-step memory probe nearest b. GPU backends compile kernels on a size's first step,
      // so they (and CUDA) get two warm-up steps; on wasm and cpu a slow first step can only
      // make its chunk slower, and the fastest chunk is kept, so none is spent.
      const nearest = [...memory].filter(([, m]) => m.stepMs).sort((x, y) => Math.abs(x[0] - b) - Math.abs(y[0] - b))[0];
      const estMs = nearest ? (nearest[1].stepMs! * b) / nearest[0] : 50;
      const steps = Math.max(3, Math.min(24, Math.round(60 / Math.max(estMs, 1))));
      const warm = backend.name === 'wasm' || backend.name === 'cpu' ? 0 : 2;
      progress('throughput', b, `timing ${steps} steps at batch ${b}`);
      const { outcome } = await probe('throughput', b, null, (id) => ({ kind: 'throughput', id, batchSize: b, warmupSteps: warm, steps }));
      if (outcome.ok && outcome.result.kind === 'throughput') throughput.set(b, outcome.result);
    };
    for (const b of candidates) await timeAt(b);
    if (throughput.size === 0) throw new Error('no batch size could be timed (see the trials)');
    const timed = [...throughput].sort((a, b) => a[0] - b[0]);
    const tFit = fitLine(
      timed.map(([b]) => b),
      timed.map(([, t]) => t.secondsPerStep),
    );
    const bestX = Math.max(...timed.map(([, t]) => t.samplesPerSecond));
    const saturation = timed.find(([, t]) => t.samplesPerSecond >= 0.9 * bestX)![0];

    // ---- 3. noise scale and goodput (Full) --------------------------------------------
    const b0 = request.baseBatchSize;
    let noiseScale: number | null = null;
    let noiseForecast: NoiseForecast | null = null;
    let chosen = saturation;
    const reasons: string[] = [];
    if (ceiling.cappedByDataset) {
      reasons.push(
        `Memory is not the limit here: batch ${cap} — the largest that still gives about 20 steps per epoch on ${trainCount} training samples — fits in the ${fmtBytes(budget)} budget (${budgetSource}).`,
      );
    } else {
      reasons.push(
        `Batches up to ${ceiling.ceiling} fit in the ${fmtBytes(budget)} budget (${budgetSource}): a step needs about ${fmtBytes(Math.max(memFit.a, 0))} plus ${fmtBytes(memFit.b)} per sample${updateFloor > 0 ? ` (and ${fmtBytes(updateFloor)} during the optimizer update, whatever the batch)` : ''}; ${ceiling.largestFitted} was verified with a real step${ceiling.smallestFailed ? ` and ${ceiling.smallestFailed} did not fit` : ''}, and a ${Math.round((1 - ceiling.ceiling / ceiling.largestFitted) * 100)} % margin is kept.`,
      );
    }
    const first = timed[0]!;
    reasons.push(
      `Throughput grows from ${Math.round(first[1].samplesPerSecond)} samples/s at batch ${first[0]} to ${Math.round(bestX)} at its best; from batch ${saturation} on, it is within 10 % of the best, so larger batches buy little speed on this ${backend.name} device.`,
    );

    let neighbour: number | undefined;
    // The rate known to work at b0: what the range test finds, or the user's.
    let baseRate = request.baseLearningRate;
    let learningRateTest: LearningRateTest | null = null;
    if (request.searchLearningRate !== false) {
      const lrBatch = Math.min(b0, maxBatch);
      const minRate = request.baseLearningRate * LR_RANGE_FROM;
      const maxRate = request.baseLearningRate * LR_RANGE_TO;
      progress(
        'learning-rate',
        lrBatch,
        `a learning-rate range test: ${LR_RANGE_STEPS} steps at batch ${lrBatch}, rates ${minRate.toExponential(0)} to ${maxRate.toExponential(0)}`,
      );
      const { outcome } = await probe('learning-rate', lrBatch, null, (id) => ({
        kind: 'learning-rate',
        id,
        batchSize: lrBatch,
        minRate,
        maxRate,
        steps: LR_RANGE_STEPS,
        stopFactor: 4,
      }));
      if (outcome.ok && outcome.result.kind === 'learning-rate') {
        const { rates, losses } = outcome.result;
        const found = suggestLearningRate(rates, losses);
        // Only the finite points are kept (the report is stored as JSON).
        const points = found ? found.smoothed.map((smoothed, i) => ({ rate: rates[i]!, loss: losses[i]!, smoothed })) : [];
        learningRateTest = {
          batchSize: lrBatch,
          points,
          steepestRate: found?.steepestRate ?? null,
          minimumRate: found?.minimumRate ?? null,
          rate: found?.rate ?? null,
        };
        if (found) {
          // At batch b0 the found rate replaces the base; at another batch it is scaled back to b0.
          baseRate = scaleLearningRate(found.rate, lrBatch, b0, request.optimizer);
          reasons.push(
            `A learning-rate range test at batch ${lrBatch} (one step at each rate from ${minRate.toExponential(0)} to ${maxRate.toExponential(0)}) saw the loss fall fastest at ${found.steepestRate.toExponential(1)} and blow up past ${found.minimumRate.toExponential(1)}; a run trains best somewhat below the steepest point, so the base rate at batch ${b0} is ${round(baseRate, 6)}${Math.abs(baseRate / request.baseLearningRate - 1) > 0.05 ? ` (${round(baseRate / request.baseLearningRate, 1)}× the default ${request.baseLearningRate})` : ''}.`,
          );
        } else {
          reasons.push(
            `The learning-rate range test at batch ${lrBatch} showed no clear fall of the loss, so the base rate stays ${request.baseLearningRate}.`,
          );
        }
      } else {
        reasons.push(
          `The learning-rate range test did not complete (${outcome.ok ? 'no result' : outcome.message}), so the base rate stays ${request.baseLearningRate}.`,
        );
      }
    }
    if (request.mode === 'full') {
      const micro = Math.max(1, Math.floor(b0 / 4));
      const t0 = throughput.get(b0)?.secondsPerStep ?? tFit.a + tFit.b * b0;
      const noiseSteps = Math.max(10, Math.min(40, Math.round(0.6 / Math.max(t0 * 2, 1e-3))));
      // Train about an eighth of an epoch first, spread over the windows (at most ~0.6 s): the
      // noise scale of the very first steps is far below that of the rest of the run, and the
      // windows then show how fast it grows, which the forecast carries forward.
      const pretrainSteps = Math.min(Math.round(trainCount / (8 * micro * 4)), Math.round(0.6 / Math.max(t0, 1e-4)));
      progress('noise', micro * 4, `measuring the gradient noise scale over ${noiseSteps} steps`);
      const { outcome } = await probe('noise', micro * 4, baseRate, (id) => ({
        kind: 'noise',
        id,
        microBatch: micro,
        k: 4,
        steps: noiseSteps,
        learningRate: baseRate,
        pretrainSteps,
        windows: NOISE_WINDOWS,
      }));
      if (outcome.ok && outcome.result.kind === 'noise' && Number.isFinite(outcome.result.noiseScale)) {
        noiseScale = Math.max(0, outcome.result.noiseScale);
        // The noise scale grows as the loss falls: carry it forward to halfway through the
        // planned run, which is what a batch size fixed for the whole run has to suit.
        noiseForecast = forecastNoiseScale(outcome.result.windows ?? [], (request.plannedEpochs * trainCount) / 2);
        if (noiseForecast) {
          const f = noiseForecast;
          noiseScale = f.noiseScale;
          reasons.push(
            `The gradient noise scale was ${Math.round(f.measured)} at training loss ${f.measuredLoss.toFixed(2)}; it grows as the loss falls (φ ∝ L^−${round(f.growthExponent, 2)}, ${f.growthMeasured ? `as measured over ${outcome.result.windows!.length} windows` : 'the usual rate: these first steps were too short to measure it'}). Halfway through a ${request.plannedEpochs}-epoch run the loss should be near ${f.loss.toFixed(3)} (it fell as samples^−${round(f.lossExponent, 2)}), where φ is about ${Math.round(f.noiseScale)}.`,
          );
        }
      }
      if (noiseScale !== null) {
        const phi = noiseScale;
        // Goodput within GOODPUT_TIE of the best is a tie (timings and φ are noisy): the smallest
        // such batch needs the least scaling of the measured rate, so it is the safer choice.
        const pick = pickByGoodput(
          timed.map(([b, t]) => ({ batchSize: b, goodput: goodput(t.samplesPerSecond, b, b0, phi) })),
          GOODPUT_TIE,
        );
        chosen = pick.chosen;
        const gOf = (b: number) => goodput(throughput.get(b)!.samplesPerSecond, b, b0, phi);
        // One non-power-of-two neighbour of the best size: does this device favour powers of two?
        const nb = Math.round(chosen * 1.5);
        if (nb <= maxBatch && !throughput.has(nb)) {
          await timeAt(nb);
          neighbour = throughput.has(nb) ? nb : undefined;
          if (neighbour && GOODPUT_TIE * gOf(nb) > gOf(chosen)) chosen = nb;
        }
        if (chosen !== pick.best && gOf(pick.best) > gOf(chosen)) {
          reasons.push(
            `Goodput peaks at ${pick.best}, but ${chosen} is within ${Math.round((1 - GOODPUT_TIE) * 100)} % of it, which is inside the measurement noise; the smaller batch is kept, since it needs less scaling of the measured learning rate.`,
          );
        }
        const theory = goodputOptimum(tFit.a, tFit.b, phi);
        reasons.push(
          `${chosen} fits in memory and ${chosen === saturation ? 'is where throughput saturates' : `trains at ${Math.round(throughput.get(chosen)!.samplesPerSecond)} samples/s`}, but past ~${Math.round(phi)} each extra sample adds little: the gradient noise scale is ${Math.round(phi)}, so a batch of B makes (${Math.round(phi)} + ${b0})/(${Math.round(phi)} + B) of the progress per sample of batch ${b0}.`,
        );
        reasons.push(
          `Goodput (samples/s × that efficiency) at ${chosen}: ${Math.round(gOf(chosen))} useful samples/s${Number.isFinite(theory) ? ` (the time model t(B) = ${round(tFit.a * 1000, 2)} ms + ${round(tFit.b * 1e6, 2)} µs·B puts the optimum near ${Math.round(theory)})` : ''}.`,
        );
      } else {
        reasons.push('The gradient noise scale could not be measured, so the batch where throughput saturates is recommended.');
      }
      if (neighbour) {
        const xs = throughput.get(neighbour)!.samplesPerSecond;
        const base = Math.round(neighbour / 1.5);
        const xb = throughput.get(base)?.samplesPerSecond;
        if (xb) {
          const per = (x: number, b: number) => x / b; // steps per second
          const faster = per(xs, neighbour) * neighbour > per(xb, base) * base;
          reasons.push(
            `Batch ${neighbour} (not a power of two) trains at ${Math.round(xs)} samples/s against ${Math.round(xb)} at ${base}: on this device powers of two are ${faster ? 'no faster than their neighbours' : 'not slower than their neighbours'}.`,
          );
        }
      }
    } else {
      reasons.push(
        `Quick mode: ${chosen}, the smallest batch within 10 % of the best throughput, is recommended (Full mode also measures how much each sample teaches, via the gradient noise scale, and checks the choice with short trials).`,
      );
    }

    // ---- 4. learning rate ----------------------------------------------------------------
    const lrFor = (b: number) => scaleLearningRate(baseRate, b0, b, request.optimizer);
    const stepsPerEpoch = (b: number) => Math.ceil(trainCount / b);
    const warmFor = (b: number) => warmupSteps(request.plannedEpochs * stepsPerEpoch(b), lrFor(b) / baseRate);

    // ---- 5. equal-time validation trials (Full) -------------------------------------------
    if (request.mode === 'full') {
      const plannedSeconds = (request.plannedEpochs * trainCount) / (throughput.get(chosen)?.samplesPerSecond ?? bestX);
      const trialSeconds = Math.max(0.2, Math.min(20, 0.01 * plannedSeconds));
      const sizes = [...new Set([chosen, Math.max(1, Math.round(chosen / 2)), Math.min(maxBatch, chosen * 2)])];
      plannedLeft = sizes.length;
      const trials: {
        b: number;
        lr: number;
        valLoss: number;
        status: TrialStatus;
        why: string;
        seq: number;
        stored?: { result: ProbeResult; seconds: number };
      }[] = [];
      const restamp = (t: (typeof trials)[number]) => {
        if (t.stored)
          ctx.store.tuning.addTrial(ctx.sessionId, {
            seq: t.seq,
            kind: 'trial',
            batchSize: t.b,
            learningRate: t.lr,
            status: t.status,
            result: { ...t.stored.result },
            cause: t.why,
            seconds: t.stored.seconds,
          });
      };
      for (const b of sizes) {
        progress('trials', b, `training ${trialSeconds.toFixed(1)} s at batch ${b}`);
        const lr = lrFor(b);
        const { outcome } = await probe('trial', b, lr, (id) => ({
          kind: 'trial',
          id,
          batchSize: b,
          learningRate: lr,
          warmupSteps: Math.min(warmFor(b), 5),
          seconds: trialSeconds,
        }));
        if (!outcome.ok || outcome.result.kind !== 'trial') {
          trials.push({ b, lr, seq, valLoss: Infinity, status: 'crashed', why: outcome.ok ? 'no result' : outcome.message });
          continue;
        }
        const flag = judgeTrial(outcome.result);
        const t = {
          b,
          lr,
          seq,
          valLoss: outcome.result.valLoss,
          status: flag.status,
          why: flag.why,
          stored: { result: outcome.result, seconds: outcome.seconds },
        };
        trials.push(t);
        if (flag.status !== 'ok') restamp(t);
      }
      const finite = trials.filter((t) => Number.isFinite(t.valLoss));
      const minLoss = finite.length ? Math.min(...finite.map((t) => t.valLoss)) : Infinity;
      for (const t of trials) {
        if (t.status === 'ok' && Number.isFinite(minLoss) && t.valLoss > 1.1 * minLoss) {
          t.status = 'worse';
          t.why = `validation loss ${t.valLoss.toFixed(3)} is over 10 % worse than the best trial's ${minLoss.toFixed(3)}`;
          restamp(t);
        }
      }
      const mine = trials.find((t) => t.b === chosen)!;
      reasons.push(
        `Equal-time trials (${trialSeconds.toFixed(1)} s each) reached validation loss ${trials.map((t) => `${Number.isFinite(t.valLoss) ? t.valLoss.toFixed(3) : '—'} at ${t.b}${t.status !== 'ok' ? ` (${t.status})` : ''}`).join(', ')}.`,
      );
      // A short equal-time trial favours small batches (more steps in the same time, and the run
      // is judged long before its end), so a moderately worse loss only flags a size; it
      // overrules the goodput choice when the size diverged, oscillated or did far worse.
      const overruled =
        mine.status === 'diverged' ||
        mine.status === 'oscillating' ||
        mine.status === 'crashed' ||
        (mine.status === 'worse' && mine.valLoss > WORSE_OVERRULES * minLoss);
      if (mine.status === 'worse' && !overruled) {
        reasons.push(
          `${chosen}'s short trial ended with a higher validation loss, as short trials favour small batches; it stays, because it is within ${Math.round((WORSE_OVERRULES - 1) * 100)} % of the best.`,
        );
      }
      if (overruled) {
        const fallback = trials.filter((t) => t.status === 'ok').sort((a, b) => a.valLoss - b.valLoss)[0];
        if (fallback) {
          reasons.push(`${chosen} was flagged (${mine.why}), so the search steps to ${fallback.b}.`);
          chosen = fallback.b;
        }
      }
    }

    // ---- 6. report ------------------------------------------------------------------------
    progress('report', chosen, 'writing the report');
    const learningRate = lrFor(chosen);
    const warm = warmFor(chosen);
    reasons.push(
      chosen === b0
        ? `Learning rate ${round(learningRate, 6)} is the base rate for batch ${b0}.`
        : `Learning rate ${round(learningRate, 6)} = ${round(baseRate, 6)} × ${request.optimizer === 'sgd' ? `${chosen}/${b0}` : `√(${chosen}/${b0})`} (${request.optimizer === 'sgd' ? 'SGD scales it with the batch' : 'Adam scales it with the square root of the batch'})${warm > 0 ? `, reached by a linear warm-up over the first ${warm} steps` : ', with no warm-up: it is not above the base rate'}.`,
    );
    const predictMemory = (b: number) => Math.max(memFit.a + memFit.b * b, updateFloor);
    const chosenMemory = memory.get(chosen)?.peak ?? (memFit.b > 0 ? predictMemory(chosen) : undefined);
    const curves: CurvePoint[] = [...new Set([...memory.keys(), ...throughput.keys()])]
      .sort((a, b) => a - b)
      .map((b) => {
        const m = memory.get(b);
        const t = throughput.get(b);
        const e = noiseScale !== null ? efficiency(b, b0, noiseScale) : undefined;
        return {
          batchSize: b,
          ...(m?.peak !== undefined ? { memoryBytes: m.peak } : {}),
          ...(memFit.b > 0 ? { predictedMemoryBytes: predictMemory(b) } : {}),
          ...(m ? { fits: m.fits } : {}),
          ...(t ? { samplesPerSecond: t.samplesPerSecond } : {}),
          ...(e !== undefined ? { efficiency: e } : {}),
          ...(t && e !== undefined ? { goodput: t.samplesPerSecond * e } : {}),
        };
      });
    return {
      recommendation: {
        batchSize: chosen,
        learningRate,
        warmupSteps: warm,
        expectedSamplesPerSecond: throughput.get(chosen)?.samplesPerSecond ?? chosen / (tFit.a + tFit.b * chosen),
        memoryCeiling: ceiling.ceiling,
        memoryBudgetBytes: budget,
        memoryHeadroom: chosenMemory !== undefined ? Math.max(0, 1 - chosenMemory / budget) : null,
        noiseScale,
        optimizer: request.optimizer,
      },
      reasons,
      curves,
      fits: { memory: { ...memFit, updateFloor }, time: { alpha: tFit.a, beta: tFit.b, r2: tFit.r2 } },
      saturationBatch: saturation,
      noiseForecast,
      learningRateTest,
      scaleOut: noiseScale !== null ? [2, 4, 8].map((k) => ({ workers: k, speedup: round(scaleOutSpeedup(k, chosen, noiseScale!), 2) })) : null,
      searchSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await host.close();
  }
}

/** Flags a validation trial: divergence (non-finite or rising loss) or oscillation. */
export function judgeTrial(r: Extract<ProbeResult, { kind: 'trial' }>): { status: TrialStatus; why: string } {
  const losses = r.losses;
  if (losses.some((l) => !Number.isFinite(l)) || !Number.isFinite(r.valLoss)) return { status: 'diverged', why: 'the loss became NaN or infinite' };
  if (losses.length >= 4) {
    const q = Math.max(1, Math.floor(losses.length / 4));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const head = mean(losses.slice(0, q));
    const tail = mean(losses.slice(-q));
    if (tail > 1.5 * head) return { status: 'diverged', why: `the loss rose from ${head.toFixed(3)} to ${tail.toFixed(3)}` };
    const half = losses.slice(Math.floor(losses.length / 2));
    if (half.length >= 4) {
      const m = mean(half);
      const sd = Math.sqrt(mean(half.map((x) => (x - m) ** 2)));
      let flips = 0;
      for (let i = 2; i < half.length; i++) if (Math.sign(half[i]! - half[i - 1]!) !== Math.sign(half[i - 1]! - half[i - 2]!)) flips++;
      if (sd / m > 0.35 && flips / (half.length - 2) > 0.6 && tail >= 0.9 * head) {
        return { status: 'oscillating', why: `the loss swings by ±${Math.round((sd / m) * 100)} % without falling` };
      }
    }
  }
  return { status: 'ok', why: '' };
}
