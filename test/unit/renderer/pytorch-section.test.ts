// Settings' "PyTorch engine" section as data: found (the interpreter, its versions, each torch
// rung's device, the candidates with the used one marked, no install steps) and not found (a
// summary, every candidate with its reason, the install steps ending at the Settings field).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pytorchSection } from '../../../src/renderer/lib/pytorch-section.js';
import { withoutTorch, withTorch } from '../../support/backends-fixture.js';

test('found: the Python used with its versions, the device or reason of each torch rung, the candidates', () => {
  const s = pytorchSection(withTorch);
  assert.equal(s.found, true);
  assert.deepEqual(s.facts, [
    { label: 'Python', value: '/usr/bin/python3', code: true },
    { label: 'Python version', value: '3.11.2' },
    { label: 'torch version', value: '1.13.0a0' },
  ]);
  assert.deepEqual(s.devices, [
    { choice: 'torch-cuda', available: false, detail: 'torch.cuda.is_available() is False (no CUDA device)' },
    { choice: 'torch-mps', available: false, detail: 'MPS needs torch 2.0 or later (this is 1.13.0a0)' },
    { choice: 'torch-cpu', available: true, detail: 'CPU (PyTorch 1.13.0a0, 2 threads)' },
  ]);
  assert.deepEqual(s.candidates, [
    { command: 'python3', source: 'PATH', versions: 'Python 3.12.1, torch —', verdict: "No module named 'torch'", used: false },
    { command: '/usr/bin/python3', source: 'the system Python', versions: 'Python 3.11.2, torch 1.13.0a0', verdict: 'used', used: true },
  ]);
  assert.deepEqual(s.install, [], 'nothing to install');
});

test('not found: no facts, every candidate with its reason, and how to install', () => {
  const s = pytorchSection(withoutTorch);
  assert.equal(s.found, false);
  assert.equal(s.summary, 'No Python with PyTorch found (3 interpreters tried).');
  assert.deepEqual(s.facts, []);
  assert.deepEqual(
    s.candidates.map((c) => [c.command, c.source, c.verdict, c.used]),
    [
      ['/opt/py/bin/python', 'Settings', 'not found: /opt/py/bin/python', false],
      ['python3', 'PATH', "No module named 'torch'", false],
      ['/usr/bin/python3', 'the system Python', 'Python 3.7.3 is older than 3.8; torch 1.12.1 is older than 1.13', false],
    ],
  );
  assert.deepEqual(
    s.install.map((i) => i.command ?? i.text),
    ['apt-get install -y python3-torch', 'pip install torch', 'Or name a Python that has torch in “Python for PyTorch” below.'],
  );
  assert.ok(s.devices.every((d) => !d.available && d.detail === 'no Python with PyTorch found'));
});
