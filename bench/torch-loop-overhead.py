"""The torch engine's training loop against the bare PyTorch loop, in ONE process, interleaved.

Why one process: this machine's PyTorch (1.13, CPU) runs the same network at very different
speeds in different processes and at neighbouring batch sizes (docs/benchmarks.md), far more
than any loop overhead; two processes measure that, not the engine. Here both loops run in the
same interpreter, one epoch each in turn (the order alternating by round), on the same dataset,
so that whatever the process does falls on both.

- engine: python/autobatch_trainer's TrainingRun, exactly as a torch-cpu run trains: the net the
  app prepared (its tfjs files, loaded by the Keras interpreter), uint8 data normalised in torch,
  the app's shuffle, metrics read back every ~100 ms and encoded as the messages a run sends
  (written to a discarding channel). Its epoch's validation is timed apart and left out.
- bare: bench/peer_torch.py's network for the same model (equal trainable parameters), float32
  NCHW data already normalised, torch.randperm batches, Adam at 1e-3, nothing else. Its data has
  standard NCHW strides, as a DataLoader stacking [C, H, W] images gives.
- bare-cl: the same, on the data as bench/peer_torch.py holds it: for one-channel images its
  permute(...).contiguous() keeps channels-last strides, so torch's CPU convolutions run the
  whole net channels-last — faster for the plain CNNs on this machine, slower with batch norm.
  Reported beside, not the reference.

Run by bench/torch-loop-overhead.ts (npm run bench:torch-overhead), which prepares the nets; prints
one JSON line per (model, batch, round)."""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, HERE)

from autobatch_trainer.allocator import tune_malloc_for_training  # noqa: E402

tune_malloc_for_training()  # as the trainer does, before torch allocates

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from autobatch_trainer.__main__ import Metrics  # noqa: E402
from autobatch_trainer.dataset import load_dataset  # noqa: E402
from autobatch_trainer.keras_model import load_tfjs_model  # noqa: E402
from autobatch_trainer.protocol import encode_line  # noqa: E402
from autobatch_trainer.train import TrainingRun  # noqa: E402
from peer_torch import build_model, trainable  # noqa: E402


class DiscardingChannel:
    """Encodes each message as the trainer's channel does, then drops it."""

    def send(self, message):
        encode_line(message)


def engine_epoch(ds, prepared, model, batch, seed):
    net, _ = load_tfjs_model(prepared["modelDir"], torch.device("cpu"))
    net.set_trained_layers({name for g in prepared["groups"] for name in g["layers"]})
    groups = [([p for name in g["layers"] for p in net.parameters_of(name) if p.requires_grad], g["rateFactor"]) for g in prepared["groups"]]
    config = {"model": model, "batchSize": batch, "epochs": 1, "learningRate": 1e-3, "optimizer": "adam", "momentum": 0.9, "warmupSteps": 0, "seed": seed}
    metrics = Metrics(DiscardingChannel())
    run = TrainingRun(ds, net, config, groups, torch.device("cpu"), None, lambda: False, metrics.add_step, metrics.add_epoch, memory_bytes=lambda: 0.0)
    validation = [0.0]
    validate = run.validate

    def timed_validate(epoch):
        t = time.perf_counter()
        validate(epoch)
        validation[0] += time.perf_counter() - t

    run.validate = timed_validate
    t0 = time.perf_counter()
    run.train()
    metrics.flush()
    seconds = time.perf_counter() - t0 - validation[0]
    return run.samples_seen / seconds, sum(p.numel() for p in net.parameters() if p.requires_grad)


def bare_epoch(x, y, model, shape, classes, batch, seed):
    torch.manual_seed(seed)
    m = build_model(model, shape, classes)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    lossf = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    n = 0
    perm = torch.randperm(len(x))
    for i in range(0, len(x), batch):
        idx = perm[i : i + batch]
        if len(idx) < 2:
            continue
        opt.zero_grad()
        lossf(m(x[idx]), y[idx]).backward()
        opt.step()
        n += len(idx)
    return n / (time.perf_counter() - t0), trainable(m)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", required=True, help="the app's dataset cache folder")
    p.add_argument("--nets", required=True, help="JSON: {model: prepared net}")
    p.add_argument("--batches", default="32,64,256")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    nets = json.loads(a.nets)
    ds = load_dataset(a.dataset, torch.device("cpu"))
    train = torch.tensor(ds.train_index, dtype=torch.long)
    # The bare loop's data: the same training samples, normalised once as the engine does each batch.
    peer_layout = ds.batch(train).permute(0, 3, 1, 2).contiguous() if ds.x.dim() == 4 else ds.batch(train)
    x = peer_layout.clone(memory_format=torch.contiguous_format)
    y = ds.y.index_select(0, train)
    shape = tuple(ds.manifest["inputShape"])
    classes = len(ds.classes)
    for model, prepared in nets.items():
        for r in range(a.rounds):
            for batch in [int(b) for b in a.batches.split(",")]:
                order = ["engine", "bare", "bare-cl"] if r % 2 == 0 else ["bare-cl", "bare", "engine"]
                rates = {}
                for who in order:
                    if who == "engine":
                        rates[who] = engine_epoch(ds, prepared, model, batch, a.seed + r)
                    else:
                        rates[who] = bare_epoch(x if who == "bare" else peer_layout, y, model, shape, classes, batch, a.seed + r)
                print(json.dumps({
                    "model": model, "batch": batch, "round": r, "threads": torch.get_num_threads(), "torch": torch.__version__,
                    "engine": round(rates["engine"][0], 1), "bare": round(rates["bare"][0], 1), "ratio": round(rates["engine"][0] / rates["bare"][0], 3),
                    "bareChannelsLast": round(rates["bare-cl"][0], 1),
                    "parameters": {"engine": rates["engine"][1], "bare": rates["bare"][1]}, "first": order[0],
                }), flush=True)


if __name__ == "__main__":
    main()
