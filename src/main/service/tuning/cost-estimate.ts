// What a probe will cost, for the time allowance (docs/architecture.md §5.11): a step-time line
// t(B) = a + b·B, first from the memory probes' single steps, then from the throughput timings;
// and the fixed cost of a probe around its steps (the round trip to the trainer, restoring the
// initial weights), read from the memory probes.
import { fitLine } from '../../../shared/tuner-math.js';

/** Before any probe has run: 50 ms a step, 50 ms a probe (replaced by the first measurements). */
const UNKNOWN_SECONDS = 0.05;

export class CostEstimate {
  private line: { a: number; b: number } | null = null;
  private readonly overheads: number[] = [];

  /** A probe that took `seconds` in all around steps that took `stepSeconds`. */
  addProbe(seconds: number, stepSeconds: number): void {
    if (Number.isFinite(seconds) && Number.isFinite(stepSeconds)) this.overheads.push(Math.max(0, seconds - stepSeconds));
  }

  /** The step-time line through (batch, seconds) points; one point gives a line through the origin. */
  fitSteps(points: readonly { batchSize: number; seconds: number }[]): void {
    const ok = points.filter((p) => p.seconds > 0 && Number.isFinite(p.seconds));
    if (ok.length === 0) return;
    if (ok.length === 1) {
      this.line = { a: 0, b: ok[0]!.seconds / ok[0]!.batchSize };
      return;
    }
    const fit = fitLine(
      ok.map((p) => p.batchSize),
      ok.map((p) => p.seconds),
    );
    // A negative slope or intercept is noise: never predict a step cheaper than one measured.
    this.line = { a: Math.max(0, fit.a), b: Math.max(0, fit.b) };
  }

  /** Seconds of one training step at batch b. */
  stepSeconds(b: number): number {
    if (!this.line) return UNKNOWN_SECONDS;
    return Math.max(1e-5, this.line.a + this.line.b * b);
  }

  /** Samples per second at batch b. */
  samplesPerSecond(b: number): number {
    return b / this.stepSeconds(b);
  }

  /** Seconds a probe costs beyond its steps: the median measured. */
  get overhead(): number {
    if (this.overheads.length === 0) return UNKNOWN_SECONDS;
    const sorted = [...this.overheads].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)]!;
  }
}
