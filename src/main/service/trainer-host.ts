// The host side of a trainer process: starts it, hands it one job, checks every message it
// sends, watches its heartbeat, and turns however it ends — done, failed, killed, hung — into
// one outcome. Under Node it forks; the Electron shell passes a spawner over utilityProcess.
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { BackendReport, EpochMetrics, StepMetrics } from '../../shared/run-types.js';
import type { CheckpointReason } from '../../shared/checkpoint.js';
import { describeSchemaError } from '../../shared/schema-errors.js';
import { looksLikeOutOfMemory } from '../../shared/failure-text.js';
import { CrashOutput } from './crash-output.js';
import { processCpuSeconds } from './process-cpu.js';
import { SilenceWatchdog } from './silence-watchdog.js';
import {
  trainerMessageSchema,
  type TrainerMessage,
  type Evaluation,
  type FailureCause,
  type FailurePhase,
  type HostMessage,
  type RunSummary,
  type TrainJob,
} from '../../shared/trainer-protocol.js';
import type { ProbeHostMessage } from '../../shared/probe-protocol.js';

/** What the host needs of a child process, whichever API made it. */
export interface TrainerProcess {
  readonly pid: number | undefined;
  send(msg: HostMessage | ProbeHostMessage): void;
  kill(signal?: NodeJS.Signals): void;
  onMessage(cb: (msg: unknown) => void): void;
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** The end of what the process wrote to stderr, for the message when it crashes. */
  stderrTail?(): string;
  /**
   * The CPU time the process has used, in seconds (process-cpu.ts), which tells a trainer busy on
   * a long synchronous step from a stuck one (silence-watchdog.ts). Absent, or undefined, where
   * it cannot be read: then silence alone decides.
   */
  cpuSeconds?(): Promise<number | undefined>;
}
export type TrainerSpawner = () => TrainerProcess;

export const TRAINER_ENTRY = fileURLToPath(new URL('../engine/trainer/trainer-main.js', import.meta.url));

/** Forks `entry`: the trainer, or in tests a stand-in that speaks its protocol. */
function forkEntry(entry: string, args: string[]): TrainerProcess {
  const child = fork(entry, args, {
    // The trainer talks only over IPC: whatever tfjs or Dawn print must not reach the CLI's
    // stdout (where --json prints its one document).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [],
    // Structured clone, as Electron's utilityProcess uses: keeps NaN and Infinity, which JSON turns into null.
    serialization: 'advanced',
  });
  // Keep the trainer's output (tfjs and Dawn warnings) out of the user's terminal, but keep
  // its tail for the failure message when it crashes.
  const output = new CrashOutput();
  child.stderr?.on('data', output.stream());
  child.stdout?.on('data', output.stream());
  // Without a listener, an 'error' (a failed send or kill) would be thrown in the host.
  child.on('error', () => undefined);
  return {
    stderrTail: () => output.text(),
    get pid() {
      return child.pid;
    },
    send: (msg) => {
      // A trainer that has just died closes the channel under us (EPIPE): its exit, reported by
      // onExit, is what counts — a failed send must not throw into the host.
      if (!child.connected) return;
      try {
        child.send(msg, (err) => void err);
      } catch {
        // see above
      }
    },
    kill: (signal) => {
      child.kill(signal);
    },
    onMessage: (cb) => child.on('message', cb),
    onExit: (cb) => child.on('exit', cb),
    cpuSeconds: () => processCpuSeconds(child.pid),
  };
}

export const forkSpawner: TrainerSpawner = () => forkEntry(TRAINER_ENTRY, []);
export const createForkSpawner =
  (entry: string, args: string[] = []): TrainerSpawner =>
  () =>
    forkEntry(entry, args);

