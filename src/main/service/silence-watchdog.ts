// Tells a trainer that is slow from one that is stuck. A trainer sends a heartbeat every second
// from a timer — but a synchronous step (the wasm and cpu backends run a whole training step
// without yielding; ResNet-18 at 224×224 takes minutes a step there) keeps that timer from
// firing, so silence alone does not mean a hang. While a process is silent, the host samples its
// CPU time (process-cpu.ts):
//   - silent past the timeout and its CPU time did not advance over the last timeout's worth
//     (by more than 1 % of it): stuck — ended;
//   - silent but computing: alive and slow — left alone, up to a hard limit (10× the timeout, or
//     10× the longest silence it has come back from) against a runaway loop, then ended too;
//   - CPU time cannot be read (Windows, or a process the host cannot see): silence alone decides,
//     as it did before.
// Shared by the trainer host (one training job) and the probe host (the search's probes).

/** One reading of the process's CPU time. */
export interface CpuSample {
  /** When it was read (ms, on the watchdog's monotonic clock). */
  at: number;
  cpuSeconds: number;
}

export interface SilenceFacts {
  now: number;
  lastMessageAt: number;
  timeoutMs: number;
  /** The longest silence the process has ended by sending something: a step that long is normal for this job. */
  longestAnsweredSilenceMs: number;
  /** Successful readings, oldest first. */
  samples: readonly CpuSample[];
  /** Whether the latest attempt to read the CPU time worked. */
  cpuReadable: boolean;
}

export type SilenceVerdict =
  | { state: 'talking' }
  /** Silent past the timeout; the readings do not span a whole timeout yet. */
  | { state: 'measuring'; silentMs: number }
  /** Silent past the timeout but using CPU: a long step. */
  | { state: 'computing'; silentMs: number; cpuSeconds: number; windowMs: number }
  | HungVerdict;

export type HungVerdict =
  /** Silent, and no CPU time used over the last timeout's worth: blocked or deadlocked. */
  | { state: 'stuck'; silentMs: number; cpuSeconds: number; windowMs: number }
  /** Silent past the hard limit while computing: a runaway. */
  | { state: 'over-limit'; silentMs: number; cpuSeconds: number; windowMs: number; limitMs: number }
  /** Silent past the timeout, and its CPU time cannot be read. */
  | { state: 'unknown'; silentMs: number };

/** Below this share of one core over the window, a silent process counts as not computing. */
export const MIN_CPU_SHARE = 0.01;
/** A silent stretch longer than this many times the timeout (or the longest answered silence) is a runaway. */
export const BUSY_LIMIT_FACTOR = 10;

export function busyLimitMs(timeoutMs: number, longestAnsweredSilenceMs: number): number {
  return BUSY_LIMIT_FACTOR * Math.max(timeoutMs, longestAnsweredSilenceMs);
}

/** The verdict on a process from what the host has seen of it (pure). */
export function judgeSilence(f: SilenceFacts): SilenceVerdict {
  const silentMs = f.now - f.lastMessageAt;
  if (silentMs <= f.timeoutMs) return { state: 'talking' };
  const latest = f.samples[f.samples.length - 1];
  if (!f.cpuReadable || !latest) return { state: 'unknown', silentMs };
  const baseline = newestAtOrBefore(f.samples, latest.at - f.timeoutMs);
  if (!baseline) return { state: 'measuring', silentMs };
  const windowMs = latest.at - baseline.at;
  const cpuSeconds = latest.cpuSeconds - baseline.cpuSeconds;
  if (cpuSeconds <= (MIN_CPU_SHARE * windowMs) / 1000) return { state: 'stuck', silentMs, cpuSeconds, windowMs };
  const limitMs = busyLimitMs(f.timeoutMs, f.longestAnsweredSilenceMs);
  if (silentMs > limitMs) return { state: 'over-limit', silentMs, cpuSeconds, windowMs, limitMs };
  return { state: 'computing', silentMs, cpuSeconds, windowMs };
}

function newestAtOrBefore(samples: readonly CpuSample[], at: number): CpuSample | undefined {
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i]!.at <= at) return samples[i];
  return undefined;
}

