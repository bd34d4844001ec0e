// axe-core over the page the end-to-end tests are on, in the light and the dark theme: any
// violation of the WCAG 2.1 A and AA rules fails the test, naming the rule and each element.
//
// axe's source is evaluated in the page through the DevTools protocol, which the app's
// Content-Security-Policy does not govern: the CSP users get stays as it is, with no bypass.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';

/** The rules checked: WCAG 2.0 and 2.1, levels A and AA. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] as const;

export type Theme = 'light' | 'dark';

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string; html: string; summary: string }>;
}

let source: string | undefined;

/**
 * axe-core's browser build: the devDependency, or (while it is not installed) the axe.js, or
 * the folder of an axe-core package, that AXE_CORE_PATH names. Never skipped: a missing axe-core
 * fails the test that needs it.
 */
export function axeSource(env: NodeJS.ProcessEnv = process.env): string {
  if (source !== undefined) return source;
  let file: string | undefined;
  try {
    file = createRequire(import.meta.url).resolve('axe-core');
  } catch {
    const given = env.AXE_CORE_PATH;
    if (given) file = statSync(given).isDirectory() ? path.join(given, 'axe.js') : given;
  }
  if (!file) throw new Error('axe-core is not installed: npm install (it is a devDependency), or set AXE_CORE_PATH to its axe.js');
  source = readFileSync(file, 'utf8');
  return source;
}

// Runs in the page (a string, so this Node-side file needs no DOM types); `__OPTIONS__` is
// replaced by axe.run's options.
const RUN = `axe.run(document, __OPTIONS__).then((r) => r.violations.map((v) => ({
  id: v.id,
  impact: v.impact ?? null,
  help: v.help,
  nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 200), summary: (n.failureSummary || '').replace(/\\s+/g, ' ').trim() })),
})))`;

/** The violations axe finds on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource());
  const options = { runOnly: { type: 'tag', values: AXE_TAGS }, resultTypes: ['violations'] };
  return (await page.evaluate(RUN.replace('__OPTIONS__', JSON.stringify(options)))) as AxeViolation[];
}

/** One line per element: where, which rule, why. */
export function describeViolations(label: string, theme: Theme, violations: readonly AxeViolation[]): string[] {
  return violations.flatMap((v) => v.nodes.map((n) => `${label} (${theme}): ${v.id} [${v.impact ?? '?'}] ${v.help} — ${n.target} ${n.html} — ${n.summary}`));
}

/**
 * Fails when axe finds any violation on the page, in either theme. The theme is switched as the
 * toggle does (<html data-theme>), and put back as it was; the pointer is moved off the page so
 * no hover colour is judged.
 */
export async function expectNoAxeViolations(page: Page, label: string): Promise<void> {
  await page.mouse.move(0, 0);
  const original = await page.locator('html').getAttribute('data-theme');
  const found: string[] = [];
  try {
    for (const theme of ['light', 'dark'] as const) {
      await page.evaluate(`document.documentElement.setAttribute('data-theme', ${JSON.stringify(theme)})`);
      found.push(...describeViolations(label, theme, await axeViolations(page)));
    }
  } finally {
    const restore =
      original === null
        ? `document.documentElement.removeAttribute('data-theme')`
        : `document.documentElement.setAttribute('data-theme', ${JSON.stringify(original)})`;
    await page.evaluate(restore);
  }
  if (found.length) throw new Error(`axe-core: ${found.length} violation(s) on ${label}:\n${found.join('\n')}`);
}
