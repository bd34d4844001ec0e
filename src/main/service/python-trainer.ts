// A trainer process on the torch engine, behind the same TrainerProcess interface as a tfjs one
// (trainer-host.ts): `python -m autobatch_trainer` from the user's Python, started with
// child_process.spawn (Electron's utilityProcess starts only Node scripts). Its messages are the
// same zod-checked protocol on another transport: one JSON line each on a pipe of their own
// (fd 3), never stdout, so a library's stray print cannot end the run; host messages go to its
// stdin (src/shared/json-lines.ts, python/autobatch_trainer/protocol.py).
//
// Before a run's job or a probe session reaches Python, a short Node process
// (torch-prep-entry.ts) builds its net as tfjs would and saves it with its rate groups: the
// 'start' or 'start-probes' message then carries `prepared` (and the CPU threads), and both
// engines start from the same weights.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJsonLine, encodeJsonLine, LineSplitter } from '../../shared/json-lines.js';
import type { HostMessage, PreparedNet, TrainJob, TrainerMessage } from '../../shared/trainer-protocol.js';
import type { ProbeHostMessage, ProbeSession } from '../../shared/probe-protocol.js';
import { TORCH_PREP_MARKER, type TorchPrepOutcome } from '../engine/trainer/torch-prep-protocol.js';
import { defaultCpuThreads } from '../engine/util/cpu-threads.js';
import { nodeEntryRunner, type EntryRunner } from './backend-detect.js';
import { CrashOutput } from './crash-output.js';
import { processCpuSeconds } from './process-cpu.js';
import { pythonProcessEnv } from './python-discovery.js';
import type { TrainerProcess, TrainerSpawner } from './trainer-host.js';

const PREP_ENTRY = fileURLToPath(new URL('../engine/trainer/torch-prep-entry.js', import.meta.url));
/** Building a large net (MobileNet at full width) and writing it takes seconds; a hung one is ended. */
const PREP_TIMEOUT_MS = 180_000;

export interface PythonSpawnerOptions {
  /** The interpreter that imports torch (python-discovery.ts found it). */
  python: string;
  /** Runs the Node prep entry (the Electron shell passes one over utilityProcess). */
  entryRunner?: EntryRunner;
  /** CPU threads for PyTorch; default: the wasm backend's rule (util/cpu-threads.ts), so the engines compare at one setting. */
  threads?: number;
}

/** The net of a run's job or of a probe session, built and saved by the prep entry in `workDir`; a failure says why. */
export async function prepareTorchJob(job: TrainJob | ProbeSession, workDir: string, run: EntryRunner = nodeEntryRunner): Promise<TorchPrepOutcome> {
  const jobFile = path.join(workDir, job.kind === 'probe-session' ? 'session.json' : 'job.json');
  writeFileSync(jobFile, JSON.stringify(job));
  const { stdout, stderr, code } = await run(PREP_ENTRY, [jobFile, workDir], PREP_TIMEOUT_MS);
  const line = stdout.split('\n').find((l) => l.startsWith(TORCH_PREP_MARKER));
  if (line) {
    try {
      return JSON.parse(line.slice(TORCH_PREP_MARKER.length)) as TorchPrepOutcome;
    } catch {
      // fall through: reported below as a failed preparation
    }
  }
  const tail = stderr.trim().split('\n').slice(-1)[0] ?? '';
  return { ok: false, cause: 'error', message: `preparing the model for PyTorch failed (exit ${code ?? 'by signal or timeout'})${tail ? `: ${tail}` : ''}` };
}

/** The shape of createPythonSpawner (the service takes another in tests). */
export type PythonSpawnerFactory = (options: PythonSpawnerOptions) => TrainerSpawner;

export function createPythonSpawner(options: PythonSpawnerOptions): TrainerSpawner {
  return () => startPythonTrainer(options);
}

function startPythonTrainer(options: PythonSpawnerOptions): TrainerProcess {
  const child = spawn(options.python, ['-m', 'autobatch_trainer'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env: pythonProcessEnv(), windowsHide: true });
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'autobatch-torch-'));
  const output = new CrashOutput();
  child.stdout?.on('data', output.stream());
  child.stderr?.on('data', output.stream());
  const listeners: ((msg: unknown) => void)[] = [];
  const deliver = (msg: unknown) => listeners.forEach((cb) => cb(msg));
  const lines = new LineSplitter(
    (line) => {
      try {
        deliver(decodeJsonLine(line));
      } catch {
        deliver({ type: 'invalid-line', line: line.slice(0, 200) });
      }
    },
    undefined,
    (bytes) => deliver({ type: 'invalid-line', line: `a line of ${bytes} bytes` }),
  );
  const messages = child.stdio[3] as NodeJS.ReadableStream | undefined;
  messages?.setEncoding('utf8');
  messages?.on('data', (chunk: string) => lines.push(chunk));
  let exited = false;
  child.on('error', (err) => {
    // The interpreter could not be started at all (moved, not executable): that is how the process ends.
    output.stream()(`${err.message}\n`);
  });
  child.on('exit', () => {
    exited = true;
    rmSync(workDir, { recursive: true, force: true });
  });
  child.stdin?.on('error', () => undefined); // the trainer exited first (EPIPE): its exit says what happened
  const write = (msg: HostMessage | ProbeHostMessage) => {
    if (!exited && child.stdin?.writable) child.stdin.write(`${encodeJsonLine(msg)}\n`);
  };
  const fail = (failure: Extract<TrainerMessage, { type: 'failed' }>) => {
    deliver(failure);
    child.kill('SIGTERM');
  };
  const threads = (asked: number | undefined) => asked ?? options.threads ?? defaultCpuThreads();
  /** Prepares the net of a job or session, then writes the message it makes; a failed preparation fails the process. */
  const prepareThen = (what: TrainJob | ProbeSession, make: (prepared: PreparedNet) => HostMessage | ProbeHostMessage) => {
    void prepareTorchJob(what, workDir, options.entryRunner).then(
      (prep) => (prep.ok ? write(make(prep.prepared)) : fail({ type: 'failed', cause: prep.cause, message: prep.message })),
      (err: unknown) => fail({ type: 'failed', cause: 'error', message: `preparing the model for PyTorch failed: ${(err as Error).message}` }),
    );
  };
  return {
    get pid() {
      return child.pid;
    },
    send: (msg: HostMessage | ProbeHostMessage) => {
      if (msg.type === 'start' && 'job' in msg) {
        const job = msg.job;
        return prepareThen(job, (prepared) => ({ type: 'start', job: { ...job, prepared, threads: threads(job.threads) } }));
      }
      if (msg.type === 'start-probes') {
        const session = msg.session;
        return prepareThen(session, (prepared) => ({ type: 'start-probes', session: { ...session, prepared, threads: threads(session.threads) } }));
      }
      write(msg);
    },
    kill: (signal) => {
      if (!exited) child.kill(signal);
    },
    onMessage: (cb) => {
      listeners.push(cb);
    },
    onExit: (cb) => {
      child.on('exit', cb);
    },
    stderrTail: () => output.text(),
    cpuSeconds: () => processCpuSeconds(exited ? undefined : child.pid),
  };
}
