// Node module hooks that load tfjs-core's published op tests as they are, without copying or
// editing them. Those files (dist/**/*_test.js and what they import) are ES modules in a package
// Node reads as CommonJS, import each other without the `.js` extension, and jasmine_util calls
// `require` — three things Node's ESM loader refuses. For files under tfjs-core's dist folder
// only, resolve() adds the extension, and load() marks the file an ES module and gives it a
// `require` made by createRequire. Their `import * as x from 'pkg'` of CommonJS packages
// (seedrandom, long) expects the bundler's view, where x holds every property of module.exports;
// Node's static analysis misses properties assigned later (seedrandom.alea), so such imports get
// a module that re-exports module.exports' properties as they are at run time. Everything else
// loads as usual (the CommonJS tfjs the app uses is untouched: require() does not pass through
// these hooks on Node 20).
import { builtinModules, createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';

const TFJS_CORE_DIST = '/@tensorflow/tfjs-core/dist/';
/** URL scheme of the generated modules that re-export a CommonJS package (see load()). */
const CJS_SCHEME = 'tfjs-upstream-cjs:';

interface ResolveContext {
  parentURL?: string;
}
interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<Resolved>;
interface Loaded {
  format: string;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: { format?: string | null }) => Promise<Loaded>;

function inTfjsCoreDist(url: string | undefined): boolean {
  return url !== undefined && url.startsWith('file:') && url.includes(TFJS_CORE_DIST);
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<Resolved> {
  const relative = specifier.startsWith('./') || specifier.startsWith('../');
  if (!inTfjsCoreDist(context.parentURL)) return nextResolve(specifier, context);
  const builtin = specifier.startsWith('node:') || builtinModules.includes(specifier);
  if (!relative && !builtin) {
    const query = new URLSearchParams({ specifier, parent: context.parentURL ?? '' });
    return { url: `${CJS_SCHEME}?${query.toString()}`, shortCircuit: true };
  }
  if (!relative || specifier.endsWith('.js')) return nextResolve(specifier, context);
  // `../index`, `./engine`… name files; `./ops/ops` style imports of folders do not occur there.
  return nextResolve(`${specifier}.js`, context);
}

/** An ES module whose exports are the CommonJS package's module.exports and its properties. */
function cjsReexport(url: string): Loaded {
  const query = new URLSearchParams(url.slice(url.indexOf('?') + 1));
  const specifier = query.get('specifier')!;
  const parent = query.get('parent')!;
  const exported = createRequire(parent)(specifier) as Record<string, unknown>;
  const names = Object.keys(exported).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
  const lines = [
    `import { createRequire } from 'node:module';`,
    `const m = createRequire(${JSON.stringify(parent)})(${JSON.stringify(specifier)});`,
    'export default m;',
    ...names.map((k) => `export const ${k} = m[${JSON.stringify(k)}];`),
  ];
  return { format: 'module', source: lines.join('\n'), shortCircuit: true };
}

export async function load(url: string, context: { format?: string | null }, nextLoad: NextLoad): Promise<Loaded> {
  if (url.startsWith(CJS_SCHEME)) return cjsReexport(url);
  if (!inTfjsCoreDist(url) || !url.endsWith('.js') || url.endsWith('.node.js')) return nextLoad(url, context);
  let source = await readFile(new URL(url), 'utf8');
  // The only CommonJS idiom these modules use is require() (jasmine_util, platform_node…).
  if (/\brequire\s*[.(]/.test(source)) {
    source = `import { createRequire as __tfjsCreateRequire } from 'node:module'; const require = __tfjsCreateRequire(import.meta.url);\n${source}`;
  }
  return { format: 'module', source, shortCircuit: true };
}
