// Reading another process's CPU time: the parsers of /proc/<pid>/stat and of ps's time column,
// and the readers themselves on a real child that burns CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { parseProcStatCpuTicks, parsePsTime, processCpuSeconds } from '../../../src/main/service/process-cpu.js';

test('/proc/<pid>/stat: utime + stime, counted from the last parenthesis of the command name', () => {
  const rest = 'S 1 2 3 4 5 6 7 8 9 10 1234 56 0 0 20 0 4 0 100 2000000 500';
  assert.equal(parseProcStatCpuTicks(`4242 (node) ${rest}`), 1290);
  assert.equal(parseProcStatCpuTicks(`4242 (a (b) c) 9 9) ${rest}`), 1290);
  assert.equal(parseProcStatCpuTicks('4242 (node) S 1 2'), undefined);
  assert.equal(parseProcStatCpuTicks(''), undefined);
});

test("ps's time column: macOS minutes:seconds.hundredths and procps [DD-]HH:MM:SS", () => {
  assert.equal(parsePsTime('0:01.25\n'), 1.25);
  assert.equal(parsePsTime('  125:03.50'), 125 * 60 + 3.5);
  assert.equal(parsePsTime('00:00:07'), 7);
  assert.equal(parsePsTime('01:02:03'), 3723);
  assert.equal(parsePsTime('2-01:00:00'), 2 * 86400 + 3600);
  assert.equal(parsePsTime(''), undefined);
  assert.equal(parsePsTime('abc'), undefined);
});

test('no pid, a pid that is not running, or Windows: undefined (silence alone decides)', async () => {
  assert.equal(await processCpuSeconds(undefined), undefined);
  assert.equal(await processCpuSeconds(0), undefined);
  assert.equal(await processCpuSeconds(process.pid, 'win32'), undefined);
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  assert.equal(await processCpuSeconds(Number(child.stdout.trim())), undefined, 'an exited process');
});

const hasPs = spawnSync('ps', ['-o', 'time=', '-p', String(process.pid)]).status === 0;

test(
  'a child burning CPU: its CPU time advances by about the time it burned',
  { skip: process.platform === 'win32' && 'no CPU time on Windows' },
  async (t) => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 2500; while (Date.now() < end);'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const before = await processCpuSeconds(child.pid);
      const wall0 = performance.now();
      await new Promise((r) => setTimeout(r, 1500));
      const after = await processCpuSeconds(child.pid);
      const wall = (performance.now() - wall0) / 1000;
      assert.ok(before !== undefined && after !== undefined, `read ${before} then ${after}`);
      // At most the wall time (one thread spins); at least a fifth of it on a busy shared machine.
      assert.ok(after - before > 0.2 * wall && after - before <= wall + 0.05, `${(after - before).toFixed(2)} s of CPU in ${wall.toFixed(2)} s`);
      if (process.platform === 'linux' && hasPs) {
        await t.test('ps agrees with /proc (the macOS path, run here)', async () => {
          const proc = (await processCpuSeconds(child.pid, 'linux'))!;
          const ps = (await processCpuSeconds(child.pid, 'darwin'))!;
          // procps prints whole seconds.
          assert.ok(Math.abs(ps - proc) <= 1.05, `ps ${ps} s, /proc ${proc} s`);
        });
      }
    } finally {
      child.kill('SIGKILL');
    }
  },
);
