// The batch-size search's decisions, phase by phase, on a simulated device whose truth is known
// (fake-device.ts): the memory ceiling by bisection with its 5 % margin, out-of-memory probes, the
// throughput candidates and saturation, the range test's base rate and its scaling, the noise
// scale, goodput and B*, the validation trials and the step-down after a flagged choice, stopping
// between phases, and the order of progress and trial callbacks. No process, no store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suggestLearningRate } from '../../../src/shared/learning-rate-range.js';
import { throughputCandidates } from '../../../src/shared/search-plan.js';
import { forecastNoiseScale, scaleLearningRate, warmupSteps } from '../../../src/shared/tuner-math.js';
import type { TrialRecord, TuningProgress, TuningReport, TuningRequest } from '../../../src/shared/tuning-types.js';
import { TuningStoppedError, type KnownTuning } from '../../../src/main/service/tuning/context.js';
import { forwardCandidates } from '../../../src/main/service/tuning/eval-batch.js';
import { runSearch } from '../../../src/main/service/tuning/search.js';
import { defaultRangeLoss, FakeDevice, type FakeDeviceSpec } from './fake-device.js';

const REQUEST: TuningRequest = {
  model: 'small',
  mode: 'quick',
  optimizer: 'adam',
  backend: 'auto',
  baseBatchSize: 32,
  baseLearningRate: 1e-3,
  plannedEpochs: 10,
  // A day's run: the search's allowance never binds here (the allowance's own tests set it).
  budgetSeconds: 86_400,
  seed: 1,
};

/** A small model on a CPU: ~1 MB plus 10 KB per sample, 3 MB during the update; 10 ms + 10 µs·B per step. */
const CPU: FakeDeviceSpec = { memory: { a: 1e6, b: 1e4, update: 3e6 }, stepTime: { alpha: 0.01, beta: 1e-5 } };
/** A device where batch size buys speed: 50 ms + 100 µs·B per step. */
const GPU: FakeDeviceSpec = { memory: { a: 1e6, b: 1e4 }, stepTime: { alpha: 0.05, beta: 1e-4 } };

const falling = () => Array.from({ length: 20 }, (_, i) => 2.3 * 0.95 ** i);

interface Run {
  device: FakeDevice;
  /** The stored trials by seq, as last stored (flags restamp them). */
  stored: Map<number, TrialRecord>;
  progress: TuningProgress[];
  trials: TrialRecord[];
  /** Progress and trial callbacks in order: "p <phase> <batch> #<trial>" and "t <kind> <batch> #<seq>". */
  events: string[];
  done: Promise<TuningReport>;
}

/** A request as stored: a key given as undefined is left out (predicted() unsets the budget so). */
function withoutUndefined(r: TuningRequest): TuningRequest {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as TuningRequest;
}

function search(
  spec: FakeDeviceSpec,
  o: {
    request?: Partial<TuningRequest>;
    trainCount?: number;
    validationCount?: number;
    budget?: number;
    stopWhen?: (p: TuningProgress) => boolean;
    /** A stop asked for before the search begins. */
    stopAtOnce?: boolean;
    setBackend?: () => void;
    /** Time the search on the device's virtual clock (else the real one, on which the fake's probes take no time). */
    virtualClock?: boolean;
    known?: KnownTuning;
  } = {},
): Run {
  const device = new FakeDevice(spec);
  const run: Omit<Run, 'done'> = { device, stored: new Map(), progress: [], trials: [], events: [] };
  let stop = o.stopAtOnce ?? false;
  const done = runSearch({
    prober: device,
    ...(o.virtualClock ? { clock: device.clock } : {}),
    ...(o.known ? { known: o.known } : {}),
    request: withoutUndefined({ ...REQUEST, ...o.request }),
    sessionId: 1,
    trainCount: o.trainCount ?? 20_000,
    validationCount: o.validationCount ?? 1000,
    trials: { setBackend: o.setBackend ?? (() => {}), addTrial: (t) => run.stored.set(t.seq, t) },
    deviceBudget: () => ({ bytes: o.budget ?? 1e12, source: 'the fake device' }),
    shouldStop: () => stop,
    onProgress: (p) => {
      run.progress.push(p);
      run.events.push(`p ${p.phase} ${p.batchSize} #${p.trial}`);
      if (o.stopWhen?.(p)) stop = true;
    },
    onTrial: (t) => {
      run.trials.push(t);
      run.events.push(`t ${t.kind} ${t.batchSize} #${t.seq}`);
    },
    onBackend: () => {},
  });
  return { ...run, done };
}

const batchesOf = (r: Run, kind: TrialRecord['kind']) => r.trials.filter((t) => t.kind === kind).map((t) => t.batchSize);
const lastStored = (r: Run, kind: TrialRecord['kind'], b: number) => [...r.stored.values()].find((t) => t.kind === kind && t.batchSize === b)!;

test('memory ceiling: the prediction is verified and bisected to within 5 %, then a 5 % margin is taken off', async () => {
  // m(B) = 1 MB + 10 KB·B against a 5 MB budget: the largest batch that fits is 400.
  const r = search(CPU, { budget: 5e6 });
  const report = await r.done;
  const memory = r.trials.filter((t) => t.kind === 'memory');
  assert.deepEqual(
    memory.slice(0, 5).map((t) => t.batchSize),
    [1, 2, 4, 8, 16],
  );
  const verified = memory.slice(5);
  assert.ok(verified.length >= 2 && verified.length <= 8, `${verified.length} verification steps`);
  assert.ok(verified[0]!.batchSize <= 400, 'the first verification aims just under the prediction');
  const peak = (t: TrialRecord) => t.result.peakBytes as number;
  const largest = Math.max(...memory.filter((t) => peak(t) <= 5e6).map((t) => t.batchSize));
  const smallestFailed = Math.min(...memory.filter((t) => peak(t) > 5e6).map((t) => t.batchSize));
  assert.ok(largest <= 400 && smallestFailed > 400, `bracket ${largest}…${smallestFailed}`);
  assert.ok(smallestFailed / largest <= 1.05, `bracket ${largest}…${smallestFailed} within 5 %`);
  assert.equal(report.recommendation.memoryCeiling, Math.floor(largest * 0.95));
  assert.match(
    report.reasons[0]!,
    new RegExp(`^Batches up to ${report.recommendation.memoryCeiling} fit .*${largest} was verified .*${smallestFailed} did not fit`),
  );
  // Bytes as every front end writes them (src/shared/format.ts: three significant digits).
  assert.match(report.reasons[0]!, /and 2\.86 MiB during the optimizer update/);
  // The fake device's results name no memory source, as tfjs's did before there were others: wasm counts with tf.profile.
  assert.match(
    report.reasons[0]!,
    /Memory was measured as the peak of live tensor bytes \(tf\.profile\) of each step, on tfjs \(CPU, WebAssembly SIMD, 1 thread\)\.$/,
  );
  // The fit is the forward/backward line; the update is the floor.
  assert.ok(Math.abs(report.fits.memory!.b - 1e4) < 1e-6 && Math.abs(report.fits.memory!.a - 1e6) < 1e-3);
  assert.equal(report.fits.memory!.updateFloor, 3e6);
  // Throughput then runs on the powers of two from 8 up to the ceiling.
  assert.deepEqual(batchesOf(r, 'throughput'), throughputCandidates(report.recommendation.memoryCeiling));
  assert.ok(report.curves.every((c) => c.fits === undefined || c.fits === (c.memoryBytes !== undefined && c.memoryBytes <= 5e6)));
});

