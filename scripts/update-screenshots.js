#!/usr/bin/env node
// Copies the screenshots the end-to-end tests wrote (test-output/e2e/*.png) to docs/screenshots/,
// where the README shows them. Run after `npm run test:e2e` when the UI changed:
// `npm run screenshots`. Kept apart from the tests so that a test run never rewrites tracked files.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const from = path.join(root, 'test-output', 'e2e');
const to = path.join(root, 'docs', 'screenshots');
if (!existsSync(from)) {
  console.error(`no screenshots in ${from}: run npm run test:e2e first`);
  process.exit(1);
}
const files = readdirSync(from)
  .filter((f) => f.endsWith('.png'))
  .sort();
if (files.length === 0) {
  console.error(`no .png files in ${from}`);
  process.exit(1);
}
mkdirSync(to, { recursive: true });
for (const f of files) copyFileSync(path.join(from, f), path.join(to, f));
console.log(`copied ${files.length} screenshots to ${path.relative(root, to)}/: ${files.join(', ')}`);
