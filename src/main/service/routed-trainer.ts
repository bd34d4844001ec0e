// A trainer process whose engine is chosen when its job arrives. startTraining must answer with
// the run id at once, but which trainer to start (tfjs's forked Node process, or the user's
// Python) depends on the backend the job resolves to, which may need a detection first
// (backend-resolver.ts). This stands in for the process meanwhile: the TrainerHost talks to it
// as to any other; its 'start' waits for the route, a stop or kill before the real process
// exists ends the job as that process's end would (stopped, interrupted), and the real
// process's backend report gets the host's rung and skips.
import type { HostMessage } from '../../shared/trainer-protocol.js';
import type { ProbeHostMessage } from '../../shared/probe-protocol.js';
import type { BackendSkip, ConcreteBackend } from '../../shared/run-types.js';
import type { TrainJob } from '../../shared/trainer-protocol.js';
import type { TrainerProcess, TrainerSpawner } from './trainer-host.js';
import { mergeSkips } from './backend-detect.js';

/** Where a job goes: the spawner to start, the job as that trainer gets it, and the host's part of the report. */
export type Route =
  | { ok: true; spawn: TrainerSpawner; job: TrainJob; rung?: ConcreteBackend; skipped: BackendSkip[] }
  /** No trainer can take it: the job fails with this cause and message. */
  | { ok: false; cause: 'backend' | 'error'; message: string };

export type Router = (job: TrainJob) => Promise<Route>;

/** How often the stand-in says it is alive while the route is worked out (the host's watchdog listens for silence). */
const ROUTING_HEARTBEAT_MS = 50;

export function routedSpawner(router: Router): TrainerSpawner {
  return () => new RoutedProcess(router);
}

type MessageCb = (msg: unknown) => void;
type ExitCb = (code: number | null, signal: NodeJS.Signals | null) => void;

class RoutedProcess implements TrainerProcess {
  private child: TrainerProcess | undefined;
  private ended = false;
  private routing = false;
  private readonly pending: (HostMessage | ProbeHostMessage)[] = [];
  private readonly messageCbs: MessageCb[] = [];
  private readonly exitCbs: ExitCb[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly router: Router) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  send(msg: HostMessage | ProbeHostMessage): void {
    if (this.child) return this.child.send(msg);
    if (this.ended) return;
    if (msg.type === 'start' && 'job' in msg && !this.routing) return this.route(msg.job);
    // Stopped before any trainer started: nothing ran, so the job ends stopped at once (the
    // host reads an exit after its stop request as 'stopped').
    if (msg.type === 'stop') return this.end(0, null);
    this.pending.push(msg);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child) return this.child.kill(signal);
    // Killed before any trainer started: the same outcome as killing it (interrupted).
    this.end(null, signal);
  }

  onMessage(cb: MessageCb): void {
    this.messageCbs.push(cb);
  }

  onExit(cb: ExitCb): void {
    this.exitCbs.push(cb);
  }

  stderrTail(): string {
    return this.child?.stderrTail?.() ?? '';
  }

  cpuSeconds(): Promise<number | undefined> {
    return this.child?.cpuSeconds?.() ?? Promise.resolve(undefined);
  }

  private route(job: TrainJob): void {
    this.routing = true;
    this.heartbeat = setInterval(() => this.emitMessage({ type: 'heartbeat', time: 0 }), ROUTING_HEARTBEAT_MS);
    this.router(job).then(
      (route) => this.routed(route),
      (err: unknown) => this.routed({ ok: false, cause: 'error', message: `could not choose the trainer: ${(err as Error).message}` }),
    );
  }

  private routed(route: Route): void {
    clearInterval(this.heartbeat);
    if (this.ended) return; // stopped or killed meanwhile
    if (!route.ok) {
      this.emitMessage({ type: 'failed', cause: route.cause, message: route.message });
      return this.end(1, null);
    }
    let child: TrainerProcess;
    try {
      child = route.spawn();
    } catch (err) {
      this.emitMessage({ type: 'failed', cause: 'error', message: `the trainer could not be started: ${(err as Error).message}` });
      return this.end(1, null);
    }
    this.child = child;
    child.onMessage((msg) => this.emitMessage(withHostReport(msg, route.rung, route.skipped)));
    child.onExit((code, signal) => this.end(code, signal));
    child.send({ type: 'start', job: route.job });
    for (const msg of this.pending.splice(0)) child.send(msg);
  }

  private emitMessage(msg: unknown): void {
    if (this.ended) return;
    for (const cb of this.messageCbs) cb(msg);
  }

  private end(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    // Asynchronously, as a real process's exit arrives: the host may still be inside its call.
    setImmediate(() => {
      for (const cb of this.exitCbs) cb(code, signal);
    });
  }
}

/** The trainer's backend report with the host's rung and the host's skips before its own. */
export function withHostReport(msg: unknown, rung: ConcreteBackend | undefined, skipped: readonly BackendSkip[]): unknown {
  if (!isRecord(msg) || msg.type !== 'backend' || !isRecord(msg.report) || !Array.isArray(msg.report.skipped) || !msg.report.skipped.every(isRecord))
    return msg;
  const report = msg.report;
  // The trainer's message is checked by the host after this; a malformed skip stays for it to refuse.
  return {
    ...msg,
    report: { ...report, ...(rung ? { rung } : {}), skipped: mergeSkips(skipped, report.skipped as BackendSkip[]) },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
