// The service's side of an adaptive run (shared/adaptive-batch.ts): the plan from a tuning of the
// run's model and dataset (its time model and the batches it timed that fit), and the controller
// that turns the trainer's noise reports into batch changes — at most one per `minStepsBetween`
// steps, none before the first window after a change has been measured at the new batch.
import { ADAPTIVE_DEFAULTS, adaptiveChange, type AdaptiveChange, type AdaptivePlan } from '../../shared/adaptive-batch.js';
import { minimumBatchForRun } from '../../shared/model-families.js';
import type { TrainConfig } from '../../shared/run-types.js';
import type { TuningSessionRecord } from '../store/tuning.js';

export interface AdaptiveSettings {
  everySteps: number;
  minStepsBetween: number;
  rampSteps: number;
  minGain: number;
}

export const DEFAULT_ADAPTIVE_SETTINGS: AdaptiveSettings = { ...ADAPTIVE_DEFAULTS };

/**
 * The plan from the run's own tuning, else the newest completed tuning of its model and dataset
 * that has a time model; or why there is none.
 */
export function adaptivePlanFor(
  run: { datasetId: number; config: Pick<TrainConfig, 'model' | 'startFrom'> },
  tunings: readonly TuningSessionRecord[],
  ownTuningId: number | null | undefined,
): AdaptivePlan | { problem: string } {
  const usable = (t: TuningSessionRecord) => t.status === 'completed' && t.report?.fits.time && t.report.fits.time.beta > 0;
  const own = ownTuningId != null ? tunings.find((t) => t.id === ownTuningId && usable(t)) : undefined;
  const tuning = own ?? tunings.filter((t) => t.datasetId === run.datasetId && t.model === run.config.model && usable(t)).sort((a, b) => b.id - a.id)[0];
  if (!tuning?.report?.fits.time)
    return {
      problem:
        'an adaptive run needs an Auto-tune of this model and dataset: its throughput curve predicts the speed at other batches (run `autobatch tune` first, or start from a tuning)',
    };
  const min = minimumBatchForRun(run.config.model, run.config.startFrom);
  const ceiling = tuning.report.recommendation.memoryCeiling;
  const candidates = tuning.report.curves
    .filter((p) => p.samplesPerSecond !== undefined && p.batchSize >= min && p.batchSize <= ceiling)
    .map((p) => p.batchSize)
    .sort((a, b) => a - b);
  if (candidates.length === 0) return { problem: `tuning ${tuning.id} timed no batch this run may take` };
  return { alpha: tuning.report.fits.time.alpha, beta: tuning.report.fits.time.beta, candidates, tuningId: tuning.id };
}

/** Decides, window by window, whether an adaptive run's batch should change. */
export class AdaptiveController {
  /** The step of the last change (or the run's start): the next one waits minStepsBetween steps. */
  private lastChange = 0;
  /** A change sent and not yet taken (no second one meanwhile), with the noise scale it was decided on. */
  private pending: { change: AdaptiveChange; noiseScale: number } | null = null;

  constructor(
    private readonly plan: AdaptivePlan,
    private readonly settings: AdaptiveSettings,
    startStep = 0,
  ) {
    this.lastChange = startStep;
  }

  /** The change to send for a noise report at `step`, or null. */
  decide(step: number, noiseScale: number, config: Pick<TrainConfig, 'batchSize' | 'learningRate' | 'optimizer'>): AdaptiveChange | null {
    if (this.pending || step - this.lastChange < this.settings.minStepsBetween) return null;
    const change = adaptiveChange(
      { batch: config.batchSize, learningRate: config.learningRate, optimizer: config.optimizer, noiseScale, minGain: this.settings.minGain },
      this.plan,
    );
    if (change) this.pending = { change, noiseScale };
    return change;
  }

  /** The trainer took the change at `step`: the decision it came from (its gain, and the noise scale it was made on). */
  changed(step: number): { change: AdaptiveChange; noiseScale: number } | null {
    const decided = this.pending;
    this.pending = null;
    this.lastChange = step;
    return decided;
  }
}
