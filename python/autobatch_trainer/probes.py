"""The measuring side of the batch-size search on the torch engine, with the semantics of
src/main/engine/tuner/probe-runner.ts (docs/architecture.md §5): one session (dataset and prepared
net loaded once), five probe kinds. Every probe starts from the session's initial weights (all of
them: batch-norm moving statistics too) with a fresh optimizer whose rate groups are the run's
(prepared.groups), and restores them afterwards whether it succeeded or failed, so probes do not
influence each other. The decisions taken from the results stay in src/shared; this only measures.

Memory (the memory probe): peakBytes comes from the device's own counter where it has one
(device_memory.py: cuda-peak, mps-allocated, cpu-peak-rss); the live tensor bytes counted by a
dispatch mode (live_memory.py) give engineBytes and its split into the forward/backward phase
(gradientBytes) and the optimizer update (updateBytes), as tf.profile does on tfjs, and are
peakBytes themselves where no counter can be reset and on the capped test device."""
import gc
import math
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from .augment import augment_batch
from .dataset import Dataset
from .device_memory import CpuPeakRss, device_peak_source, synchronize
from .live_memory import LiveTensorCounter, tensor_bytes
from .probe_math import RANGE_TEST_SMOOTHING, NoiseScaleEstimator, SmoothedLoss, js_round, noise_scale_terms
from .rng import create_rng, shuffle_in_place
from .train import evaluate_split, learning_rate_at, make_optimizer

#: Timed chunks of a throughput probe (its result is the fastest).
THROUGHPUT_CHUNKS = 3
#: Learning rate of the memory and throughput probes (their weights are thrown away).
MEASURE_LEARNING_RATE = 1e-3
#: A trial runs at least this many steps, however short its time.
MIN_TRIAL_STEPS = 5
#: Trial and range-test losses are read back about this often (one stacked readback).
READBACK_INTERVAL_S = 0.1
#: A trial's validation loss is measured on at most this many samples (probe-runner.ts).
TRIAL_VALIDATION_SAMPLES = 1000

Groups = List[Tuple[List[torch.nn.Parameter], float]]


class BatchSampler:
    """Sample indices for batches: the training split shuffled with the seed, reshuffled on each pass
    (the app's generator, so the batches are a tfjs probe's). Each pass's order is copied to the device
    once and batches are slices of it: a host-to-device copy per step would wait for the queued steps
    and time a GPU's throughput one step at a time (train.py copies an epoch's order once for the
    same reason)."""

    def __init__(self, train_index: List[int], seed: int, device: Optional[torch.device] = None) -> None:
        if not train_index:
            raise ValueError("the dataset has no training samples")
        self.order = list(train_index)
        self.rng = create_rng(seed)
        self.device = device or torch.device("cpu")
        self._shuffle()

    def _shuffle(self) -> None:
        shuffle_in_place(self.order, self.rng)
        self.on_device = torch.tensor(self.order, dtype=torch.long, device=self.device)
        self.pos = 0

    def next(self, n: int) -> torch.Tensor:
        """The next n indices (a long tensor on the device); a batch larger than the split repeats samples."""
        pieces = []
        while n > 0:
            if self.pos == len(self.order):
                self._shuffle()
            take = min(n, len(self.order) - self.pos)
            pieces.append(self.on_device[self.pos : self.pos + take])
            self.pos += take
            n -= take
        return pieces[0] if len(pieces) == 1 else torch.cat(pieces)


