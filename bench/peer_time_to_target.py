#!/usr/bin/env python3
"""A PyTorch user at the usual defaults, timed to a target validation accuracy: bench/peer_torch.py's
network for the app's model, plain float32 data (the folder bench/throughput.ts and bench/tuner.ts
write: meta.json, train.x/.y, test.x/.y, where test is the app's validation split), Adam at the
given rate, torch.randperm batches, validation `--validations-per-epoch` times an epoch as the app's
runs in the tuner benchmark do. The clock runs from the first step to the first validation at or
above the target, validation included, as the app's run times are counted. Prints one JSON line.

  python3 peer_time_to_target.py --data DIR --model small --batch-size 32 --lr 1e-3 --target 0.95 \
      [--max-epochs 12] [--validations-per-epoch 4] [--threads 2] [--seed 1]"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import MODELS, build_model  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--model", default="small", choices=MODELS)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--target", type=float, required=True)
    p.add_argument("--max-epochs", type=int, default=12)
    p.add_argument("--validations-per-epoch", type=int, default=4)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    h, w, c = meta["shape"]

    def load(split):
        x = np.fromfile(os.path.join(a.data, split + ".x"), dtype=np.float32).reshape(-1, h, w, c)
        y = np.fromfile(os.path.join(a.data, split + ".y"), dtype=np.uint8).astype(np.int64)
        return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y)

    xtr, ytr = load("train")
    xva, yva = load("test")
    torch.manual_seed(a.seed)
    m = build_model(a.model, (h, w, c), meta["classes"])
    opt = torch.optim.Adam(m.parameters(), a.lr)
    lossf = nn.CrossEntropyLoss()
    steps_per_epoch = math.ceil(len(xtr) / a.batch_size)
    every = max(1, math.ceil(steps_per_epoch / a.validations_per_epoch))

    def accuracy():
        m.eval()
        with torch.no_grad():
            correct = sum(int((m(xva[i : i + 512]).argmax(1) == yva[i : i + 512]).sum()) for i in range(0, len(xva), 512))
        m.train()
        return correct / len(xva)

    start = time.perf_counter()
    result = {"reached": False}
    for epoch in range(1, a.max_epochs + 1):
        perm = torch.randperm(len(xtr))
        for b in range(steps_per_epoch):
            idx = perm[b * a.batch_size : (b + 1) * a.batch_size]
            if len(idx) < 2:
                continue
            opt.zero_grad()
            lossf(m(xtr[idx]), ytr[idx]).backward()
            opt.step()
            if (b + 1) % every == 0 or b + 1 == steps_per_epoch:
                acc = accuracy()
                if acc >= a.target:
                    result = {"reached": True, "seconds": time.perf_counter() - start, "epoch": epoch, "accuracy": acc}
                    break
        if result["reached"]:
            break
    print(json.dumps({"peer": f"torch-{torch.__version__}", "threads": torch.get_num_threads(), "model": a.model, "batch_size": a.batch_size, "lr": a.lr, "seed": a.seed, **result}), flush=True)


if __name__ == "__main__":
    main()
