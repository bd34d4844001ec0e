// Which trainer serves a backend choice, for a run's job and for a search's probe session alike
// (issue 16: Auto-tune runs on the torch engine too). The choice is resolved to one rung over the
// full ladder (backend-resolver.ts); a torch rung is served by the Python trainer started with the
// interpreter detection found, a tfjs rung by tfjs's trainer told that rung. The trainer's backend
// report then gets the host's rung and skips (routed-trainer.ts's withHostReport).
import type { ProbeSession } from '../../shared/probe-protocol.js';
import { isTorchBackend, type BackendChoice, type BackendSkip, type ConcreteBackend } from '../../shared/run-types.js';
import type { EntryRunner } from './backend-detect.js';
import type { Resolution } from './backend-resolver.js';
import type { PythonSpawnerFactory } from './python-trainer.js';
import { withHostReport } from './routed-trainer.js';
import type { TrainerProcess, TrainerSpawner } from './trainer-host.js';

export interface EngineRouting {
  resolve(choice: BackendChoice): Promise<Resolution>;
  /** tfjs's trainer (forked, warm, or a test's stand-in). */
  tfjs: TrainerSpawner;
  /** Starts the Python trainer for a torch rung. */
  python: PythonSpawnerFactory;
  /** Runs the Node prep entry for the Python trainer (the Electron shell passes its own). */
  entryRunner?: EntryRunner;
}

export type EngineRoute = { ok: true; spawn: TrainerSpawner; rung: ConcreteBackend; skipped: BackendSkip[] } | { ok: false; message: string };

/** The trainer for a choice, resolved to its rung; or why no trainer can take it. */
export async function routeChoice(choice: BackendChoice, routing: EngineRouting): Promise<EngineRoute> {
  const r = await routing.resolve(choice);
  if (!r.ok) return { ok: false, message: r.message };
  if (!isTorchBackend(r.rung)) return { ok: true, spawn: routing.tfjs, rung: r.rung, skipped: r.skipped };
  if (!r.python) return { ok: false, message: `backend ${r.rung} cannot start: no Python with PyTorch was found` };
  const spawn = routing.python({ python: r.python, ...(routing.entryRunner ? { entryRunner: routing.entryRunner } : {}) });
  return { ok: true, spawn, rung: r.rung, skipped: r.skipped };
}

/** A search's probe session and the trainer that runs it (every replacement process too). */
export interface ProbeRoute {
  spawn: TrainerSpawner;
  /** The session as the trainer gets it: its backend is the rung. */
  session: ProbeSession;
  rung: ConcreteBackend;
}

/**
 * Routes a probe session: its backend resolved to a rung, the trainer for that rung, whose
 * backend report carries the rung and the host's skips. Throws when no trainer can take it
 * (the search then fails with that message).
 */
export async function routeProbeSession(session: ProbeSession, routing: EngineRouting): Promise<ProbeRoute> {
  const route = await routeChoice(session.backend, routing);
  if (!route.ok) throw new Error(route.message);
  return { spawn: reportingSpawner(route.spawn, route.rung, route.skipped), session: { ...session, backend: route.rung }, rung: route.rung };
}

/** The spawner's processes, their backend reports given the host's rung and skips. */
export function reportingSpawner(spawn: TrainerSpawner, rung: ConcreteBackend, skipped: readonly BackendSkip[]): TrainerSpawner {
  return () => {
    const child = spawn();
    const proc: TrainerProcess = {
      get pid() {
        return child.pid;
      },
      send: (msg) => child.send(msg),
      kill: (signal) => child.kill(signal),
      onMessage: (cb) => child.onMessage((msg) => cb(withHostReport(msg, rung, skipped))),
      onExit: (cb) => child.onExit(cb),
      stderrTail: () => child.stderrTail?.() ?? '',
      cpuSeconds: () => child.cpuSeconds?.() ?? Promise.resolve(undefined),
    };
    return proc;
  };
}
