"""One training job on the torch engine: the device of the job's rung, the dataset, the prepared
model (the same initial weights as a tfjs run), the loop, the export — and however it ends, one
terminal message ('done' or 'failed' with its cause, as the tfjs trainer sends them)."""
import contextlib
import json
import os
from datetime import datetime, timezone
from typing import Any, Callable, ContextManager, Dict, Optional

import torch

from .checkpoint import CheckpointError
from .dataset import DatasetError, load_dataset
from .live_memory import LiveTensorCounter, describe_cap, tensor_bytes
from .train import TrainingDiverged, TrainingRun, eval_batch_of, evaluate_split

DEVICES = {"torch-cuda": "cuda", "torch-mps": "mps", "torch-cpu": "cpu"}


class BackendError(Exception):
    pass


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def open_device(rung: str, threads: Optional[int]) -> "tuple[torch.device, str]":
    """The device of a torch rung, started, and how the run's page names it."""
    if threads:
        torch.set_num_threads(threads)
    version = torch.__version__
    if rung == "torch-cuda":
        if not torch.cuda.is_available():
            raise BackendError(f"torch-cuda: PyTorch {version} sees no CUDA device (torch.cuda.is_available() is False)")
        torch.backends.cudnn.benchmark = True
        return torch.device("cuda"), f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda}, PyTorch {version})"
    if rung == "torch-mps":
        if not _mps_available():
            raise BackendError(f"torch-mps: PyTorch {version} has no usable Apple MPS device")
        return torch.device("mps"), f"Apple GPU (MPS, PyTorch {version})"
    if rung == "torch-cpu":
        n = torch.get_num_threads()
        return torch.device("cpu"), f"CPU (PyTorch {version}, {n} thread{'' if n == 1 else 's'})"
    raise BackendError(f"the torch trainer runs torch-cuda, torch-mps or torch-cpu, not {rung!r}")


def memory_reader(device: torch.device, net: torch.nn.Module, optimizer: torch.optim.Optimizer) -> Callable[[], float]:
    if device.type == "cuda":
        return lambda: float(torch.cuda.memory_allocated(device))
    mps = getattr(torch, "mps", None)
    if device.type == "mps" and mps is not None and hasattr(mps, "current_allocated_memory"):
        return lambda: float(mps.current_allocated_memory())

    # On the CPU: the bytes the model, its gradients and the optimizer's state hold (what tfjs's
    # tf.memory() counts for a wasm run between steps).
    def held() -> float:
        total = sum(t.numel() * t.element_size() for t in list(net.parameters()) + list(net.buffers()))
        total += sum(p.grad.numel() * p.grad.element_size() for p in net.parameters() if p.grad is not None)
        for state in optimizer.state.values():
            total += sum(v.numel() * v.element_size() for v in state.values() if torch.is_tensor(v))
        return float(total)

    return held


def looks_like_out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError):
        return True
    text = f"{type(err).__name__} {err}".lower()
    return any(s in text for s in ("out of memory", "can't allocate memory", "cannot allocate memory", "outofmemoryerror"))


def classify(err: BaseException) -> str:
    from .keras_model import ModelError

    if isinstance(err, TrainingDiverged):
        return "diverged"
    if isinstance(err, BackendError):
        return "backend"
    if isinstance(err, (ModelError, CheckpointError)):
        return "bad-config"
    if looks_like_out_of_memory(err):
        return "oom"
    return "error"


def first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.split("\n")[0][:1000]


def capped_device(cap: Optional[int], net: torch.nn.Module) -> ContextManager[Any]:
    """Tests: the capped test device around a run (live_memory.py), the weights its base; else nothing.
    The optimizer's state is created inside, so it counts against the cap as it would on a GPU."""
    if cap is None:
        return contextlib.nullcontext()
    return LiveTensorCounter(tensor_bytes(list(net.parameters()) + list(net.buffers())), cap)


