// How much CPU time another process has used (user + system, all its threads), read from
// outside it. The host needs this to tell a trainer that is silent because it computes — a
// synchronous wasm/cpu step keeps its event loop, and so its heartbeat, from running for
// minutes — from one that is silent because it is stuck.
//
// Linux: /proc/<pid>/stat, a file read (cheap enough to do every few seconds). macOS and the
// BSDs: `ps -o time=`. Windows: Node has no way to read another process's CPU time without
// starting PowerShell, so it answers undefined there, and the host judges the trainer by its
// silence alone, as before (see silence-watchdog.ts).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Seconds of CPU time the process has used; undefined when it cannot be read (no such process, or no way on this platform). */
export async function processCpuSeconds(pid: number | undefined, platform: NodeJS.Platform = process.platform): Promise<number | undefined> {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (platform === 'win32') return undefined;
  if (platform === 'linux') return linuxCpuSeconds(pid);
  return psCpuSeconds(pid);
}

async function linuxCpuSeconds(pid: number): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const ticks = parseProcStatCpuTicks(text);
  return ticks === undefined ? undefined : ticks / (await clockTicksPerSecond());
}

/**
 * utime + stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks). The command name (field
 * 2) is in parentheses and may itself hold spaces and parentheses, so fields are counted from
 * the last ')'.
 */
export function parseProcStatCpuTicks(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || fields[12] === undefined) return undefined;
  return utime + stime;
}

let clockTicks: Promise<number> | undefined;

/** sysconf(_SC_CLK_TCK): 100 on every Linux architecture Node runs on, asked once all the same. */
function clockTicksPerSecond(): Promise<number> {
  clockTicks ??= new Promise((resolve) => {
    execFile('getconf', ['CLK_TCK'], { timeout: 5000 }, (err, stdout) => {
      const n = Number(String(stdout).trim());
      resolve(!err && Number.isInteger(n) && n > 0 ? n : 100);
    });
  });
  return clockTicks;
}

function psCpuSeconds(pid: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'time=', '-p', String(pid)], { timeout: 5000 }, (err, stdout) => {
      resolve(err ? undefined : parsePsTime(String(stdout)));
    });
  });
}

/**
 * ps's cumulative CPU time: `[[DD-]HH:]MM:SS[.ss]` — macOS prints minutes:seconds.hundredths
 * ("12:03.45", minutes past 59 included), procps prints "[DD-]HH:MM:SS".
 */
export function parsePsTime(text: string): number | undefined {
  const m = /^(?:(\d+)-)?((?:\d+:){1,2})(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!m) return undefined;
  const days = Number(m[1] ?? 0);
  const [a, b] = m[2]!.split(':').filter(Boolean).map(Number);
  const [hours, minutes] = b === undefined ? [0, a!] : [a!, b];
  return ((days * 24 + hours) * 60 + minutes) * 60 + Number(m[3]);
}
