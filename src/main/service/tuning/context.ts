// What the phases of the batch-size search share: the request, the dataset's size, the backend
// and memory budget, the prober, the report's reasons so far, and the bookkeeping of every probe
// (stored as a trial, announced, counted for the progress estimate; stopping takes effect here,
// between probes).
import { minimumBatchForRun } from '../../../shared/model-families.js';
import type { BackendReport } from '../../../shared/run-types.js';
import type { TrialKind, TrialRecord, TrialStatus, TuningProgress, TuningReport, TuningRequest } from '../../../shared/tuning-types.js';
import type { ProbeAnswer, Prober } from './prober.js';
import type { SearchAllowance } from './allowance.js';
import { CostEstimate } from './cost-estimate.js';

export class TuningStoppedError extends Error {
  constructor() {
    super('the search was stopped');
  }
}

/** Where the search's trials are kept for its session. A trial added again under its seq replaces it. */
export interface TrialStore {
  setBackend(backend: BackendReport, budgetBytes: number): void;
  addTrial(trial: TrialRecord): void;
}

/** What the search tells its caller as it goes, and asks it. */
export interface SearchHooks {
  shouldStop(): boolean;
  onProgress(p: TuningProgress): void;
  onTrial(t: TrialRecord): void;
  onBackend(r: BackendReport): void;
}

/** The memory budget M and where it comes from, in plain words. */
export interface Budget {
  bytes: number;
  source: string;
}

export interface SearchSetup {
  prober: Prober;
  request: TuningRequest;
  sessionId: number;
  /** Training and validation samples of the dataset. */
  trainCount: number;
  validationCount: number;
  backend: BackendReport;
  budget: Budget;
  hooks: SearchHooks;
  trials: TrialStore;
  allowance: SearchAllowance;
  known?: KnownTuning;
}

/** What a previous tuning of the same model and dataset on the same engine found (it stands in for probes the allowance has no room for). */
export interface KnownTuning {
  sessionId: number;
  /** Its base rate, at this search's base batch; null when it found none. */
  baseRate: number | null;
  /** Its report and the backend it ran on (a search too short to start stands on them). */
  report: TuningReport;
  backend: BackendReport;
}

const round = (x: number, digits = 0) => Number(x.toFixed(digits));

function statusOf(answer: ProbeAnswer): TrialStatus {
  if (answer.ok) return 'ok';
  return answer.cause === 'oom' || answer.cause === 'diverged' || answer.cause === 'error' ? answer.cause : 'crashed';
}

export class SearchContext {
  readonly prober: Prober;
  readonly request: TuningRequest;
  readonly trainCount: number;
  readonly validationCount: number;
  /** Whether the dataset has a validation split: without one, trials report no validation loss. */
  readonly validated: boolean;
  readonly backend: BackendReport;
  readonly budget: Budget;
  /**
   * No batch below this is timed, tried or recommended: a batch-norm model's floor
   * (MIN_BATCH_NORM_BATCH), 1 otherwise.
   */
  readonly minBatch: number;
  /** No batch above this: at least ~20 steps per epoch (docs/architecture.md §5.2), but never below minBatch while the dataset holds that many. */
  readonly cap: number;
  /** Whether the cap was raised to minBatch, giving fewer than ~20 steps per epoch. */
  readonly capRaised: boolean;
  /** The report's sentences, in the order the phases found them. */
  readonly reasons: string[] = [];
  /** What the search may spend, and what it cut. */
  readonly allowance: SearchAllowance;
  /** Step times and per-probe overhead, for what the remaining probes will cost. */
  readonly estimate = new CostEstimate();
  readonly known: KnownTuning | undefined;
  private seq = 0;
  private readonly probeSeconds: number[] = [];
  private plannedLeft = 0;

  constructor(private readonly setup: SearchSetup) {
    this.prober = setup.prober;
    this.request = setup.request;
    this.trainCount = setup.trainCount;
    this.validationCount = setup.validationCount;
    this.validated = setup.validationCount > 0;
    this.backend = setup.backend;
    this.budget = setup.budget;
    this.allowance = setup.allowance;
    this.known = setup.known;
    this.minBatch = minimumBatchForRun(setup.request.model, setup.request.startFrom);
    const cap = Math.max(1, Math.floor(setup.trainCount / 20));
    // The batch-norm floor outranks the 20-steps wish; a dataset smaller than the floor leaves the
    // cap below it, and the memory phase then ends the search.
    this.cap = Math.max(cap, Math.min(this.minBatch, setup.trainCount));
    this.capRaised = this.cap > cap;
  }

  /** The probes this phase (and what follows it) still plans, for the time estimate. */
  plan(probes: number): void {
    this.plannedLeft = probes;
  }

  /** Announces the next probe. */
  progress(phase: TuningProgress['phase'], batchSize: number | null, message: string): void {
    const s = this.probeSeconds;
    const avg = s.length ? s.reduce((a, b) => a + b, 0) / s.length : null;
    this.setup.hooks.onProgress({
      sessionId: this.setup.sessionId,
      phase,
      trial: this.seq + 1,
      batchSize,
      etaSeconds: avg === null ? null : round(avg * Math.max(this.plannedLeft, 0), 1),
      message,
    });
  }

  /**
   * Runs one probe (unless a stop was asked for: then TuningStoppedError) and stores it as a trial,
   * whatever its outcome.
   */
  async probe(
    kind: TrialKind,
    batchSize: number,
    learningRate: number | null,
    ask: (prober: Prober) => Promise<ProbeAnswer>,
  ): Promise<{ answer: ProbeAnswer; trial: TrialRecord }> {
    if (this.setup.hooks.shouldStop()) throw new TuningStoppedError();
    const seq = ++this.seq;
    const answer = await ask(this.prober);
    this.probeSeconds.push(answer.seconds);
    this.plannedLeft--;
    const trial: TrialRecord = {
      seq,
      kind,
      batchSize,
      learningRate,
      status: statusOf(answer),
      result: answer.ok ? { ...answer.result } : {},
      cause: answer.ok ? null : answer.message,
      seconds: answer.seconds,
    };
    this.setup.trials.addTrial(trial);
    this.setup.hooks.onTrial(trial);
    return { answer, trial };
  }

  /** Stores a trial again, flagged after the fact (a validation trial judged diverged or worse). */
  restamp(trial: TrialRecord): void {
    this.setup.trials.addTrial(trial);
  }
}