/** Signals a process raises against itself when it crashes (abort, bad memory access…). */
const CRASH_SIGNALS = new Set<NodeJS.Signals>(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGTRAP', 'SIGFPE']);

export type JobOutcome =
  | { status: 'completed' | 'stopped'; summary?: RunSummary; artifact?: { path: string; bytes: number }; evaluation?: Evaluation }
  | { status: 'failed'; cause: FailureCause | 'crashed' | 'hung'; message: string; summary?: RunSummary; phase?: FailurePhase }
  | { status: 'interrupted'; message: string };

interface TrainerHostEvents {
  backend: [BackendReport];
  metrics: [{ steps: StepMetrics[]; epochs: EpochMetrics[] }];
  checkpoint: [{ step: number; epoch: number; reason: CheckpointReason; dir: string }];
  /** An adaptive run's noise scale over its last window. */
  noise: [Extract<TrainerMessage, { type: 'noise' }>];
  /** An adaptive run's batch change took effect. */
  'batch-changed': [Extract<TrainerMessage, { type: 'batch-changed' }>];
  end: [JobOutcome];
}

interface TrainerHostOptions {
  spawn?: TrainerSpawner;
  /** Declare the trainer hung after this long without any message, unless it is computing (silence-watchdog.ts). */
  heartbeatTimeoutMs?: number;
  /** After a stop request, kill the trainer if it has not finished within this time (default: 0.9 s, or 20 s for a job that writes a checkpoint at its stop). */
  stopGraceMs?: number;
}

export class TrainerHost extends EventEmitter<TrainerHostEvents> {
  private readonly child: TrainerProcess;
  private ended = false;
  private stopRequested = false;
  private terminal: JobOutcome | undefined;
  private readonly watchdog: SilenceWatchdog;
  private stopTimer: NodeJS.Timeout | undefined;
  private readonly stopGraceMs: number;
  readonly done: Promise<JobOutcome>;

  constructor(job: TrainJob, options: TrainerHostOptions = {}) {
    super();
    this.stopGraceMs = options.stopGraceMs ?? (job.checkpoints ? 20_000 : 900);
    const heartbeatTimeout = options.heartbeatTimeoutMs ?? 120_000;
    this.done = new Promise((resolve) => this.once('end', resolve));
    const child = (options.spawn ?? forkSpawner)();
    this.child = child;
    this.watchdog = new SilenceWatchdog({
      timeoutMs: heartbeatTimeout,
      cpuSeconds: child.cpuSeconds?.bind(child),
      onHung: (_verdict, description) => {
        this.finish({ status: 'failed', cause: 'hung', message: `the trainer process ${description} and was ended` });
        child.kill('SIGKILL');
      },
    });
    child.onMessage((raw) => this.handle(raw));
    child.onExit((code, signal) => this.handleExit(code, signal));
    this.child.send({ type: 'start', job });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the trainer to stop after its current step; kills it if that takes too long. */
  stop(): void {
    if (this.ended || this.stopRequested) return;
    this.stopRequested = true;
    this.child.send({ type: 'stop' });
    this.stopTimer = setTimeout(() => {
      if (this.ended) return;
      this.child.kill('SIGKILL');
    }, this.stopGraceMs);
  }

  /** An adaptive run's new batch and rate, taken by the trainer before its next step. */
  setBatch(change: { batchSize: number; learningRate: number; rampSteps: number }): void {
    if (this.ended || this.stopRequested) return;
    this.child.send({ type: 'set-batch', ...change });
  }

  /** Ends the trainer at once (host shutting down). */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  private handle(raw: unknown): void {
    this.watchdog.heard();
    if (this.ended) return;
    const parsed = trainerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.finish({ status: 'failed', cause: 'error', message: `the trainer sent an invalid message: ${describeSchemaError(parsed.error)}` });
      this.child.kill('SIGKILL');
      return;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'ready':
      case 'heartbeat':
        return;
      case 'backend':
        this.emit('backend', msg.report);
        return;
      case 'metrics':
        this.emit('metrics', { steps: msg.steps, epochs: msg.epochs });
        return;
      case 'checkpoint':
        this.emit('checkpoint', { step: msg.step, epoch: msg.epoch, reason: msg.reason, dir: msg.dir });
        return;
      case 'noise':
      case 'batch-changed':
        this.emit(msg.type, msg as never);
        return;
      case 'done':
        // The process exits right after; the outcome is final once it has.
        this.terminal = { status: msg.status, summary: msg.summary, artifact: msg.artifact, evaluation: msg.evaluation };
        return;
      case 'failed':
        this.terminal = { status: 'failed', cause: msg.cause, message: msg.message, summary: msg.summary, ...(msg.phase ? { phase: msg.phase } : {}) };
        return;
    }
  }

  private handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.terminal) return this.finish(this.terminal);
    if (this.stopRequested) {
      return this.finish({ status: 'stopped' }); // killed after the grace period: the stored metrics are the summary
    }
    // Killed from outside (the user, the kernel's OOM killer, a test): interrupted. A signal the
    // process raised itself (V8 aborts with SIGABRT when its heap is exhausted; a native crash)
    // is a failure of the run, with its cause.
    if (signal && !CRASH_SIGNALS.has(signal)) {
      return this.finish({ status: 'interrupted', message: `the trainer process was killed (${signal})` });
    }
    const tail = this.child.stderrTail?.() ?? '';
    const hint = looksLikeOutOfMemory(tail) ? ' — it ran out of memory' : '';
    if (signal) {
      return this.finish({
        status: 'failed',
        cause: hint ? 'oom' : 'crashed',
        message: `the trainer process crashed (${signal})${hint}${tail ? `: ${hint ? oomLine(tail) : lastLine(tail)}` : ''}`,
      });
    }
    this.finish({
      status: 'failed',
      cause: hint ? 'oom' : 'crashed',
      message: `the trainer process exited with code ${code}${hint}${tail ? `: ${lastLine(tail)}` : ''}`,
    });
  }

  private finish(outcome: JobOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.watchdog.stop();
    if (this.stopTimer) clearTimeout(this.stopTimer);
    this.emit('end', outcome);
  }
}

/** The line of a crash report that says it ran out of memory (V8 prints a native stack after it). */
function oomLine(text: string): string {
  const line = text
    .split('\n')
    .reverse()
    .find((l) => looksLikeOutOfMemory(l));
  return (line ?? lastLine(text)).trim().slice(0, 300);
}

function lastLine(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l.trim() && !/^\s+at /.test(l));
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
