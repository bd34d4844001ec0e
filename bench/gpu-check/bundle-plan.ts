// Which files go into the GPU check bundle (docs/gpu-check.md): from the list of files a recorded
// run loaded, the node_modules files to ship (each with the package.json files that Node's
// module resolution reads on the way up to its package root), and the size budget.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../../src/shared/format.js';

/** The bundle must travel to the GPU machine with the repository: at most this many bytes. */
export const BUNDLE_BUDGET_BYTES = 60 * 1024 * 1024;

/**
 * Packages the GPU check must never carry: the desktop shell, the `mnist` package (the bundle
 * brings the sample as IDX files), the native TensorFlow builds, dev tools. (sharp stays: an
 * import writes preview images with it.)
 */
export const EXCLUDED_PACKAGES = ['electron', 'mnist', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'playwright-core', 'svelte', 'typescript'];

export interface PlannedFile {
  /** Path relative to the project root, with '/' separators. */
  rel: string;
  bytes: number;
}

/** The package a node_modules path belongs to ('@scope/name' or 'name'), or undefined. */
export function packageOf(rel: string): string | undefined {
  const parts = rel.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return undefined;
  return parts[i + 1]!.startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1];
}

/**
 * The node_modules files to ship for these loaded files (absolute paths; others are ignored):
 * each loaded file under root/node_modules, plus every package.json between it and its package's
 * root. Throws if an excluded package was loaded: the path under test should not need it.
 */
export function planNodeModules(root: string, loaded: Iterable<string>): PlannedFile[] {
  const nm = path.join(root, 'node_modules');
  const picked = new Set<string>();
  for (const abs of loaded) {
    const file = path.resolve(abs);
    if (!file.startsWith(nm + path.sep) || !existsSync(file) || !statSync(file).isFile()) continue;
    const rel = path.relative(root, file).split(path.sep).join('/');
    const pkg = packageOf(rel);
    if (pkg && EXCLUDED_PACKAGES.some((x) => pkg === x || pkg.startsWith(`${x}/`))) {
      throw new Error(`the recorded run loaded ${rel}, from a package the GPU check must not need (${pkg})`);
    }
    picked.add(rel);
    // package.json files up to the package root: "type", "main" and "exports" decide how it loads.
    const parts = rel.split('/');
    const rootDepth = parts.lastIndexOf('node_modules') + (parts[parts.lastIndexOf('node_modules') + 1]!.startsWith('@') ? 3 : 2);
    for (let d = parts.length - 1; d >= rootDepth; d--) {
      const pj = [...parts.slice(0, d), 'package.json'].join('/');
      if (existsSync(path.join(root, pj))) picked.add(pj);
    }
  }
  // Shared libraries that native addons load through the dynamic linker (sharp's libvips) are
  // neither required nor read: take every .so file of each package the run used.
  const packages = new Set([...picked].map((rel) => packageRoot(rel)).filter((p): p is string => p !== undefined));
  for (const pkg of packages) {
    for (const f of listTree(root, pkg)) if (/\.so(\.\d+)*$/.test(f.rel)) picked.add(f.rel);
  }
  return [...picked].sort().map((rel) => ({ rel, bytes: statSync(path.join(root, rel)).size }));
}

/** 'node_modules/@scope/name' or 'node_modules/name' (nested node_modules kept) for a file in it. */
function packageRoot(rel: string): string | undefined {
  const parts = rel.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return undefined;
  return parts.slice(0, i + (parts[i + 1]!.startsWith('@') ? 3 : 2)).join('/');
}

/** Every file under dir (relative to root), minus source maps and type declarations. */
function listTree(root: string, dir: string): PlannedFile[] {
  const out: PlannedFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(path.join(root, d)).sort()) {
      const rel = `${d}/${name}`;
      const st = statSync(path.join(root, rel));
      if (st.isDirectory()) walk(rel);
      else if (!name.endsWith('.map') && !name.endsWith('.d.ts')) out.push({ rel, bytes: st.size });
    }
  };
  walk(dir);
  return out;
}

/**
 * The project's own files in the bundle: its package.json (ESM), the CLI launcher, the build, and
 * the torch engine's Python package and the DDP recipe's script (their sources only: the GPU
 * machine's PyTorch runs them, and the build finds them at <app>/python as in the repository).
 */
export function planProject(root: string): PlannedFile[] {
  const top = ['package.json', 'bin/autobatch.js'].map((rel) => ({ rel, bytes: statSync(path.join(root, rel)).size }));
  const python = [...listTree(root, 'python/autobatch_trainer'), ...listTree(root, 'python/recipe')].filter((f) => f.rel.endsWith('.py'));
  return [...top, ...listTree(root, 'dist/src'), ...listTree(root, 'dist/bench'), ...python];
}

export function totalBytes(files: { bytes: number }[]): number {
  return files.reduce((s, f) => s + f.bytes, 0);
}

/** Throws, naming the sizes, if the bundle's parts add up to more than the budget. */
export function checkBudget(parts: Record<string, number>, budget = BUNDLE_BUDGET_BYTES): number {
  const total = Object.values(parts).reduce((s, b) => s + b, 0);
  if (total > budget) {
    const list = Object.entries(parts)
      .map(([k, b]) => `${k} ${formatBytes(b)}`)
      .join(', ');
    throw new Error(`the GPU bundle would be ${formatBytes(total)}, over its ${formatBytes(budget)} budget (${list})`);
  }
  return total;
}