class ProbeRunner:
    def __init__(self, ds: Dataset, net: torch.nn.Module, groups: Groups, device: torch.device, session: Dict[str, Any]) -> None:
        self.ds, self.net, self.groups, self.device = ds, net, groups, device
        self.seed: int = session["seed"]
        self.augment: str = session.get("augment", "none")
        self.optimizer_config = {"optimizer": session["optimizer"], "momentum": session.get("momentum", 0.9), "learningRate": MEASURE_LEARNING_RATE}
        self.cap_bytes: Optional[int] = session.get("memoryCapBytes")
        self.trainable = [p for params, _ in groups for p in params]
        if not self.trainable:
            raise ValueError("the prepared net trains no parameter")
        #: Steps taken by this runner: seeds the augmentation's draws (as the tfjs runner's stepCount).
        self.step_count = 0
        # Every weight, not only the trainable ones: batch-norm moving statistics move in training.
        self.initial = {name: t.detach().clone() for name, t in net.state_dict().items()}
        held = list(net.parameters()) + list(net.buffers())
        #: Bytes live before any probe: the weights and this runner's copy of them (tfjs counts its snapshot too).
        self.base_bytes = tensor_bytes(held) + tensor_bytes(self.initial.values())
        self.busy = False
        net.train()
        # Measured last, once the dataset and the net are resident: the CPU's peak is read above this.
        self.rss = CpuPeakRss() if device.type == "cpu" else None

    def run(self, request: Dict[str, Any]) -> Dict[str, Any]:
        kind = request["kind"]
        if kind == "memory":
            return self.forward_memory(request["batchSize"]) if request.get("forwardOnly") else self.memory(request["batchSize"])
        if kind == "throughput":
            return self.throughput(request["batchSize"], request["warmupSteps"], request["steps"], request.get("microBatch"))
        if kind == "noise":
            return self.noise(request["microBatch"], request["k"], request["steps"], request["learningRate"], request.get("pretrainSteps", 0), request.get("windows", 1))
        if kind == "learning-rate":
            return self.learning_rate_range(request["batchSize"], request["minRate"], request["maxRate"], request["steps"], request["stopFactor"])
        if kind == "trial":
            return self.trial(request["batchSize"], request["learningRate"], request["warmupSteps"], request["seconds"])
        raise ValueError(f"unknown probe kind {kind!r}")

    # ---- the probes -----------------------------------------------------------------------

    def memory(self, batch_size: int) -> Dict[str, Any]:
        """One full training step at this batch: its peak bytes, from the device where it can say, and its
        wall time (the faster of it and the same step once more, see time_step_again)."""

        def body(opt: torch.optim.Optimizer) -> Dict[str, Any]:
            indices = self.sampler().next(batch_size)
            phases: Dict[str, int] = {}

            def run(counter: LiveTensorCounter) -> None:
                def before_update() -> None:
                    phases["gradient"] = counter.peak_total
                    counter.reset_peak()

                loss = self.step(opt, indices, before_update)
                float(loss)  # waits for the step, as the tfjs probe reads its loss back

            result = self._measured(run)
            result["stepMs"] = min(result["stepMs"], self.time_step_again(opt, indices))
            if "gradient" in phases:
                result["gradientBytes"] = phases["gradient"]
                result["updateBytes"] = result["engineBytes"]
                result["engineBytes"] = max(phases["gradient"], result["engineBytes"])
                if result["memorySource"] == "live-tensor-bytes":
                    result["peakBytes"] = result["engineBytes"]
            return result

        return self.isolated(MEASURE_LEARNING_RATE, body)

    def forward_memory(self, batch_size: int) -> Dict[str, Any]:
        """One forward-only pass at this batch, exactly as validation makes it (evaluate_split with the
        batch as its chunk): its peak bytes and wall time, for the evaluation batch (issue 19)."""

        def body(_opt: torch.optim.Optimizer) -> Dict[str, Any]:
            indices = self.sampler().next(batch_size)
            return self._measured(lambda _counter: evaluate_split(self.net, self.ds, indices, batch_size, details=False))

        return self.isolated(MEASURE_LEARNING_RATE, body)

    def _measured(self, run: Callable[[LiveTensorCounter], Any]) -> Dict[str, Any]:
        """Runs `run` inside a live-tensor counter, with the device's own peak reset before: the memory
        result of what it did (peakBytes from the device where it can say, else the live tensor bytes)."""
        counter = LiveTensorCounter(self.base_bytes, self.cap_bytes)
        source = device_peak_source(self.device)
        gc.collect()
        synchronize(self.device)
        if source == "cuda-peak":
            torch.cuda.reset_peak_memory_stats(self.device)
        rss = self.rss if self.rss is not None and self.rss.usable else None
        if rss is not None:
            rss.start()
        t0 = time.perf_counter()
        with counter:
            run(counter)
        synchronize(self.device)
        step_ms = (time.perf_counter() - t0) * 1000
        figure, backend, device_source = self._device_peak(source, rss)
        engine = counter.peak_total
        result: Dict[str, Any] = {"kind": "memory", "peakBytes": engine, "stepMs": step_ms, "engineBytes": engine}
        if backend is not None:
            result["backendBytes"] = backend
        if self.cap_bytes is not None or figure is None or device_source is None:
            # The capped test device compares live tensor bytes with its cap: its ceiling is in that figure.
            result["memorySource"] = "live-tensor-bytes"
        else:
            result["peakBytes"] = figure
            result["memorySource"] = device_source
        return result

    def time_step_again(self, opt: torch.optim.Optimizer, indices: torch.Tensor) -> float:
        """The wall time of the same step once more, in ms. The measured step is slow for reasons a run
        does not have: the pages malloc_trim handed back fault in again (4-7x a step's time on the CPU
        for the small CNN), the dispatch mode runs Python on every operator, CUDA picks its kernels.
        search-plan.ts sizes the throughput probes from stepMs, so it should be a step's time. The step
        counter is set back: the repeat draws the measured step's augmentation, and later probes draw
        as a tfjs runner's would."""
        count = self.step_count
        self.step_count -= 1
        t0 = time.perf_counter()
        float(self.step(opt, indices))
        synchronize(self.device)
        self.step_count = count
        return (time.perf_counter() - t0) * 1000

    def _device_peak(self, source: Optional[str], rss: Optional[CpuPeakRss]) -> Tuple[Optional[int], Optional[int], Optional[str]]:
        """(the figure for peakBytes, the raw counter, the source) of the step just taken; Nones without a counter."""
        if source == "cuda-peak":
            raw = int(torch.cuda.max_memory_allocated(self.device))
            return raw, raw, source
        if source == "mps-allocated":
            raw = int(torch.mps.current_allocated_memory())  # type: ignore[attr-defined]
            return raw, raw, source
        if rss is not None:
            over_base, hwm = rss.peak()
            return over_base, hwm, "cpu-peak-rss"
        return None, None, None

    def throughput(self, batch_size: int, warmup_steps: int, steps: int, micro_batch: Optional[int] = None) -> Dict[str, Any]:
        """Warm-up steps, then `steps` timed steps in three chunks; the fastest chunk's time per step
        (whatever else runs on the machine can only slow a chunk down). The device is synchronised
        before every clock reading. With micro_batch below the batch, each step accumulates the
        gradients of passes of that many samples (a run's micro-batches)."""
        micro = micro_batch if micro_batch is not None and micro_batch < batch_size else None

        def body(opt: torch.optim.Optimizer) -> Dict[str, Any]:
            sampler = self.sampler()
            last: List[torch.Tensor] = []

            def run(n: int) -> None:
                for _ in range(n):
                    last[:] = [self.step(opt, sampler.next(batch_size), micro=micro)]

            run(warmup_steps)
            self.wait(last)
            chunk = max(1, steps // THROUGHPUT_CHUNKS)
            best = math.inf
            done = 0
            while done < steps:
                n = min(chunk, steps - done)
                t0 = time.perf_counter()
                run(n)
                self.wait(last)
                best = min(best, max(time.perf_counter() - t0, 1e-9) / n)
                done += n
            result = {"kind": "throughput", "secondsPerStep": best, "samplesPerSecond": batch_size / best}
            if micro is not None:
                result["microBatch"] = micro
            return result

        return self.isolated(MEASURE_LEARNING_RATE, body)

    def noise(self, micro_batch: int, k: int, steps: int, learning_rate: float, pretrain_steps: int = 0, windows: int = 1) -> Dict[str, Any]:
        """The gradient noise scale (docs/architecture.md §5.6): steps at batch k·b whose gradient is
        also taken as k micro-batch gradients; the mean is applied at `learning_rate`, so training
        moves on as it would. With several windows the pre-training is split between them and each
        reports its mean loss and estimates; the overall figures are the last window's."""

        def body(opt: torch.optim.Optimizer) -> Dict[str, Any]:
            sampler = self.sampler()
            batch = micro_batch * k
            per_window = max(1, js_round(steps / windows))
            report: List[Dict[str, Any]] = []
            trained = 0
            for w in range(windows):
                pre = js_round(pretrain_steps * (w + 1) / windows) - js_round(pretrain_steps * w / windows)
                for _ in range(pre):
                    self.step(opt, sampler.next(batch))
                    trained += batch
                estimator = NoiseScaleEstimator(min(0.99, max(0.0, 1 - 2 / (per_window + 1))))
                loss_sum = 0.0
                for _ in range(per_window):
                    micro = [sampler.next(micro_batch) for _ in range(k)]
                    mean_sq, sq_of_mean, loss = self.micro_batch_step(opt, micro)
                    terms = noise_scale_terms(mean_sq, sq_of_mean, k, micro_batch)
                    estimator.add(terms["gradSq"], terms["traceSigma"])
                    loss_sum += loss
                    trained += batch
                report.append({
                    "samples": trained,
                    "loss": loss_sum / per_window,
                    "gradSq": estimator.grad_sq,
                    "traceSigma": estimator.trace_sigma,
                    "noiseScale": estimator.noise_scale,
                })
            last = report[-1]
            return {
                "kind": "noise",
                "gradSq": last["gradSq"],
                "traceSigma": last["traceSigma"],
                "noiseScale": last["noiseScale"],
                "steps": per_window * windows,
                "windows": report,
            }

        return self.isolated(learning_rate, body)

    def learning_rate_range(self, batch_size: int, min_rate: float, max_rate: float, steps: int, stop_factor: float) -> Dict[str, Any]:
        """Step i of n trains at min·(max/min)^(i/(n−1)); losses are read back in stacks (every
        ~100 ms or 16 steps) and the test stops at the first readback with a non-finite loss or a
        smoothed loss stop_factor × its lowest: every later, larger rate only diverges further."""

        def body(opt: torch.optim.Optimizer) -> Dict[str, Any]:
            sampler = self.sampler()
            rates: List[float] = []
            losses: List[float] = []
            smooth = SmoothedLoss(RANGE_TEST_SMOOTHING)
            pending: List[torch.Tensor] = []
            stop = False

            def read_back() -> bool:
                values = read_stacked(pending)
                pending.clear()
                diverged = False
                for v in values:
                    losses.append(v)
                    if not math.isfinite(v) or smooth.add(v) > stop_factor * smooth.lowest:
                        diverged = True
                return diverged

            last_readback = time.perf_counter()
            i = 0
            while i < steps and not stop:
                rate = min_rate * (max_rate / min_rate) ** (i / max(1, steps - 1))
                set_rate(opt, rate)
                rates.append(rate)
                pending.append(self.step(opt, sampler.next(batch_size)))
                if time.perf_counter() - last_readback >= READBACK_INTERVAL_S or len(pending) >= 16:
                    stop = read_back()
                    last_readback = time.perf_counter()
                i += 1
            read_back()
            return {"kind": "learning-rate", "rates": rates[: len(losses)], "losses": losses}

        return self.isolated(min_rate, body)

    def trial(self, batch_size: int, learning_rate: float, warmup_steps: int, seconds: float) -> Dict[str, Any]:
        """A short run from the initial weights for `seconds` (at least MIN_TRIAL_STEPS steps; the
        clock starts after the first step) with the run's linear warm-up, every loss kept, then
        validation on the trial subset. A non-finite loss ends the trial: it is the last loss
        reported, and validation is skipped (NaN, 0)."""

        def body(opt: torch.optim.Optimizer) -> Dict[str, Any]:
            sampler = self.sampler()
            losses: List[float] = []
            pending: List[torch.Tensor] = []
            state = {"diverged": False}

            def read_back() -> None:
                values = read_stacked(pending)
                pending.clear()
                for v in values:
                    if state["diverged"]:
                        break
                    losses.append(v)
                    if not math.isfinite(v):
                        state["diverged"] = True

            start = time.perf_counter()
            last_readback = start
            step = 0
            while not state["diverged"]:
                now = time.perf_counter()
                if step >= MIN_TRIAL_STEPS and now - start >= seconds:
                    break
                step += 1
                set_rate(opt, learning_rate_at(step, learning_rate, warmup_steps))
                pending.append(self.step(opt, sampler.next(batch_size)))
                if step == 1 or now - last_readback >= READBACK_INTERVAL_S or len(pending) >= 256:
                    read_back()
                    last_readback = time.perf_counter()
                    # The clock starts once the first step is done: warming up kernels is not training time.
                    if step == 1:
                        start = last_readback
            read_back()
            val_loss, val_accuracy = math.nan, 0.0
            if not state["diverged"]:
                val = evaluate_split(self.net, self.ds, self.trial_validation(), batch_size, details=False)
                val_loss, val_accuracy = val["loss"], val["accuracy"]
            return {"kind": "trial", "steps": len(losses), "samples": len(losses) * batch_size, "losses": losses, "valLoss": val_loss, "valAccuracy": val_accuracy}

        return self.isolated(learning_rate, body)

    # ---- the parts ----------------------------------------------------------------------------

    def weight_values(self) -> Dict[str, torch.Tensor]:
        """The net's weights now (tests: a probe must leave them as they were)."""
        return {name: t.detach().clone() for name, t in self.net.state_dict().items()}

    def trial_validation(self) -> torch.Tensor:
        """Every k-th validation sample, at most TRIAL_VALIDATION_SAMPLES: a stride keeps the
        classes' shares where a prefix of a class-sorted index would not."""
        every = self.ds.validation_index
        stride = math.ceil(int(every.numel()) / TRIAL_VALIDATION_SAMPLES)
        return every if stride <= 1 else every[::stride]

    def sampler(self) -> BatchSampler:
        return BatchSampler(self.ds.train_index, self.seed, self.device)

    def isolated(self, learning_rate: float, body: Callable[[torch.optim.Optimizer], Dict[str, Any]]) -> Dict[str, Any]:
        """Runs a probe with a fresh optimizer; whatever happens, the gradients and the optimizer's
        state are dropped and every weight is set back to the initial one."""
        if self.busy:
            raise RuntimeError("another probe is running")
        self.busy = True
        opt: Optional[torch.optim.Optimizer] = None
        try:
            opt = make_optimizer(dict(self.optimizer_config, learningRate=learning_rate), self.groups)
            return body(opt)
        finally:
            del opt
            for p in self.net.parameters():
                p.grad = None
            self.restore()
            self.net.train()
            self.busy = False

    def restore(self) -> None:
        with torch.no_grad():
            for name, t in self.net.state_dict().items():
                t.copy_(self.initial[name])

    def inputs_of(self, indices: torch.Tensor) -> torch.Tensor:
        """The batch as a run trains on it: augmented with the runner's own step counter."""
        self.step_count += 1
        return augment_batch(self.ds.batch(indices), self.augment, self.seed, self.step_count, self.ds.manifest["normalization"])

    def loss_of(self, indices: torch.Tensor) -> torch.Tensor:
        x = self.inputs_of(indices)
        # Mean softmax cross-entropy over the batch: tf.losses.softmaxCrossEntropy's default reduction.
        return F.cross_entropy(self.net(x), self.ds.y.index_select(0, indices))

    def step(self, opt: torch.optim.Optimizer, indices: torch.Tensor, before_update: Optional[Callable[[], None]] = None, micro: Optional[int] = None) -> torch.Tensor:
        """One training step (forward, backward, update) on these samples; its loss, left on the device.
        With `micro`, the gradients of passes of that many samples accumulate first, each pass's
        loss weighted by its share (as train.py's train_step)."""
        opt.zero_grad(set_to_none=True)
        if micro is None or micro >= indices.numel():
            loss = self.loss_of(indices)
            loss.backward()
        else:
            n = int(indices.numel())
            x = self.inputs_of(indices)  # one step's augmentation, whatever the split
            labels = self.ds.y.index_select(0, indices)
            loss = torch.zeros((), device=self.device)
            for start in range(0, n, micro):
                part = F.cross_entropy(self.net(x[start:start + micro]), labels[start:start + micro]) * (min(micro, n - start) / n)
                part.backward()
                loss = loss + part.detach()
        if before_update is not None:
            before_update()
        opt.step()
        return loss.detach()

    def micro_batch_step(self, opt: torch.optim.Optimizer, micro: List[torch.Tensor]) -> Tuple[float, float, float]:
        """k micro-batch gradients, their mean applied: (mean‖gᵢ‖², ‖ḡ‖², mean micro-batch loss), read back at once.
        Only the running sum of the gradients is kept, so memory does not grow with k (gradient-noise.ts)."""
        k = len(micro)
        inputs = [self.inputs_of(m) for m in micro]
        total: Optional[List[torch.Tensor]] = None
        sq_sum = torch.zeros((), device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        for m, x in zip(micro, inputs):
            labels = self.ds.y.index_select(0, m)
            loss = F.cross_entropy(self.net(x), labels)
            grads = torch.autograd.grad(loss, self.trainable, allow_unused=True)
            g = [gi if gi is not None else torch.zeros_like(p) for gi, p in zip(grads, self.trainable)]
            with torch.no_grad():
                sq_sum += sum(t.square().sum() for t in g)
                loss_sum += loss.detach()
                total = g if total is None else [a.add_(b) for a, b in zip(total, g)]
        assert total is not None
        with torch.no_grad():
            mean = [t.div_(k) for t in total]
            sq_of_mean = sum(t.square().sum() for t in mean)
            stats = torch.stack([sq_sum / k, sq_of_mean, loss_sum / k]).tolist()
        for p, g_mean in zip(self.trainable, mean):
            p.grad = g_mean
        opt.step()
        return stats[0], stats[1], stats[2]

    def wait(self, last: List[torch.Tensor]) -> None:
        """Waits for every queued step: reads the last loss back and synchronises the device."""
        if last:
            float(last[0])
        synchronize(self.device)


def set_rate(opt: torch.optim.Optimizer, rate: float) -> None:
    """The probe's rate, times each group's factor (the fine-tuned blocks' share), as in a run."""
    for group in opt.param_groups:
        group["lr"] = rate * group["factor"]


def read_stacked(losses: List[torch.Tensor]) -> List[float]:
    """Per-step loss scalars read back with one transfer."""
    return torch.stack(losses).tolist() if losses else []