def run_job(job: Dict[str, Any], channel: Any, should_stop: Callable[[], bool], metrics: Any, take_batch_change: Optional[Callable[[], Optional[Dict[str, Any]]]] = None) -> None:
    """Runs the job; every failure becomes the run's 'failed' message with its cause. take_batch_change:
    an adaptive run's next batch from the host (set-batch), or None."""
    holder: Dict[str, Any] = {"take_batch_change": take_batch_change}
    try:
        _run(job, channel, should_stop, metrics, holder)
    except Exception as err:  # noqa: BLE001
        metrics.flush()
        message: Dict[str, Any] = {"type": "failed", "cause": classify(err), "message": first_line(err)}
        if "summary" in holder:  # the loop ended: what failed came after it (the export)
            message["summary"] = holder["summary"]
        if getattr(err, "phase", None) == "validation":
            message["phase"] = "validation"
        channel.send(message)


def _run(job: Dict[str, Any], channel: Any, should_stop: Callable[[], bool], metrics: Any, holder: Dict[str, Any]) -> None:
    from .keras_model import load_tfjs_model, save_tfjs_model

    config = job["config"]
    device, device_name = open_device(config["backend"], job.get("threads"))
    cap = job.get("memoryCapBytes")
    if cap is not None:
        device_name = f"{device_name} ({describe_cap(cap)})"
    channel.send({"type": "backend", "report": {"name": "torch", "rung": config["backend"], "device": device_name, "skipped": []}})
    try:
        ds = load_dataset(job["datasetDir"], device)
    except (DatasetError, OSError) as err:
        channel.send({"type": "failed", "cause": "dataset", "message": f"could not load the dataset: {first_line(err)}"})
        return
    prepared = job.get("prepared")
    if prepared is None:
        channel.send({"type": "failed", "cause": "bad-config", "message": "a torch run needs its prepared model (job.prepared), which the host writes before it starts"})
        return
    net, model_json = load_tfjs_model(prepared["modelDir"], device)
    trained = {name for g in prepared["groups"] for name in g["layers"]}
    net.set_trained_layers(trained)
    groups = [([p for name in g["layers"] for p in net.parameters_of(name) if p.requires_grad], g["rateFactor"]) for g in prepared["groups"]]
    def on_checkpoint(info: Dict[str, Any]) -> None:
        metrics.flush()  # every step up to the checkpoint is sent before it
        channel.send({"type": "checkpoint", **info})

    resume = job.get("resume")

    def on_batch_changed(info: Dict[str, Any]) -> None:
        metrics.flush()  # the steps before it leave first
        channel.send({"type": "batch-changed", **info})

    adaptive = job.get("adaptive")
    adapt: Dict[str, Any] = {}
    if adaptive is not None:
        adapt = {
            "adaptive": adaptive,
            "on_noise": lambda n: channel.send({"type": "noise", **n}),
            "take_batch_change": holder.get("take_batch_change"),
            "on_batch_changed": on_batch_changed,
        }
    try:
        run = TrainingRun(
            ds, net, config, groups, device, job.get("maxSteps"), should_stop, metrics.add_step, metrics.add_epoch,
            memory_bytes=lambda: 0.0,
            checkpoints=job.get("checkpoints"),
            resume_from=resume["checkpointDir"] if resume else None,
            on_checkpoint=on_checkpoint,
            **adapt,
        )
    except CheckpointError as err:
        channel.send({"type": "failed", "cause": "bad-config", "message": f"cannot resume the run: {first_line(err)}"})
        return
    run.memory_bytes = memory_reader(device, net, run.optimizer)
    with capped_device(cap, net):
        run.train()
        summary = holder["summary"] = run.summary()
        status = "stopped" if run.stopped else "completed"
        evaluation = None
        if job.get("artifactDir") and status == "completed" and ds.validation_index.numel() > 0:
            evaluation = evaluate_split(net, ds, ds.validation_index, eval_batch_of(config), details=True).get("evaluation")
    metrics.flush()
    artifact = None
    if job.get("artifactDir") and status == "completed":
        with open(os.path.join(prepared["modelDir"], "export-metadata.json"), encoding="utf-8") as f:
            metadata = json.load(f)
        metadata["createdAt"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        saved = save_tfjs_model(net, model_json, os.path.join(job["artifactDir"], "model"), metadata)
        artifact = {"path": saved["path"], "bytes": int(saved["bytes"])}
    done: Dict[str, Any] = {"type": "done", "status": status, "summary": summary}
    if artifact:
        done["artifact"] = artifact
    if evaluation:
        done["evaluation"] = evaluation
    channel.send(done)