test('an out-of-memory probe is stored as oom, counts as not fitting, and the search goes on', async () => {
  // The line predicts 400, but the device runs out of memory above 300.
  const r = search({ ...CPU, oomAbove: 300 }, { budget: 5e6 });
  const report = await r.done;
  const memory = r.trials.filter((t) => t.kind === 'memory');
  const ooms = memory.filter((t) => t.status === 'oom');
  assert.ok(ooms.length >= 1, 'the device ran out of memory at least once');
  assert.ok(ooms.every((t) => t.batchSize > 300 && /oom/.test(t.cause!) && Object.keys(t.result).length === 0));
  assert.ok(r.trials.indexOf(ooms[0]!) < r.trials.length - 1, 'more probes followed the failed one');
  const largest = Math.max(...memory.filter((t) => t.status === 'ok' && (t.result.peakBytes as number) <= 5e6).map((t) => t.batchSize));
  assert.ok(largest <= 300 && largest >= 300 / 1.05, `largest that fitted: ${largest}`);
  assert.equal(report.recommendation.memoryCeiling, Math.floor(largest * 0.95));
  assert.ok(
    report.curves.some((c) => c.fits === false && c.memoryBytes === undefined),
    'the oom point is drawn as not fitting',
  );
});

test('a throughput probe that fails leaves its batch untimed; the choice is among the others', async () => {
  const r = search({ ...CPU, fail: (q) => (q.kind === 'throughput' && q.batchSize === 512 ? 'oom' : undefined) });
  const report = await r.done;
  assert.equal(lastStored(r, 'throughput', 512).status, 'oom');
  assert.equal(report.curves.find((c) => c.batchSize === 512)?.samplesPerSecond, undefined);
  assert.notEqual(report.recommendation.batchSize, 512);
  assert.ok(report.saturationBatch! <= 256);
});

test('memory is not the limit: one check at the dataset cap, no margin', async () => {
  const r = search(CPU, { trainCount: 4000 });
  const report = await r.done;
  assert.deepEqual(batchesOf(r, 'memory'), [1, 2, 4, 8, 16, 200]);
  assert.equal(report.recommendation.memoryCeiling, 200);
  assert.match(report.reasons[0]!, /^Memory is not the limit here: batch 200 .* 4000 training samples .*\(the fake device\)/);
  assert.deepEqual(batchesOf(r, 'throughput'), [8, 16, 32, 64, 128]);
});

test('Quick: candidates → saturation → base rate from the range test → the rate scaled to the choice', async () => {
  const r = search(CPU);
  const report = await r.done;
  const cand = batchesOf(r, 'throughput');
  assert.deepEqual(cand, throughputCandidates(Math.min(report.recommendation.memoryCeiling, 1000)));
  // The saturation batch: the smallest within 10 % of the best throughput X(B) = B/(α + βB).
  const x = (b: number) => b / (0.01 + 1e-5 * b);
  const best = Math.max(...cand.map(x));
  const saturation = cand.find((b) => x(b) >= 0.9 * best)!;
  assert.equal(report.saturationBatch, saturation);
  assert.equal(report.recommendation.batchSize, saturation);
  assert.equal(report.recommendation.expectedSamplesPerSecond, x(saturation));
  // Timed steps for ~60 ms from the nearest one-step memory probe; no warm-up on wasm.
  const asks = r.device.requests.filter((q) => q.kind === 'throughput');
  assert.deepEqual(
    asks.map((q) => q.warmupSteps),
    asks.map(() => 0),
  );
  const probed = batchesOf(r, 'memory');
  const nearest = (b: number) => probed.reduce((n, m) => (Math.abs(m - b) < Math.abs(n - b) ? m : n));
  const estimatedMs = (b: number) => ((10 + 0.01 * nearest(b)) * b) / nearest(b);
  assert.deepEqual(
    asks.map((q) => q.steps),
    cand.map((b) => Math.max(3, Math.min(24, Math.round(60 / estimatedMs(b))))),
  );
  // The range test at B₀ = 32 reads the fake curve; its rate is the base and scales by √(B/32).
  const lrAsk = r.device.requests.find((q) => q.kind === 'learning-rate')!;
  assert.ok(lrAsk.kind === 'learning-rate' && lrAsk.batchSize === 32 && lrAsk.minRate === 1e-4 && lrAsk.maxRate === 0.3 && lrAsk.steps === 24);
  const found = readRamp(24);
  assert.ok(Math.abs(report.learningRateTest!.rate! / found - 1) < 1e-9);
  // The second ramp: the same 768 samples at twice the batch (12 steps), read and scaled back to 32.
  const second = r.device.requests.filter((q) => q.kind === 'learning-rate')[1]!;
  assert.ok(second.kind === 'learning-rate' && second.batchSize === 64 && second.steps === 12);
  const secondAtBase = readRamp(12) / Math.sqrt(2);
  assert.ok(Math.abs(report.learningRateTest!.second!.rate! / readRamp(12) - 1) < 1e-9);
  const spread = Math.max(found, secondAtBase) / Math.min(found, secondAtBase);
  assert.ok(spread < 3 && Math.abs(report.learningRateTest!.spread! / spread - 1) < 1e-9 && report.learningRateTest!.sure === true);
  const base = Math.sqrt(found * secondAtBase);
  assert.ok(Math.abs(report.learningRateTest!.baseRate! / base - 1) < 1e-9);
  const lr = base * Math.sqrt(saturation / 32);
  assert.ok(Math.abs(report.recommendation.learningRate / lr - 1) < 1e-9);
  assert.equal(report.recommendation.warmupSteps, warmupSteps(10 * Math.ceil(20_000 / saturation), Math.sqrt(saturation / 32)));
  assert.equal(report.recommendation.noiseScale, null);
  assert.equal(report.scaleOut, null);
  assert.deepEqual([...new Set(r.trials.map((t) => t.kind))], ['memory', 'throughput', 'learning-rate']);
  assert.match(report.reasons.at(-4)!, /^Quick mode: /);
  // The validation split (1000) fits a training step, so it is the evaluation batch without a probe.
  assert.equal(report.recommendation.evalBatchSize, 1000);
  assert.equal(
    report.reasons.at(-3),
    'Validation runs forward only, 1000 samples at a time (the whole validation split): a training step at that batch fits, so a forward pass does too.',
  );
  assert.match(report.reasons.at(-2)!, /^Learning rate .*√\(\d+\/32\)/);
  assert.match(report.reasons.at(-1)!, /^The search may spend 5 % of your 24 h run: .*; it spent .*, with nothing cut\.$/);
});

test('GPU backends get two warm-up steps before timing', async () => {
  const r = search({ ...CPU, backend: { name: 'webgpu', device: 'a fake GPU' } });
  await r.done;
  const asks = r.device.requests.filter((q) => q.kind === 'throughput');
  assert.ok(asks.length > 0 && asks.every((q) => q.warmupSteps === 2));
});

test('a range test at a batch below B₀ (a small dataset) is scaled back to B₀; SGD scales linearly', async () => {
  // 400 samples: no batch above 20.
  const r = search(CPU, { trainCount: 400, request: { optimizer: 'sgd' } });
  const report = await r.done;
  const lrt = report.learningRateTest!;
  assert.equal(lrt.batchSize, 20);
  // No batch above 20 is wanted, so the second ramp is at half of it; both readings scale back to 32 linearly.
  assert.equal(lrt.second!.batchSize, 10);
  const first = scaleLearningRate(lrt.rate!, 20, 32, 'sgd');
  assert.ok(Math.abs(first / (lrt.rate! * 1.6) - 1) < 1e-12);
  const second = scaleLearningRate(lrt.second!.rate!, 10, 32, 'sgd');
  const base = lrt.baseRate!;
  assert.ok(Math.abs(base / Math.sqrt(first * second) - 1) < 1e-12);
  const b = report.recommendation.batchSize;
  assert.ok(Math.abs(report.recommendation.learningRate / ((base * b) / 32) - 1) < 1e-9);
  assert.match(
    report.reasons.find((x) => /learning-rate ramps/.test(x))!,
    /at batch 20 .*at batch 10 .*the base rate at batch 32 is/,
  );
});

