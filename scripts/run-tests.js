#!/usr/bin/env node
// Runs the compiled tests with node's own test runner:
// `node scripts/run-tests.js [unit|integration|reliability|e2e]…` (all four without arguments; e2e
// drives Debian's Chromium against `autobatch serve`, so it needs the renderer built into
// dist/renderer — `npm run build` does both).
// Files are listed explicitly (Node 20's --test takes no globs). Suites run one file at a time
// where they train models or start processes: this machine has 2 cores.
// Before the run it finds, once, the parts of the machine some tests need (Chromium, a WebGPU
// adapter, root…: test/support/parts.ts) and prints them; after it, every skipped test grouped
// by the part it needs and how to install it (test/support/skip-summary-reporter.ts).
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// reliability: fault injection, fuzzing, load and security checks (test/reliability, ~3 min here).
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'reliability', 'e2e'];

function testFiles(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = suites.flatMap((s) => testFiles(path.join(root, 'dist', 'test', s)));
if (files.length === 0) {
  console.error(`no compiled tests found for ${suites.join(', ')} under dist/test (run npm run build)`);
  process.exit(1);
}
if (suites.includes('e2e') && !existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) {
  console.error('the e2e tests need the renderer build in dist/renderer (run npm run build)');
  process.exit(1);
}
const { partsForRun, PARTS } = await import(pathToFileURL(path.join(root, 'dist', 'test', 'support', 'parts.js')).href);
const { env, findings } = partsForRun(process.env);
console.log('Parts of this machine that some tests need:');
for (const [name, f] of Object.entries(findings)) {
  console.log(`- ${PARTS[name].what}: ${f.ok ? f.detail : `missing (${f.reason})`}`);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '1';
// Passing any --test-reporter replaces node's default, so the default is named again.
const reporters = [process.stdout.isTTY ? 'spec' : 'tap', path.join(root, 'dist', 'test', 'support', 'skip-summary-reporter.js')];
const reporterArgs = reporters.flatMap((r) => [`--test-reporter=${r}`, '--test-reporter-destination=stdout']);
// Every temporary folder the tests make (data folders, fake Pythons, uploads…) goes under one
// folder of this run, removed when it ends: a test that forgets its own clean-up, or one killed
// mid-way, leaves nothing behind in the system's temp folder.
const scratch = mkdtempSync(path.join(os.tmpdir(), 'autobatch-tests-'));
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...reporterArgs, ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...env, TMPDIR: scratch, TMP: scratch, TEMP: scratch },
});
rmSync(scratch, { recursive: true, force: true });
process.exit(result.status ?? 1);
