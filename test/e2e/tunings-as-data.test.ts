// Tunings and runs as data, in a browser against `autobatch serve`: the Runs screen's
// settings-against-results chart renders from real runs, its "Compare by" and "Show" selects
// work by keyboard, what is left out is said, and its table lists the points; the Tune screen's
// "Export trials (CSV)" downloads the search's trials. The runs and the search are made with the
// command line on the served data folder (300 digits), as a user beside the app would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { closeSession, needsChromium, openSession, repoRoot, screenshot, type Served, startServe } from './harness.js';

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let tuningId: number;
let tuningTrials: number;

function cli(...args: string[]): unknown {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'autobatch.js'), ...args, '--json'], {
    env: { ...process.env, AUTOBATCH_HOME: served.home },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function train(model: string, batchSize: number, lr: number, ...extra: string[]): void {
  cli('train', '--model', model, '--batch-size', String(batchSize), '--lr', String(lr), '--dataset', 'mnist', '--epochs', '1', ...extra);
}

before(async () => {
  if (needsChromium) return;
  served = await startServe();
  cli('datasets', 'import', 'sample:mnist', '--limit', '300');
  train('mlp', 16, 0.001, '--backend', 'cpu');
  train('mlp', 64, 0.003, '--backend', 'cpu');
  // A CNN: wasm trains it in a second where cpu takes most of a minute.
  train('small', 32, 0.001, '--backend', 'wasm');
  // Stopped after two steps, before any validation: no best accuracy, so left out of the chart.
  train('mlp', 32, 0.001, '--backend', 'cpu', '--max-steps', '2');
  const t = cli('tune', '--dataset', 'mnist', '--model', 'mlp', '--backend', 'cpu') as { id: number; trials: unknown[] };
  tuningId = t.id;
  tuningTrials = t.trials.length;
  ({ browser, context, page } = await openSession({ viewport: { width: 1280, height: 900 }, timeoutMs: 20_000, acceptDownloads: true, served }));
});

after(() => closeSession({ served, browser, context, page }));

test('Runs: settings against results, a chart with a table, its selects worked by keyboard', { skip: needsChromium, timeout: 120_000 }, async () => {
  await page.goto(served.url);
  await page.getByRole('link', { name: 'Runs', exact: true }).click();
  const section = page.getByRole('region', { name: 'Settings against results' });
  const chart = section.getByRole('figure', { name: 'Best validation accuracy by batch size, one point per run' });
  await chart.locator('canvas').waitFor();
  const summary = section.locator('#scatter-summary');
  assert.match(await summary.innerText(), /^Best validation accuracy of 3 runs against batch size; mlp as circles, small as squares\./);
  assert.match(await summary.innerText(), /1 run left out: 1 without a best validation accuracy/);
  assert.equal(await chart.getAttribute('aria-describedby'), 'scatter-summary');
  assert.equal(await section.locator('.u-title').innerText(), 'Best validation accuracy by batch size');
  // The legend tells the models apart by their marker's glyph as well as by colour.
  assert.match(await section.locator('.u-legend').innerText(), /● mlp[\s\S]*■ small/);
  await screenshot(page, 'runs-settings-chart');

  // By keyboard: focus "Compare by", arrow down to the learning rate, then to the model.
  const by = section.getByRole('combobox', { name: 'Compare by' });
  await by.focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await by.inputValue(), 'learningRate');
  await section.getByRole('figure', { name: 'Best validation accuracy by learning rate, one point per run' }).waitFor();
  assert.equal(await section.locator('.u-title').innerText(), 'Best validation accuracy by learning rate');
  await page.keyboard.press('ArrowDown');
  assert.equal(await by.inputValue(), 'model');
  // Tab on to "Show" and choose the training time.
  await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowDown');
  assert.equal(await section.getByRole('combobox', { name: 'Show' }).inputValue(), 'time');
  await section.getByRole('figure', { name: 'Training time by model, one point per run' }).locator('canvas').waitFor();
  assert.match(await summary.innerText(), /^Training time of 3 runs against model;.*Shortest training: run \d+/);

  // The table of the plotted runs, for screen readers and exact values.
  await section.getByText('The plotted runs as a table').click();
  const table = section.getByRole('table', { name: '3 runs by model' });
  assert.equal(await table.getByRole('columnheader').first().innerText(), 'Model');
  assert.equal(await table.locator('tbody tr').count(), 3);
  assert.match(await table.locator('tbody').innerText(), /mlp[\s\S]*\d+\.\d %/);
});

test('Tune: "Export trials (CSV)" downloads every trial of the search shown', { skip: needsChromium, timeout: 60_000 }, async () => {
  await page.goto(`${served.url}#/tune/${tuningId}`);
  const button = page.getByRole('button', { name: 'Export trials (CSV)' });
  await button.waitFor();
  const download = page.waitForEvent('download');
  await button.click();
  const file = await download;
  assert.equal(file.suggestedFilename(), `tuning-${tuningId}-mnist-mlp-trials.csv`);
  const rows = parse(readFileSync((await file.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, tuningTrials);
  assert.ok(rows.every((r) => r.tuningId === String(tuningId) && r.dataset === 'mnist' && r.model === 'mlp' && r.rung === 'cpu'));
  await page
    .getByRole('status')
    .filter({ hasText: `tuning-${tuningId}-mnist-mlp-trials.csv is downloading.` })
    .waitFor();
});
