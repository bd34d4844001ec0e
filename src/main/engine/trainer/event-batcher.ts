// Gathers step and epoch metrics and hands them on in batches, at most one batch per
// interval (~10 a second), each carrying every metric since the previous one. The UI and the
// IPC channel stay calm however fast steps come; the stored record still gets every step.
import type { EpochMetrics, StepMetrics } from '../../../shared/run-types.js';

export interface MetricsBatch {
  steps: StepMetrics[];
  epochs: EpochMetrics[];
}

export class EventBatcher {
  private steps: StepMetrics[] = [];
  private epochs: EpochMetrics[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;

  constructor(
    private readonly send: (batch: MetricsBatch) => void,
    private readonly intervalMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {}

  addStep(step: StepMetrics): void {
    this.steps.push(step);
    this.schedule();
  }

  addEpoch(epoch: EpochMetrics): void {
    this.epochs.push(epoch);
    this.schedule();
  }

  /** Sends whatever is pending now (before a terminal message, so nothing is lost). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.steps.length === 0 && this.epochs.length === 0) return;
    const batch = { steps: this.steps, epochs: this.epochs };
    this.steps = [];
    this.epochs = [];
    this.lastFlush = this.now();
    this.send(batch);
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }
}
