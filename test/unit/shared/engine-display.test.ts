// The words both displays use for engines, backend choices and the Python finding, and the check
// of a typed "Python for PyTorch" (the Settings field and `settings --python`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backendChoiceLabel,
  candidateVersions,
  ENGINE_LABELS,
  installSteps,
  parsePythonPath,
  PYTHON_PATH_MAX,
  pythonSummary,
  torchRungs,
} from '../../../src/shared/engine-display.js';
import { BACKEND_CHOICES } from '../../../src/shared/run-types.js';
import { withoutTorch, withTorch } from '../../support/backends-fixture.js';

test('every backend choice has a label that starts with its name and says what it runs on', () => {
  for (const c of BACKEND_CHOICES) assert.match(backendChoiceLabel(c), new RegExp(`^${c} \\(.+\\)$`), c);
  assert.equal(backendChoiceLabel('torch-cpu'), 'torch-cpu (PyTorch on the CPU)');
  assert.match(backendChoiceLabel('wasm'), /tfjs/);
  assert.equal(new Set(BACKEND_CHOICES.map(backendChoiceLabel)).size, BACKEND_CHOICES.length, 'no two alike');
});

test('engines read as tfjs (built in) and PyTorch', () => {
  assert.deepEqual(ENGINE_LABELS, { tfjs: 'tfjs (built in)', torch: 'PyTorch' });
});

test('the summary names the interpreter used with its versions, or how many were tried', () => {
  assert.equal(pythonSummary(withTorch.python), '/usr/bin/python3: Python 3.11.2, torch 1.13.0a0');
  assert.equal(pythonSummary(withoutTorch.python), 'No Python with PyTorch found (3 interpreters tried).');
  assert.equal(pythonSummary({ executable: null, pythonVersion: null, torchVersion: null, candidates: [] }), 'No Python with PyTorch found (none was tried).');
  assert.equal(candidateVersions({ pythonVersion: null, torchVersion: null }), 'Python —, torch —');
});

test('the torch rungs are picked out of the ladder in its order', () => {
  assert.deepEqual(
    torchRungs(withTorch).map((r) => r.choice),
    ['torch-cuda', 'torch-mps', 'torch-cpu'],
  );
});

test('install steps: apt-get and pip, then the app field or the command-line flag', () => {
  const app = installSteps('app');
  const cli = installSteps('cli');
  assert.deepEqual(
    app.map((s) => s.command),
    ['apt-get install -y python3-torch', 'pip install torch', undefined],
  );
  assert.match(app[2]!.text, /Python for PyTorch/);
  assert.equal(cli[2]!.command, 'autobatch settings --python /path/to/python3');
});

test('a typed Python path is trimmed; empty, whitespace, several lines or too long are refused naming the field', () => {
  assert.deepEqual(parsePythonPath('  /usr/bin/python3 '), { value: '/usr/bin/python3' });
  assert.deepEqual(parsePythonPath('python3.11'), { value: 'python3.11' });
  for (const bad of ['', '   ', '\t\n', '/usr/bin/python3\n/other', 'a'.repeat(PYTHON_PATH_MAX + 1)]) {
    const r = parsePythonPath(bad);
    assert.ok('error' in r, JSON.stringify(bad));
    assert.match(r.error, /^Python for PyTorch: /);
  }
  assert.ok('value' in parsePythonPath('a'.repeat(PYTHON_PATH_MAX)));
});
