// Phase 5, the choice (docs/architecture.md §5.4, §5.7): Quick takes the saturation batch; Full
// takes the batch of best goodput (a tie within 5 % settled for the smallest), then times one
// non-power-of-two neighbour, which replaces it only when clearly better.
import { goodput, goodputOptimum, pickByGoodput } from '../../../shared/tuner-math.js';
import type { SearchContext } from './context.js';
import type { MemoryPhase } from './memory.js';
import type { NoisePhase } from './noise.js';
import { goodputReasons, goodputTieReason, knownBatchReason, NO_NOISE_SCALE_REASON, neighbourReason, quickReason } from './reasons.js';
import { timeBatch, type ThroughputPhase } from './throughput.js';
import { neighbourSeconds } from './remaining.js';

/**
 * Goodput at least this share of the best counts as a tie, settled for the smallest batch (as
 * Quick mode settles throughput within 10 %). Where goodput is nearly flat across batches, the
 * forecast noise scale's spread between seeds would otherwise swing the choice (and its rate)
 * from seed to seed (docs/benchmarks.md, the Auto-tune search).
 */
export const GOODPUT_TIE = 0.95;

/** The batch the search settles on before any validation trial. */
export async function chooseBatch(s: SearchContext, memory: MemoryPhase, speed: ThroughputPhase, noise: NoisePhase): Promise<number> {
  if (speed.skipped) return knownBatch(s, speed.maxBatch);
  if (s.request.mode !== 'full') {
    s.reasons.push(quickReason(speed.saturation));
    return speed.saturation;
  }
  if (noise.noiseScale === null) {
    s.reasons.push(NO_NOISE_SCALE_REASON);
    return speed.saturation;
  }
  return chooseByGoodput(s, memory, speed, noise.noiseScale);
}

/** Full mode: the batch of best goodput at noise scale phi, or its 1.5× neighbour. */
async function chooseByGoodput(s: SearchContext, memory: MemoryPhase, speed: ThroughputPhase, phi: number): Promise<number> {
  const b0 = s.request.baseBatchSize;
  const { timings } = speed;
  const gOf = (b: number) => goodput(timings.get(b)!.samplesPerSecond, b, b0, phi);
  // Goodput within GOODPUT_TIE of the best is a tie (timings and φ are noisy): the smallest
  // such batch needs the least scaling of the measured rate, so it is the safer choice.
  const pick = pickByGoodput(
    speed.timed.map((t) => ({ batchSize: t.batchSize, goodput: goodput(t.samplesPerSecond, t.batchSize, b0, phi) })),
    GOODPUT_TIE,
  );
  let chosen = pick.chosen;
  // One non-power-of-two neighbour of the best size: does this device favour powers of two?
  const nb = Math.round(chosen * 1.5);
  let neighbour: number | undefined;
  // Only with time left for it (the trials' plan counted it; a plan that gave them up did not).
  if (nb <= speed.maxBatch && !timings.has(nb) && s.allowance.left() >= neighbourSeconds(s, chosen, speed.maxBatch)) {
    await timeBatch(s, memory.readings, timings, nb);
    neighbour = timings.has(nb) ? nb : undefined;
    if (neighbour && GOODPUT_TIE * gOf(nb) > gOf(chosen)) chosen = nb;
  }
  if (chosen !== pick.best && gOf(pick.best) > gOf(chosen)) s.reasons.push(goodputTieReason(pick.best, chosen, GOODPUT_TIE));
  s.reasons.push(
    ...goodputReasons({
      chosen,
      saturation: speed.saturation,
      chosenSamplesPerSecond: timings.get(chosen)!.samplesPerSecond,
      phi,
      b0,
      goodput: gOf(chosen),
      timeFit: speed.timeFit,
      optimum: goodputOptimum(speed.timeFit.a, speed.timeFit.b, phi),
    }),
  );
  if (neighbour) {
    const base = Math.round(neighbour / 1.5);
    const xb = timings.get(base)?.samplesPerSecond;
    if (xb) s.reasons.push(neighbourReason(neighbour, timings.get(neighbour)!.samplesPerSecond, base, xb));
  }
  return chosen;
}

/**
 * Without throughput timings (the allowance had no room for them), the batch a previous tuning of
 * this model and dataset chose, else the base batch, within what fits.
 */
function knownBatch(s: SearchContext, maxBatch: number): number {
  const known = s.known?.report.recommendation.batchSize;
  const b = Math.max(s.minBatch, Math.min(known ?? s.request.baseBatchSize, maxBatch));
  s.reasons.push(
    knownBatchReason({ batch: b, from: known !== undefined ? `tuning #${s.known!.sessionId}` : null, clamped: b !== (known ?? s.request.baseBatchSize) }),
  );
  return b;
}
