// A started Python trainer kept waiting for the next torch job, as WarmSpawner keeps a tfjs one.
// Its process imports torch while it waits (python/autobatch_trainer/__main__.py), which is most
// of a torch job's start-up: ~1.4 s of a 2-core CPU. That start-up is the one cost of a search
// that no shortening can remove, and on a short planned run it alone can exceed the search's
// whole time allowance (issue 18).
//
// Only the interpreter the last torch job used gets a spare, and only once a torch job has run:
// a spare costs a process with torch loaded (~200 MB), which a user of the tfjs engine alone
// should not pay.
import { WarmSpawner } from './warm-spawner.js';
import type { PythonSpawnerFactory, PythonSpawnerOptions } from './python-trainer.js';
import type { TrainerSpawner } from './trainer-host.js';

export class WarmPythonSpawners {
  private current: { key: string; warm: WarmSpawner } | undefined;
  private closed = false;

  constructor(private readonly base: PythonSpawnerFactory) {}

  /** The factory the engine routing takes: the spare of this interpreter when one waits, else a fresh process. */
  readonly factory: PythonSpawnerFactory = (options) => {
    const warm = this.warmFor(options);
    if (!warm) return this.base(options);
    const spawn: TrainerSpawner = () => warm.spawn();
    return spawn;
  };

  /** Whether a spare waits for this interpreter. */
  ready(options: PythonSpawnerOptions): boolean {
    return this.current?.key === keyOf(options) && this.current.warm.ready;
  }

  /** Starts a spare for the interpreter last used, if none waits (call when no job runs). */
  prewarm(): void {
    if (!this.closed) this.current?.warm.prewarm();
  }

  /** Ends the spare; no more are started. */
  close(): void {
    this.closed = true;
    this.current?.warm.close();
    this.current = undefined;
  }

  /** The warm spawner of this interpreter, made the current one (another interpreter's spare is ended). */
  private warmFor(options: PythonSpawnerOptions): WarmSpawner | undefined {
    if (this.closed) return undefined;
    const key = keyOf(options);
    if (this.current?.key !== key) {
      this.current?.warm.close();
      this.current = { key, warm: new WarmSpawner(this.base(options)) };
    }
    return this.current.warm;
  }
}

/** Spares are interchangeable when everything the process is started with is the same (the job carries the rest). */
function keyOf(o: PythonSpawnerOptions): string {
  return JSON.stringify([o.python, o.threads ?? null, o.entryRunner ? 'own-runner' : 'node']);
}
