"""Data-parallel training of an AutoBatch Studio recipe with torch.distributed (DDP).

Exported by `autobatch recipes export` next to recipe.json (the plan: per-worker batch, rate,
warm-up, epochs), model/ (the net in the tfjs layers format, and weights.pt with --with-weights),
data/ (the dataset and its split) and autobatch_trainer/ (the app's PyTorch engine code, copied
unchanged: the same architecture, weight conversion, dataset reading and augmentation).

    torchrun --standalone --nproc_per_node K train_ddp.py --out OUT

Standard library and torch only; runs on PyTorch 1.13 and 2.x. Rank 0 writes OUT/metrics.jsonl,
one JSON object per line (the app's src/shared/recipe-metrics.ts), which `autobatch runs import`
reads back. See README.md for several nodes.
"""
import argparse
import contextlib
import datetime
import json
import math
import os
import socket
import sys
import time
import warnings
from typing import Any, Dict, List, Optional, TextIO, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from torch.utils.data import DistributedSampler  # noqa: E402

from autobatch_trainer.augment import augment_batch  # noqa: E402
from autobatch_trainer.dataset import Dataset, load_dataset  # noqa: E402
from autobatch_trainer.keras_model import KerasNet, load_tfjs_model  # noqa: E402
from autobatch_trainer.model_files import read_model_dir  # noqa: E402

# On the CPU the engine's net computes channels-last (keras_model.py _to_cf), so convolution
# kernels' gradients come back in that layout and DDP copies them into its buckets: correct, only
# a copy, which DDP warns about on every rank.
warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")

METRICS_FORMAT = "autobatch-recipe-metrics/1"
METRICS_FILE = "metrics.jsonl"
RECIPE_FORMAT = "autobatch-recipe/1"
# Steps between metric readbacks: each is one all-reduce of the window's losses (every rank must
# read back at the same steps, so this counts steps, not seconds).
DEFAULT_LOG_EVERY = 10


class RecipeError(Exception):
    """A recipe, a flag or a world this script cannot train with; the message says which and why."""


# ---- recipe.json ---------------------------------------------------------------------------------


def _field(doc: Dict[str, Any], key: str, kind: Any, where: str) -> Any:
    value = doc.get(key) if isinstance(doc, dict) else None
    ok = isinstance(value, kind) and not (kind in (int, (int, float)) and isinstance(value, bool))
    if not ok:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RecipeError(f"recipe.json: {where}{key} should be {names}, got {json.dumps(value)[:80]}")
    return value


def read_recipe(folder: str) -> Dict[str, Any]:
    """recipe.json, with the fields this script reads checked (named in the message when wrong)."""
    where = os.path.join(folder, "recipe.json")
    try:
        with open(where, encoding="utf-8") as f:
            recipe = json.load(f)
    except (OSError, ValueError) as err:
        raise RecipeError(f"cannot read {where}: {err}") from err
    if not isinstance(recipe, dict) or recipe.get("format") != RECIPE_FORMAT:
        raise RecipeError(f"{where}: format should be {RECIPE_FORMAT!r} (a recipe from another app version?)")
    for key in ("origin", "settings", "dataset", "training", "model", "plan"):
        _field(recipe, key, dict, "")
    s = recipe["settings"]
    for key in ("parameters", "workers", "perWorkerBatch", "microBatch", "globalBatch", "warmupSteps", "epochs", "seed"):
        _field(s, key, int, "settings.")
    _field(s, "learningRate", (int, float), "settings.")
    if s.get("optimizer") not in ("adam", "sgd"):
        raise RecipeError("recipe.json: settings.optimizer should be 'adam' or 'sgd'")
    t = recipe["training"]
    _field(t, "momentum", (int, float), "training.")
    _field(t, "augment", str, "training.")
    _field(t, "evalBatchSize", int, "training.")
    rows = _field(recipe["plan"], "rows", list, "plan.")
    for i, row in enumerate(rows):
        for key in ("workers", "perWorkerBatch", "microBatch", "globalBatch", "warmupSteps", "stepsPerEpoch"):
            _field(row, key, int, f"plan.rows[{i}].")
        _field(row, "learningRate", (int, float), f"plan.rows[{i}].")
    return recipe


