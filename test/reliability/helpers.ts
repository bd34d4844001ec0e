// Shared pieces of the reliability tests: a service on a throw-away data folder whose trainer
// processes the test can see (and kill), small seeded randomness, and waiting with a deadline.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AutoBatchService } from '../../src/main/service/service.js';
import { forkSpawner, type TrainerProcess, type TrainerSpawner } from '../../src/main/service/trainer-host.js';
import { createRng } from '../../src/shared/random.js';

export function tempDir(prefix = 'autobatch-rel-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every trainer process a service started, in order, with whether it has exited. */
export class SpawnLog {
  readonly processes: { proc: TrainerProcess; exited: boolean; runId?: number }[] = [];
  readonly spawn: TrainerSpawner = () => {
    const proc = forkSpawner();
    const entry: { proc: TrainerProcess; exited: boolean; runId?: number } = { proc, exited: false };
    proc.onExit(() => (entry.exited = true));
    // The run a process trains, from its start message: the service starts a run's process once
    // its backend is resolved, so processes need not start in the order runs were started.
    const send = proc.send.bind(proc);
    entry.proc = {
      ...proc,
      pid: proc.pid,
      send: (msg) => {
        if (msg.type === 'start' && 'job' in msg && msg.job.kind === 'train') entry.runId = msg.job.runId;
        send(msg);
      },
    } as TrainerProcess;
    this.processes.push(entry);
    return entry.proc;
  };

  /** The process that trains run `runId`, once it has been given its job. */
  forRun(runId: number): { proc: TrainerProcess; exited: boolean } | undefined {
    return this.processes.find((p) => p.runId === runId);
  }

  /** The newest process that is still running, if any. */
  newestAlive(): TrainerProcess | undefined {
    for (let i = this.processes.length - 1; i >= 0; i--) if (!this.processes[i]!.exited) return this.processes[i]!.proc;
    return undefined;
  }
}

/** A service on a fresh folder with the MNIST sample (`limit` digits) imported. */
export async function serviceWithSample(limit = 300, spawn?: TrainerSpawner): Promise<{ service: AutoBatchService; datasetId: number; home: string }> {
  const home = tempDir();
  const service = new AutoBatchService({ home, ...(spawn ? { spawn } : {}) });
  const ds = await service.importDataset('sample:mnist', { name: 'mnist', limit });
  return { service, datasetId: ds.id, home };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Seeded randomness (the seed is printed by each test, so a failure can be replayed). */
export function seededRandom(seed = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31)): {
  seed: number;
  next: () => number;
  int: (lo: number, hi: number) => number;
  pick: <T>(xs: readonly T[]) => T;
} {
  const next = createRng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return { seed, next, int, pick: (xs) => xs[int(0, xs.length - 1)]! };
}

/** Rejects when `p` takes longer than `ms`, naming `what`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every 20 ms until it holds; rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await sleep(20);
  }
}