/** What happened, as the end of a sentence whose subject is the process ("the trainer process …"). */
export function describeHang(v: HungVerdict): string {
  const silent = `sent nothing for ${seconds(v.silentMs)} s`;
  switch (v.state) {
    case 'stuck':
      return `${silent} and used no CPU time (${v.cpuSeconds.toFixed(2)} s in the last ${seconds(v.windowMs)} s): it was stuck`;
    case 'over-limit':
      return `${silent} while computing (${v.cpuSeconds.toFixed(1)} s of CPU time in the last ${seconds(v.windowMs)} s), past the limit of ${seconds(v.limitMs)} s for one silent step`;
    case 'unknown':
      return `${silent} (its CPU time cannot be read on this system, so a long step cannot be told from a hang)`;
  }
}

function seconds(ms: number): string {
  return ms >= 10_000 ? String(Math.round(ms / 1000)) : (ms / 1000).toFixed(1);
}

export interface SilenceWatchdogOptions {
  timeoutMs: number;
  /** The process's CPU time in seconds; absent, or resolving undefined, where it cannot be read. */
  cpuSeconds?: () => Promise<number | undefined>;
  /** Called once, when the process should be ended, with the verdict and its description. */
  onHung(verdict: HungVerdict, description: string): void;
}

/**
 * performance.now(): a wall-clock change must not make a process look silent, and on Linux and
 * macOS it does not advance while the machine sleeps — a laptop waking up is not a hang.
 */
const monotonicMs = (): number => performance.now();

/** Watches one process: call heard() on each of its messages, stop() when it has ended. */
export class SilenceWatchdog {
  private lastMessageAt = monotonicMs();
  private longestAnsweredSilenceMs = 0;
  private samples: CpuSample[] = [];
  private cpuReadable: boolean;
  private sampling = false;
  private lastSampleStartedAt = -Infinity;
  private readonly sampleEveryMs: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: SilenceWatchdogOptions) {
    const tickMs = Math.min(1000, options.timeoutMs / 4);
    // Readings a tenth of the timeout apart (12 s by default): a stuck process is ended at most
    // that long after the timeout, and `ps` (macOS) is not started every second.
    this.sampleEveryMs = Math.max(tickMs, options.timeoutMs / 10);
    this.cpuReadable = options.cpuSeconds !== undefined;
    this.sample();
    this.timer = setInterval(() => this.check(), tickMs);
  }

  /** The process sent something. */
  heard(): void {
    const now = monotonicMs();
    this.longestAnsweredSilenceMs = Math.max(this.longestAnsweredSilenceMs, now - this.lastMessageAt);
    this.lastMessageAt = now;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const now = monotonicMs();
    if (now - this.lastSampleStartedAt >= this.sampleEveryMs) this.sample();
    const v = judgeSilence({
      now,
      lastMessageAt: this.lastMessageAt,
      timeoutMs: this.options.timeoutMs,
      longestAnsweredSilenceMs: this.longestAnsweredSilenceMs,
      samples: this.samples,
      cpuReadable: this.cpuReadable,
    });
    if (v.state === 'stuck' || v.state === 'over-limit' || v.state === 'unknown') {
      this.stop();
      this.options.onHung(v, describeHang(v));
    }
  }

  private sample(): void {
    const read = this.options.cpuSeconds;
    if (!read || this.sampling) return;
    this.sampling = true;
    this.lastSampleStartedAt = monotonicMs();
    read().then(
      (cpuSeconds) => {
        this.sampling = false;
        this.cpuReadable = cpuSeconds !== undefined;
        if (cpuSeconds === undefined) return;
        const at = monotonicMs();
        this.samples.push({ at, cpuSeconds });
        // Keep what a verdict can use: the newest reading a whole timeout old, and all after it.
        const keepFrom = this.samples.findLastIndex((s) => s.at <= at - this.options.timeoutMs);
        if (keepFrom > 0) this.samples = this.samples.slice(keepFrom);
      },
      () => {
        this.sampling = false;
        this.cpuReadable = false;
      },
    );
  }
}