def settings_for_world(recipe: Dict[str, Any], world: int, epochs: Optional[int], seed: Optional[int] = None) -> Dict[str, Any]:
    """The recipe's settings for `world` workers: its own when planned for that many, else the plan's row for them."""
    s = dict(recipe["settings"])
    if world != s["workers"]:
        row = next((r for r in recipe["plan"]["rows"] if r["workers"] == world), None)
        if row is None:
            planned = ", ".join(str(r["workers"]) for r in recipe["plan"]["rows"])
            raise RecipeError(
                f"this recipe is planned for {s['workers']} workers (its plan has rows for {planned}), but {world} processes were started: "
                f"start {s['workers']} in all (nnodes × nproc_per_node), or export the recipe again with --workers {world}"
            )
        for key in ("workers", "perWorkerBatch", "microBatch", "globalBatch", "learningRate", "warmupSteps"):
            s[key] = row[key]
    if epochs is not None:
        s["epochs"] = epochs
    if seed is not None:
        s["seed"] = seed
    return s


# ---- the metrics file ----------------------------------------------------------------------------


def _tagged(value: Any) -> Any:
    """JSON has no NaN or ±Infinity: they are written as {"$f": "NaN" | "Infinity" | "-Infinity"} (src/shared/json-lines.ts)."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$f": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, dict):
        return {k: _tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    return value


class Metrics:
    """Rank 0's metrics.jsonl (other ranks write nothing); each line flushed as it is written."""

    def __init__(self, out: Optional[str]) -> None:
        self.file: Optional[TextIO] = open(os.path.join(out, METRICS_FILE), "w", encoding="utf-8") if out is not None else None

    def write(self, line: Dict[str, Any]) -> None:
        if self.file is not None:
            self.file.write(json.dumps(_tagged(line), allow_nan=False) + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


# ---- the world -----------------------------------------------------------------------------------


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def init_world(device_arg: str, backend_arg: Optional[str]) -> Tuple[int, int, int, torch.device, str]:
    """Joins the process group torchrun describes in the environment (RANK, WORLD_SIZE, MASTER_ADDR…);
    started without torchrun, a world of one. Returns rank, world size, local rank, device, backend."""
    if "RANK" not in os.environ:
        os.environ.update({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())})
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    want = device_arg if device_arg != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if want == "cuda":
        if not torch.cuda.is_available():
            raise RecipeError("--device cuda: this torch sees no CUDA device (use --device cpu)")
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
    else:
        device = torch.device("cpu")
    backend = backend_arg or ("nccl" if device.type == "cuda" else "gloo")
    dist.init_process_group(backend=backend, init_method="env://")
    return dist.get_rank(), dist.get_world_size(), local_rank, device, backend


# ---- the model -----------------------------------------------------------------------------------


def _load_state_dict(path: str) -> Dict[str, torch.Tensor]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # a torch without weights_only
        return torch.load(path, map_location="cpu")


def build_model(folder: str, recipe: Dict[str, Any], device: torch.device, from_scratch: bool) -> Tuple[KerasNet, bool]:
    """The net from model/ (the app's architecture, its initial weights from the run's seed), or from
    weights.pt (the run's trained weights in PyTorch's layout) when the recipe has them."""
    model_dir = os.path.join(folder, "model")
    weights = recipe["model"].get("weights")
    if weights and not from_scratch:
        files = read_model_dir(model_dir)
        net = KerasNet(files.model_json["modelTopology"])
        try:
            net.load_state_dict(_load_state_dict(os.path.join(model_dir, weights)))
        except (OSError, RuntimeError) as err:
            raise RecipeError(f"model/{weights} does not fit model/model.json: {str(err).splitlines()[0]}") from err
        return net.to(device), True
    net, _ = load_tfjs_model(model_dir, device)
    return net, False


