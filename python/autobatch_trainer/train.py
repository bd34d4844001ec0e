"""The training loop, as src/main/engine/training/train-loop.ts runs it: the same epoch orders
(the app's seeded shuffle), batches, augmentation, learning-rate warm-up, optimizers, metrics and
validation. Metrics stay on the device and are read back in one transfer every ~100 ms (a
readback per step would force a device sync per step and stall a GPU's queue), so step time and
samples/s are averages over each readback window, as in the tfjs loop."""
import math
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from .augment import augment_batch
from .probe_math import noise_scale_terms
from .dataset import Dataset
from .checkpoint import CheckpointError, read_checkpoint, samples_done_in_epoch, write_checkpoint
from .rng import create_rng, rng_at, shuffle_in_place

READBACK_INTERVAL_S = 0.1
MAX_PENDING_STEPS = 512


class TrainingDiverged(Exception):
    def __init__(self, step: int, loss: float) -> None:
        shown = "NaN" if math.isnan(loss) else ("Infinity" if loss > 0 else "-Infinity")
        super().__init__(f"the loss became {shown} at step {step}: training diverged (try a lower learning rate or a longer warm-up)")
        self.step = step


def learning_rate_at(step: int, base: float, warmup_steps: int) -> float:
    """A linear ramp over the warm-up steps from base/warmup to base, then constant (optimizer.ts)."""
    if warmup_steps <= 0 or step > warmup_steps:
        return base
    return base * max(1, step) / warmup_steps


def make_optimizer(config: Dict[str, Any], groups: List[Tuple[List[torch.nn.Parameter], float]]) -> torch.optim.Optimizer:
    """One parameter group per rate group; each steps at the run's rate times its factor."""
    param_groups = [{"params": params, "lr": config["learningRate"] * factor, "factor": factor} for params, factor in groups if params]
    if config["optimizer"] == "adam":
        # tfjs's Adam: epsilon 1e-7 (Keras's), added to the square root of the bias-corrected second moment, as torch does.
        return torch.optim.Adam(param_groups, lr=config["learningRate"], betas=(0.9, 0.999), eps=1e-7)
    # tfjs's MomentumOptimizer: accumulator = momentum * accumulator + gradient; torch's SGD without dampening is the same.
    return torch.optim.SGD(param_groups, lr=config["learningRate"], momentum=config["momentum"])


class Pending:
    __slots__ = ("step", "epoch", "size", "learning_rate", "loss", "accuracy")

    def __init__(self, step: int, epoch: int, size: int, learning_rate: float, loss: torch.Tensor, accuracy: torch.Tensor) -> None:
        self.step, self.epoch, self.size, self.learning_rate, self.loss, self.accuracy = step, epoch, size, learning_rate, loss, accuracy


