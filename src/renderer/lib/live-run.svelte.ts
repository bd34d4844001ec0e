// One training run as the Train screen follows it: the stored series first (so a reload or a
// reopened window shows everything so far), then the live events. Events that arrive while the
// stored series load are held and applied after them, skipping steps already loaded. The charts
// redraw at most 10 times a second however fast the steps come.
import type { Api, RunSummary, SeriesPoint } from '../api/index.js';
import type { BackendReport, StepMetrics } from '../../shared/run-types.js';
import { AlignedSeries, throttledRedraw } from './aligned-series.js';
import type { StepMark } from './charts.js';
import { eventMarks } from './run-events.js';

type MetricsEvent = { runId: number; steps: StepMetrics[]; epochs: { step: number; valLoss: number; valAccuracy: number }[] };

const FINAL = new Set(['completed', 'stopped', 'failed', 'interrupted']);

export class LiveRun {
  run = $state<RunSummary | null>(null);
  backend = $state<BackendReport | null>(null);
  lastStep = $state<StepMetrics | null>(null);
  error = $state<string | null>(null);
  /** Bumped (throttled) whenever the chart columns changed. */
  revision = $state(0);
  /** Where each attempt began (a resume, an out-of-memory step-down), marked on the charts. */
  marks = $state<StepMark[]>([]);
  readonly loss = new AlignedSeries(2); // train, validation
  readonly accuracy = new AlignedSeries(2);

  private readonly offs: (() => void)[] = [];
  private held: MetricsEvent[] | null = [];
  private readonly redraw = throttledRedraw(() => this.revision++, 100);

  constructor(
    private readonly api: Api,
    readonly runId: number,
  ) {
    this.offs.push(
      api.on('run-metrics', (e) => {
        if (e.runId !== runId) return;
        if (this.held) this.held.push(e);
        else this.apply(e);
      }),
      api.on('run-status', (e) => {
        if (e.runId !== runId) return;
        const was = this.run?.status;
        if (this.run) this.run = { ...this.run, status: e.status, ...(e.error ? { error: e.error } : {}) };
        if (FINAL.has(e.status)) void this.refreshSummary();
        // Queued again while running: out of memory, and the run goes on from its checkpoint with the
        // steps after it set apart — the stored series (and the new event) are read again.
        if (e.status === 'queued' && was === 'running') this.reload();
      }),
      api.on('run-backend', (e) => {
        if (e.runId === runId) this.backend = e.report;
      }),
    );
    void this.load();
  }

  get status(): string {
    return this.run?.status ?? 'loading';
  }

  get isLive(): boolean {
    return this.run !== null && (this.run.status === 'queued' || this.run.status === 'running');
  }

  private reload(): void {
    this.loss.clear();
    this.accuracy.clear();
    this.lastStep = null;
    this.held = [];
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const detail = await this.api.getRun({ runId: this.runId, maxPoints: 2000, misclassifiedLimit: 0 });
      this.run = detail.run;
      this.marks = eventMarks(detail.events);
      if (detail.run.backend && detail.run.device) this.backend = { name: detail.run.backend, device: detail.run.device, skipped: detail.run.backendSkipped };
      const put = (target: AlignedSeries, s: number, points: SeriesPoint[] | undefined) => {
        for (const p of points ?? []) target.set(s, p.step, p.value);
      };
      put(this.loss, 0, detail.series.loss);
      put(this.accuracy, 0, detail.series.accuracy);
      // Validation per epoch: the stored epochs are exact (never down-sampled).
      for (const e of detail.epochs) {
        this.loss.set(1, e.step, e.valLoss);
        this.accuracy.set(1, e.step, e.valAccuracy);
      }
      const last = Math.max(this.loss.lastX() ?? 0, this.accuracy.lastX() ?? 0);
      const sps = detail.series.samples_per_s?.at(-1);
      const mem = detail.series.memory_bytes?.at(-1);
      if (last > 0 && sps) {
        this.lastStep = {
          step: last,
          epoch: sps.epoch,
          time: sps.time,
          loss: NaN,
          accuracy: NaN,
          samplesPerSecond: sps.value,
          stepMs: NaN,
          memoryBytes: mem?.value ?? NaN,
          learningRate: NaN,
        };
      }
      const held = this.held ?? [];
      this.held = null;
      for (const e of held) this.apply(e, last);
      this.redraw.request();
    } catch (err) {
      this.held = null;
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  private apply(e: MetricsEvent, after = -Infinity): void {
    for (const s of e.steps) {
      if (s.step <= after) continue;
      this.loss.set(0, s.step, s.loss);
      this.accuracy.set(0, s.step, s.accuracy);
    }
    for (const ep of e.epochs) {
      this.loss.set(1, ep.step, ep.valLoss);
      this.accuracy.set(1, ep.step, ep.valAccuracy);
    }
    const last = e.steps.at(-1);
    if (last && (!this.lastStep || last.step >= this.lastStep.step)) this.lastStep = last;
    if (this.run && this.run.status === 'queued' && e.steps.length) this.run = { ...this.run, status: 'running' };
    this.redraw.request();
  }

  private async refreshSummary(): Promise<void> {
    try {
      const detail = await this.api.getRun({ runId: this.runId, maxPoints: 10, misclassifiedLimit: 0 });
      this.run = detail.run;
    } catch {
      // The status event already said how it ended; the summary can wait for the next visit.
    }
  }

  dispose(): void {
    this.redraw.cancel();
    for (const off of this.offs) off();
  }
}