def trainable_parameters(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def make_optimizer(params: List[torch.nn.Parameter], optimizer: str, rate: float, momentum: float) -> torch.optim.Optimizer:
    """As the engine's train.py: tfjs's Adam (epsilon 1e-7, Keras's) or SGD with momentum without dampening (tfjs's MomentumOptimizer)."""
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=rate, betas=(0.9, 0.999), eps=1e-7)
    return torch.optim.SGD(params, lr=rate, momentum=momentum)


def learning_rate_at(step: int, base: float, warmup_steps: int) -> float:
    """The engine's linear warm-up (train.py learning_rate_at): base·step/warmup over the first warmup steps, then base."""
    if warmup_steps <= 0 or step > warmup_steps:
        return base
    return base * max(1, step) / warmup_steps


# ---- training ------------------------------------------------------------------------------------


class Trainer:
    def __init__(self, args: argparse.Namespace, recipe: Dict[str, Any], settings: Dict[str, Any], ds: Dataset, net: KerasNet,
                 device: torch.device, rank: int, world: int, metrics: Metrics) -> None:
        self.args, self.recipe, self.s, self.ds, self.net, self.device = args, recipe, settings, ds, net, device
        self.rank, self.world, self.metrics = rank, world, metrics
        self.ddp = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
        self.optimizer = make_optimizer([p for p in net.parameters() if p.requires_grad], settings["optimizer"], settings["learningRate"], float(recipe["training"]["momentum"]))
        # drop_last=False: every rank gets ceil(N/K) samples (a few repeated to even the shards), so
        # an epoch is ceil(N / global batch) steps, the plan's stepsPerEpoch.
        self.sampler = DistributedSampler(ds.train_index, num_replicas=world, rank=rank, shuffle=True, seed=settings["seed"], drop_last=False)
        self.step = 0
        self.start: Optional[float] = None
        self.window_start = 0.0
        self.pending: List[Tuple[int, int, float, torch.Tensor]] = []
        self.epoch_sums = [0.0, 0.0, 0.0]
        self.shards: Optional[TextIO] = open(os.path.join(args.out, f"shards-rank{rank}.jsonl"), "w", encoding="utf-8") if args.record_shards else None

    def now(self) -> float:
        return 0.0 if self.start is None else time.perf_counter() - self.start

    def train(self) -> str:
        """Trains the plan's epochs (or up to --max-steps); 'completed' or 'stopped'."""
        for epoch in range(1, self.s["epochs"] + 1):
            self.sampler.set_epoch(epoch)
            cut = self.run_epoch(epoch)
            self.validate(epoch)
            if cut:
                return "stopped"
        return "completed"

    def run_epoch(self, epoch: int) -> bool:
        """One epoch of this rank's shard; True when --max-steps cut it short."""
        mine = [self.ds.train_index[p] for p in self.sampler]
        b = self.s["perWorkerBatch"]
        self.epoch_sums = [0.0, 0.0, 0.0]
        self.ddp.train()
        for first in range(0, len(mine), b):
            if self.args.max_steps is not None and self.step >= self.args.max_steps:
                self.flush()
                return True
            self.train_step(epoch, mine[first:first + b])
            if self.step % self.args.log_every == 0:
                self.flush()
        self.flush()
        return self.args.max_steps is not None and self.step >= self.args.max_steps and epoch < self.s["epochs"]

    def train_step(self, epoch: int, samples: List[int]) -> None:
        if self.start is None:
            self.start = self.window_start = time.perf_counter()
        self.step += 1
        rate = learning_rate_at(self.step, self.s["learningRate"], self.s["warmupSteps"])
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        index = torch.tensor(samples, dtype=torch.long, device=self.device)
        # Each rank draws its own augmentation (the app's generator, seeded by the step and the rank).
        x = augment_batch(self.ds.batch(index), self.recipe["training"]["augment"], self.s["seed"], self.step * self.world + self.rank, self.ds.manifest["normalization"])
        y = self.ds.y.index_select(0, index)
        n, micro = len(samples), self.s["microBatch"]
        self.optimizer.zero_grad(set_to_none=True)
        sums = torch.zeros(3, dtype=torch.float64, device=self.device)
        for first in range(0, n, micro):
            xs, ys = x[first:first + micro], y[first:first + micro]
            last = first + micro >= n
            # Gradient accumulation: only the last pass all-reduces (DDP's no_sync for the others);
            # each pass's mean loss weighted by its share, so the sum is the per-worker batch's mean.
            with (contextlib.nullcontext() if last else self.ddp.no_sync()):
                logits = self.ddp(xs)
                loss = F.cross_entropy(logits, ys)
                (loss * (ys.numel() / n)).backward()
            with torch.no_grad():
                sums += torch.stack([loss.detach().double() * ys.numel(), (logits.argmax(1) == ys).sum().double(), torch.tensor(float(ys.numel()), dtype=torch.float64, device=self.device)])
        self.optimizer.step()
        self.pending.append((self.step, epoch, rate, sums))
        if self.shards is not None:
            self.shards.write(json.dumps({"epoch": epoch, "step": self.step, "indices": samples}) + "\n")

    def flush(self) -> None:
        """Sums the window's losses over all ranks (one all-reduce) and writes the step lines."""
        if not self.pending:
            return
        window, self.pending = self.pending, []
        stacked = torch.stack([p[3] for p in window])
        dist.all_reduce(stacked)
        values = stacked.tolist()
        now = self.now()
        elapsed = max(now - (self.window_start - (self.start or 0.0)), 1e-9)
        samples = sum(v[2] for v in values)
        for i, ((step, epoch, rate, _), (loss_sum, correct, count)) in enumerate(zip(window, values)):
            loss = loss_sum / count
            self.epoch_sums = [self.epoch_sums[0] + loss_sum, self.epoch_sums[1] + correct, self.epoch_sums[2] + count]
            self.metrics.write({
                "kind": "step", "step": step, "epoch": epoch,
                "time": (self.window_start - (self.start or 0.0)) + elapsed * (i + 1) / len(window),
                "loss": loss, "accuracy": correct / count, "learningRate": rate,
                "samplesPerSecond": samples / elapsed, "stepMs": elapsed * 1000 / len(window),
            })
            if not math.isfinite(loss):
                raise RecipeError(f"the loss became {loss} at step {step}: training diverged (try a lower learning rate or a longer warm-up)")
        self.window_start = time.perf_counter()

    @torch.no_grad()
    def validate(self, epoch: int) -> None:
        """Loss and accuracy on the validation split, each rank a share of it, summed over ranks."""
        self.flush()
        val = self.ds.validation_index[self.rank::self.world]
        was = self.net.training
        self.net.eval()
        sums = torch.zeros(3, dtype=torch.float64, device=self.device)
        chunk = self.recipe["training"]["evalBatchSize"]
        for first in range(0, int(val.numel()), chunk):
            part = val[first:first + chunk]
            logits = self.net(self.ds.batch(part))
            truth = self.ds.y.index_select(0, part)
            sums += torch.stack([F.cross_entropy(logits, truth, reduction="sum").double(), (logits.argmax(1) == truth).sum().double(), torch.tensor(float(part.numel()), dtype=torch.float64, device=self.device)])
        self.net.train(was)
        dist.all_reduce(sums)
        loss_sum, correct, count = sums.tolist()
        e_loss, e_correct, e_count = self.epoch_sums
        self.metrics.write({
            "kind": "epoch", "epoch": epoch, "step": self.step, "time": self.now(),
            "trainLoss": e_loss / e_count if e_count else math.nan, "trainAccuracy": e_correct / e_count if e_count else 0.0,
            "valLoss": loss_sum / count if count else math.nan, "valAccuracy": correct / count if count else 0.0,
        })
        self.window_start = time.perf_counter()  # validation is not training time

    def close(self) -> None:
        if self.shards is not None:
            self.shards.close()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Data-parallel training of an AutoBatch Studio recipe (run it with torchrun; see README.md).")
    p.add_argument("--out", default="out", help="folder for metrics.jsonl (created; default: ./out)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps (short tries)")
    p.add_argument("--epochs", type=int, default=None, help="train this many epochs instead of the plan's")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: cuda when available, else cpu")
    p.add_argument("--backend", default=None, help="torch.distributed backend (default: nccl on cuda, gloo on cpu)")
    p.add_argument("--from-scratch", action="store_true", help="start from the initial weights even when the recipe has trained ones (model/weights.pt)")
    p.add_argument("--record-shards", action="store_true", help="each rank writes the sample indices it trained on to OUT/shards-rank<R>.jsonl")
    p.add_argument("--seed", type=int, default=None, help="the seed of the sample order and the augmentation's draws instead of the recipe's (the initial weights stay model/'s)")
    p.add_argument("--log-every", type=int, default=DEFAULT_LOG_EVERY, help=f"steps between metric readbacks (default {DEFAULT_LOG_EVERY})")
    args = p.parse_args(argv)
    for name in ("max_steps", "epochs", "log_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} should be at least 1, got {value}")
    return args


