"""What glibc's malloc settings cost PyTorch on the CPU (python/autobatch_trainer/allocator.py says
why the torch trainer changes them). Each measurement runs in a fresh process, once with glibc's
defaults and once with the trainer's settings, alternating, so that a process's history cannot
favour either:

  /usr/bin/python3 bench/torch-allocator.py [--threads 2] [--rounds 3]

Measures the median time of a training step (forward, backward, Adam) of bench/peer_torch.py's
ResNet-20 on random 32x32x3 inputs, and of batch normalisation forward and backward alone, at
several batch sizes. Prints one JSON line per (case, setting, round)."""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def child(case, batch, threads, tuned):
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    sys.path.insert(0, HERE)
    if tuned:
        from autobatch_trainer.allocator import tune_malloc_for_training

        if tune_malloc_for_training() is None:
            raise SystemExit("the trainer's malloc settings do not apply here (not glibc)")
    import time

    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if case == "resnet-20":
        from peer_torch import build_model

        m = build_model("resnet-20", (32, 32, 3), 10)
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        x = torch.rand(batch, 3, 32, 32)
        y = torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            opt.step()

    else:  # batch norm alone, at ResNet-20's first-stage shape
        bn = nn.BatchNorm2d(16)
        x = torch.randn(batch, 16, 32, 32, requires_grad=True)
        dy = torch.randn(batch, 16, 32, 32)

        def step():
            bn(x).backward(dy)

    times = []
    for i in range(13):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times = sorted(times[3:])
    return times[len(times) // 2] * 1000


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--child", nargs=4)
    a = p.parse_args()
    if a.child:
        case, batch, threads, tuned = a.child
        print(child(case, int(batch), int(threads), tuned == "1"))
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    cases = [("batch-norm", b) for b in (64, 256, 512)] + [("resnet-20", b) for b in (64, 256)]
    for r in range(a.rounds):
        for case, batch in cases:
            order = ("0", "1") if r % 2 == 0 else ("1", "0")
            for tuned in order:
                out = subprocess.run([sys.executable, __file__, "--child", case, str(batch), str(a.threads), tuned], env=env, capture_output=True, text=True, check=True)
                ms = float(out.stdout.strip().splitlines()[-1])
                print(json.dumps({"case": case, "batch": batch, "malloc": "trainer" if tuned == "1" else "glibc default", "round": r, "ms": round(ms, 2)}), flush=True)


if __name__ == "__main__":
    main()
