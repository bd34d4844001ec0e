// tfjs-core's own op tests (its published dist/ops/*_test.js, jasmine) for every kernel the app
// registers on wasm, run on stock tfjs-backend-wasm and with the app's kernels, as they are and
// with their large-tensor paths taken for small tensors too (test/support/upstream/run-specs.ts,
// three child processes side by side). A spec that passes on stock and fails with the app's
// kernels fails this test; the specs stock wasm cannot run are printed with the reason.
// `npm run test:upstream-kernels` runs this file alone.
// Needs jasmine-core (tfjs-core's jasmine_util requires it), a devDependency.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registeredWasmKernelNames } from '../../../src/main/engine/kernels/register-wasm-kernels.js';
import { compareRuns, type SpecOutcome } from '../../support/upstream/compare.js';
import { KERNEL_SPECS, specFilesFor, upstreamExcludeReason } from '../../support/upstream/spec-table.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const upstreamDir = path.join(here, '..', '..', 'support', 'upstream');
const coreDist = path.dirname(require.resolve('@tensorflow/tfjs-core/dist/index.js'));
const JASMINE_CORE = 'jasmine-core@4.2.0'; // the version tfjs 4.22 runs these tests with

type RunMode = 'stock' | 'app' | 'app-small';

function runSpecs(mode: RunMode, out: string, files: readonly string[]): Promise<string> {
  const args = ['--import', pathToFileURL(path.join(upstreamDir, 'register-loader.js')).href, path.join(upstreamDir, 'run-specs.js'), mode, out, ...files];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(log) : reject(new Error(`the ${mode} run exited with ${code}:\n${log.slice(-4000)}`))));
  });
}

describe("tfjs-core's op tests on wasm: the app's kernels against the stock ones", () => {
  it('has an entry in the spec table for every kernel the app registers, and one that names real files', () => {
    const names = registeredWasmKernelNames();
    const unmapped = names.filter((n) => KERNEL_SPECS[n] === undefined);
    assert.deepEqual(unmapped, [], `add these kernels to test/support/upstream/spec-table.ts (their tfjs-core spec files, or why there are none)`);
    for (const [name, entry] of Object.entries(KERNEL_SPECS)) {
      assert.ok(names.includes(name), `${name} is in the spec table but not registered (remove it)`);
      assert.ok(entry.files.length > 0 || (entry.why ?? '') !== '', `${name}: no spec files and no reason`);
      for (const f of entry.files) assert.ok(existsSync(path.join(coreDist, f)), `${name}: ${f} is not in tfjs-core's dist`);
    }
  });

  it('flags a spec that passes on stock only, and one the app should run but does not', () => {
    const ok = (name: string): SpecOutcome => ({ name, status: 'passed' });
    const failed = (name: string, failure: string): SpecOutcome => ({ name, status: 'failed', failure });
    const lacks = "Error: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'";
    const stock = [
      ok('a'),
      ok('b'),
      failed('c', lacks),
      failed('d', lacks),
      failed('conv2d x NCHW', 'no NCHW'),
      failed('e', "Kernel 'Complex' not registered for backend 'wasm'"),
    ];
    const app = [ok('a'), failed('b', 'Arrays differ'), ok('c'), failed('d', 'Arrays differ'), failed('conv2d x NCHW', 'no NCHW'), failed('e', 'x')];
    const v = compareRuns(stock, app, ['Conv2DBackpropFilter']);
    assert.equal(v.passedBoth, 1);
    assert.deepEqual(
      v.problems.map((p) => p.split(':')[0]),
      ['b', 'd'],
    );
    assert.deepEqual(
      v.stockCannotRun.map((s) => [s.name, s.app]),
      [
        ['c', 'passed'],
        ['d', 'failed'],
        ['conv2d x NCHW', 'failed'],
        ['e', 'failed'],
      ],
    );
    assert.match(upstreamExcludeReason('conv2d test-wasm {} x NCHW')!, /channels first/);
    assert.match(compareRuns([ok('x'), ok('x')], [ok('x')], []).problems[0]!, /x: ran on stock wasm, missing from the run with the app's kernels/);
  });

  it('fails no spec with the app kernels that passes with the stock ones', async (t) => {
    try {
      require.resolve('jasmine-core/lib/jasmine-core/jasmine.js');
    } catch {
      assert.fail(`jasmine-core is not installed (tfjs-core's test helpers need it): npm install --save-dev --save-exact ${JASMINE_CORE}`);
    }
    const files = specFilesFor(registeredWasmKernelNames());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'upstream-specs-'));
    try {
      const modes: RunMode[] = ['stock', 'app', 'app-small'];
      await Promise.all(modes.map((m) => runSpecs(m, path.join(dir, `${m}.json`), files)));
      const [stock, app, appSmall] = modes.map((m) => JSON.parse(readFileSync(path.join(dir, `${m}.json`), 'utf8')) as SpecOutcome[]);
      const v = compareRuns(stock!, app!, registeredWasmKernelNames());
      const small = compareRuns(stock!, appSmall!, registeredWasmKernelNames());
      t.diagnostic(`${files.length} spec files, ${stock!.length} specs: ${v.passedBoth} pass with both; stock wasm cannot run ${v.stockCannotRun.length}:`);
      for (const s of v.stockCannotRun) {
        t.diagnostic(`  [with the app's kernels: ${s.app}] ${s.name} — ${s.reason}${s.appFailure === undefined ? '' : `; with the app's: ${s.appFailure}`}`);
      }
      assert.ok(stock!.length > 100 && v.passedBoth > 100, `too few specs ran (${stock!.length}): the loader or the test environment is broken`);
      assert.deepEqual([...v.problems, ...small.problems.map((p) => `(large-tensor paths on small tensors) ${p}`)], []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
