// What the end-to-end tests share: `autobatch serve` as a child process on a throw-away data
// folder (the URL parsed from the one line it prints), Chromium driven by playwright-core with
// the flags of docs/architecture.md §8 (Debian's where it runs, else the one the npm package
// @sparticuz/chromium ships: test/support/parts.ts), and screenshots under test-output/e2e/, each
// taken after an accessibility check (every control named; axe-core in both themes).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { findChromium, missing } from '../support/parts.js';
import { expectNoAxeViolations } from './axe.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const screenshotDir = path.join(repoRoot, 'test-output', 'e2e');

/** The `skip` option of every end-to-end test: false where a Chromium runs (under CI=true a missing one throws). */
export const needsChromium = missing('chromium');

// Headless on a machine with no display, no GPU and a closed network: without the networking
// flags Chromium keeps trying to reach Google's hosts.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Served {
  home: string;
  /** The URL printed by serve, with its ?token=. */
  url: string;
  proc: ChildProcess;
  /** Everything serve wrote to stderr (for failure messages). */
  stderr: () => string;
  stop: () => Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts `autobatch serve --port 0` on a fresh AUTOBATCH_HOME and waits for its URL line. */
export async function startServe(): Promise<Served> {
  const home = tempDir('autobatch-e2e-');
  // The pages' runs and searches take the settings' backend: wasm, the built-in engine these
  // tests are about (where PyTorch is installed, `auto` would train on torch-cpu).
  writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ memoryBudgetBytes: null, backend: 'wasm', pythonPath: null }, null, 2) + '\n');
  const bin = path.join(repoRoot, 'bin', 'autobatch.js');
  const proc = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, AUTOBATCH_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`autobatch serve printed no URL within 30 s\nstdout: ${out}\nstderr: ${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`autobatch serve exited (${code}) before printing its URL\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  return {
    home,
    url,
    proc,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  const found = findChromium();
  if ('reason' in found) throw new Error(`no Chromium runs here: ${found.reason}`);
  return chromium.launch({ executablePath: found.executable, args: CHROMIUM_FLAGS, headless: true });
}

/**
 * A browser context with a fixed locale: a headless Chromium under LANG=C reports a language tag
 * (en-US@posix) that its own Intl rejects, and pictures should not depend on the machine's locale.
 */
export async function newContext(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  return browser.newContext({ locale: 'en-US', ...options });
}

/** What an end-to-end test file drives: `autobatch serve`, a Chromium, and one page in a light-themed context. */
export interface E2eSession {
  served: Served;
  browser: Browser;
  context: BrowserContext;
  page: Page;
}

/** Starts serve (unless one is given, started earlier) and Chromium with one page whose default timeout is `timeoutMs`. */
export async function openSession(o: {
  viewport: { width: number; height: number };
  timeoutMs: number;
  acceptDownloads?: boolean;
  served?: Served;
}): Promise<E2eSession> {
  const served = o.served ?? (await startServe());
  const browser = await launchChromium();
  const context = await newContext(browser, { viewport: o.viewport, colorScheme: 'light', ...(o.acceptDownloads ? { acceptDownloads: true } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(o.timeoutMs);
  return { served, browser, context, page };
}

/** Closes what openSession opened; any part may be missing (a skipped or failed before()). */
export async function closeSession(s: Partial<E2eSession>): Promise<void> {
  await s.context?.close();
  await s.browser?.close();
  await s.served?.stop();
}

// Runs in the page (a string, so this Node-side file needs no DOM types): every control —
// button, link, input, select, textarea — must have an accessible name.
const UNNAMED_CONTROLS = `(() => {
  const text = (el) => (el ? (el.textContent || '').trim() : '');
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const by = el.getAttribute('aria-labelledby');
    if (by && by.split(/\\s+/).some((id) => text(document.getElementById(id)))) return true;
    if (el.labels && [...el.labels].some((l) => text(l))) return true;
    if ((el.getAttribute('title') || '').trim()) return true;
    if (el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type) && el.value) return true;
    if (el.tagName === 'BUTTON' || el.tagName === 'A') return text(el) !== '' || [...el.querySelectorAll('img[alt]')].some((i) => i.alt.trim());
    return false;
  };
  return [...document.querySelectorAll('button, a[href], input, select, textarea')]
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
})()`;

export async function unnamedControls(page: Page): Promise<string[]> {
  return (await page.evaluate(UNNAMED_CONTROLS)) as string[];
}

/**
 * Saves a full-page screenshot as test-output/e2e/<name>.png (or of `part` alone, a section the
 * README shows), after checking that every control on the screen has an accessible name and that
 * axe-core finds no WCAG 2.1 A/AA violation on it in either theme (test/e2e/axe.ts).
 */
export async function screenshot(page: Page, name: string, part?: Locator): Promise<string> {
  const unnamed = await unnamedControls(page);
  if (unnamed.length) throw new Error(`controls without an accessible name on ${name}:\n${unnamed.join('\n')}`);
  await expectNoAxeViolations(page, name);
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  // No hover highlight in the picture; let charts finish their throttled redraw.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(250);
  if (part) await part.screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The text a control is described by (aria-describedby), as a screen reader reads it. */
export async function describedBy(page: Page, control: Locator): Promise<string> {
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  if (ids.length === 0) throw new Error('the control has no description (aria-describedby)');
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).innerText()));
  return texts.join(' ');
}