test('without a reading (the range test failed, or not asked for), the given rate stays', async () => {
  const failed = search({ ...CPU, fail: (q) => (q.kind === 'learning-rate' ? 'error' : undefined) });
  const a = await failed.done;
  assert.equal(a.learningRateTest, null);
  assert.equal(lastStored(failed, 'learning-rate', 32).status, 'error');
  assert.ok(a.reasons.some((x) => /did not complete \(the fake device failed \(error\)\), so the base rate stays 0\.001/.test(x)));
  const b = a.recommendation.batchSize;
  assert.ok(Math.abs(a.recommendation.learningRate - 1e-3 * Math.sqrt(b / 32)) < 1e-15);

  const flat = await search({ ...CPU, rangeLoss: () => 2.3 }).done;
  assert.ok(flat.learningRateTest && flat.learningRateTest.rate === null && flat.learningRateTest.points.length === 0);
  assert.ok(flat.reasons.some((x) => /showed no clear fall/.test(x)));

  const skipped = search(CPU, { request: { searchLearningRate: false, baseLearningRate: 2e-3 } });
  const c = await skipped.done;
  assert.equal(c.learningRateTest, null);
  assert.deepEqual(batchesOf(skipped, 'learning-rate'), []);
  assert.ok(Math.abs(c.recommendation.learningRate - 2e-3 * Math.sqrt(c.recommendation.batchSize / 32)) < 1e-15);
});

/** The fake device's default curve read from a ramp of n steps over base/10…base×300. */
function readRamp(n: number): number {
  const rates = Array.from({ length: n }, (_, i) => 1e-4 * 3000 ** (i / (n - 1)));
  return suggestLearningRate(rates, rates.map(defaultRangeLoss))!.rate;
}

/** Goodput at noise scale φ relative to B₀ = 32 on the GPU line. */
const gpuGoodput = (b: number, phi: number) => (b / (0.05 + 1e-4 * b)) * ((phi + 32) / (phi + b));

test('Full: noise scale → goodput → B* → its neighbour → trials at B*, B*/2, 2B* → the recommendation', async () => {
  const r = search(GPU, { trainCount: 40_000, request: { mode: 'full' } });
  const report = await r.done;
  // Memory is not the limit (cap 2 000): candidates 8…1024. With φ = 400, goodput peaks at 512
  // (B* = √(αφ/β) ≈ 447), and no smaller candidate is within 5 % of it.
  const cand = throughputCandidates(1024);
  assert.deepEqual(batchesOf(r, 'throughput').slice(0, cand.length), cand);
  const g = cand.map((b) => gpuGoodput(b, 400));
  assert.equal(cand[g.indexOf(Math.max(...g))], 512);
  assert.ok(gpuGoodput(256, 400) < 0.95 * gpuGoodput(512, 400));
  // The noise probe: 4 micro-batches of 8 at the base rate the range test found.
  const noise = r.device.requests.find((q) => q.kind === 'noise')!;
  const base = report.learningRateTest!.baseRate!;
  assert.ok(noise.kind === 'noise' && noise.microBatch === 8 && noise.k === 4 && noise.learningRate === base && noise.windows === 3);
  assert.equal(lastStored(r, 'noise', 32).learningRate, base);
  // The 1.5× neighbour is timed after the noise probe, and loses: 512 stays.
  assert.deepEqual(batchesOf(r, 'throughput').slice(cand.length), [768]);
  assert.ok(0.95 * gpuGoodput(768, 400) < gpuGoodput(512, 400));
  assert.match(
    report.reasons.find((x) => /not a power of two/.test(x))!,
    /^Batch 768 .* against 5059 at 512/,
  );
  // Trials at B*, B*/2 and 2B*, each at its scaled rate; all fine, so B* stands.
  const trials = r.device.requests.filter((q) => q.kind === 'trial');
  assert.deepEqual(
    trials.map((q) => q.batchSize),
    [512, 256, 1024],
  );
  for (const q of trials) assert.ok(q.kind === 'trial' && Math.abs(q.learningRate / (base * Math.sqrt(q.batchSize / 32)) - 1) < 1e-12);
  // 1 % of the planned run (here the budget of a day), at most 20 s.
  assert.ok(trials.every((q) => q.kind === 'trial' && q.seconds === 20));
  assert.equal(report.recommendation.batchSize, 512);
  assert.equal(report.recommendation.noiseScale, 400);
  assert.deepEqual(
    report.scaleOut!.map((s) => s.workers),
    [2, 4, 8],
  );
  assert.ok(report.curves.filter((c) => c.samplesPerSecond !== undefined).every((c) => c.goodput !== undefined && c.efficiency !== undefined));
  assert.ok(report.reasons.some((x) => /^512 fits in memory and is where throughput saturates|^512 fits in memory and trains at/.test(x)));
  assert.ok(
    report.reasons.some((x) => /^Goodput .* at 512: \d+ useful samples\/s \(the time model t\(B\) = 50 ms \+ 100 µs·B puts the optimum near 447\)/.test(x)),
  );
});

test('the noise scale is forecast to halfway through the planned run from the probe’s windows', async () => {
  const windows = [
    { samples: 500, loss: 2, noiseScale: 100 },
    { samples: 1000, loss: 1.2, noiseScale: 180 },
    { samples: 1500, loss: 0.9, noiseScale: 240 },
  ];
  // Later in training (a quarter of the run), the late probe finds loss 0.6 and φ 330.
  const late = { loss: 0.6, noiseScale: 330 };
  const r = search({ ...GPU, noise: { noiseScale: 240, windows, late: () => late } }, { trainCount: 40_000, request: { mode: 'full' } });
  const report = await r.done;
  const early = forecastNoiseScale(windows, (10 * 40_000) / 2)!;
  // The late probe: the early one's micro-batches and steps, after training towards a quarter of the run.
  const noiseAsks = r.device.requests.filter((q) => q.kind === 'noise');
  assert.equal(noiseAsks.length, 2);
  const [first, second] = noiseAsks as Extract<(typeof noiseAsks)[number], { kind: 'noise' }>[];
  assert.ok(second!.windows === 1 && second!.microBatch === first!.microBatch && second!.k === first!.k && second!.steps === first!.steps);
  const batch = first!.microBatch * first!.k;
  assert.equal(second!.pretrainSteps, Math.ceil((0.25 * 10 * 40_000) / batch));
  const lateSamples = (second!.pretrainSteps! + second!.steps) * batch;
  const forecast = forecastNoiseScale([...windows, { samples: lateSamples, ...late }], (10 * 40_000) / 2)!;
  assert.deepEqual(report.noiseForecast, forecast);
  assert.deepEqual(report.lateNoise, { samples: lateSamples, ...late, pretrainSteps: second!.pretrainSteps, earlyNoiseScale: early.noiseScale });
  assert.equal(report.recommendation.noiseScale, forecast.noiseScale);
  assert.ok(report.reasons.some((x) => /^The gradient noise scale was 240 at training loss 0\.90.*as measured over 3 windows/.test(x)));
  assert.ok(
    report.reasons.some((x) =>
      new RegExp(
        `^Measured again after ${second!.pretrainSteps} steps of training \\(${lateSamples} samples, 25 % of the planned run\\), at training loss 0\\.600, the noise scale was 330 \\(the early windows forecast ${Math.round(early.noiseScale)} for the middle of the run\\); fitted to both, the choice uses ${Math.round(forecast.noiseScale)}\\.$`,
      ).test(x),
    ),
    report.reasons.join('\n'),
  );
  // The early windows alone forecast φ ≈ 7 400 (a batch of 1536); measured a quarter into the run,
  // φ grows far less, and the forecast through both is ≈ 370: goodput peaks at 512, and its
  // neighbour 768 loses.
  assert.ok(early.noiseScale > 7000 && forecast.noiseScale < 400, `${early.noiseScale} → ${forecast.noiseScale}`);
  assert.ok(0.95 * gpuGoodput(1536, early.noiseScale) > gpuGoodput(1024, early.noiseScale));
  assert.ok(
    gpuGoodput(512, forecast.noiseScale) > gpuGoodput(256, forecast.noiseScale) && gpuGoodput(512, forecast.noiseScale) > gpuGoodput(768, forecast.noiseScale),
  );
  assert.equal(report.recommendation.batchSize, 512);
});

