// Augmentation and fine-tuning as a user drives them in a browser against `autobatch serve`: a
// tiny run of the MNIST sample from scratch, then a run that starts from its model ("A previous
// run's model", the last block unfrozen, augmentation light) whose page says how it was made; the
// same model uploaded from the browser (model.json + weights.bin); an address that does not
// answer, its error shown beside the "Start from" group; the same controls on Tune.
// Screenshots: train-start-from, run-detail-fine-tuned (test-output/e2e/, `npm run screenshots`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { closeSession, describedBy, needsChromium, openSession, screenshot, type Served, unnamedControls } from './harness.js';

// Enough digits for ten classes and a validation split; one epoch of them takes seconds.
const SAMPLE_LIMIT = 300;

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The run from scratch, and the one that starts from its model. */
let baseRun: number;
let tunedRun: number;
const consoleErrors: string[] = [];

before(async () => {
  if (needsChromium) return;
  ({ served, browser, context, page } = await openSession({ viewport: { width: 1280, height: 900 }, timeoutMs: 20_000 }));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(() => closeSession({ served, browser, context, page }));

/** The text a control is described by (aria-describedby), as a screen reader reads it. */
const description = (control: Locator) => describedBy(page, control);

/** Goes to a screen through the navigation (screens link to each other too). */
async function goTo(screen: 'Datasets' | 'Tune' | 'Train' | 'Runs'): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();
}

/** The Train screen with nothing training: its start form. */
async function openStartForm(): Promise<void> {
  await goTo('Train');
  await page.getByRole('heading', { name: 'Nothing is training' }).waitFor();
}

/** Starts the form's run and follows it to the end, which must be a completed run; its id. */
async function trainToEnd(): Promise<number> {
  await page.getByRole('button', { name: 'Start training', exact: true }).click();
  await page.waitForURL(/#\/train\/\d+$/);
  const id = Number(/#\/train\/(\d+)$/.exec(page.url())![1]);
  const badge = page.locator('.screen-head .badge').filter({ hasText: /^(completed|failed|stopped|interrupted)$/ });
  await badge.waitFor({ timeout: 120_000 });
  const status = await badge.innerText();
  if (status !== 'completed') assert.fail(`run ${id} ${status}: ${await page.locator('.notice.error').allInnerTexts()}`);
  return id;
}

/** A port on 127.0.0.1 that nothing listens on (taken, then freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a tiny run of the sample from scratch; digits get no augmentation by default', { skip: needsChromium }, async () => {
  await page.goto(served.url);
  await goTo('Datasets');
  await page.getByRole('button', { name: 'Load dataset', exact: true }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Load a dataset' });
  await dialog.getByText('Options').click();
  await dialog.getByRole('spinbutton', { name: 'Sample limit' }).fill(String(SAMPLE_LIMIT));
  await dialog.getByRole('button', { name: 'Use the MNIST sample' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 60_000 });

  await openStartForm();
  const augment = page.getByRole('combobox', { name: 'Augmentation' });
  assert.equal(await augment.inputValue(), 'none');
  assert.equal(await description(augment), 'None: no augmentation (the default for this dataset).');
  const group = page.getByRole('group', { name: 'Start from' });
  assert.equal(await group.getByRole('radio', { name: 'Nothing (train from scratch)' }).isChecked(), true);
  assert.equal(await group.getByRole('radio', { name: /^A previous run's model/ }).isDisabled(), true, 'no run has a model yet');
  await page.getByRole('spinbutton', { name: 'Batch size' }).fill('32');
  await page.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
  baseRun = await trainToEnd();
});

test("Train: a run from the previous run's model, one block unfrozen, augmentation light", { skip: needsChromium }, async () => {
  await openStartForm();
  const group = page.getByRole('group', { name: 'Start from' });
  // The keyboard reaches the choices: arrow keys move within the radio group.
  await group.getByRole('radio', { name: 'Nothing (train from scratch)' }).focus();
  await page.keyboard.press('ArrowDown');
  const fromRun = group.getByRole('radio', { name: "A previous run's model" });
  assert.equal(await fromRun.isChecked(), true, 'ArrowDown chose the next option');

  const run = group.getByRole('combobox', { name: 'Run' });
  assert.match(await run.locator('option:checked').innerText(), new RegExp(`^Run ${baseRun} · small · mnist · best \\d+\\.\\d %$`));
  const model = page.getByRole('combobox', { name: 'Model' });
  assert.equal(await model.isDisabled(), true);
  assert.equal(await description(model), `The model is the one you start from: run ${baseRun}'s small model.`);

  const augment = page.getByRole('combobox', { name: 'Augmentation' });
  await augment.selectOption('light');
  assert.equal(await description(augment), 'Light: random shifts of up to 1/8 of the side (pad and crop).');
  await group.getByRole('spinbutton', { name: 'Unfreeze last blocks' }).fill('1');
  const rate = group.getByRole('spinbutton', { name: 'Fine-tune learning rate' });
  assert.equal(await rate.getAttribute('placeholder'), '1.00e-4 (a tenth of the rate)');
  assert.match(await description(rate), /trains the backbone's last N blocks too, at the fine-tune rate/);
  await page.getByRole('spinbutton', { name: 'Batch size' }).fill('32');
  const evalBatch = page.getByRole('spinbutton', { name: 'Evaluation batch' });
  assert.equal(await evalBatch.getAttribute('placeholder'), 'the batch size');
  assert.match(await description(evalBatch), /^Validation runs forward only, this many samples at a time\./);
  await evalBatch.fill('100');
  await page.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
  await screenshot(page, 'train-start-from');

  tunedRun = await trainToEnd();
  assert.ok(tunedRun > baseRun);
  await page.getByText(new RegExp(`^Run ${tunedRun} · mnist · .* · 1 epochs · augmentation light · fine-tuned from run ${baseRun}$`)).waitFor();
});

test("the run's page says how its model was made; Runs marks it fine-tuned", { skip: needsChromium }, async () => {
  await page.goto(`${served.url}#/runs/${tunedRun}`);
  const section = page.getByRole('region', { name: 'How this model was made' });
  await section.waitFor();
  const value = (label: string) => section.getByRole('row', { name: new RegExp(`^${label}`) }).getByRole('cell');
  assert.equal(await value('Batch size').innerText(), '32');
  assert.equal(await value('Evaluation batch').innerText(), '100');
  assert.equal(await value('Augmentation').innerText(), 'light (random shifts of up to 1/8 of the side (pad and crop))');
  assert.match(await value('Started from').innerText(), new RegExp(`^run ${baseRun} \\(small, 10 classes, 28×28×1\\)$`));
  assert.match(await value('Blocks trained').innerText(), /^the last 1 of \d+ \(with the new classifier\)$/);
  assert.equal(await value('Fine-tune learning rate').innerText(), '1.00e-4 (the unfrozen blocks)');
  assert.equal(await value('Auto-tune').innerText(), 'not used');
  await page.getByText(new RegExp(`· fine-tuned from run ${baseRun} · started`)).waitFor();
  await screenshot(page, 'run-detail-fine-tuned');

  // The start run is a link to its page, which is from scratch.
  await value('Started from')
    .getByRole('link', { name: `run ${baseRun}` })
    .click();
  await page.waitForURL(new RegExp(`#/runs/${baseRun}$`));
  await section.waitFor();
  assert.equal(await section.getByRole('row', { name: /^Started from/ }).count(), 0);
  assert.equal(await value('Augmentation').innerText(), 'none');

  await goTo('Runs');
  const row = (id: number) => page.getByRole('row').filter({ has: page.getByRole('link', { name: `Run ${id}`, exact: true }) });
  await row(tunedRun).getByText('fine-tuned', { exact: true }).waitFor();
  assert.equal(await row(baseRun).getByText('fine-tuned', { exact: true }).count(), 0);
});

test('errors about the start model are shown beside the group, the form kept', { skip: needsChromium }, async () => {
  await openStartForm();
  const group = page.getByRole('group', { name: 'Start from' });
  // Checked before anything is sent.
  await group.getByRole('radio', { name: 'A model file' }).check();
  await page.getByRole('button', { name: 'Start training', exact: true }).click();
  await group
    .getByRole('alert')
    .getByText(/^Give the path of a folder holding model\.json/)
    .waitFor();

  // An address that does not answer: the service says so, about startFrom.
  await group.getByRole('radio', { name: 'An address' }).check();
  const address = `http://127.0.0.1:${await closedPort()}/model.json`;
  await group.getByRole('textbox', { name: 'Address of model.json' }).fill(address);
  await page.getByRole('button', { name: 'Start training', exact: true }).click();
  const alert = group.getByRole('alert');
  await alert.filter({ hasText: '127.0.0.1' }).waitFor({ timeout: 30_000 });
  assert.equal(await group.getAttribute('aria-describedby'), await alert.getAttribute('id'), 'the group is described by its error');
  assert.equal(await page.locator('.notice.error').count(), 1, 'no second notice elsewhere on the screen');
  assert.match(page.url(), /#\/train$/, 'no run started');
  assert.equal(await group.getByRole('textbox', { name: 'Address of model.json' }).inputValue(), address);
});

test('a model uploaded from the browser: model.json and weights.bin of the first run', { skip: needsChromium }, async () => {
  await openStartForm();
  const group = page.getByRole('group', { name: 'Start from' });
  await group.getByRole('radio', { name: 'A model file' }).check();
  const dir = path.join(served.home, 'artifacts', `run-${baseRun}`, 'model');
  await group.getByLabel('Or upload model.json and its weights').setInputFiles([path.join(dir, 'model.json'), path.join(dir, 'weights.bin')]);
  assert.equal(await group.getByRole('textbox', { name: 'Model folder or model.json' }).isDisabled(), true, 'the upload replaces the path');
  await group.getByText('Uploading model.json, weights.bin when the run starts.').waitFor();
  await page.getByRole('spinbutton', { name: 'Batch size' }).fill('32');
  await page.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
  const uploaded = await trainToEnd();

  await page.goto(`${served.url}#/runs/${uploaded}`);
  const started = page.getByRole('region', { name: 'How this model was made' }).getByRole('row', { name: /^Started from/ });
  // Stored where the upload put it; the export's metadata names the run that made it.
  assert.match(await started.innerText(), new RegExp(`uploads.*\\(small, 10 classes, 28×28×1\\) made by run ${baseRun}$`, 's'));
  await started.getByRole('link', { name: `run ${baseRun}` }).waitFor();
});

test('Tune: the same controls; a start model decides the model', { skip: needsChromium }, async () => {
  await goTo('Tune');
  const augment = page.getByRole('combobox', { name: 'Augmentation' });
  assert.equal(await augment.inputValue(), 'none');
  const group = page.getByRole('group', { name: 'Start from' });
  await group.getByRole('radio', { name: "A previous run's model" }).check();
  const model = page.getByRole('combobox', { name: 'Model' });
  assert.equal(await model.isDisabled(), true);
  assert.match(await description(model), /^The model is the one you start from: run \d+'s small model\.$/);
  assert.equal(await group.getByRole('spinbutton', { name: 'Fine-tune learning rate' }).getAttribute('placeholder'), 'a tenth of the rate');
  assert.deepEqual(await unnamedControls(page), [], 'every control on Tune has an accessible name');
});

test('the page logged no errors', { skip: needsChromium }, () => {
  assert.deepEqual(consoleErrors, []);
});
