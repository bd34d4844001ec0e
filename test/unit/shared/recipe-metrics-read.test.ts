// Reading a distributed recipe's metrics file: every fixture of test/fixtures/recipe-metrics is
// judged as cases.json says — a valid file reads whole, an unfinished one is refused unless read
// with `partial`, and every bad one's message names the file, the line and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRecipeMetrics, RecipeMetricsError } from '../../../src/shared/recipe-metrics-read.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const DIR = path.join(root, 'test', 'fixtures', 'recipe-metrics');

interface Case {
  file: string;
  format: 'valid' | 'invalid' | 'unfinished';
  line?: number;
  field?: string | null;
  says?: string;
  steps?: number;
  epochs?: number;
}
const CASES = (JSON.parse(readFileSync(path.join(DIR, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
const text = (file: string) => readFileSync(path.join(DIR, file), 'utf8');

function refusal(c: Case, partial: boolean): RecipeMetricsError {
  try {
    parseRecipeMetrics(text(c.file), c.file, { partial });
  } catch (err) {
    assert.ok(err instanceof RecipeMetricsError, `${c.file}: ${String(err)}`);
    return err;
  }
  assert.fail(`${c.file} should be refused`);
}

test('the fixtures are judged as cases.json says, each message naming the file, line and field', () => {
  assert.ok(CASES.length >= 12);
  for (const c of CASES) {
    if (c.format === 'valid') {
      const m = parseRecipeMetrics(text(c.file), c.file);
      assert.ok(m.steps.length > 0 && m.end !== null, c.file);
      continue;
    }
    const err = refusal(c, false);
    assert.equal(err.line, c.line, `${c.file}: ${err.message}`);
    assert.equal(err.field, c.field, `${c.file}: ${err.message}`);
    assert.equal(err.unfinished, c.format === 'unfinished', c.file);
    assert.ok(err.message.startsWith(`${c.file}, line ${c.line}: ${c.field ? `${c.field}: ` : ''}`), err.message);
    assert.ok(err.message.includes(c.says!), `${c.file}: "${err.message}" should say "${c.says}"`);
    if (c.format === 'unfinished') assert.match(err.message, /still running, or cut off.*import it with --partial/);
  }
});

test('a valid file reads whole: settings, steps and epochs in order, NaN kept, the end line', () => {
  const m = parseRecipeMetrics(text('valid-complete.jsonl'), 'valid-complete.jsonl');
  assert.equal(m.start.settings.globalBatch, 16);
  assert.equal(m.start.world.size, 2);
  assert.deepEqual(
    m.steps.map((s) => s.step),
    [1, 2, 3, 4],
  );
  assert.ok(Number.isNaN(m.steps[3]!.loss));
  assert.deepEqual(
    m.epochs.map((e) => [e.epoch, e.step]),
    [
      [1, 2],
      [2, 4],
    ],
  );
  assert.equal(m.end?.status, 'completed');
  assert.equal(m.cutOffLine, null);
});

test('with partial, an unfinished file keeps its complete lines; the cut-off line is left out and named', () => {
  for (const c of CASES.filter((x) => x.format === 'unfinished')) {
    const m = parseRecipeMetrics(text(c.file), c.file, { partial: true });
    assert.equal(m.end, null, c.file);
    assert.equal(m.steps.length, c.steps, c.file);
    assert.equal(m.epochs.length, c.epochs, c.file);
  }
  assert.equal(parseRecipeMetrics(text('truncated-last-line.jsonl'), 'x', { partial: true }).cutOffLine, 8);
  // partial does not excuse a bad file.
  for (const c of CASES.filter((x) => x.format === 'invalid')) assert.equal(refusal(c, true).line, c.line, c.file);
});

test('a cut-off line in the middle is not JSON, not an unfinished run; CRLF lines and blank lines read', () => {
  const lines = text('valid-complete.jsonl').trimEnd().split('\n');
  const broken = [...lines.slice(0, 3), lines[3]!.slice(0, 20), ...lines.slice(4)].join('\n');
  const err = (() => {
    try {
      parseRecipeMetrics(broken, 'm.jsonl', { partial: true });
    } catch (e) {
      return e as RecipeMetricsError;
    }
    return assert.fail('should be refused');
  })();
  assert.equal(err.line, 4);
  assert.equal(err.unfinished, false);
  assert.equal(parseRecipeMetrics(lines.join('\r\n\r\n') + '\r\n', 'crlf.jsonl').steps.length, 4);
});

test('an empty file, a second start line, an unknown kind and a bad plan are refused by name', () => {
  const [start, ...rest] = text('valid-complete.jsonl').trimEnd().split('\n');
  const cases: [string, number | null, string | null, RegExp][] = [
    ['\n\n', null, null, /the file is empty/],
    [[start, start, ...rest].join('\n') + '\n', 2, 'kind', /a second "start" line/],
    [[start, '{"kind":"log","msg":"hi"}', ...rest].join('\n') + '\n', 2, 'kind', /expected "start", "step", "epoch" or "end", found "log"/],
    [[start!.replace('"globalBatch":16', '"globalBatch":12'), ...rest].join('\n') + '\n', 1, 'settings.globalBatch', /2 × 8 = 16, found 12/],
    [[start!.replace('"epochs":2', '"epochs":1'), ...rest].join('\n') + '\n', 5, 'epoch', /at most 1 \(settings.epochs\)/],
    [[start, ...rest.slice(0, -1), '{"kind":"end","status":"completed","steps":3,"time":0.5,"error":null}'].join('\n') + '\n', 8, 'steps', /at least 4/],
    [[start, rest.at(-1)].join('\n') + '\n', 2, null, /no "step" line/],
    [[start!.replace('"format":"autobatch-recipe-metrics/1"', '"format":"other/2"'), ...rest].join('\n') + '\n', 1, 'format', /autobatch-recipe-metrics\/1/],
  ];
  for (const [body, line, field, says] of cases) {
    assert.throws(
      () => parseRecipeMetrics(body, 'm.jsonl'),
      (err: unknown) => err instanceof RecipeMetricsError && err.line === line && err.field === field && says.test(err.message),
      `${line} ${field} ${String(says)}`,
    );
  }
});
