// The host side of a probe session: one trainer process answering one probe at a time. When
// the process dies on a probe — out of memory, a native crash, a hang — that probe's outcome
// says so, and the next start() brings up a fresh process for the rest of the search.
import type { BackendReport } from '../../shared/run-types.js';
import { looksLikeOutOfMemory } from '../../shared/failure-text.js';
import { probeTrainerMessageSchema, type ProbeRequest, type ProbeResult, type ProbeSession } from '../../shared/probe-protocol.js';
import { describeSchemaError } from '../../shared/schema-errors.js';
import { trainerMessageSchema } from '../../shared/trainer-protocol.js';
import { forkSpawner, type TrainerProcess, type TrainerSpawner } from './trainer-host.js';
import { SilenceWatchdog } from './silence-watchdog.js';

export type ProbeOutcome =
  | { ok: true; result: ProbeResult; seconds: number }
  | { ok: false; cause: 'oom' | 'crashed' | 'hung' | 'error' | 'diverged'; message: string; seconds: number; processDied: boolean };

interface Pending {
  id: number;
  resolve(o: ProbeOutcome): void;
  started: number;
}

export class ProbeHost {
  private child: TrainerProcess | undefined;
  private alive = false;
  private pending: Pending | undefined;
  private backendWaiter: { resolve(r: BackendReport): void; reject(e: Error): void } | undefined;
  private watchdog: SilenceWatchdog | undefined;
  private exitWaiters: (() => void)[] = [];
  /** How many processes this session has started (1 + replacements). */
  processesStarted = 0;

  constructor(
    private readonly session: ProbeSession,
    /** heartbeatTimeoutMs: how long a silent process may go without using CPU before it is ended (silence-watchdog.ts). */
    private readonly options: { spawn?: TrainerSpawner; heartbeatTimeoutMs?: number; startTimeoutMs?: number } = {},
  ) {}

  get running(): boolean {
    return this.alive;
  }

  /** Starts a trainer process for the session; resolves with its backend report. */
  start(): Promise<BackendReport> {
    if (this.alive) throw new Error('probe session already running');
    const child = (this.options.spawn ?? forkSpawner)();
    this.child = child;
    this.alive = true;
    this.processesStarted++;
    this.watchdog = new SilenceWatchdog({
      timeoutMs: this.options.heartbeatTimeoutMs ?? 120_000,
      cpuSeconds: child.cpuSeconds?.bind(child),
      onHung: (_verdict, description) => {
        const message = `the probe process ${description} and was ended`;
        this.backendWaiter?.reject(new Error(message));
        this.backendWaiter = undefined;
        this.settle({ ok: false, cause: 'hung', message, processDied: true });
        child.kill('SIGKILL');
      },
    });
    child.onMessage((raw) => this.handle(raw));
    child.onExit((code, signal) => this.handleExit(code, signal));
    child.send({ type: 'start-probes', session: this.session });
    return new Promise((resolve, reject) => {
      this.backendWaiter = { resolve, reject };
    });
  }

  /**
   * Runs one probe; never rejects — a failure is an outcome. After any failure the process is ended
   * (docs/architecture.md §5.1: replaced after any failure): a backend that failed an allocation
   * midway may hold memory it never gives back, which would make every later probe look worse. The
   * next start() brings up a fresh one.
   */
  async run(request: ProbeRequest): Promise<ProbeOutcome> {
    const outcome = await this.runInProcess(request);
    if (!outcome.ok && this.alive) await this.close();
    return outcome;
  }

  private runInProcess(request: ProbeRequest): Promise<ProbeOutcome> {
    if (!this.alive || !this.child) {
      return Promise.resolve({ ok: false, cause: 'crashed', message: 'the probe process is not running', seconds: 0, processDied: true });
    }
    if (this.pending) throw new Error('one probe at a time');
    const child = this.child;
    return new Promise((resolve) => {
      this.pending = { id: request.id, resolve, started: performance.now() };
      child.send({ type: 'probe', request });
    });
  }

  /** Ends the session's process (politely, then firmly). */
  async close(): Promise<void> {
    if (!this.alive || !this.child) return;
    const child = this.child;
    const exited = new Promise<void>((r) => this.exitWaiters.push(r));
    child.send({ type: 'end' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  private handle(raw: unknown): void {
    this.watchdog?.heard();
    const type = (raw as { type?: unknown } | null)?.type;
    if (type === 'probe-result' || type === 'probe-failed') {
      const parsed = probeTrainerMessageSchema.safeParse(raw);
      if (!parsed.success) {
        this.settle({ ok: false, cause: 'error', message: `invalid probe answer: ${describeSchemaError(parsed.error)}`, processDied: false });
        return;
      }
      const msg = parsed.data;
      if (!this.pending || msg.id !== this.pending.id) return; // a late answer to a probe already settled
      if (msg.type === 'probe-result') this.settle({ ok: true, result: msg.result });
      else this.settle({ ok: false, cause: msg.cause, message: msg.message, processDied: false });
      return;
    }
    const parsed = trainerMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if (msg.type === 'backend') {
      this.backendWaiter?.resolve(msg.report);
      this.backendWaiter = undefined;
    } else if (msg.type === 'failed') {
      this.backendWaiter?.reject(new Error(msg.message));
      this.backendWaiter = undefined;
      this.settle({ ok: false, cause: msg.cause === 'oom' ? 'oom' : 'error', message: msg.message, processDied: false });
    }
  }

  private handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.alive = false;
    this.watchdog?.stop();
    const tail = this.child?.stderrTail?.() ?? '';
    const oom = looksLikeOutOfMemory(tail);
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    const message = `the probe process ${how}${oom ? ' — it ran out of memory' : ''}`;
    this.backendWaiter?.reject(new Error(`${message}${tail ? `: ${tail.trim().split('\n').pop()}` : ''}`));
    this.backendWaiter = undefined;
    // SIGKILL during a probe is most often the kernel's out-of-memory killer.
    this.settle({ ok: false, cause: oom || signal === 'SIGKILL' ? 'oom' : 'crashed', message, processDied: true });
    for (const w of this.exitWaiters.splice(0)) w();
  }

  private settle(
    o: { ok: true; result: ProbeResult } | { ok: false; cause: 'oom' | 'crashed' | 'hung' | 'error' | 'diverged'; message: string; processDied: boolean },
  ): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    p.resolve({ ...o, seconds: (performance.now() - p.started) / 1000 } as ProbeOutcome);
  }
}
