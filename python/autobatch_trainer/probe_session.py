"""A probe session on the torch engine (src/shared/probe-protocol.ts; the tfjs side is
src/main/engine/tuner/probe-session.ts): 'start-probes' opens the device, loads the dataset and
the prepared net, then each 'probe' is answered in arrival order with 'probe-result' or
'probe-failed', until 'end'. A session that cannot start sends 'failed' and the process exits 0.
A probe that fails leaves the process sound (its tensors are gone, the weights restored) unless
the device itself broke: then the answer says fatal and the process exits 1."""
import gc
import queue
from typing import Any, Dict, Optional

import torch

from .dataset import DatasetError, load_dataset
from .job import BackendError, first_line, looks_like_out_of_memory, open_device
from .device_memory import release_cached
from .live_memory import describe_cap

#: Error texts after which a CUDA context cannot be used again (the process must be replaced).
_DEAD_DEVICE = ("cuda error", "device-side assert", "cudnn_status_internal_error", "cublas_status_execution_failed", "illegal memory access")


class SessionFailed(Exception):
    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


def classify_probe_failure(err: BaseException) -> Dict[str, Any]:
    """cause (oom, error) and whether the backend is dead (fatal)."""
    if looks_like_out_of_memory(err):
        return {"cause": "oom", "message": first_line(err)}
    text = str(err).lower()
    failure: Dict[str, Any] = {"cause": "error", "message": first_line(err)}
    if any(s in text for s in _DEAD_DEVICE):
        failure["fatal"] = True
    return failure


def start_session(session: Dict[str, Any], channel: Any) -> Any:
    """The session's probe runner, after the 'backend' report; raises SessionFailed saying why not."""
    from .keras_model import ModelError, load_tfjs_model
    from .probes import ProbeRunner

    try:
        device, device_name = open_device(session["backend"], session.get("threads"))
    except BackendError as err:
        raise SessionFailed("backend", str(err)) from err
    cap = session.get("memoryCapBytes")
    if cap is not None:
        device_name = f"{device_name} ({describe_cap(cap)})"
    channel.send({"type": "backend", "report": {"name": "torch", "rung": session["backend"], "device": device_name, "skipped": []}})
    try:
        ds = load_dataset(session["datasetDir"], device)
    except (DatasetError, OSError) as err:
        raise SessionFailed("dataset", f"could not load the dataset: {first_line(err)}") from err
    prepared = session.get("prepared")
    if prepared is None:
        raise SessionFailed("bad-config", "a torch probe session needs its prepared model (session.prepared), which the host writes before it starts")
    try:
        net, _ = load_tfjs_model(prepared["modelDir"], device)
        net.set_trained_layers({name for g in prepared["groups"] for name in g["layers"]})
        groups = [([p for name in g["layers"] for p in net.parameters_of(name) if p.requires_grad], g["rateFactor"]) for g in prepared["groups"]]
        return ProbeRunner(ds, net, groups, device, session)
    except ModelError as err:
        raise SessionFailed("bad-config", f"could not build the model: {first_line(err)}") from err
    except Exception as err:  # noqa: BLE001
        cause = "oom" if looks_like_out_of_memory(err) else "error"
        raise SessionFailed(cause, f"could not build the model: {first_line(err)}") from err


def run_probe_session(session: Dict[str, Any], channel: Any, inbox: "queue.Queue[Dict[str, Any]]") -> int:
    """Runs the session until 'end' (or the host goes away); the process's exit code."""
    try:
        runner = start_session(session, channel)
    except SessionFailed as err:
        channel.send({"type": "failed", "cause": err.cause, "message": str(err)})
        return 0
    while True:
        message = inbox.get()
        if message["type"] == "end":
            return 0
        request = message["request"]
        answer = answer_probe(runner, request)
        channel.send(answer)
        if answer.get("fatal"):
            return 1


def answer_probe(runner: Any, request: Dict[str, Any]) -> Dict[str, Any]:
    device: Optional[torch.device] = getattr(runner, "device", None)
    try:
        return {"type": "probe-result", "id": request["id"], "result": runner.run(request)}
    except Exception as err:  # noqa: BLE001
        failure = classify_probe_failure(err)
        # What the failed probe allocated is unreachable now (the runner dropped it): give it back.
        del err
        gc.collect()
        if device is not None:
            release_cached(device)
        return {"type": "probe-failed", "id": request["id"], **failure}
