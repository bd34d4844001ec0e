// Runs test/reliability/fixtures/host-run.js as a separate host process and reads its JSON lines.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './helpers.js';

const HOST_SCRIPT = fileURLToPath(new URL('./fixtures/host-run.js', import.meta.url));

export interface HostLine {
  type: 'metrics' | 'status' | 'done-rejected' | 'close-failed';
  runId?: number;
  trainerPid?: number;
  hostPid?: number;
  status?: string;
  error?: string;
  message?: string;
}

export class HostProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: HostLine[] = [];
  stderr = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(home: string) {
    this.child = spawn(process.execPath, [HOST_SCRIPT, home], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    this.child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(out.slice(0, nl)) as HostLine);
        out = out.slice(nl + 1);
      }
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits for a line matching `pred`; rejects if the host exits first or after `ms`. */
  async waitLine(pred: (l: HostLine) => boolean, ms: number, what: string): Promise<HostLine> {
    let exited = false;
    void this.exit.then(() => (exited = true));
    return within(
      (async () => {
        for (;;) {
          const hit = this.lines.find(pred);
          if (hit) return hit;
          if (exited) throw new Error(`the host exited before ${what}: ${this.stderr.slice(-2000)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      ms,
      what,
    );
  }
}