def start_line(recipe: Dict[str, Any], settings: Dict[str, Any], world: int, backend: str, device: torch.device, from_weights: bool) -> Dict[str, Any]:
    return {
        "kind": "start", "format": METRICS_FORMAT, "origin": recipe["origin"], "settings": settings, "dataset": recipe["dataset"],
        "world": {"size": world, "backend": backend, "device": str(device), "torchVersion": torch.__version__},
        "fromWeights": from_weights, "startedAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
    }


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    recipe = read_recipe(HERE)
    rank, world, _local, device, backend = init_world(args.device, args.backend)
    os.makedirs(args.out, exist_ok=True)
    metrics = Metrics(args.out if rank == 0 else None)
    trainer: Optional[Trainer] = None
    try:
        settings = settings_for_world(recipe, world, args.epochs, args.seed)
        torch.manual_seed(settings["seed"])
        net, from_weights = build_model(HERE, recipe, device, args.from_scratch)
        count = trainable_parameters(net)
        if rank == 0:
            print(f"trainable parameters: {count} (the app counts {settings['parameters']})", flush=True)
        if count != settings["parameters"]:
            raise RecipeError(f"the model has {count} trainable parameters, but recipe.json says the app's has {settings['parameters']}: model/ is not this recipe's model")
        ds = load_dataset(os.path.join(HERE, "data"), device)
        metrics.write(start_line(recipe, settings, world, backend, device, from_weights))
        if rank == 0:
            print(f"{world} workers × {settings['perWorkerBatch']} = global batch {settings['globalBatch']}, rate {settings['learningRate']:.4g}, "
                  f"warm-up {settings['warmupSteps']} steps, {settings['epochs']} epochs ({backend} on {device})", flush=True)
        trainer = Trainer(args, recipe, settings, ds, net, device, rank, world, metrics)
        status = trainer.train()
        metrics.write({"kind": "end", "status": status, "steps": trainer.step, "time": trainer.now(), "error": None})
        # Every rank leaves together: with gloo, a rank still tearing down after its peer has
        # exited can spin on the closed connection for ever.
        dist.barrier()
        dist.destroy_process_group()
        return 0
    except Exception as err:  # noqa: BLE001 - every failure ends the metrics file with its reason
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        metrics.write({"kind": "end", "status": "failed", "steps": trainer.step if trainer else 0, "time": trainer.now() if trainer else 0.0, "error": message})
        print(f"train_ddp.py (rank {rank}): {message}", file=sys.stderr, flush=True)
        return 1
    finally:
        if trainer is not None:
            trainer.close()
        metrics.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RecipeError as err:  # before the world was joined: recipe.json or the flags
        print(f"train_ddp.py: {err}", file=sys.stderr)
        sys.exit(2)
