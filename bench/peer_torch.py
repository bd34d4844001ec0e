#!/usr/bin/env python3
"""Peer baseline: trains the reference CNNs (small and large, docs/architecture.md §7) with
PyTorch, on the same data and batch sizes as the project's own benchmark (bench/throughput.ts,
which writes the data folder and runs this script), and prints one JSON line per batch size.

Data folder (written by the project's benchmark): meta.json {"shape":[H,W,C],"classes":K},
train.x / test.x (float32, N*H*W*C, NHWC, values already scaled), train.y / test.y (uint8).

  python3 peer_torch.py --data DIR --model small --batch-sizes 32,64,256 --epochs 1 \
      [--device cpu|cuda] [--threads 2] [--lr 1e-3]

CPU: e.g. Debian's python3-torch (apt-get install -y python3-torch; run it with /usr/bin/python3).
GPU: any python3 with CUDA PyTorch, with --device cuda."""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument('--data', required=True)
p.add_argument('--model', default='small', choices=['small', 'large'])
p.add_argument('--batch-sizes', default='64')
p.add_argument('--epochs', type=int, default=1)
p.add_argument('--device', default='cpu')
p.add_argument('--threads', type=int, default=0)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--seed', type=int, default=0)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
dev = torch.device(a.device)
meta = json.load(open(os.path.join(a.data, 'meta.json')))
H, W, C = meta['shape']; K = meta['classes']

def load(split):
    x = np.fromfile(os.path.join(a.data, split + '.x'), dtype=np.float32).reshape(-1, H, W, C)
    y = np.fromfile(os.path.join(a.data, split + '.y'), dtype=np.uint8).astype(np.int64)
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(dev), torch.from_numpy(y).to(dev)

xtr, ytr = load('train'); xte, yte = load('test')

def flat(c, h, w):  # size after the conv/pool stack, as Keras 'valid' padding computes it
    return c * h * w

def model():
    if a.model == 'small':  # conv3x3(16) relu, pool2, conv3x3(32) relu, pool2, dense(K)
        h = ((H - 2) // 2 - 2) // 2; w = ((W - 2) // 2 - 2) // 2
        return nn.Sequential(nn.Conv2d(C, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(flat(32, h, w), K))
    # large: conv3x3(32) relu x2, pool2, conv3x3(64) relu x2, pool2, dense(128) relu, dense(K)
    h = ((H - 4) // 2 - 4) // 2; w = ((W - 4) // 2 - 4) // 2
    return nn.Sequential(nn.Conv2d(C, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(flat(64, h, w), 128), nn.ReLU(), nn.Linear(128, K))

def sync():
    if dev.type == 'cuda': torch.cuda.synchronize()

for bs in [int(b) for b in a.batch_sizes.split(',')]:
    torch.manual_seed(a.seed)
    m = model().to(dev); opt = torch.optim.Adam(m.parameters(), a.lr); lossf = nn.CrossEntropyLoss()
    # one warm-up step, not timed
    opt.zero_grad(); lossf(m(xtr[:bs]), ytr[:bs]).backward(); opt.step(); sync()
    t0 = time.perf_counter(); seen = 0
    for e in range(a.epochs):
        perm = torch.randperm(len(xtr), device=dev)
        for i in range(0, len(xtr), bs):
            idx = perm[i:i + bs]; opt.zero_grad(); l = lossf(m(xtr[idx]), ytr[idx]); l.backward(); opt.step(); seen += len(idx)
    sync(); dt = time.perf_counter() - t0
    with torch.no_grad():
        acc = (m(xte).argmax(1) == yte).float().mean().item()
    print(json.dumps({'peer': f'torch-{torch.__version__}', 'device': a.device, 'threads': torch.get_num_threads(),
                      'model': a.model, 'batch_size': bs, 'epochs': a.epochs, 'train_seconds': round(dt, 4),
                      'samples_per_s': round(seen / dt, 1), 'test_accuracy': round(acc, 4)}), flush=True)
