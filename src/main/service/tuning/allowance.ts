// The search's time allowance (docs/architecture.md §5.11): a share of the planned run, from the
// user's time budget or predicted from the first throughput figure; what each remaining probe is
// estimated to cost; and which probes were shortened or skipped to stay within it.
import { CUT_LABELS, fitProbes, plannedRunSeconds, SEARCH_SHARE, type Cut, type CuttableProbe, type WantedProbe } from '../../../shared/search-budget.js';
import type { SearchAllowanceReport, TuningMode } from '../../../shared/tuning-types.js';
import { formatDuration } from '../../../shared/format.js';

export interface AllowanceSetup {
  mode: TuningMode;
  /** Seconds since an arbitrary origin (performance.now()/1000, or a test's virtual clock). */
  clock: () => number;
  /** When the search started, on that clock. */
  startedAt: number;
  /** The user's time budget for the run, in seconds; absent: predicted from the planned epochs. */
  budgetSeconds?: number;
  plannedEpochs: number;
  trainCount: number;
  validationCount: number;
}

export class SearchAllowance {
  readonly share: number;
  private plannedSeconds: number | null;
  private readonly plannedFrom: 'your budget' | 'predicted';
  /** The cuts applied, in the order the phases applied them. */
  readonly cuts: Cut[] = [];
  /** Seconds the trainer took to start (set once it has). */
  startupSeconds = 0;
  /** Seconds spent when the memory probes were done: the shortest search there is. */
  private shortestSeconds: number | undefined;

  constructor(private readonly o: AllowanceSetup) {
    this.share = SEARCH_SHARE[o.mode];
    this.plannedSeconds = o.budgetSeconds ?? null;
    this.plannedFrom = o.budgetSeconds !== undefined ? 'your budget' : 'predicted';
  }

  /** Seconds spent so far. */
  spent(): number {
    return this.o.clock() - this.o.startedAt;
  }

  /**
   * Predicts the planned run's time from a throughput figure (the best known so far); a time
   * budget the user gave stands instead.
   */
  predict(samplesPerSecond: number): void {
    if (this.plannedFrom === 'your budget' || !(samplesPerSecond > 0)) return;
    const { plannedEpochs: epochs, trainCount, validationCount } = this.o;
    this.plannedSeconds = plannedRunSeconds({ epochs, trainCount, validationCount, samplesPerSecond });
  }

  /** The memory phase is done: the shortest search is spent, and the planned run is predicted from its step times. */
  memoryDone(samplesPerSecond: number): void {
    this.shortestSeconds = this.spent();
    this.predict(samplesPerSecond);
  }

  /** The planned run's seconds; null until known. */
  plannedRunSeconds(): number | null {
    return this.plannedSeconds;
  }

  /** The seconds the search may spend in all; Infinity until the planned run's time is known. */
  allowance(): number {
    return this.plannedSeconds === null ? Infinity : this.share * this.plannedSeconds;
  }

  /** Seconds left of the allowance (negative when over; Infinity until the planned run is known). */
  left(): number {
    return this.allowance() - this.spent();
  }

  /** What the remaining probes are granted (0: skip), without applying anything yet. */
  grants(wanted: readonly WantedProbe[]): Map<CuttableProbe, number> {
    return fitProbes(this.allowance() - this.spent(), wanted).granted;
  }

  /**
   * The grant for `probe` among the remaining `wanted` (the probes of this phase and the phases
   * after it, each at its estimate), recorded as a cut when it is shortened or skipped.
   */
  grant(probe: CuttableProbe, wanted: readonly WantedProbe[]): number {
    const { granted, cuts } = fitProbes(this.allowance() - this.spent(), wanted);
    const cut = cuts.find((c) => c.probe === probe);
    if (cut) this.cuts.push({ ...cut, wanted: round3(cut.wanted), granted: round3(cut.granted) });
    return granted.get(probe) ?? 0;
  }

  /** Records a probe skipped for a reason of its own kind (e.g. reused from a previous tuning). */
  skip(probe: CuttableProbe, wanted: number): void {
    this.cuts.push({ probe, how: 'skipped', wanted: round3(wanted), granted: 0 });
  }

  report(): SearchAllowanceReport {
    return {
      share: this.share,
      plannedSeconds: this.plannedSeconds === null ? null : round3(this.plannedSeconds),
      plannedFrom: this.plannedFrom,
      allowanceSeconds: Number.isFinite(this.allowance()) ? round3(this.allowance()) : null,
      startupSeconds: round3(this.startupSeconds),
      spentSeconds: round3(this.spent()),
      ...(this.shortestSeconds !== undefined ? { shortestSeconds: round3(this.shortestSeconds) } : {}),
      cuts: this.cuts,
    };
  }
}

const round3 = (x: number) => Number(x.toFixed(3));

/** The report's sentence on the allowance: what it was, and what was cut to keep to it. */
export function allowanceReason(a: SearchAllowanceReport): string {
  if (a.plannedSeconds === null || a.allowanceSeconds === null) return '';
  const pct = Math.round(a.share * 100);
  const planned = `${a.plannedFrom === 'your budget' ? 'your' : 'the predicted'} ${formatDuration(a.plannedSeconds)} run`;
  const head = `The search may spend ${pct} % of ${planned}: ${formatDuration(a.allowanceSeconds)} (starting the trainer took ${formatDuration(a.startupSeconds)})`;
  if (a.cuts.length === 0) return `${head}; it spent ${formatDuration(a.spentSeconds)}, with nothing cut.`;
  const cuts = a.cuts.map(
    (c) => `${CUT_LABELS[c.probe]} ${c.how}${c.how === 'shortened' ? ` to ${formatDuration(c.granted)}` : ''} (${formatDuration(c.wanted)} wanted)`,
  );
  return `${head}; to keep to it, ${cuts.join('; ')}. It spent ${formatDuration(a.spentSeconds)}.`;
}
