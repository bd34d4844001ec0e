// Backends objects as detectBackends returns them on two kinds of machine, checked against the
// contract's schema so they cannot drift from it: one where /usr/bin/python3 has torch (the
// first python3 on PATH, a pyenv shim, has none), one where no interpreter has torch.
import { backendsSchema, type Backends, type BackendAvailability } from '../../src/shared/api/data.js';

const tfjsRungs: BackendAvailability[] = [
  {
    label: 'tensorflow (CUDA, tfjs-node-gpu)',
    engine: 'tfjs',
    choice: 'tensorflow',
    available: false,
    device: null,
    reason: '@tensorflow/tfjs-node-gpu is not installed',
  },
  { label: 'webgpu (Dawn)', engine: 'tfjs', choice: 'webgpu', available: false, device: null, reason: 'no WebGPU adapter' },
  { label: 'wasm', engine: 'tfjs', choice: 'wasm', available: true, device: 'CPU (WebAssembly, SIMD, 2 threads)', reason: null },
  { label: 'cpu', engine: 'tfjs', choice: 'cpu', available: true, device: 'CPU (pure JavaScript reference backend)', reason: null },
];

export const withTorch: Backends = backendsSchema.parse({
  backends: [
    {
      label: 'torch-cuda',
      engine: 'torch',
      choice: 'torch-cuda',
      available: false,
      device: null,
      reason: 'torch.cuda.is_available() is False (no CUDA device)',
    },
    { label: 'torch-mps', engine: 'torch', choice: 'torch-mps', available: false, device: null, reason: 'MPS needs torch 2.0 or later (this is 1.13.0a0)' },
    ...tfjsRungs.slice(0, 2),
    { label: 'torch-cpu', engine: 'torch', choice: 'torch-cpu', available: true, device: 'CPU (PyTorch 1.13.0a0, 2 threads)', reason: null },
    ...tfjsRungs.slice(2),
  ],
  auto: {
    name: 'torch',
    device: 'CPU (PyTorch 1.13.0a0, 2 threads)',
    skipped: [{ backend: 'torch-cuda', reason: 'torch.cuda.is_available() is False (no CUDA device)' }],
    rung: 'torch-cpu',
  },
  memoryBudget: null,
  python: {
    executable: '/usr/bin/python3',
    pythonVersion: '3.11.2',
    torchVersion: '1.13.0a0',
    candidates: [
      { command: 'python3', source: 'PATH', pythonVersion: '3.12.1', torchVersion: null, rejected: "No module named 'torch'" },
      { command: '/usr/bin/python3', source: 'system', pythonVersion: '3.11.2', torchVersion: '1.13.0a0', rejected: null },
    ],
  },
  detectedAt: '2026-11-30T12:00:00.000Z',
});

export const withoutTorch: Backends = backendsSchema.parse({
  backends: [
    { label: 'torch-cuda', engine: 'torch', choice: 'torch-cuda', available: false, device: null, reason: 'no Python with PyTorch found' },
    { label: 'torch-mps', engine: 'torch', choice: 'torch-mps', available: false, device: null, reason: 'no Python with PyTorch found' },
    ...tfjsRungs.slice(0, 2),
    { label: 'torch-cpu', engine: 'torch', choice: 'torch-cpu', available: false, device: null, reason: 'no Python with PyTorch found' },
    ...tfjsRungs.slice(2),
  ],
  auto: { name: 'wasm', device: 'CPU (WebAssembly, SIMD, 2 threads)', skipped: [{ backend: 'torch-cpu', reason: 'no Python with PyTorch found' }] },
  memoryBudget: { bytes: 3.6 * 2 ** 30, source: "90 % of 32-bit WebAssembly's 4 GiB address space" },
  python: {
    executable: null,
    pythonVersion: null,
    torchVersion: null,
    candidates: [
      { command: '/opt/py/bin/python', source: 'settings', pythonVersion: null, torchVersion: null, rejected: 'not found: /opt/py/bin/python' },
      { command: 'python3', source: 'PATH', pythonVersion: '3.12.1', torchVersion: null, rejected: "No module named 'torch'" },
      {
        command: '/usr/bin/python3',
        source: 'system',
        pythonVersion: '3.7.3',
        torchVersion: '1.12.1',
        rejected: 'Python 3.7.3 is older than 3.8; torch 1.12.1 is older than 1.13',
      },
    ],
  },
  detectedAt: '2026-11-30T12:00:00.000Z',
});
