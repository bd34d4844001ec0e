// Preload (`node --import …/record-loads.js`, or through NODE_OPTIONS so that trainer processes
// inherit it) that writes down every file this process loads: ES modules (a loader hook), CommonJS
// modules and native addons (the require cache at exit), and files read under node_modules (the
// fs calls). make-bundle uses the union of these lists to ship only the node_modules files the
// GPU check really needs. Output: one file per process in $AUTOBATCH_RECORD_LOADS.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import fs from 'node:fs';
import { createRequire, register, syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const dir = process.env.AUTOBATCH_RECORD_LOADS;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `${process.pid}.txt`);
  writeFileSync(out, '');
  process.env.AUTOBATCH_RECORD_LOADS_FILE = out;
  register(new URL('./record-loads-hooks.js', import.meta.url));

  const read = new Set<string>();
  const note = (p: unknown) => {
    if (typeof p === 'string' && p.includes('node_modules')) read.add(path.resolve(p));
  };
  const wrap = <F extends (...a: never[]) => unknown>(f: F): F =>
    ((...a: Parameters<F>) => {
      note(a[0]);
      return f(...a);
    }) as unknown as F;
  fs.readFileSync = wrap(fs.readFileSync);
  fs.readFile = wrap(fs.readFile);
  fs.openSync = wrap(fs.openSync);
  fs.open = wrap(fs.open);
  fs.promises.readFile = wrap(fs.promises.readFile);
  fs.promises.open = wrap(fs.promises.open);
  syncBuiltinESMExports();

  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const files = new Set([...Object.keys(cache), ...read]);
    appendFileSync(out, [...files].join('\n') + '\n');
  });
}