test('without a noise scale, Full mode recommends the saturation batch', async () => {
  for (const spec of [
    { ...GPU, fail: (q: { kind: string }) => (q.kind === 'noise' ? ('oom' as const) : undefined) },
    { ...GPU, noise: { noiseScale: Infinity } },
  ]) {
    const report = await search(spec, { trainCount: 40_000, request: { mode: 'full' } }).done;
    assert.equal(report.recommendation.noiseScale, null);
    assert.ok(report.reasons.includes('The gradient noise scale could not be measured, so the batch where throughput saturates is recommended.'));
    assert.equal(report.recommendation.batchSize, report.saturationBatch);
  }
});

/** Trials that diverge (a NaN loss) at batches from `from` on. */
const divergingFrom = (from: number) => (b: number) =>
  b >= from ? { losses: [2.3, 2.1, NaN], valLoss: NaN } : { losses: falling(), valLoss: 0.5 + b / 10_000 };

test('trials: when 2B* diverges it is stored as diverged, and B* stays', async () => {
  const r = search({ ...GPU, trial: divergingFrom(1000) }, { trainCount: 40_000, request: { mode: 'full' } });
  const report = await r.done;
  assert.equal(report.recommendation.batchSize, 512);
  const at1024 = lastStored(r, 'trial', 1024);
  assert.deepEqual([at1024.status, at1024.cause], ['diverged', 'the loss became NaN or infinite']);
  assert.equal(r.trials.find((t) => t.kind === 'trial' && t.batchSize === 1024)!.status, 'ok', 'announced as the probe ended; flagged when judged');
  assert.ok(report.reasons.some((x) => /^Equal-time trials .* at 512, .* at 256, — at 1024 \(diverged\)\.$/.test(x)));
  assert.ok(!report.reasons.some((x) => /steps to/.test(x)));
});

test('trials: when B* itself diverges, the search steps down to the best unflagged trial', async () => {
  const r = search({ ...GPU, trial: divergingFrom(500) }, { trainCount: 40_000, request: { mode: 'full' } });
  const report = await r.done;
  assert.equal(lastStored(r, 'trial', 512).status, 'diverged');
  assert.equal(lastStored(r, 'trial', 1024).status, 'diverged');
  assert.equal(report.recommendation.batchSize, 256);
  assert.ok(report.reasons.includes('512 was flagged (the loss became NaN or infinite), so the search steps to 256.'));
  // The rate follows the new choice.
  assert.ok(Math.abs(report.recommendation.learningRate / (report.learningRateTest!.baseRate! * Math.sqrt(256 / 32)) - 1) < 1e-12);
});

test('trials: a rising or oscillating loss at B* steps down too', async () => {
  const rising = await search(
    { ...GPU, trial: (b) => (b >= 500 ? { losses: Array.from({ length: 20 }, (_, i) => 1 + 0.2 * i), valLoss: 3 } : { losses: falling(), valLoss: 0.5 }) },
    { trainCount: 40_000, request: { mode: 'full' } },
  ).done;
  assert.equal(rising.recommendation.batchSize, 256);
  assert.ok(rising.reasons.some((x) => /^512 was flagged \(the loss rose from 1\.\d+ to 4\.\d+\), so the search steps to 256\.$/.test(x)));

  const r = search(
    {
      ...GPU,
      trial: (b) => (b >= 500 ? { losses: Array.from({ length: 20 }, (_, i) => (i % 2 ? 2.5 : 0.5)), valLoss: 0.7 } : { losses: falling(), valLoss: 0.6 }),
    },
    { trainCount: 40_000, request: { mode: 'full' } },
  );
  const swinging = await r.done;
  assert.equal(lastStored(r, 'trial', 512).status, 'oscillating');
  assert.match(lastStored(r, 'trial', 512).cause!, /swings by ±\d+ % without falling/);
  // 1024 oscillates too; 256 is the only unflagged trial.
  assert.equal(swinging.recommendation.batchSize, 256);
});

