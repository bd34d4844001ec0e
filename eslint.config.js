// Lint: TypeScript rules plus the import rules of docs/architecture.md §2, which keep each
// runtime's code apart (as VS Code keeps common/node/browser/electron-main apart):
//   shared    imports no Node or DOM module (and nothing from main/renderer/preload)
//   renderer, preload  import only shared (preload may import electron's contextBridge)
//   only main/electron imports electron
//   engine    imports neither store nor service
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const noNode = nodeBuiltins.map((name) => ({ name, message: 'src/shared must run anywhere: no Node modules.' }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-output/**', 'bench-out/**', 'release/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // .svelte files: the plugin's recommended rules, with TypeScript in <script lang="ts">.
  ...svelte.configs.recommended,
  {
    files: ['src/renderer/**/*.svelte', 'src/renderer/**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
    // TypeScript (svelte-check) already knows the DOM's globals; no-undef would only duplicate it.
    rules: { 'no-undef': 'off' },
  },
  {
    // One job per function: a function that outgrows a screen gets split (the search's phases,
    // the importers, the server's doors). Tests and benchmarks may run longer.
    files: ['src/**/*.ts', 'src/**/*.cts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    // Type-aware rules: a promise nobody awaits or catches loses its rejection (an unhandled
    // rejection ends a Node process), and an async function where a callback's return is ignored
    // (an event listener) does the same. node:test's test()/describe() are awaited by the runner.
    files: ['**/*.ts', '**/*.cts', '**/*.svelte'],
    ignores: ['vite.config.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname, extraFileExtensions: ['.svelte'] } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...noNode, { name: 'electron', message: 'Only src/main/electron imports electron.' }],
          patterns: [
            {
              group: ['**/main/**', '**/renderer/**', '**/preload/**', '@tensorflow/*', 'better-sqlite3', 'sharp'],
              message: 'src/shared imports nothing outside src/shared.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.svelte'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...noNode, { name: 'electron', message: 'Only src/main/electron imports electron.' }],
          patterns: [{ group: ['**/main/**', '**/preload/**'], message: 'The renderer talks only to the API contract in src/shared.' }],
        },
      ],
    },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: noNode,
          patterns: [{ group: ['**/main/**', '**/renderer/**'], message: 'The preload imports only src/shared (and electron).' }],
        },
      ],
    },
  },
  {
    files: ['src/main/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Only src/main/electron imports electron.' }],
          patterns: [
            {
              group: ['**/store/**', '**/service/**', '**/cli/**', '**/server/**', '**/electron/**', '**/renderer/**'],
              message: 'The engine imports neither store nor service (docs/architecture.md §2).',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'src/main/store/**/*.ts',
      'src/main/service/**/*.ts',
      'src/main/cli/**/*.ts',
      'src/main/server/**/*.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.js',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Only src/main/electron imports electron.' }],
          patterns: [{ group: ['**/renderer/**', '**/electron/**'], message: 'Node code does not reach into the renderer or the Electron shell.' }],
        },
      ],
    },
  },
  {
    // The renderer's pure modules (no DOM, no Svelte) are unit-tested under Node; nothing else
    // of the renderer is reachable from tests.
    files: ['test/unit/renderer/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Only src/main/electron imports electron.' }],
          patterns: [
            { group: ['**/electron/**'], message: 'Node code does not reach into the Electron shell.' },
            {
              regex: '/renderer/(?!lib/)|\\.svelte(\\.js)?$',
              message: "Tests reach only the renderer's pure modules in src/renderer/lib (Svelte code is tested end to end).",
            },
          ],
        },
      ],
    },
  },
  {
    // The shell's decisions are tested with fakes: these tests import src/main/electron's pure
    // modules (never the electron package itself).
    files: ['test/unit/electron/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Electron cannot run here: inject fakes instead.' }],
          patterns: [{ group: ['**/renderer/**', '**/electron/main.js'], message: 'Test the pure modules, not the entry (it starts Electron).' }],
        },
      ],
    },
  },
);