class TrainingRun:
    def __init__(
        self,
        ds: Dataset,
        net: torch.nn.Module,
        config: Dict[str, Any],
        groups: List[Tuple[List[torch.nn.Parameter], float]],
        device: torch.device,
        max_steps: Optional[int],
        should_stop: Callable[[], bool],
        on_step: Callable[[Dict[str, Any]], None],
        on_epoch: Callable[[Dict[str, Any]], None],
        memory_bytes: Callable[[], float],
        checkpoints: Optional[Dict[str, Any]] = None,
        resume_from: Optional[str] = None,
        on_checkpoint: Optional[Callable[[Dict[str, Any]], None]] = None,
        adaptive: Optional[Dict[str, Any]] = None,
        on_noise: Optional[Callable[[Dict[str, Any]], None]] = None,
        take_batch_change: Optional[Callable[[], Optional[Dict[str, Any]]]] = None,
        on_batch_changed: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> None:
        self.ds, self.net, self.config, self.device = ds, net, config, device
        self.max_steps, self.should_stop, self.on_step, self.on_epoch, self.memory_bytes = max_steps, should_stop, on_step, on_epoch, memory_bytes
        self.optimizer = make_optimizer(config, groups)
        self.rng = create_rng(config["seed"])
        self.order = list(ds.train_index)
        self.batch_size = config["batchSize"]
        micro = config.get("microBatchSize")
        self.micro_batch = micro if micro is not None and micro < self.batch_size else self.batch_size
        self.eval_batch = eval_batch_of(config)
        self.steps_per_epoch = math.ceil(len(self.order) / self.batch_size)
        self.validate_every = max(1, math.ceil(self.steps_per_epoch / config.get("validationsPerEpoch", 1)))
        self.augment = config.get("augment", "none")
        self.start = time.perf_counter()
        self.last_readback = self.start
        self.last_readback_time = 0.0
        self.pending: List[Pending] = []
        self.step = 0
        self.samples_seen = 0
        self.epoch_loss_sum = self.epoch_acc_sum = 0.0
        self.epoch_samples = 0
        self.best_val: Optional[float] = None
        self.final_val: Optional[float] = None
        self.epochs_completed = 0
        self.stopped = False
        # Checkpoints (checkpoint.py): the plan, and where the run stands in its epoch.
        self.checkpoints, self.on_checkpoint = checkpoints, on_checkpoint
        self.epoch = 1
        self.batch_in_epoch = 0
        self.samples_in_epoch = 0
        # The epoch the loop starts at (after a checkpoint's), and the position within it a mid-epoch checkpoint left.
        self.first_epoch = 1
        self.resume_at: Optional[Dict[str, Any]] = None
        if resume_from is not None:
            self.resume(resume_from)
        self.last_checkpoint = time.perf_counter()
        # An adaptive run (src/shared/adaptive-batch.ts): noise measurements, and the rate's ramp after a batch change.
        self.adaptive, self.on_noise, self.take_batch_change, self.on_batch_changed = adaptive, on_noise, take_batch_change, on_batch_changed
        self.noise_terms: List[Tuple[torch.Tensor, int, int]] = []
        self.rate_ramp: Optional[Dict[str, float]] = None

    def resume(self, folder: str) -> None:
        """Continues from a checkpoint: weights, optimizer state, the epoch's order, the generator, and the position in the epoch."""
        state, order, model_state, optimizer_state = read_checkpoint(folder)
        if len(order) != len(self.order) or sorted(order) != sorted(self.order):
            raise CheckpointError(f"{folder}: its sample order ({len(order)} samples) is not of this dataset's training split ({len(self.order)} samples)")
        try:
            self.net.load_state_dict(model_state)
        except Exception as err:  # noqa: BLE001
            raise CheckpointError(f"{folder}: its model does not fit this run's model: {first_line_of(err)}") from None
        # The rate groups as make_optimizer set them (the loop sets each step's rate anyway).
        groups = [(g["factor"], g["lr"]) for g in self.optimizer.param_groups]
        try:
            self.optimizer.load_state_dict(optimizer_state)
        except Exception as err:  # noqa: BLE001
            raise CheckpointError(f"{folder}: its optimizer state does not fit this run's optimizer: {first_line_of(err)}") from None
        for group, (factor, lr) in zip(self.optimizer.param_groups, groups):
            group["factor"], group["lr"] = factor, lr
        self.order = order
        self.rng = rng_at(state["rngState"])
        self.step = state["step"]
        self.samples_seen = state["samplesSeen"]
        self.epochs_completed = state["epochsCompleted"]
        self.best_val, self.final_val = state["bestValAccuracy"], state["finalValAccuracy"]
        done = samples_done_in_epoch(state)
        if done >= len(order):
            # The epoch and its validation are done: the next one shuffles this order on.
            self.first_epoch = state["epoch"] + 1
        else:
            # The same epoch carries on from the sample it had reached, without a shuffle (the
            # batch may have changed since: then batches of the new size from that sample on).
            self.first_epoch = state["epoch"]
            batches = state["batchInEpoch"] if state["batchSize"] == self.batch_size else math.floor(done / self.batch_size + 0.5)  # Math.round
            self.resume_at = {"samples": done, "batches": batches, "loss_sum": state["epochLossSum"], "acc_sum": state["epochAccSum"], "epoch_samples": state["epochSamples"]}
        now = time.perf_counter()
        self.start = now - state["trainSeconds"]  # the run's times carry on
        self.last_readback = now
        self.last_readback_time = state["trainSeconds"]

    def train(self) -> None:
        for epoch in range(self.first_epoch, self.config["epochs"] + 1):
            if not self.run_epoch(epoch):
                self.checkpoint("stop")
                break
            self.epochs_completed = epoch
            self.checkpoint("epoch")
        self.flush()

    def run_epoch(self, epoch: int) -> bool:
        resume, self.resume_at = self.resume_at, None
        self.epoch = epoch
        if resume is not None:
            # A mid-epoch checkpoint: the same order, from the sample it had reached.
            self.epoch_loss_sum, self.epoch_acc_sum, self.epoch_samples = resume["loss_sum"], resume["acc_sum"], resume["epoch_samples"]
        else:
            shuffle_in_place(self.order, self.rng)
            self.epoch_loss_sum = self.epoch_acc_sum = 0.0
            self.epoch_samples = 0
        n = len(self.order)
        self.batch_in_epoch = resume["batches"] if resume is not None else 0
        self.samples_in_epoch = resume["samples"] if resume is not None else 0
        order = torch.tensor(self.order, dtype=torch.long, device=self.device)
        self.net.train()
        while self.samples_in_epoch < n:
            if self.should_end():
                return False
            self.apply_batch_change()
            size = self.batch_size
            pos = self.samples_in_epoch
            self.train_step(epoch, order[pos : min(n, pos + size)])
            self.batch_in_epoch += 1
            self.samples_in_epoch = min(n, pos + size)
            if time.perf_counter() - self.last_readback >= READBACK_INTERVAL_S or len(self.pending) >= MAX_PENDING_STEPS:
                self.flush()
            if self.adaptive is not None and self.step % self.adaptive["everySteps"] == 0:
                self.report_noise()
            if self.batch_in_epoch % self.validate_every == 0 and self.samples_in_epoch < n:
                self.validate(epoch)
                self.net.train()
            if self.checkpoints is not None and self.samples_in_epoch < n and time.perf_counter() - self.last_checkpoint >= self.checkpoints["everySeconds"]:
                self.checkpoint("timer")
        self.flush()
        self.validate(epoch)
        return True

    def checkpoint(self, reason: str) -> None:
        """Writes a checkpoint of where the run stands (when the job asked for them), every step
        before it reported first; then tells the caller (on_checkpoint). Before the first step there
        is nothing a checkpoint would keep (as in the tfjs loop)."""
        if self.checkpoints is None or self.step == 0:
            return
        self.flush()
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "batchInEpoch": self.batch_in_epoch,
            "samplesInEpoch": self.samples_in_epoch,
            "epochsCompleted": self.epochs_completed,
            "trainSeconds": max(0.0, time.perf_counter() - self.start),
            "samplesSeen": self.samples_seen,
            "epochLossSum": self.epoch_loss_sum,
            "epochAccSum": self.epoch_acc_sum,
            "epochSamples": self.epoch_samples,
            "bestValAccuracy": self.best_val,
            "finalValAccuracy": self.final_val,
            "rngState": self.rng.state,  # as it was after the epoch's shuffle: nothing else draws from it
            "batchSize": self.batch_size,
            "reason": reason,
        }
        folder = write_checkpoint(self.checkpoints["dir"], state, self.order, self.net, self.optimizer)
        self.last_checkpoint = time.perf_counter()
        self.last_readback = self.last_checkpoint  # writing is not training time
        if self.on_checkpoint is not None:
            self.on_checkpoint({"step": self.step, "epoch": self.epoch, "reason": reason, "dir": folder})

    def should_end(self) -> bool:
        stop = self.should_stop()
        if not stop and (self.max_steps is None or self.step < self.max_steps):
            return False
        self.stopped = stop
        return True

    def train_step(self, epoch: int, indices: torch.Tensor) -> None:
        self.step += 1
        lr = self.rate_at(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["factor"]
        # The whole batch's inputs are augmented at once (its draws do not depend on the split).
        x = augment_batch(self.ds.batch(indices), self.augment, self.config["seed"], self.step, self.ds.manifest["normalization"])
        labels = self.ds.y.index_select(0, indices)
        n = int(indices.numel())
        # An adaptive run's measured step: equal passes (its micro-batches, or halves) give the noise scale's terms.
        measure = None
        if self.adaptive is not None and self.step % max(1, self.adaptive["everySteps"] // 10) == 0:
            size = self.micro_batch if self.micro_batch < n else n // 2
            if size >= 1 and n % size == 0 and n // size >= 2:
                measure = (n // size, size)
        micro = measure[1] if measure is not None else self.micro_batch
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        self.optimizer.zero_grad(set_to_none=True)
        # Gradient accumulation (src/shared/accumulation.ts): passes of `micro` samples, each loss
        # weighted by its share of the batch, so the summed gradients are the whole batch's mean's.
        loss = torch.zeros((), device=x.device)
        accuracy = torch.zeros((), device=x.device)
        mean_sq = torch.zeros((), device=x.device)
        # A measured step takes each pass's own gradient with autograd.grad (no copy of the
        # accumulated gradients before each pass) and adds it in.
        trainable = [p for p in params if p.requires_grad] if measure is not None else params
        for start in range(0, n, micro):
            xs, ys = x[start:start + micro], labels[start:start + micro]
            share = ys.numel() / n
            logits = self.net(xs)
            # Mean softmax cross-entropy over the pass: tf.losses.softmaxCrossEntropy's default reduction.
            part = F.cross_entropy(logits, ys) * share if share < 1 else F.cross_entropy(logits, ys)
            if measure is None:
                part.backward()
            else:
                grads = torch.autograd.grad(part, trainable, allow_unused=True)
                with torch.no_grad():
                    # This pass's own gradient, unweighted: its weighted gradient ÷ its share.
                    mean_sq += sum(((g / share).square().sum() for g in grads if g is not None), torch.zeros((), device=x.device)) * share
                    for p, g in zip(trainable, grads):
                        if g is not None:
                            p.grad = g if p.grad is None else p.grad.add_(g)
            with torch.no_grad():
                loss += part.detach()
                accuracy += (logits.argmax(1) == ys).float().mean() * share
            del logits, part  # one pass's activations alive at a time
        if measure is not None:
            with torch.no_grad():
                sq_mean = sum((p.grad.square().sum() for p in params if p.grad is not None), torch.zeros((), device=x.device))
                self.noise_terms.append((torch.stack([mean_sq, sq_mean]), measure[0], measure[1]))
        self.optimizer.step()
        self.pending.append(Pending(self.step, epoch, n, lr, loss, accuracy))
        self.samples_seen += n

    def rate_at(self, step: int) -> float:
        """The learning rate at a step: the warm-up's, or after a batch change the ramp to the new rate."""
        r = self.rate_ramp
        if r is None:
            return learning_rate_at(step, self.config["learningRate"], self.config["warmupSteps"])
        return r["from"] + (r["to"] - r["from"]) * min(1.0, (step - r["start"]) / max(1.0, r["steps"]))

    def apply_batch_change(self) -> None:
        """An adaptive run's new batch, when the host sent one: from the next step on, every step before it reported."""
        change = self.take_batch_change() if self.take_batch_change is not None else None
        if change is None or change["batchSize"] == self.batch_size:
            return
        self.flush()
        self.rate_ramp = {"from": self.rate_at(self.step), "to": change["learningRate"], "start": float(self.step), "steps": float(change["rampSteps"])}
        self.config = {**self.config, "batchSize": change["batchSize"], "learningRate": change["learningRate"]}
        self.batch_size = change["batchSize"]
        micro = self.config.get("microBatchSize")
        self.micro_batch = micro if micro is not None and micro < self.batch_size else self.batch_size
        self.steps_per_epoch = math.ceil(len(self.order) / self.batch_size)
        self.validate_every = max(1, math.ceil(self.steps_per_epoch / self.config.get("validationsPerEpoch", 1)))
        if self.on_batch_changed is not None:
            self.on_batch_changed({"step": self.step, "time": self.last_readback_time, "batchSize": self.batch_size, "learningRate": change["learningRate"]})

    def report_noise(self) -> None:
        """The noise scale over the window that ends at this step (one readback), to on_noise."""
        taken, self.noise_terms = self.noise_terms, []
        if not taken or self.on_noise is None:
            return
        values = torch.stack([t for t, _, _ in taken]).tolist()
        grad_sq = trace = 0.0
        for (mean_sq, sq_mean), (_, k, b) in zip(values, taken):
            terms = noise_scale_terms(mean_sq, sq_mean, k, b)
            grad_sq += terms["gradSq"] / len(taken)
            trace += terms["traceSigma"] / len(taken)
        # |G|² not above 0: the window was too noisy to say (-1, as the tfjs loop reports it).
        noise = trace / grad_sq if grad_sq > 0 else -1.0
        self.on_noise({"step": self.step, "gradSq": grad_sq, "traceSigma": trace, "noiseScale": noise, "measurements": len(taken)})

    def flush(self) -> None:
        """Reads the pending steps' metrics back in one transfer and reports them, averaged over the window."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        values = torch.stack([t for p in batch for t in (p.loss, p.accuracy)]).tolist()
        now = time.perf_counter()
        elapsed = max(now - self.last_readback, 1e-6)
        window_samples = sum(p.size for p in batch)
        memory = self.memory_bytes()
        dt = elapsed / len(batch)
        for i, p in enumerate(batch):
            loss, accuracy = values[2 * i], values[2 * i + 1]
            if not math.isfinite(loss):
                raise TrainingDiverged(p.step, loss)
            self.epoch_loss_sum += loss * p.size
            self.epoch_acc_sum += accuracy * p.size
            self.epoch_samples += p.size
            self.on_step({
                "step": p.step,
                "epoch": p.epoch,
                "time": self.last_readback_time + dt * (i + 1),
                "loss": loss,
                "accuracy": accuracy,
                "samplesPerSecond": window_samples / elapsed,
                "stepMs": elapsed * 1000 / len(batch),
                "memoryBytes": memory,
                "learningRate": p.learning_rate,
            })
        self.last_readback = now
        self.last_readback_time = now - self.start

    def validate(self, epoch: int) -> None:
        self.flush()
        try:
            val = evaluate_split(self.net, self.ds, self.ds.validation_index, self.eval_batch, details=False)
        except Exception as err:
            # Out of memory here is the evaluation batch's (the host steps down the one that failed).
            err.phase = "validation"  # type: ignore[attr-defined]
            raise
        if self.ds.validation_index.numel() > 0 and not math.isfinite(val["loss"]):
            raise TrainingDiverged(self.step, val["loss"])
        self.final_val = val["accuracy"]
        self.best_val = val["accuracy"] if self.best_val is None else max(self.best_val, val["accuracy"])
        self.on_epoch({
            "epoch": epoch,
            "step": self.step,
            "time": time.perf_counter() - self.start,
            "valLoss": val["loss"],
            "valAccuracy": val["accuracy"],
            "trainLoss": self.epoch_loss_sum / self.epoch_samples if self.epoch_samples else math.nan,
            "trainAccuracy": self.epoch_acc_sum / self.epoch_samples if self.epoch_samples else 0.0,
        })
        self.last_readback = time.perf_counter()  # validation time is not training time

    def summary(self) -> Dict[str, Any]:
        seconds = time.perf_counter() - self.start
        return {
            "steps": self.step,
            "epochsCompleted": self.epochs_completed,
            "trainSeconds": seconds,
            "samplesPerSecond": self.samples_seen / seconds if seconds > 0 else 0.0,
            "bestValAccuracy": self.best_val,
            "finalValAccuracy": self.final_val,
        }


def first_line_of(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.split("\n")[0][:500]


def eval_batch_of(config: Dict[str, Any]) -> int:
    """The chunk validation and evaluation use (src/shared/eval-batch.ts): the measured evaluation batch, else the training batch."""
    return int(config.get("evalBatchSize") or config["batchSize"])


@torch.no_grad()
def evaluate_split(net: torch.nn.Module, ds: Dataset, indices: torch.Tensor, chunk: int, details: bool) -> Dict[str, Any]:
    """Mean loss and accuracy over a split (inference mode), `chunk` samples at a time; with details, the confusion matrix and the worst mistakes."""
    n = int(indices.numel())
    if n == 0:
        return {"loss": math.nan, "accuracy": 0.0}
    was_training = net.training
    net.eval()
    k = len(ds.classes)
    loss_sum = torch.zeros((), dtype=torch.float64, device=indices.device)
    predictions, confidences = [], []
    for i in range(0, n, chunk):
        part = indices[i : i + chunk]
        logits = net(ds.batch(part))
        loss_sum += F.cross_entropy(logits, ds.y.index_select(0, part), reduction="sum").double()
        probs = torch.softmax(logits, dim=1)
        conf, pred = probs.max(dim=1)
        predictions.append(pred)
        confidences.append(conf)
    net.train(was_training)
    pred = torch.cat(predictions)
    truth = ds.y.index_select(0, indices)
    correct = int((pred == truth).sum())
    result: Dict[str, Any] = {"loss": float(loss_sum) / n, "accuracy": correct / n}
    if not details:
        return result
    confusion = torch.zeros(k * k, dtype=torch.long, device=pred.device).index_add_(0, truth * k + pred, torch.ones_like(pred)).view(k, k).tolist()
    wrong_mask = pred != truth
    wrong_pos = torch.nonzero(wrong_mask).flatten()
    conf_all = torch.cat(confidences)
    order = torch.sort(conf_all.index_select(0, wrong_pos), descending=True, stable=True).indices[:200] if wrong_pos.numel() else wrong_pos
    picked = wrong_pos.index_select(0, order).tolist() if wrong_pos.numel() else []
    idx_list, truth_list, pred_list, conf_list = indices.tolist(), truth.tolist(), pred.tolist(), conf_all.tolist()
    result["evaluation"] = {
        "classes": ds.classes,
        "confusion": confusion,
        "perClassAccuracy": [row[c] / sum(row) if sum(row) else 0 for c, row in enumerate(confusion)],
        "misclassified": [
            {"index": idx_list[j], "trueClass": truth_list[j], "predictedClass": pred_list[j], "confidence": conf_list[j]} for j in picked
        ],
    }
    return result
