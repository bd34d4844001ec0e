// One trainer process kept started while the app is idle. Starting a trainer costs most of a
// second (Node boot plus importing tfjs), which is a large part of a Quick Auto-tune on a small
// dataset; a long-lived app (the desktop shell, `autobatch serve`) hands the spare to the next
// job and starts another only when nothing runs, so the spare never competes with a job's
// timings for the CPU.
import type { TrainerProcess, TrainerSpawner } from './trainer-host.js';

export class WarmSpawner {
  private spare: TrainerProcess | undefined;
  private closed = false;

  constructor(private readonly base: TrainerSpawner) {}

  /** The spawner for trainer and probe hosts: the spare when there is one, else a fresh process. */
  readonly spawn: TrainerSpawner = () => {
    const spare = this.spare;
    this.spare = undefined;
    return spare ?? this.base();
  };

  /** Whether a started spare is waiting. */
  get ready(): boolean {
    return this.spare !== undefined;
  }

  /** Starts a spare if none is waiting (call when no job runs). */
  prewarm(): void {
    if (this.closed || this.spare) return;
    const child = this.base();
    this.spare = child;
    // A spare that dies while waiting (killed from outside, crashed at import) is forgotten;
    // the next job then starts a fresh process as if there had been none.
    child.onExit(() => {
      if (this.spare === child) this.spare = undefined;
    });
  }

  /** Ends the spare; no more are started. */
  close(): void {
    this.closed = true;
    const spare = this.spare;
    this.spare = undefined;
    spare?.kill('SIGTERM');
  }
}
