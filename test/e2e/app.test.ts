// The app end to end, as a user drives it in a browser against `autobatch serve`: load the
// bundled sample → Auto-tune (Quick) → Train with this (1 epoch) → reload mid-run → the run is
// listed in Runs with its charts; a folder with a corrupt image shows its problems; the page
// without the token is refused. Screenshots of every screen go to test-output/e2e/
// (`npm run screenshots` copies them to docs/screenshots/ for the README), each after axe-core
// found no WCAG 2.1 A/AA violation on it in the light and the dark theme (./axe.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { formatCount } from '../../src/shared/format.js';
import { trainableParameters } from '../../src/shared/model-families.js';
import { expectNoAxeViolations } from './axe.js';
import { closeSession, describedBy, needsChromium, newContext, openSession, screenshot, type Served, tempDir, unnamedControls } from './harness.js';

// The sample is cut to this many digits: enough for 10 classes and a real (short) search and
// run, small enough for a 2-core CI machine.
const SAMPLE_LIMIT = 600;

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let runId: number;
/** The run started by hand and stopped: deleted at the end. */
let liveRunId: number;
/** The Quick and the Full Auto-tune sessions. */
let quickTuning: number;
let fullTuning: number;
const consoleErrors: string[] = [];

before(async () => {
  if (needsChromium) return;
  ({ served, browser, context, page } = await openSession({ viewport: { width: 1280, height: 900 }, timeoutMs: 20_000, acceptDownloads: true }));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(() => closeSession({ served, browser, context, page }));

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface LegendSample {
  label: string;
  /** The line's stroke-dasharray, 'solid', or 'none' for points only. */
  dash: string;
  marker: boolean;
}

/** What a chart's legend shows of each series beside its colour: the line's dash and its point marker. */
async function legendSamples(chart: Locator): Promise<LegendSample[]> {
  const samples: LegendSample[] = [];
  for (const row of await chart.locator('.u-legend tr.u-series').all()) {
    const svg = row.locator('svg.u-swatch');
    if ((await svg.count()) === 0) continue; // the x series
    const line = svg.locator('line');
    const dash = (await line.count()) ? ((await line.getAttribute('stroke-dasharray')) ?? 'solid') : 'none';
    samples.push({ label: (await row.locator('.u-label').innerText()).trim(), dash, marker: (await svg.locator('circle').count()) > 0 });
  }
  return samples;
}

function withoutToken(url: string): string {
  const u = new URL(url);
  u.search = '';
  return u.toString();
}

test('the page is refused without the token, and with a wrong one', { skip: needsChromium }, async () => {
  const bare = await fetch(withoutToken(served.url));
  assert.ok(bare.status === 401 || bare.status === 403, `no token: HTTP ${bare.status}`);
  const wrong = new URL(served.url);
  wrong.searchParams.set('token', 'not-the-token');
  const res = await fetch(wrong);
  assert.ok(res.status === 401 || res.status === 403, `wrong token: HTTP ${res.status}`);
  // The browser (a fresh context, no cookie) gets no app either.
  const other = await newContext(browser);
  try {
    const p = await other.newPage();
    const response = await p.goto(withoutToken(served.url));
    assert.ok(response && response.status() >= 400, `browser without token: HTTP ${response?.status()}`);
    assert.equal(await p.getByRole('link', { name: 'Datasets', exact: true }).count(), 0);
  } finally {
    await other.close();
  }
  // With the token the app loads, and its navigation has the five screens.
  await page.goto(served.url);
  for (const name of ['Datasets', 'Tune', 'Train', 'Runs', 'Settings']) {
    await page.getByRole('link', { name, exact: true }).waitFor();
  }
});

test('the accessibility check fails on a violation, naming the rule, the element and the theme', { skip: needsChromium }, async () => {
  await page.getByRole('link', { name: 'Datasets', exact: true }).waitFor();
  await expectNoAxeViolations(page, 'empty Datasets');
  // Grey on white: 1.6:1, far below AA's 4.5:1.
  await page.evaluate(`(() => {
    const p = document.createElement('p');
    p.id = 'faint-canary';
    p.textContent = 'hard to read';
    p.style.cssText = 'color: #cccccc; background: #ffffff';
    document.querySelector('main').append(p);
  })()`);
  try {
    await assert.rejects(expectNoAxeViolations(page, 'canary'), /canary \(light\): color-contrast .*#faint-canary/);
  } finally {
    await page.evaluate(`document.getElementById('faint-canary').remove()`);
  }
});

test('Datasets: load the bundled MNIST sample through the form', { skip: needsChromium }, async () => {
  await page.getByRole('link', { name: 'Datasets', exact: true }).click();
  await page.getByRole('button', { name: 'Load dataset', exact: true }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Load a dataset' });
  await dialog.waitFor();
  // Escape closes the dialog; it opens again.
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Load dataset', exact: true }).first().click();
  await dialog.getByRole('textbox', { name: 'Dataset path', exact: true }).waitFor();
  await dialog.getByRole('button', { name: 'Import', exact: true }).waitFor();
  await screenshot(page, 'load-dataset');

  await dialog.getByText('Options').click();
  await dialog.getByRole('spinbutton', { name: 'Sample limit' }).fill(String(SAMPLE_LIMIT));
  await dialog.getByRole('button', { name: 'Use the MNIST sample' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 60_000 });

  await page.getByRole('heading', { name: 'mnist', exact: true }).waitFor();
  const classRows = page.getByRole('region', { name: 'Classes' }).getByRole('row');
  assert.equal(await classRows.count(), 11, 'a header row and ten digit classes');
  assert.ok((await page.getByRole('img', { name: /^0, sample/ }).count()) > 0, 'sample images of class 0');
  await page.getByText('No problems found').waitFor();
  await page.getByText(`${SAMPLE_LIMIT}`, { exact: true }).first().waitFor();
  await screenshot(page, 'datasets');
});

test("Tune: the chosen model's trainable parameters at the dataset's input, and they change with the model", { skip: needsChromium }, async () => {
  await page.getByRole('link', { name: 'Tune', exact: true }).click();
  const select = page.getByRole('combobox', { name: 'Model' });
  // The text the select is described by (aria-describedby), as a screen reader reads it.
  const description = async () => page.locator(`[id="${await select.getAttribute('aria-describedby')}"]`).innerText();
  const expected = (model: 'small' | 'resnet-20') => `${formatCount(trainableParameters(model, [28, 28, 1], 10))} trainable parameters`;
  await waitUntil(async () => (await description()).startsWith(expected('small')), 10_000, "the small CNN's size");
  assert.match(await description(), /at 28×28×1, 10 classes — two 3×3 convolutions/);
  await select.selectOption('resnet-20');
  await waitUntil(async () => (await description()).startsWith(expected('resnet-20')), 5_000, "ResNet-20's size");
  assert.match(await description(), /^272 k trainable parameters \(272,186\) .*CIFAR-style residual network/);
  // Back to the model the next tests tune and train.
  await select.selectOption('small');
});

/**
 * Tune screen: one Auto-tune in this mode, followed live until "Train with this" appears; its
 * session id. The time budget (a ten-minute run) leaves the search room for every probe: on the
 * sample's short runs its allowance would otherwise cut them.
 */
async function autoTune(mode: 'Quick' | 'Full'): Promise<number> {
  await page.getByRole('link', { name: 'Tune', exact: true }).click();
  await page.getByRole('radio', { name: mode }).check();
  await page.getByRole('textbox', { name: 'Time budget (minutes)' }).fill('10');
  await page.getByText(`the search spends at most ${mode === 'Quick' ? '5 % of it (30 s)' : '15 % of it (1 min 30 s)'}`, { exact: false }).waitFor();
  await page.getByRole('button', { name: 'Auto-tune', exact: true }).click();
  // The URL names the new search.
  await page.waitForURL(/#\/tune\/\d+$/);
  const sessionId = Number(/#\/tune\/(\d+)$/.exec(page.url())![1]);
  await page.getByText('Searching…').waitFor();
  await expectNoAxeViolations(page, `tune-${mode.toLowerCase()}-searching`);
  await page.getByRole('button', { name: 'Train with this', exact: true }).waitFor({ timeout: 150_000 });
  return sessionId;
}

test('Tune: Auto-tune (Quick), then Train with this for 1 epoch', { skip: needsChromium }, async () => {
  quickTuning = await autoTune('Quick');
  await page.getByRole('heading', { name: 'Recommendation', exact: true }).waitFor();
  assert.ok((await page.locator('.recommendation .reasons li').count()) >= 1, 'the recommendation gives its reasons');
  assert.ok((await page.locator('figure.chart canvas').count()) >= 2, 'memory and throughput curves are drawn');
  await screenshot(page, 'tune');

  await page.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
  await page.getByRole('button', { name: 'Train with this', exact: true }).click();
  await page.waitForURL(/#\/train\/\d+$/);
  runId = Number(/#\/train\/(\d+)$/.exec(page.url())![1]);
  assert.ok(runId >= 1);
  await page.getByRole('heading', { name: 'Train', exact: true }).waitFor();
  // The run trains with the recommendation and the epochs chosen.
  await page.getByText(new RegExp(`^Run ${runId} · mnist · small · batch \\d+ · .* · 1 epochs$`)).waitFor();
});

test('Train: live charts survive a reload, and the run ends completed', { skip: needsChromium }, async () => {
  // Wait for the first steps, then reload mid-run: the stored series are fetched again and the
  // live events carry on.
  await page.locator('.stats dd').first().filter({ hasText: /\d/ }).waitFor({ timeout: 60_000 });
  const stop = page.getByRole('button', { name: 'Stop', exact: true });
  const stillRunning = await stop.isVisible();
  await screenshot(page, 'train');
  await page.reload();
  await page.getByRole('heading', { name: 'Train', exact: true }).waitFor();
  assert.equal(await page.locator('figure.chart canvas').count(), 2, 'loss and accuracy charts after the reload');
  if (stillRunning) {
    // Still ours to stop after the reload (not pressed: the run must complete).
    await stop.waitFor({ timeout: 5_000 }).catch(() => undefined);
  }
  await page.locator('.badge', { hasText: 'completed' }).waitFor({ timeout: 120_000 });
  // The charts hold the whole run: training points and at least one validation point.
  assert.ok((await page.locator('.u-legend .u-series').count()) >= 4, 'legends of train and validation series');
  // Told apart without their colours: a solid line, and a dashed one with dots; the legend shows which is which.
  assert.deepEqual(await legendSamples(page.locator('figure.chart').first()), [
    { label: 'train', dash: 'solid', marker: false },
    { label: 'validation', dash: '8 4', marker: true },
  ]);
  await screenshot(page, 'train-completed');
});

test('Train: a run started by hand is followed again after a reload, and Stop stops it', { skip: needsChromium }, async () => {
  await page.getByRole('link', { name: 'Train', exact: true }).click();
  await page.getByRole('heading', { name: 'Nothing is training' }).waitFor();
  // Batch 1 for 200 epochs (~94 000 steps): long enough to reload and visit two pages while it
  // trains on any engine (torch-cpu, where CI has it, does ~1 400 steps in a few seconds); Stop
  // ends it.
  await page.getByRole('spinbutton', { name: 'Batch size' }).fill('1');
  await page.getByRole('spinbutton', { name: 'Epochs' }).fill('200');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForURL(/#\/train\/\d+$/);
  liveRunId = Number(/#\/train\/(\d+)$/.exec(page.url())![1]);
  assert.notEqual(liveRunId, runId);

  const stepCell = page.locator('.stats dd').first();
  const currentStep = async () => Number((await stepCell.innerText()).split('/')[0]!.replace(/[^\d]/g, '') || 0);
  await stepCell.filter({ hasText: /^\d[\d,]* \/ / }).waitFor({ timeout: 60_000 });
  await waitUntil(async () => (await currentStep()) >= 120, 30_000, 'step 120');
  await screenshot(page, 'train');
  const before = await currentStep();

  await page.reload();
  await page.getByRole('button', { name: 'Stop', exact: true }).waitFor();
  // The stored steps come back at once, then the live events carry on past them.
  await stepCell.filter({ hasText: /^\d[\d,]* \/ / }).waitFor();
  assert.ok((await currentStep()) >= before, 'no steps lost over the reload');
  const target = (await currentStep()) + 20;
  await waitUntil(async () => (await currentStep()) >= target, 30_000, `step ${target} after the reload`);
  assert.equal(await page.locator('figure.chart canvas').count(), 2);

  // Meanwhile, in another tab: what it trains on cannot be deleted, and the button says why.
  const other = await context.newPage();
  try {
    for (const [hash, name, why] of [
      [`#/runs/${liveRunId}`, 'Delete run', `run ${liveRunId} is training; stop it first`],
      ['#/datasets', 'Delete dataset', `run ${liveRunId} is training on it; stop it first`],
    ] as const) {
      await other.goto(`${served.url}${hash}`);
      const button = other.getByRole('button', { name, exact: true });
      await waitUntil(() => button.isDisabled(), 10_000, `${name} disabled while run ${liveRunId} trains`);
      assert.equal(await button.getAttribute('title'), `Cannot be deleted now: ${why}`);
    }
  } finally {
    await other.close();
  }

  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.locator('.screen-head .badge', { hasText: 'stopped' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByRole('button', { name: 'Stop', exact: true }).count(), 0, 'nothing left to stop');
});

test("Runs: a stopped run's page offers Resume from its stop checkpoint; it goes on, and its attempts are listed", { skip: needsChromium }, async () => {
  await page.goto(`${served.url}#/runs/${liveRunId}`);
  const resume = page.getByRole('button', { name: /^Resume from step [\d,]+$/ });
  await resume.waitFor();
  const from = Number((await resume.innerText()).replace(/[^\d]/g, ''));
  assert.ok(from > 0);
  assert.match(await describedBy(page, resume), /continues this run in a fresh trainer from its stop checkpoint at step/);
  await resume.click();
  await page.waitForURL(new RegExp(`#/train/${liveRunId}$`));
  const stepCell = page.locator('.stats dd').first();
  const currentStep = async () => Number((await stepCell.innerText()).split('/')[0]!.replace(/[^\d]/g, '') || 0);
  await waitUntil(async () => (await currentStep()) >= from + 20, 60_000, `step ${from + 20} after the resume`);
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.locator('.screen-head .badge', { hasText: 'stopped' }).waitFor({ timeout: 30_000 });

  await page.goto(`${served.url}#/runs/${liveRunId}`);
  const attempts = page.getByRole('region', { name: 'Attempts' });
  await attempts.waitFor();
  assert.match(
    await attempts.innerText(),
    new RegExp(`Attempt 2 resumed at step ${from.toLocaleString('en-US')} \\(the stop checkpoint\\) after the run stopped`),
  );
  await screenshot(page, 'run-detail-resumed');
  // Stopped again: it can be resumed again, from the newer checkpoint.
  const again = Number((await page.getByRole('button', { name: /^Resume from step [\d,]+$/ }).innerText()).replace(/[^\d]/g, ''));
  assert.ok(again > from);
  assert.deepEqual(await unnamedControls(page), []);
});

test('Runs: the run is listed, with charts, confusion matrix and mistakes', { skip: needsChromium }, async () => {
  await page.getByRole('link', { name: 'Runs', exact: true }).click();
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `Run ${runId}`, exact: true }) });
  await row.waitFor();
  assert.match(await row.innerText(), /completed/);
  assert.match(await row.innerText(), /\d+\.\d %/, 'best validation accuracy');
  // Sorting by a column marks it for assistive technology.
  await page.getByRole('button', { name: /^Best val\. accuracy/ }).click();
  assert.ok(['ascending', 'descending'].includes((await page.getByRole('columnheader', { name: /Best val\. accuracy/ }).getAttribute('aria-sort')) ?? ''));
  for (const box of await page.getByRole('checkbox', { name: /^Select run / }).all()) await box.check();
  await page.getByRole('combobox', { name: 'Compare', exact: true }).selectOption({ label: 'Training loss' });
  await page.getByRole('button', { name: /^Compare selected/ }).click();
  await page.getByRole('region', { name: 'Comparison' }).locator('canvas').waitFor();
  const compared = await legendSamples(page.getByRole('region', { name: 'Comparison' }));
  assert.ok(compared.length >= 2, `the runs compared: ${JSON.stringify(compared)}`);
  assert.equal(new Set(compared.map((c) => c.dash)).size, compared.length, `each run its own dash pattern: ${JSON.stringify(compared)}`);
  await screenshot(page, 'runs');

  await page.getByRole('link', { name: `Run ${runId}`, exact: true }).click();
  await page.getByRole('heading', { name: new RegExp(`^Run ${runId}`) }).waitFor();
  await page.getByRole('heading', { name: 'Confusion matrix' }).waitFor();
  assert.ok((await page.locator('figure.chart canvas').count()) >= 2, 'loss and accuracy charts');
  assert.equal(await page.locator('table.confusion tbody tr').count(), 10);
  // Each cell carries its count as a number: its tint is not the only cue.
  const cells = await page.locator('table.confusion tbody td').allInnerTexts();
  assert.equal(cells.length, 100);
  assert.deepEqual(
    cells.filter((c) => !/^\d+$/.test(c.trim())),
    [],
    'every confusion-matrix cell shows its count',
  );
  assert.ok(cells.reduce((sum, c) => sum + Number(c), 0) > 0, 'the matrix counts the validation samples');
  await page.getByRole('heading', { name: 'Per-class accuracy' }).waitFor();
  await page.getByRole('heading', { name: /Auto-tune session/ }).waitFor();
  await page.getByRole('button', { name: 'Export CSV' }).waitFor();
  await screenshot(page, 'run-detail');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const file = await download;
  assert.match(file.suggestedFilename(), /\.csv$/);
});

test('Tune: a Full search adds the efficiency and goodput curves, the noise scale and the learning-rate range test', { skip: needsChromium }, async () => {
  fullTuning = await autoTune('Full');
  await page.getByText('Noise scale', { exact: true }).waitFor();
  assert.equal(await page.locator('figure.chart canvas').count(), 5, 'memory, throughput, efficiency, goodput and the range test');
  await page.getByRole('figure', { name: /one step at each learning rate of the range test/ }).waitFor();
  await page
    .getByText(/learning-rate ramps .* at batch \d+/)
    .first()
    .waitFor();
  await screenshot(page, 'tune-full');
});

test('Tune: the session shown follows the tuning id in the URL, with Back and Forward too', { skip: needsChromium }, async () => {
  assert.ok(quickTuning > 0 && fullTuning > quickTuning, `sessions ${quickTuning} and ${fullTuning}`);
  /** The Tune screen shows the session of this mode (the report ends "… (quick)."), and not the other one. */
  async function shows(mode: 'quick' | 'full', step: string): Promise<void> {
    const other = mode === 'quick' ? 'full' : 'quick';
    await page
      .getByText(new RegExp(`^Search took .* \\(${mode}\\)\\.`))
      .waitFor({ timeout: 10_000 })
      .catch(() => {
        throw new Error(`${step}: the ${mode} session is not shown (${page.url()})`);
      });
    assert.equal(await page.getByText(new RegExp(`^Search took .* \\(${other}\\)\\.`)).count(), 0, `${step}: the ${other} session is still shown`);
    assert.equal(await page.getByRole('radio', { name: mode === 'quick' ? 'Quick' : 'Full' }).isChecked(), true, `${step}: its mode is selected`);
  }
  const go = (hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);

  await page.waitForURL(new RegExp(`#/tune/${fullTuning}$`));
  await shows('full', `#/tune/${fullTuning}`);
  await go(`#/tune/${quickTuning}`);
  await shows('quick', `#/tune/${fullTuning} → #/tune/${quickTuning}`);
  await page.goBack();
  await page.waitForURL(new RegExp(`#/tune/${fullTuning}$`));
  await shows('full', `Back to #/tune/${fullTuning}`);
  await page.goForward();
  await page.waitForURL(new RegExp(`#/tune/${quickTuning}$`));
  await shows('quick', `Forward to #/tune/${quickTuning}`);
  // Tune in the navigation (no id) shows the newest session; Back shows the one in the URL again.
  await page.getByRole('link', { name: 'Tune', exact: true }).click();
  await page.waitForURL(/#\/tune$/);
  await shows('full', '#/tune');
  await page.goBack();
  await page.waitForURL(new RegExp(`#/tune/${quickTuning}$`));
  await shows('quick', `Back from #/tune to #/tune/${quickTuning}`);
});

test('Settings: backends with their reasons, memory budget, data folder', { skip: needsChromium }, async () => {
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Compute backends' }).waitFor();
  await page.getByText(/Auto picks/).waitFor({ timeout: 60_000 });
  assert.ok((await page.getByText('unavailable', { exact: true }).count()) + (await page.getByText('available', { exact: true }).count()) >= 2);
  await page.getByText(served.home).waitFor();
  await screenshot(page, 'settings');
  // A lower memory budget is kept by the service.
  await page.getByRole('radio', { name: /^At most/ }).check();
  await page.getByRole('spinbutton', { name: 'Memory budget in GiB' }).fill('1.5');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved.').waitFor();
  await page.reload();
  const budget = page.getByRole('spinbutton', { name: 'Memory budget in GiB' });
  await waitUntil(async () => (await budget.inputValue()) === '1.5', 10_000, 'the saved budget after a reload');
  assert.equal(await page.getByRole('radio', { name: /^At most/ }).isChecked(), true);
});

test('Settings: each rung names its engine; the PyTorch engine section and the Python for PyTorch field', { skip: needsChromium }, async () => {
  await page.getByRole('heading', { name: 'Compute backends' }).waitFor();
  await page.getByText(/Auto picks/).waitFor({ timeout: 60_000 });
  await page.getByRole('columnheader', { name: 'Engine', exact: true }).waitFor();
  assert.ok((await page.getByRole('cell', { name: 'tfjs (built in)', exact: true }).count()) >= 1, 'the tfjs rungs name their engine');
  assert.equal(await page.getByRole('option', { name: 'torch-cpu (PyTorch on the CPU)', exact: true }).count(), 1, 'the backend menu names the torch choices');
  // The section says what was found: the interpreter and its torch, or that none has torch and how to install it.
  const torch = page.getByRole('region', { name: 'PyTorch engine', exact: true });
  await torch.getByText(/^No Python with PyTorch found|^torch version$/).waitFor();
  if (await torch.getByText(/^No Python with PyTorch found/).count()) await torch.getByText('apt-get install -y python3-torch', { exact: true }).waitFor();
  else await torch.getByText('Python version', { exact: true }).waitFor();

  // Whitespace is refused naming the field; a path saved with the keyboard is kept over a reload, then cleared.
  const field = torch.getByRole('textbox', { name: 'Python for PyTorch', exact: true });
  await field.fill('   ');
  await torch.getByRole('button', { name: 'Save Python', exact: true }).click();
  await torch
    .getByRole('alert')
    .getByText(/^Python for PyTorch: enter the path/)
    .waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await torch.scrollIntoViewIfNeeded();
  await screenshot(page, 'settings-pytorch-dark');
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await field.fill('/usr/bin/python3');
  await field.press('Enter');
  await torch.getByRole('status').getByText('Saved.', { exact: true }).waitFor({ timeout: 60_000 });
  assert.equal(await torch.getByRole('alert').count(), 0, 'the message goes once the value is good');
  await page.reload();
  await waitUntil(async () => (await field.inputValue()) === '/usr/bin/python3', 10_000, 'the saved Python after a reload');
  await torch.getByRole('button', { name: 'Clear', exact: true }).click();
  await torch.getByRole('status').getByText('Cleared.', { exact: true }).waitFor({ timeout: 60_000 });
  assert.equal(await field.inputValue(), '');
  assert.equal(await torch.getByRole('button', { name: 'Clear', exact: true }).isDisabled(), true, 'nothing left to clear');
});

test('dark theme: the toggle switches and is remembered', { skip: needsChromium }, async () => {
  await page.getByRole('button', { name: 'Dark theme' }).click();
  assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
  await page.getByRole('link', { name: 'Tune', exact: true }).click();
  await page.getByRole('heading', { name: 'Recommendation', exact: true }).waitFor();
  await screenshot(page, 'tune-dark');
  await page.goto(`${served.url}#/runs/${runId}`);
  await page.getByRole('heading', { name: 'Confusion matrix' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark', 'remembered over a reload');
  await screenshot(page, 'run-detail-dark');
  await page.getByRole('button', { name: 'Dark theme' }).click();
});

test('a folder with a corrupt image: the import lists its problems in plain words', { skip: needsChromium }, async () => {
  const parent = tempDir('autobatch-e2e-corrupt-');
  const dir = path.join(parent, 'pets');
  mkdirSync(dir);
  try {
    for (const cls of ['cats', 'dogs']) {
      mkdirSync(path.join(dir, cls));
      for (let i = 0; i < 8; i++) {
        const pixels = Buffer.alloc(16 * 16 * 3, cls === 'cats' ? 40 + i * 10 : 200 - i * 10);
        await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } })
          .png()
          .toFile(path.join(dir, cls, `${cls}-${i}.png`));
      }
    }
    writeFileSync(path.join(dir, 'dogs', 'broken.png'), Buffer.from('this is not a PNG file at all'));
    writeFileSync(
      path.join(dir, 'cats', 'truncated.png'),
      (
        await sharp(Buffer.alloc(16 * 16 * 3, 90), { raw: { width: 16, height: 16, channels: 3 } })
          .png()
          .toBuffer()
      ).subarray(0, 40),
    );

    await page.getByRole('link', { name: 'Datasets', exact: true }).click();
    await page.getByRole('button', { name: 'Load dataset', exact: true }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Load a dataset' });
    await dialog.getByRole('textbox', { name: 'Dataset path', exact: true }).fill(dir);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    await page.getByRole('heading', { name: 'pets', exact: true }).waitFor();

    const problems = page.getByRole('region', { name: 'Problems' });
    await problems.getByText(/2 problems found/).waitFor();
    await problems.getByText('broken.png', { exact: false }).first().waitFor();
    await problems.getByText('truncated.png', { exact: false }).first().waitFor();
    const classRows = page.getByRole('region', { name: 'Classes' }).getByRole('row');
    assert.equal(await classRows.count(), 3, 'cats and dogs, the good images only');
    await screenshot(page, 'datasets-problems');

    // The same folder uploaded from the browser (the folder input keeps the class subfolders).
    await page.getByRole('button', { name: 'Load dataset', exact: true }).first().click();
    await dialog.getByText('Options').click();
    await dialog.getByRole('textbox', { name: 'Name' }).fill('uploaded pets');
    await dialog.getByLabel('Folder to upload').setInputFiles(dir);
    await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    await page.getByRole('heading', { name: 'uploaded pets', exact: true }).waitFor();
    await problems.getByText(/2 problems found/).waitFor();
    await problems.getByText('broken.png', { exact: false }).first().waitFor();
    assert.equal(await classRows.count(), 3);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('a CSV file dropped anywhere on the window is imported, its bad row named', { skip: needsChromium }, async () => {
  await page.getByRole('link', { name: 'Runs', exact: true }).click();
  const rows = ['a,b,label'];
  for (let i = 0; i < 30; i++) rows.push(`${(i % 3) + i / 100},${(i * 7) % 5},${['setosa', 'virginica', 'versicolor'][i % 3]}`);
  rows.splice(5, 0, 'oops,1,setosa'); // line 6 of the file
  // What a drag from the file manager delivers: a DataTransfer holding the file.
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([${JSON.stringify(rows.join('\n') + '\n')}], 'flowers.csv', { type: 'text/csv' }));
    const target = document.querySelector('main');
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
  await page.getByRole('heading', { name: 'flowers', exact: true }).waitFor({ timeout: 60_000 });
  assert.match(page.url(), /#\/datasets\/\d+$/);
  const problems = page.getByRole('region', { name: 'Problems' });
  await problems.getByText(/1 problem found/).waitFor();
  await problems.getByText(/\(row 6\)/).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Classes' }).getByRole('row').count(), 4, 'three species');
});

test('Delete: a run, a tuning session and a dataset, each after its confirmation dialog', { skip: needsChromium }, async () => {
  // The sample, which everything above used: the dialog counts what goes with it; Escape keeps it.
  await page.getByRole('link', { name: 'Datasets', exact: true }).click();
  await page
    .getByRole('navigation', { name: 'Dataset list' })
    .getByRole('link', { name: /^mnist / })
    .click();
  await page.getByRole('heading', { name: 'mnist', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Delete dataset', exact: true }).click();
  const sample = page.getByRole('dialog', { name: 'Delete dataset "mnist"?' });
  await sample.getByText('Its 2 runs (with their models and metrics) and 2 tuning sessions are deleted too.').waitFor();
  await sample.getByText(/^[\d.]+ (KiB|MiB) are freed\.$/).waitFor();
  assert.equal(await page.evaluate('document.activeElement.textContent'), 'Cancel', 'the dialog starts on Cancel');
  await screenshot(page, 'delete-dataset');
  await page.keyboard.press('Escape');
  await sample.waitFor({ state: 'hidden' });
  await page.getByRole('heading', { name: 'mnist', exact: true }).waitFor();

  // The run stopped by hand, from the keyboard: Tab from Cancel to Delete, Enter.
  await page.goto(`${served.url}#/runs/${liveRunId}`);
  await page.getByRole('button', { name: 'Delete run', exact: true }).click();
  const run = page.getByRole('dialog', { name: `Delete run ${liveRunId}?` });
  await run.getByText(/^Its [\d,]+ stored metric values/).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/runs$/);
  await page
    .getByRole('status')
    .getByText(new RegExp(`^Deleted run ${liveRunId}`))
    .waitFor();
  await page.getByRole('link', { name: `Run ${runId}`, exact: true }).waitFor();
  assert.equal(await page.getByRole('link', { name: `Run ${liveRunId}`, exact: true }).count(), 0);

  // The Quick search: the run trained with it is kept, and its page still opens.
  await page.goto(`${served.url}#/tune/${quickTuning}`);
  await page.getByRole('button', { name: 'Delete tuning session', exact: true }).click();
  const tuning = page.getByRole('dialog', { name: `Delete tuning session ${quickTuning}?` });
  await tuning.getByText(`Run ${runId}, trained with its recommendation, is kept (its settings say what it trained with).`).waitFor();
  await tuning.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.waitForURL(/#\/tune$/);
  await page.getByRole('status').getByText(`Deleted tuning session ${quickTuning}.`).waitFor();
  await page.getByText(new RegExp(`^Search ${fullTuning} · `)).waitFor();
  await page.goto(`${served.url}#/runs/${runId}`);
  await page.getByRole('heading', { name: 'Confusion matrix' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: /Auto-tune session/ }).count(), 0);

  // A dataset nothing used: gone from the list.
  await page.getByRole('link', { name: 'Datasets', exact: true }).click();
  await page
    .getByRole('navigation', { name: 'Dataset list' })
    .getByRole('link', { name: /^flowers / })
    .click();
  await page.getByRole('heading', { name: 'flowers', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Delete dataset', exact: true }).click();
  const flowers = page.getByRole('dialog', { name: 'Delete dataset "flowers"?' });
  await flowers.getByText('It has no runs or tuning sessions.').waitFor();
  await flowers.getByRole('button', { name: 'Delete', exact: true }).click();
  await page
    .getByRole('status')
    .getByText(/^Deleted dataset "flowers"; [\d.]+ (B|KiB) freed\.$/)
    .waitFor();
  await page.waitForURL(/#\/datasets$/);
  assert.equal(
    await page
      .getByRole('navigation', { name: 'Dataset list' })
      .getByRole('link', { name: /^flowers / })
      .count(),
    0,
  );
  await page
    .getByRole('navigation', { name: 'Dataset list' })
    .getByRole('link', { name: /^mnist / })
    .waitFor();
});

test('the page logged no errors', { skip: needsChromium }, () => {
  // A dropped WebSocket during the reload above is expected; anything else is a bug.
  const unexpected = consoleErrors.filter((e) => !/WebSocket|net::ERR_ABORTED/.test(e));
  assert.deepEqual(unexpected, []);
});