test('trials: a worse loss at B* only flags it within 1.5× the best, and steps down beyond', async () => {
  // Validation loss 0.656 at 512 against 0.528 at 256: flagged worse, but it stays.
  const r = search({ ...GPU, trial: (b) => ({ losses: falling(), valLoss: 0.4 + b / 2000 }) }, { trainCount: 40_000, request: { mode: 'full' } });
  const little = await r.done;
  assert.equal(little.recommendation.batchSize, 512);
  assert.deepEqual(
    [512, 256, 1024].map((b) => lastStored(r, 'trial', b).status),
    ['worse', 'ok', 'worse'],
  );
  assert.match(lastStored(r, 'trial', 512).cause!, /^validation loss 0\.656 is over 10 % worse than the best trial's 0\.528$/);
  assert.ok(
    little.reasons.includes(
      "512's short trial ended with a higher validation loss, as short trials favour small batches; it stays, because it is within 50 % of the best.",
    ),
  );

  // 2.2 at 512 against 0.46 at 256: over 1.5×, so it steps down.
  const lot = await search({ ...GPU, trial: (b) => ({ losses: falling(), valLoss: 0.2 + (b / 400) ** 3 }) }, { trainCount: 40_000, request: { mode: 'full' } })
    .done;
  assert.equal(lot.recommendation.batchSize, 256);
  assert.ok(lot.reasons.some((x) => /^512 was flagged \(validation loss 2\.297 is over 10 % worse/.test(x)));
});

test('trials: a crashed trial at B* steps down; when every trial failed, B* stays', async () => {
  const r = search(
    { ...GPU, fail: (q) => (q.kind === 'trial' && q.batchSize === 512 ? 'crashed' : undefined) },
    { trainCount: 40_000, request: { mode: 'full' } },
  );
  const crashed = await r.done;
  assert.equal(lastStored(r, 'trial', 512).status, 'crashed');
  assert.equal(crashed.recommendation.batchSize, 256);
  assert.ok(crashed.reasons.includes('512 was flagged (the fake device failed (crashed)), so the search steps to 256.'));

  const all = search({ ...GPU, fail: (q) => (q.kind === 'trial' ? 'oom' : undefined) }, { trainCount: 40_000, request: { mode: 'full' } });
  const none = await all.done;
  assert.equal(none.recommendation.batchSize, 512);
  assert.deepEqual(
    [512, 256, 1024].map((b) => lastStored(all, 'trial', b).status),
    ['oom', 'oom', 'oom'],
  );
  assert.ok(none.reasons.includes('Equal-time trials (20.0 s each) reached validation loss — at 512 (crashed), — at 256 (crashed), — at 1024 (crashed).'));
});

test('a stop asked for between phases ends the search with TuningStoppedError before the next probe', async () => {
  const quick = search(CPU, { stopWhen: (p) => p.phase === 'throughput' });
  await assert.rejects(quick.done, TuningStoppedError);
  assert.deepEqual(batchesOf(quick, 'throughput'), []);
  assert.ok(quick.device.requests.every((q) => q.kind === 'memory'));
  assert.equal(quick.device.closed, 1, 'the prober is closed');

  const full = search(GPU, { trainCount: 40_000, request: { mode: 'full' }, stopWhen: (p) => p.phase === 'trials' });
  await assert.rejects(full.done, TuningStoppedError);
  assert.deepEqual(batchesOf(full, 'trial'), []);
  assert.equal(full.trials.at(-1)!.batchSize, 768, 'the neighbour was the last probe');
  assert.equal(full.device.closed, 1);
});

test('progress and trial callbacks alternate in order: each probe announced, then stored under the announced number', async () => {
  const r = search(GPU, { trainCount: 40_000, request: { mode: 'full' } });
  await r.done;
  const kindOf: Record<string, string> = { memory: 'memory', throughput: 'throughput', 'learning-rate': 'learning-rate', noise: 'noise', trials: 'trial' };
  assert.equal(r.events.length, 2 * r.trials.length + 1);
  for (let i = 0; i < r.trials.length; i++) {
    const p = r.progress[i]!;
    const t = r.trials[i]!;
    assert.equal(r.events[2 * i], `p ${p.phase} ${t.batchSize} #${i + 1}`);
    assert.equal(r.events[2 * i + 1], `t ${kindOf[p.phase]} ${t.batchSize} #${i + 1}`);
  }
  assert.equal(r.events.at(-1), `p report 512 #${r.trials.length + 1}`);
  const phases = r.progress.map((p) => p.phase).filter((ph, i, all) => ph !== all[i - 1]);
  assert.deepEqual(phases, ['memory', 'throughput', 'learning-rate', 'noise', 'throughput', 'trials', 'report']);
  assert.equal(r.progress[0]!.etaSeconds, null, 'no estimate before the first probe');
  assert.ok(r.progress.slice(1).every((p) => p.etaSeconds !== null && p.etaSeconds >= 0));
  assert.ok(r.progress.every((p) => p.sessionId === 1));
  // Every trial announced was stored.
  assert.deepEqual(
    [...r.stored.keys()],
    r.trials.map((t) => t.seq),
  );
});

test('a search that cannot measure fails with a plain message, and the prober is closed', async () => {
  const tooBig = search(CPU, { budget: 1e5 });
  await assert.rejects(tooBig.done, /^Error: even a batch of 1 needs 2\.86 MiB, more than the 97\.7 KiB budget$/);
  assert.equal(tooBig.device.closed, 1);
  const broken = search({ ...CPU, fail: (q) => (q.kind === 'memory' ? 'error' : undefined) });
  await assert.rejects(broken.done, /even a batch of 1 could not run a training step/);
  const untimed = search({ ...CPU, fail: (q) => (q.kind === 'throughput' ? 'crashed' : undefined) });
  await assert.rejects(untimed.done, /no batch size could be timed/);
  assert.equal(untimed.device.closed, 1);
  assert.ok(untimed.trials.filter((t) => t.kind === 'throughput').every((t) => t.status === 'crashed'));
});

// Found while splitting the search into phases.

test('a probe that fails at a small batch below one that fitted does not cap the ceiling', async () => {
  // A crash at batch 2 while 4, 8 and 16 fit says nothing about memory: the ceiling is still found.
  const r = search({ ...CPU, fail: (q) => (q.kind === 'memory' && q.batchSize === 2 ? 'crashed' : undefined) }, { budget: 5e6 });
  const report = await r.done;
  assert.equal(lastStored(r, 'memory', 2).status, 'crashed');
  assert.ok(batchesOf(r, 'memory').length > 5, 'verification steps ran');
  assert.ok(report.recommendation.memoryCeiling >= 0.9 * 0.95 * 400 && report.recommendation.memoryCeiling <= 400, `${report.recommendation.memoryCeiling}`);
  assert.doesNotMatch(report.reasons[0]!, /2 did not fit/);
});

test('the prober is closed when the search fails before its first probe (the backend cannot be stored)', async () => {
  const r = search(CPU, {
    setBackend: () => {
      throw new Error('disk full');
    },
  });
  await assert.rejects(r.done, /disk full/);
  assert.equal(r.device.closed, 1, 'the probe process does not outlive the search');
});

test('without a validation split, the trials are judged on their training loss, not flagged diverged', async () => {
  // The trial probe reports NaN as its validation loss when the dataset has no validation split.
  const trial = (b: number) => (b >= 1000 ? { losses: [2.3, 2.1, NaN], valLoss: NaN } : { losses: falling(), valLoss: NaN });
  const r = search({ ...GPU, trial }, { trainCount: 40_000, validationCount: 0, request: { mode: 'full' } });
  const report = await r.done;
  assert.deepEqual(
    [512, 256, 1024].map((b) => lastStored(r, 'trial', b).status),
    ['ok', 'ok', 'diverged'],
  );
  assert.equal(report.recommendation.batchSize, 512);
  assert.ok(
    report.reasons.includes(
      'Equal-time trials (20.0 s each) at 512, 256 and 1024 (diverged) were judged on their training loss alone: the dataset has no validation split.',
    ),
    report.reasons.join('\n'),
  );
  // With a split, a NaN validation loss still means the weights blew up.
  const split = search({ ...GPU, trial }, { trainCount: 40_000, request: { mode: 'full' } });
  await split.done;
  assert.equal(lastStored(split, 'trial', 512).status, 'diverged');
});

// Batch normalisation: a model with it is never timed, tried or recommended below its floor.

/** Steps cost about the same per sample at every batch, and φ = 4: goodput favours the smallest batch. */
const FLAT: FakeDeviceSpec = { memory: { a: 1e6, b: 1e4 }, stepTime: { alpha: 1e-4, beta: 1e-3 }, noise: { noiseScale: 4 } };
const BN_REASON =
  'ResNet-20 uses batch normalisation: batches below 16 were not considered (their statistics are too noisy); the memory probes below it only measured memory.';
/** Every probe's batch but the memory probes', and each micro-batch of the noise probe. */
const trainingBatches = (r: Run) =>
  r.device.requests.flatMap((q) => (q.kind === 'memory' ? [] : q.kind === 'noise' ? [q.microBatch, q.microBatch * q.k] : [q.batchSize]));

test('batch norm: where goodput favours 8, a model without it gets 8 and ResNet-20 gets 16, nothing below 16 trained', async () => {
  const plain = search(FLAT, { trainCount: 40_000, request: { mode: 'full' } });
  const small = await plain.done;
  assert.equal(small.recommendation.batchSize, 8);
  assert.ok(
    small.curves.filter((c) => c.goodput !== undefined).every((c) => c.batchSize === 8 || c.goodput! < small.curves.find((p) => p.batchSize === 8)!.goodput!),
    'goodput peaks at 8',
  );
  assert.ok(!small.reasons.some((x) => /batch normalisation/.test(x)));

  const r = search(FLAT, { trainCount: 40_000, request: { mode: 'full', model: 'resnet-20' } });
  const report = await r.done;
  assert.equal(report.recommendation.batchSize, 16);
  assert.ok(
    trainingBatches(r).every((b) => b >= 16),
    r.device.log.join(', '),
  );
  assert.deepEqual(batchesOf(r, 'throughput').slice(0, 3), [16, 32, 64]);
  // The range test's ramps at B₀ = 32 and 64; the noise probe's two micro-batches of 16 make a step of 32.
  assert.deepEqual(batchesOf(r, 'learning-rate'), [32, 64]);
  const noise = r.device.requests.find((q) => q.kind === 'noise')!;
  assert.ok(noise.kind === 'noise' && noise.microBatch === 16 && noise.k === 2);
  // The trials: 16 and 32 (half of 16 would be 8).
  assert.deepEqual(batchesOf(r, 'trial'), [16, 32]);
  // The memory line is still fitted from one-step probes at 1…16.
  assert.deepEqual(batchesOf(r, 'memory').slice(0, 5), [1, 2, 4, 8, 16]);
  assert.ok(report.curves.every((c) => c.samplesPerSecond === undefined || c.batchSize >= 16));
  assert.equal(report.reasons.filter((x) => x === BN_REASON).length, 1, report.reasons.join('\n'));
  assert.match(report.reasons[0]!, /^Memory is not the limit here/);
  assert.equal(report.reasons[1], BN_REASON, 'said right after the memory ceiling, before the throughput');
});

test('batch norm: a flagged choice at the floor steps up to 32, where a model without it steps down from 8 to 4', async () => {
  // Trials at 8 and 16 diverge; 4 reaches the lowest validation loss.
  const trial = (b: number) => (b === 8 || b === 16 ? { losses: [2.3, 2.1, NaN], valLoss: NaN } : { losses: falling(), valLoss: b < 8 ? 0.5 : 0.6 });
  const plain = await search({ ...FLAT, trial }, { trainCount: 40_000, request: { mode: 'full' } }).done;
  assert.equal(plain.recommendation.batchSize, 4);
  assert.ok(plain.reasons.includes('8 was flagged (the loss became NaN or infinite), so the search steps to 4.'), plain.reasons.join('\n'));
  const r = search({ ...FLAT, trial }, { trainCount: 40_000, request: { mode: 'full', model: 'resnet-20' } });
  const report = await r.done;
  assert.deepEqual(batchesOf(r, 'trial'), [16, 32]);
  assert.equal(report.recommendation.batchSize, 32);
  assert.ok(report.reasons.includes('16 was flagged (the loss became NaN or infinite), so the search steps to 32.'));
});

test('batch norm: when 16 does not fit, the search ends with a plain message; a model without it gets what fits', async () => {
  // 1 MB + 100 KB a sample in a 2.2 MB budget: up to 12 fit, 11 with the margin.
  const tight: FakeDeviceSpec = { memory: { a: 1e6, b: 1e5 }, stepTime: { alpha: 0.01, beta: 1e-5 } };
  const plain = await search(tight, { budget: 2.2e6 }).done;
  assert.equal(plain.recommendation.memoryCeiling, 11);
  assert.ok(plain.recommendation.batchSize <= 11);

  const r = search(tight, { budget: 2.2e6, request: { model: 'resnet-20' } });
  await assert.rejects(r.done, (err: Error) => {
    assert.equal(
      err.message,
      'ResNet-20 uses batch normalisation, which needs at least 16 samples a step, but only batches up to 11 fit in the 2.10 MiB budget (the fake device), a safety margin kept: use a smaller model, smaller images or a larger memory budget.',
    );
    return true;
  });
  assert.ok(
    r.device.requests.every((q) => q.kind === 'memory'),
    'nothing was timed or trained',
  );
  assert.equal(r.device.closed, 1);
});

test('batch norm on a small dataset: the cap rises to 16; below 16 training samples the search does not start', async () => {
  // 200 samples: 20 steps an epoch would mean batches of 10; batch norm needs 16.
  const r = search(CPU, { trainCount: 200, request: { model: 'resnet-8' } });
  const report = await r.done;
  assert.deepEqual(batchesOf(r, 'memory'), [1, 2, 4, 8, 16]);
  assert.match(
    report.reasons[0]!,
    /^Memory is not the limit here: batch 16 — the least batch normalisation allows, though it gives only 13 steps per epoch on 200 training samples — fits/,
  );
  assert.deepEqual(batchesOf(r, 'throughput'), [16]);
  assert.deepEqual(batchesOf(r, 'learning-rate'), [16]);
  assert.equal(report.recommendation.batchSize, 16);
  const plain = await search(CPU, { trainCount: 200 }).done;
  assert.equal(plain.recommendation.memoryCeiling, 10);

  const tiny = search(CPU, { trainCount: 10, request: { model: 'resnet-8' } });
  await assert.rejects(
    tiny.done,
    /^Error: ResNet-8 uses batch normalisation, which needs at least 16 samples a step, but the dataset has only 10 training samples: use a model without it \(small, large or mlp\) or more data\.$/,
  );
  assert.equal(tiny.device.requests.length, 0);
  assert.equal(tiny.device.closed, 1);
});

// ---- the time allowance (issue 18) ------------------------------------------------------------

/** The request without the day-long budget the other tests give: the planned run is then predicted. */
function predicted(request: Partial<TuningRequest> = {}): Partial<TuningRequest> {
  return { budgetSeconds: undefined, ...request };
}

test('allowance: a run long enough leaves every probe whole; the report says what was allowed and spent', async () => {
  // 2 M samples × 10 epochs at up to 100 000 samples/s: a run of minutes, so Quick may spend ~10 s.
  const r = search({ ...CPU, timedProbes: true, startSeconds: 0.5 }, { trainCount: 2_000_000, request: predicted(), virtualClock: true });
  const report = await r.done;
  const a = report.allowance!;
  assert.equal(a.plannedFrom, 'predicted');
  assert.equal(a.share, 0.05);
  assert.ok(a.plannedSeconds! > 150 && a.plannedSeconds! < 700, String(a.plannedSeconds));
  assert.equal(a.startupSeconds, 0.5);
  assert.deepEqual(a.cuts, []);
  assert.ok(a.spentSeconds <= a.allowanceSeconds!, `${a.spentSeconds} of ${a.allowanceSeconds}`);
  assert.ok(a.shortestSeconds! > 0.5 && a.shortestSeconds! < a.spentSeconds);
  assert.equal(batchesOf(r, 'learning-rate').length, 2);
  assert.match(
    report.reasons.at(-1)!,
    /^The search may spend 5 % of the predicted \d+ min \d+ s run: \d+ s \(starting the trainer took 0\.5 s\); it spent .*, with nothing cut\.$/,
  );
});

test('allowance: where even the shortest search is over, nothing more is probed: the base batch and rate, and why', async () => {
  // 20 000 samples: a ~4 s run, 0.2 s allowed, and the trainer alone takes 0.5 s to start.
  const r = search({ ...CPU, timedProbes: true, startSeconds: 0.5 }, { trainCount: 20_000, request: predicted(), virtualClock: true });
  const report = await r.done;
  assert.ok(
    r.device.requests.every((q) => q.kind === 'memory'),
    r.device.log.join(', '),
  );
  assert.equal(report.recommendation.batchSize, 32);
  assert.equal(report.recommendation.learningRate, 1e-3);
  assert.equal(report.learningRateTest, null);
  assert.deepEqual(
    report.allowance!.cuts.map((c) => `${c.probe} ${c.how}`),
    ['throughput skipped', 'range-test skipped'],
  );
  assert.ok(
    report.reasons.some((x) => /^No throughput was timed \(the search's time allowance had no room\), so 32, the base batch, is recommended\.$/.test(x)),
  );
  assert.ok(
    report.reasons.some((x) =>
      /^The learning-rate range test did not fit in the search's time allowance, so the base rate stays 0\.001, the usual default\.$/.test(x),
    ),
  );
  assert.match(report.reasons.at(-1)!, /the throughput timings skipped .*; the learning-rate range test skipped/);
  // The curves still show what the memory probes measured.
  assert.ok(report.curves.some((c) => c.samplesPerSecond !== undefined));
});

test('allowance: Full shortens or skips the trials and the noise probe as the run gets shorter, and keeps within it', async () => {
  const seen = new Set<string>();
  for (const trainCount of [2_000, 5_000, 10_000, 20_000, 40_000, 4_000_000]) {
    const r = search({ ...GPU, timedProbes: true }, { trainCount, request: predicted({ mode: 'full' }), virtualClock: true });
    const report = await r.done;
    const a = report.allowance!;
    for (const c of a.cuts) seen.add(`${c.probe} ${c.how}`);
    // Each phase is granted time with the later phases counted, giving up in CUT_ORDER (trials
    // before the noise probe); a phase re-planned later may find room the earlier plan lacked.
    // The memory phase cannot be cut; past it, the estimates hold the search within its allowance (10 ms a probe of slack).
    assert.ok(
      a.spentSeconds <= Math.max(a.allowanceSeconds!, a.shortestSeconds!) + 0.01 * r.trials.length,
      `trainCount ${trainCount}: spent ${a.spentSeconds} of ${a.allowanceSeconds}`,
    );
    if (trainCount === 4_000_000) assert.deepEqual(a.cuts, []);
    const shortened = a.cuts.find((c) => c.probe === 'trials' && c.how === 'shortened');
    if (shortened) {
      const asked = r.device.requests.filter((q) => q.kind === 'trial');
      assert.ok(asked.length > 0 && asked.every((q) => q.kind === 'trial' && q.seconds >= 0.2 && q.seconds < 20));
    }
  }
  assert.ok(seen.has('trials shortened') && seen.has('trials skipped') && seen.has('noise skipped'), [...seen].join(', '));
});

test('allowance: a time budget replaces the predicted run; the CLI-style budget is what the share applies to', async () => {
  const r = search({ ...CPU, timedProbes: true }, { trainCount: 20_000, request: predicted({ budgetSeconds: 600 }), virtualClock: true });
  const a = (await r.done).allowance!;
  assert.equal(a.plannedFrom, 'your budget');
  assert.equal(a.plannedSeconds, 600);
  assert.equal(a.allowanceSeconds, 30);
  assert.deepEqual(a.cuts, []);
});

/** A previous tuning's findings: batch 64 at 5e-3 (base 5e-3/√2 at 32), its shortest search 1 s. */
function knownTuning(shortestSeconds?: number): KnownTuning {
  const report: TuningReport = {
    recommendation: {
      batchSize: 64,
      learningRate: 5e-3,
      warmupSteps: 0,
      expectedSamplesPerSecond: 5000,
      memoryCeiling: 400,
      memoryBudgetBytes: 1e12,
      memoryHeadroom: 0.9,
      noiseScale: null,
      optimizer: 'adam',
    },
    reasons: ['Its own reason.'],
    curves: [{ batchSize: 64, samplesPerSecond: 5000 }],
    fits: { memory: null, time: null },
    saturationBatch: 64,
    scaleOut: null,
    ...(shortestSeconds !== undefined
      ? {
          allowance: {
            share: 0.05,
            plannedSeconds: 100,
            plannedFrom: 'predicted' as const,
            allowanceSeconds: 5,
            startupSeconds: 0.5,
            spentSeconds: 2,
            shortestSeconds,
            cuts: [],
          },
        }
      : {}),
    searchSeconds: 2,
  };
  return { sessionId: 7, baseRate: 5e-3 / Math.sqrt(2), report, backend: { name: 'wasm', device: 'the fake device', rung: 'wasm', skipped: [] } };
}

test('allowance: when even the shortest search seen before is over, the previous tuning stands without starting the trainer', async () => {
  // A 2 s budget allows 0.1 s; the shortest search took 1 s last time.
  const r = search({ ...CPU, timedProbes: true }, { request: predicted({ budgetSeconds: 2 }), virtualClock: true, known: knownTuning(1) });
  const report = await r.done;
  assert.equal(r.device.started, 0);
  assert.equal(r.device.closed, 1);
  assert.deepEqual(r.trials, []);
  assert.equal(report.recommendation.batchSize, 64);
  assert.equal(report.allowance!.reusedFrom, 7);
  // The shortest search is carried, so a tuning reused from this one can decide the same way.
  assert.equal(report.allowance!.shortestSeconds, 1);
  assert.match(
    report.reasons[0]!,
    /^No search was run: even the shortest one \(starting the trainer and the memory probes took 1\.0 s in tuning #7\) is more than 5 % of your 2\.0 s run \(0\.1 s\), so tuning #7's findings/,
  );
  assert.equal(report.reasons[1], 'Its own reason.');

  // A stop asked for before it began ends it stopped, as a search would.
  const stopped = search(
    { ...CPU, timedProbes: true },
    { request: predicted({ budgetSeconds: 2 }), virtualClock: true, known: knownTuning(1), stopAtOnce: true },
  );
  await assert.rejects(stopped.done, TuningStoppedError);
  assert.equal(stopped.device.started, 0);

  // Asked to search afresh, it does.
  const fresh = search(
    { ...CPU, timedProbes: true },
    { request: predicted({ budgetSeconds: 2, reuseKnown: false }), virtualClock: true, known: knownTuning(1) },
  );
  await fresh.done;
  assert.equal(fresh.device.started, 1);
  // With room for a search of its own, it searches too.
  const roomy = search({ ...CPU, timedProbes: true }, { request: predicted({ budgetSeconds: 3600 }), virtualClock: true, known: knownTuning(1) });
  assert.equal((await roomy.done).allowance!.reusedFrom, undefined);
});

test('allowance: a previous tuning stands in for the probes there was no room for: its batch and its base rate', async () => {
  const r = search({ ...CPU, timedProbes: true, startSeconds: 0.5 }, { trainCount: 20_000, request: predicted(), virtualClock: true, known: knownTuning() });
  const report = await r.done;
  assert.equal(r.device.started, 1, 'no shortest time was known, so the search started');
  assert.equal(report.recommendation.batchSize, 64);
  assert.ok(Math.abs(report.recommendation.learningRate / 5e-3 - 1) < 1e-12);
  assert.ok(
    report.reasons.includes(
      "No throughput was timed (the search's time allowance had no room), so 64, the batch tuning #7 chose for this model and dataset, is recommended.",
    ),
  );
  assert.ok(report.reasons.some((x) => /so the base rate 0\.003536 that tuning #7 found for this model and dataset is used\.$/.test(x)));
});

test('range test: two readings too far apart are not averaged: the lower is taken, and the report says so', async () => {
  // The curve's fall moves with the batch as B³: at 64 it reads ~8× higher, 5.7× once scaled back to 32.
  const rangeLoss = (rate: number, b: number) => defaultRangeLoss(rate / (b / 32) ** 3);
  const r = search({ ...CPU, rangeLoss });
  const report = await r.done;
  const t = report.learningRateTest!;
  const first = t.rate!;
  const second = t.second!.rate! / Math.sqrt(2);
  assert.ok(t.spread! > 3 && t.sure === false, String(t.spread));
  assert.ok(Math.abs(t.baseRate! / Math.min(first, second) - 1) < 1e-12);
  assert.ok(report.reasons.some((x) => /The two readings are \d+(\.\d)?× apart, too far to trust their mean, so the lower is taken/.test(x)));
});

test('range test: a second ramp that shows no clear fall leaves the first reading, said plainly', async () => {
  const rangeLoss = (rate: number, b: number) => (b === 64 ? 2.3 : defaultRangeLoss(rate));
  const report = await search({ ...CPU, rangeLoss }).done;
  const t = report.learningRateTest!;
  assert.equal(t.second!.rate, null);
  assert.equal(t.spread, null);
  assert.ok(Math.abs(t.baseRate! / t.rate! - 1) < 1e-12);
  assert.ok(report.reasons.some((x) => /; the ramp at batch 64 showed no clear fall\. .*with one reading, how sure it is cannot be told\.$/.test(x)));
});

test('evaluation batch: the largest forward-only pass that fits, largest first, with the optimizer state counted beside it', async () => {
  // Training: 1 MB + 1 MB·B (ceiling ≈ 94 under 100 MB); a forward pass: 1 MB + 0.33 MB·B, and the
  // update floor (3 MB) beside it: 1000 and 512 do not fit, 256 does (≈ 89 MB, 85.2 MiB).
  const spec: FakeDeviceSpec = { memory: { a: 1e6, b: 1e6, update: 3e6 }, stepTime: { alpha: 0.01, beta: 1e-5 } };
  const r = search(spec, { budget: 1e8 });
  const report = await r.done;
  assert.ok(report.recommendation.memoryCeiling < 100);
  const asked = r.device.requests.filter((q) => q.kind === 'memory' && q.forwardOnly).map((q) => (q.kind === 'memory' ? q.batchSize : 0));
  assert.deepEqual(asked, [1000, 512, 256]);
  assert.deepEqual(batchesOf(r, 'forward-memory'), [1000, 512, 256], 'stored as forward-memory trials, apart from the memory line');
  assert.equal(report.recommendation.evalBatchSize, 256);
  assert.ok(
    report.reasons.some((x) =>
      /^Validation runs forward only, 256 samples at a time: .* needs at most 85\.2 MiB of the 95\.4 MiB budget \(1000 and 512 did not fit\)\.$/.test(x),
    ),
    report.reasons.join('\n'),
  );
  assert.equal(forwardCandidates(1000, 94).join(), '1000,512,256');

  // Not even 256: the training ceiling stands (a forward pass fits wherever a training step does).
  const tight = search({ ...spec, forward: { a: 1e6, b: 1e6 } }, { budget: 1e8 });
  const t = await tight.done;
  assert.deepEqual(batchesOf(tight, 'forward-memory'), [1000, 512, 256]);
  assert.equal(t.recommendation.evalBatchSize, t.recommendation.memoryCeiling);
  assert.ok(
    t.reasons.some((x) =>
      x.startsWith(
        `Validation runs forward only at ${t.recommendation.memoryCeiling}, the largest training batch that fits: a forward pass at 1000 or 512 or 256 did not fit`,
      ),
    ),
  );

  // A forward probe that fails (out of memory on the device) counts as not fitting.
  const oomFirst = search({ ...spec, fail: (q) => (q.kind === 'memory' && q.forwardOnly && q.batchSize === 1000 ? 'oom' : undefined) }, { budget: 1e8 });
  assert.equal((await oomFirst.done).recommendation.evalBatchSize, 256);
  assert.equal(lastStored(oomFirst, 'forward-memory', 1000).status, 'oom');
});

test('evaluation batch: the first probe the allowance gives up; runs then validate at their batch size', async () => {
  const spec: FakeDeviceSpec = { memory: { a: 1e6, b: 1e6, update: 3e6 }, stepTime: { alpha: 0.1, beta: 1e-5 }, timedProbes: true };
  // A 20 s budget allows 1 s (Quick): the memory probes alone take about that.
  const r = search(spec, { budget: 1e8, virtualClock: true, request: { budgetSeconds: 20 } });
  const report = await r.done;
  assert.equal(report.recommendation.evalBatchSize, undefined);
  assert.deepEqual(batchesOf(r, 'forward-memory'), []);
  assert.ok(
    report.allowance!.cuts.some((c) => c.probe === 'eval-batch' && c.how === 'skipped'),
    JSON.stringify(report.allowance),
  );
  assert.ok(report.reasons.includes('The evaluation batch was not measured (no time was left for it): runs validate at their batch size, which always fits.'));
  // With a budget to spare it is measured.
  const roomy = search(spec, { budget: 1e8, virtualClock: true, request: { budgetSeconds: 3600 } });
  assert.equal((await roomy.done).recommendation.evalBatchSize, 256);
});

// §5.7a: past the memory ceiling, by accumulation. A device where the batch buys speed (50 ms a
// step, 40 ms of it the optimizer update, paid once per accumulated step), a 5 MB budget (ceiling
// ~380) and a noise scale of 100 000 (efficiency ~1 up to thousands): goodput still rises at the
// ceiling, and an accumulated step of 2×380 trains ~30 % faster.
const UPDATE_BOUND: FakeDeviceSpec = { memory: { a: 1e6, b: 1e4 }, stepTime: { alpha: 0.05, beta: 1e-4, update: 0.04 }, noise: { noiseScale: 1e5 } };

test('Full, memory-bound, goodput still rising at the ceiling: an accumulated step of 2× the ceiling is timed and recommended with its micro-batch', async () => {
  const r = search(UPDATE_BOUND, { trainCount: 40_000, budget: 5e6, request: { mode: 'full' } });
  const report = await r.done;
  const rec = report.recommendation;
  const ceiling = rec.memoryCeiling;
  const accumulated = r.device.requests.filter((q) => q.kind === 'throughput' && q.microBatch !== undefined);
  assert.equal(accumulated.length, 1);
  assert.ok(accumulated[0]!.kind === 'throughput' && accumulated[0]!.microBatch === ceiling && accumulated[0]!.batchSize === 2 * ceiling);
  assert.equal(rec.batchSize, 2 * ceiling);
  assert.equal(rec.microBatchSize, ceiling);
  const t = r.device.stepSeconds(2 * ceiling, ceiling);
  assert.ok(Math.abs(rec.expectedSamplesPerSecond - (2 * ceiling) / t) < 1e-6, 'the accumulated step’s measured speed');
  const reason = report.reasons.find((x) => x.includes('accumulated micro-batches'));
  assert.match(
    reason!,
    new RegExp(
      `^Batch ${2 * ceiling}, above the memory ceiling, trained as 2 accumulated micro-batches of ${ceiling} .* so it is recommended, with micro-batch ${ceiling}`,
    ),
  );
  const stored = [...r.stored.values()].find((x) => x.kind === 'throughput' && x.batchSize === 2 * ceiling)!;
  assert.equal(stored.result.microBatch, ceiling, 'the trial keeps its micro-batch');
  assert.equal(rec.learningRate, scaleLearningRate(report.learningRateTest!.baseRate!, 32, 2 * ceiling, 'adam'));
});

test('Full, memory-bound, but nothing paid once per step: the accumulated step is timed, no faster, and not recommended; memory not the limit: not timed', async () => {
  const plain = { ...UPDATE_BOUND, stepTime: { alpha: 0.05, beta: 1e-4 } };
  const r = search(plain, { trainCount: 40_000, budget: 5e6, request: { mode: 'full' } });
  const report = await r.done;
  assert.equal(report.recommendation.microBatchSize, undefined);
  assert.ok(report.recommendation.batchSize <= report.recommendation.memoryCeiling);
  assert.match(
    report.reasons.find((x) => x.includes('accumulated micro-batches'))!,
    /its goodput is only \d+ % of batch \d+'s, so it is not worth accumulating\.$/,
  );
  const roomy = await search(UPDATE_BOUND, { trainCount: 40_000, request: { mode: 'full' } }).done;
  assert.equal(roomy.recommendation.microBatchSize, undefined);
  assert.ok(!roomy.reasons.some((x) => x.includes('accumulated')), 'the dataset, not memory, caps the batch: nothing to accumulate past');
});
