#!/usr/bin/env python3
"""Peer baseline: trains the app's models (docs/architecture.md §7: the small and large CNNs, the
ResNets and the MobileNetV2s, built here layer for layer as src/shared/model-families.ts defines
them, so the trainable parameter counts are equal; each line prints its count) with PyTorch, on the same data and batch sizes as the project's own benchmark (bench/throughput.ts,
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

MODELS = ['small', 'large', 'resnet-8', 'resnet-14', 'resnet-20', 'resnet-18', 'mobilenet-0.35', 'mobilenet-0.5', 'mobilenet-1.0']

def build_model(name, shape, classes):
    """The app's model `name` for inputs of shape (H, W, C) and `classes` classes, in PyTorch (NCHW)."""
    H, W, C = shape; K = classes

    def flat(c, h, w):  # size after the conv/pool stack, as Keras 'valid' padding computes it
        return c * h * w

    def model():
        if name == 'small':  # conv3x3(16) relu, pool2, conv3x3(32) relu, pool2, dense(K)
            h = ((H - 2) // 2 - 2) // 2; w = ((W - 2) // 2 - 2) // 2
            return nn.Sequential(nn.Conv2d(C, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                                 nn.MaxPool2d(2), nn.Flatten(), nn.Linear(flat(32, h, w), K))
        # large: conv3x3(32) relu x2, pool2, conv3x3(64) relu x2, pool2, dense(128) relu, dense(K)
        h = ((H - 4) // 2 - 4) // 2; w = ((W - 4) // 2 - 4) // 2
        return nn.Sequential(nn.Conv2d(C, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(flat(64, h, w), 128), nn.ReLU(), nn.Linear(128, K))

    def conv_bn(cin, cout, k, stride, act=None):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
        return nn.Sequential(*layers, act) if act is not None else nn.Sequential(*layers)

    class BasicBlock(nn.Module):  # He et al. 2016; 1x1 projection shortcut where the shape changes
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.branch = nn.Sequential(conv_bn(cin, cout, 3, stride, nn.ReLU()), conv_bn(cout, cout, 3, 1))
            self.short = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()
        def forward(self, x):
            return torch.relu(self.branch(x) + self.short(x))

    def resnet(name):
        if name == 'resnet-18':
            layers = [conv_bn(C, 64, 7, 2, nn.ReLU()), nn.MaxPool2d(3, 2, 1)]; cin = 64; stages = [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)]
        else:
            n = {'resnet-8': 1, 'resnet-14': 2, 'resnet-20': 3}[name]
            layers = [conv_bn(C, 16, 3, 1, nn.ReLU())]; cin = 16; stages = [(16, n, 1), (32, n, 2), (64, n, 2)]
        for f, n, s in stages:
            for b in range(n):
                layers.append(BasicBlock(cin, f, s if b == 0 else 1)); cin = f
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, K))

    def make_divisible(v, d=8):  # as torchvision and Keras round MobileNet widths
        n = max(d, int(v + d / 2) // d * d)
        return n + d if n < 0.9 * v else n

    class InvertedResidual(nn.Module):  # Sandler et al. 2018
        def __init__(self, cin, cout, stride, t):
            super().__init__()
            hidden = round(cin * t); layers = []
            if t != 1: layers.append(conv_bn(cin, hidden, 1, 1, nn.ReLU6()))
            layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(), conv_bn(hidden, cout, 1, 1)]
            self.body = nn.Sequential(*layers); self.residual = stride == 1 and cin == cout
        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    def mobilenet(width):
        stem = make_divisible(32 * width); layers = [conv_bn(C, stem, 3, 2, nn.ReLU6())]; cin = stem
        for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
            cout = make_divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t)); cin = cout
        head = make_divisible(1280 * max(1.0, width))
        return nn.Sequential(*layers, conv_bn(cin, head, 1, 1, nn.ReLU6()), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(head, K))

    if name.startswith('resnet'): return resnet(name)
    if name.startswith('mobilenet'): return mobilenet(float(name.split('-')[1]))
    return model()

def trainable(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)



def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--model', default='small', choices=MODELS)
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

    def sync():
        if dev.type == 'cuda': torch.cuda.synchronize()

    for bs in [int(b) for b in a.batch_sizes.split(',')]:
        torch.manual_seed(a.seed)
        m = build_model(a.model, (H, W, C), K).to(dev); opt = torch.optim.Adam(m.parameters(), a.lr); lossf = nn.CrossEntropyLoss()
        # one warm-up step, not timed
        opt.zero_grad(); lossf(m(xtr[:bs]), ytr[:bs]).backward(); opt.step(); sync()
        # Each epoch timed on its own; the median epoch's rate is reported: this CPU build of PyTorch
        # swung up to 2x between identical epochs on the 2-core benchmark VM, so one epoch is noise.
        rates = []; seen = 0; dt = 0.0
        for e in range(a.epochs):
            sync(); t0 = time.perf_counter(); n = 0
            perm = torch.randperm(len(xtr), device=dev)
            for i in range(0, len(xtr), bs):
                idx = perm[i:i + bs]
                if len(idx) < 2: continue  # batch norm cannot train on one sample (a 1-sample remainder)
                opt.zero_grad(); l = lossf(m(xtr[idx]), ytr[idx]); l.backward(); opt.step(); n += len(idx)
            sync(); t = time.perf_counter() - t0; rates.append(n / t); seen += n; dt += t
        m.eval()  # batch norm: the running statistics, as the app validates
        with torch.no_grad():
            acc = sum((m(xte[i:i + 512]).argmax(1) == yte[i:i + 512]).sum().item() for i in range(0, len(xte), 512)) / len(xte)
        print(json.dumps({'peer': f'torch-{torch.__version__}', 'device': a.device, 'threads': torch.get_num_threads(),
                          'model': a.model, 'trainable_parameters': trainable(m), 'batch_size': bs, 'epochs': a.epochs, 'train_seconds': round(dt, 4),
                          'samples_per_s': round(float(np.median(rates)), 1), 'epoch_samples_per_s': [round(r, 1) for r in rates], 'test_accuracy': round(acc, 4)}), flush=True)


if __name__ == '__main__':
    main()
