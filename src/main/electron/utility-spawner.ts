// Trainer and detection processes under Electron: utilityProcess.fork instead of
// child_process.fork (Electron's own Node child, which a packaged app can start without a
// separate Node). The service takes these through its TrainerSpawner / EntryRunner seams.
import type { UtilityProcess } from 'electron';
import type { EntryRunner } from '../service/backend-detect.js';
import { CrashOutput } from '../service/crash-output.js';
import { processCpuSeconds } from '../service/process-cpu.js';
import type { TrainerProcess, TrainerSpawner } from '../service/trainer-host.js';

type Fork = (modulePath: string, args?: string[], options?: { serviceName?: string; stdio?: 'pipe' | 'ignore' | 'inherit' }) => UtilityProcessLike;
type UtilityProcessLike = Pick<UtilityProcess, 'pid' | 'postMessage' | 'kill' | 'on' | 'stdout' | 'stderr'>;

export function createUtilitySpawner(fork: Fork, entry: string): TrainerSpawner {
  return (): TrainerProcess => {
    const child = fork(entry, [], { serviceName: 'AutoBatch trainer', stdio: 'pipe' });
    const output = new CrashOutput();
    child.stdout?.on('data', output.stream());
    child.stderr?.on('data', output.stream());
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    return {
      get pid() {
        return child.pid;
      },
      // Structured clone, like the Node spawner's 'advanced' serialization: NaN survives.
      send: (msg) => {
        if (!exited) child.postMessage(msg);
      },
      // utilityProcess.kill() takes no signal; it ends the process either way.
      kill: () => {
        if (!exited) child.kill();
      },
      onMessage: (cb) => {
        child.on('message', cb);
      },
      onExit: (cb) => {
        child.on('exit', (code: number) => cb(code, null));
      },
      stderrTail: () => output.text(),
      // A utility process is an OS process of its own, with a pid (once it has started).
      cpuSeconds: () => processCpuSeconds(exited ? undefined : child.pid),
    };
  };
}

export function createUtilityEntryRunner(fork: Fork): EntryRunner {
  return (entry, args, timeoutMs) =>
    new Promise((resolve) => {
      const child = fork(entry, args, { serviceName: 'AutoBatch backend check', stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const timer = setTimeout(() => child.kill(), timeoutMs);
      child.on('exit', (code: number) => {
        clearTimeout(timer);
        resolve({ stdout, stderr, code });
      });
    });
}
