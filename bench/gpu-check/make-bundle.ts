// Builds the GPU check bundle (docs/gpu-check.md): a folder of at most 60 MiB that runs the GPU
// check on a Linux machine with no network and no Node.js.
//
//   node dist/bench/gpu-check/make-bundle.js [--out gpu-bundle] [--no-record] [--peer bench/peer_torch.py] [--python /usr/bin/python3]
//
// 1. Records which node_modules files the check's paths load: the CLI (datasets import, train,
//    tune Full) and bench/throughput on the webgpu backend, here on whatever adapter there is
//    (lavapipe without a GPU), and a torch-cpu run where --python has torch (the Node prep entry
//    of the torch engine), through record-loads. --no-record reuses the last list
//    (bench/gpu-check/bundle-files.txt, kept in git, rewritten by each recording).
// 2. Exports the MNIST sample as an IDX folder (no `mnist` package on the GPU machine).
// 3. Writes the folder: node.xz (this Node binary), app.tar.xz (package.json, bin, dist/src,
//    dist/bench, python/autobatch_trainer, the recorded node_modules files, the MNIST IDX), lib/libvulkan.so.1 (the
//    Vulkan loader, Debian's libvulkan1), lib/glvnd (a fallback for the ICD's needs),
//    peer_torch.py (bench/peer_torch.py), gpu-check.sh, MANIFEST.json.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { formatBytes } from '../../src/shared/format.js';
import { checkBudget, planNodeModules, planProject, totalBytes, type PlannedFile } from './bundle-plan.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(root, 'gpu-bundle') },
    record: { type: 'boolean', default: true },
    'no-record': { type: 'boolean', default: false },
    peer: { type: 'string', default: path.join(root, 'bench/peer_torch.py') },
    vulkan: { type: 'string', default: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1' },
    /** A Python with torch, to record the torch engine's Node side too. */
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const out = path.resolve(args.out);
/** Debian's libglvnd0 and libglx0 (1.6): the dispatch layer GL vendor libraries link against. */
const GLVND_LIBS = ['libGLdispatch.so.0', 'libGLX.so.0'];
const listFile = path.join(root, 'bench/gpu-check/bundle-files.txt');
const log = (s: string) => process.stderr.write(s + '\n');

function sh(cmd: string, argv: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: root, maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}): ${String(r.stderr ?? '')
        .trim()
        .split('\n')
        .slice(-5)
        .join('\n')}`,
    );
  return String(r.stdout ?? '');
}

/** Runs the check's code paths on webgpu with record-loads and returns every file they loaded. */
function record(idxDir: string): string[] {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'gpu-bundle-record-'));
  try {
    const recDir = path.join(tmp, 'loads');
    const env = {
      ...process.env,
      AUTOBATCH_HOME: path.join(tmp, 'home'),
      AUTOBATCH_RECORD_LOADS: recDir,
      NODE_OPTIONS: `--import=${path.join(root, 'dist/bench/gpu-check/record-loads.js')}`,
      XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
    };
    const cli = (...a: string[]) => sh(process.execPath, [path.join(root, 'bin/autobatch.js'), ...a], { env });
    log('recording: adapter');
    log(sh(process.execPath, ['dist/bench/gpu-check/adapter.js'], { env }).trim());
    log('recording: datasets import, train (webgpu), tune Full (webgpu)');
    cli('datasets', 'import', idxDir, '--name', 'mnist', '--limit', '400', '--json');
    cli(
      'train',
      '--dataset',
      'mnist',
      '--model',
      'small',
      '--batch-size',
      '16',
      '--epochs',
      '1',
      '--lr',
      '0.001',
      '--backend',
      'webgpu',
      '--max-steps',
      '3',
      '--json',
    );
    cli('tune', '--dataset', 'mnist', '--model', 'small', '--mode', 'full', '--backend', 'webgpu', '--epochs', '1', '--json');
    // The torch engine's Node side (the prep entry that builds the net for Python), where a Python with torch is here.
    if (spawnSync(args.python, ['-c', 'import torch']).status === 0) {
      log('recording: train (torch-cpu)');
      cli(
        'train',
        '--dataset',
        'mnist',
        '--model',
        'small',
        '--batch-size',
        '16',
        '--epochs',
        '1',
        '--backend',
        'torch-cpu',
        '--python',
        args.python,
        '--max-steps',
        '3',
        '--json',
      );
    } else log(`recording: ${args.python} has no torch; the torch engine's prep entry is not recorded`);
    log('recording: bench/throughput (webgpu)');
    sh(
      process.execPath,
      [
        'dist/bench/throughput.js',
        '--backends',
        'webgpu',
        '--models',
        'small',
        '--batches',
        '16',
        '--samples',
        '300',
        '--webgpu-steps',
        '3',
        '--source',
        idxDir,
        '--peer',
        path.join(tmp, 'no-peer.py'),
        '--json',
        path.join(tmp, 't.json'),
      ],
      { env },
    );
    const files = new Set<string>();
    for (const f of readdirSync(recDir)) for (const line of readFileSync(path.join(recDir, f), 'utf8').split('\n')) if (line) files.add(line);
    return [...files];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function copyInto(dest: string, files: PlannedFile[]): void {
  for (const f of files) {
    const to = path.join(dest, f.rel);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(path.join(root, f.rel), to);
  }
}

function xz(file: string, to: string): void {
  sh('sh', ['-c', `xz -T0 -9 -c "$1" > "$2"`, 'xz', file, to]);
}

function main(): void {
  if (!existsSync(path.join(root, 'dist/src/main/cli/main.js'))) throw new Error('build first: npm run build');
  if (!existsSync(args.peer)) throw new Error(`the PyTorch peer is not at ${args.peer} (--peer)`);
  rmSync(out, { recursive: true, force: true });
  const stage = path.join(out, '.stage');
  const app = path.join(stage, 'app');
  mkdirSync(app, { recursive: true });

  const idxDir = path.join(app, 'data/mnist-idx');
  log(sh(process.execPath, ['dist/bench/gpu-check/export-mnist-idx.js', idxDir, '--limit', '10000']).trim());

  let loaded: string[];
  if (args.record && !args['no-record']) {
    loaded = record(idxDir);
    const rel = planNodeModules(root, loaded).map((f) => f.rel);
    writeFileSync(listFile, rel.join('\n') + '\n');
    log(`recorded ${rel.length} node_modules files → ${path.relative(root, listFile)}`);
  } else {
    loaded = readFileSync(listFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((rel) => path.join(root, rel));
  }
  const modules = planNodeModules(root, loaded);
  const project = planProject(root);
  copyInto(app, [...project, ...modules]);

  log('compressing the app and node…');
  sh('tar', ['-C', stage, '-cf', path.join(stage, 'app.tar'), 'app']);
  xz(path.join(stage, 'app.tar'), path.join(out, 'app.tar.xz'));
  // xz -9 of the 95 MB binary takes minutes on two cores: keep it between builds.
  const nodeCache = path.join(root, 'node_modules/.cache/gpu-bundle', `node-${process.version}-${statSync(process.execPath).size}.xz`);
  if (!existsSync(nodeCache)) {
    mkdirSync(path.dirname(nodeCache), { recursive: true });
    xz(process.execPath, nodeCache + '.part');
    renameSync(nodeCache + '.part', nodeCache);
  }
  copyFileSync(nodeCache, path.join(out, 'node.xz'));
  mkdirSync(path.join(out, 'lib'));
  // The loader only (not an ICD): the GPU machine brings its driver's ICD, lavapipe is Mesa's.
  copyFileSync(realpathSync(args.vulkan), path.join(out, 'lib/libvulkan.so.1'));
  // glvnd's dispatch libraries, which NVIDIA's ICD library may need; gpu-check.sh adds them to
  // the library path only if no adapter is found without them.
  mkdirSync(path.join(out, 'lib/glvnd'));
  for (const name of GLVND_LIBS) {
    const from = path.join(path.dirname(args.vulkan), name);
    if (existsSync(from)) copyFileSync(realpathSync(from), path.join(out, 'lib/glvnd', name));
  }
  copyFileSync(args.peer, path.join(out, 'peer_torch.py'));
  copyFileSync(path.join(root, 'scripts/gpu-check.sh'), path.join(out, 'gpu-check.sh'));
  chmodSync(path.join(out, 'gpu-check.sh'), 0o755);
  rmSync(stage, { recursive: true, force: true });

  const parts: Record<string, number> = {};
  for (const f of ['node.xz', 'app.tar.xz', 'lib/libvulkan.so.1', 'peer_torch.py', 'gpu-check.sh']) parts[f] = statSync(path.join(out, f)).size;
  parts['lib/glvnd'] = readdirSync(path.join(out, 'lib/glvnd')).reduce((n, f) => n + statSync(path.join(out, 'lib/glvnd', f)).size, 0);
  const vulkanPkg = spawnSync('dpkg-query', ['-S', realpathSync(args.vulkan)], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const vulkanVersion = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libvulkan1'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const manifest = {
    built: new Date().toISOString(),
    commit,
    node: process.version,
    vulkanLoader: `${vulkanPkg || 'libvulkan1'} ${vulkanVersion}`.trim(),
    unpacked: { projectBytes: totalBytes(project), nodeModulesBytes: totalBytes(modules), nodeModulesFiles: modules.length },
    parts,
  };
  const total = checkBudget({ ...parts, 'MANIFEST.json': 1024 });
  writeFileSync(path.join(out, 'MANIFEST.json'), JSON.stringify({ ...manifest, totalBytes: total }, null, 2) + '\n');
  process.stdout.write(
    `GPU bundle: ${out} (${formatBytes(total)}: ${Object.entries(parts)
      .map(([k, b]) => `${k} ${formatBytes(b)}`)
      .join(', ')})\n`,
  );
}

main();
