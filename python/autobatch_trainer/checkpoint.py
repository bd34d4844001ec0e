"""A run's checkpoints, in the layout both engines share (src/shared/checkpoint.ts): a folder
`step-<step, 9 digits>` under the run's checkpoints folder holding order.bin (the epoch's sample
order, uint32 little-endian), model.pt and optimizer.pt (torch.save of the state dicts, from CPU
copies, so a CUDA run's checkpoint loads anywhere) and state.json, written last. Each is written
into `.partial-step-<step>-<pid>`, synced, and renamed into place, so a kill during a write leaves
the previous checkpoints whole; the two newest are kept."""
import inspect
import json
import os
import re
import shutil
import sys
from array import array
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

import torch

from .protocol import Invalid, Optional_, nullable, number, one_of, string, strict_object

CHECKPOINT_FORMAT = 1
CHECKPOINTS_KEPT = 2
STATE_FILE = "state.json"
ORDER_FILE = "order.bin"
MODEL_FILE = "model.pt"
OPTIMIZER_FILE = "optimizer.pt"
CHECKPOINT_FOLDER = re.compile(r"^step-(\d{9,})$")

# A mirror of checkpointStateSchema (src/shared/checkpoint.ts), field for field.
CHECKPOINT_STATE = strict_object({
    "format": one_of(CHECKPOINT_FORMAT),
    "engine": one_of("tfjs", "torch"),
    "step": number(integer=True, min=0),
    "epoch": number(integer=True, min=1),
    "batchInEpoch": number(integer=True, min=0),
    "samplesInEpoch": Optional_(number(integer=True, min=0)),
    "epochsCompleted": number(integer=True, min=0),
    "trainSeconds": number(min=0),
    "samplesSeen": number(integer=True, min=0),
    "epochLossSum": number(),
    "epochAccSum": number(),
    "epochSamples": number(integer=True, min=0),
    "bestValAccuracy": nullable(number()),
    "finalValAccuracy": nullable(number()),
    "rngState": number(integer=True, min=0, max=0xFFFFFFFF),
    "batchSize": number(integer=True, min=1),
    "reason": one_of("epoch", "timer", "stop"),
    "writtenAt": string(),
})
_FIELDS = ("format", "engine", "step", "epoch", "batchInEpoch", "samplesInEpoch", "epochsCompleted", "trainSeconds", "samplesSeen", "epochLossSum", "epochAccSum",
           "epochSamples", "bestValAccuracy", "finalValAccuracy", "rngState", "batchSize", "reason", "writtenAt")


class CheckpointError(Exception):
    """A checkpoint that is missing or cannot be used; the message names the folder or file."""


def checkpoint_folder_name(step: int) -> str:
    """The folder name of the checkpoint at a step (zero-padded, so names sort by step)."""
    return f"step-{step:09d}"


def samples_done_in_epoch(state: Dict[str, Any]) -> int:
    """Samples of the checkpoint's epoch done (samplesDoneInEpoch in checkpoint.ts)."""
    done = state.get("samplesInEpoch")
    return int(done) if done is not None else int(state["batchInEpoch"]) * int(state["batchSize"])


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_cpu(value: Any) -> Any:
    """A copy of a state dict's tensors on the CPU (containers kept as they are)."""
    if torch.is_tensor(value):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        copy = type(value)((k, _to_cpu(v)) for k, v in value.items())
        if hasattr(value, "_metadata"):  # a module state dict's versions (load_state_dict reads them)
            copy._metadata = value._metadata  # type: ignore[attr-defined]
        return copy
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_cpu(v) for v in value)
    return value


def _fsync_dir(path: str) -> None:
    """Makes a folder's entries durable (where the platform can: not on Windows)."""
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: str, write: Any) -> None:
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def _order_bytes(order: List[int]) -> bytes:
    values = array("I", order) if array("I").itemsize == 4 else array("L", order)
    if values.itemsize != 4:
        raise RuntimeError("no 32-bit unsigned array type on this platform")
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def _order_of(data: bytes) -> List[int]:
    values = array("I") if array("I").itemsize == 4 else array("L")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def _steps_in(plan_dir: str) -> List[Tuple[int, str]]:
    found = []
    for name in os.listdir(plan_dir):
        m = CHECKPOINT_FOLDER.match(name)
        if m and os.path.isdir(os.path.join(plan_dir, name)):
            found.append((int(m.group(1)), name))
    return sorted(found)


def write_checkpoint(plan_dir: str, state: Dict[str, Any], order: List[int], net: torch.nn.Module, optimizer: torch.optim.Optimizer) -> str:
    """Writes the checkpoint of `state` (checkpointStateSchema's fields; format, engine and
    writtenAt filled in where absent) into plan_dir, keeps the two newest, and returns its folder."""
    full = {"format": CHECKPOINT_FORMAT, "engine": "torch", **state}
    full.setdefault("writtenAt", _now_iso())
    full = dict([(k, full[k]) for k in _FIELDS if k in full] + [(k, v) for k, v in full.items() if k not in _FIELDS])
    try:
        CHECKPOINT_STATE(full, [])
    except Invalid as err:
        raise ValueError(f"invalid checkpoint state: {err}") from err
    step = int(full["step"])
    os.makedirs(plan_dir, exist_ok=True)
    name = checkpoint_folder_name(step)
    partial = os.path.join(plan_dir, f".partial-{name}-{os.getpid()}")
    if os.path.exists(partial):
        shutil.rmtree(partial)
    os.makedirs(partial)
    _write_file(os.path.join(partial, ORDER_FILE), lambda f: f.write(_order_bytes(order)))
    _write_file(os.path.join(partial, MODEL_FILE), lambda f: torch.save(_to_cpu(net.state_dict()), f))
    _write_file(os.path.join(partial, OPTIMIZER_FILE), lambda f: torch.save(_to_cpu(optimizer.state_dict()), f))
    text = json.dumps(full, indent=2, allow_nan=False) + "\n"
    _write_file(os.path.join(partial, STATE_FILE), lambda f: f.write(text.encode("utf-8")))
    _fsync_dir(partial)
    final = os.path.join(plan_dir, name)
    if os.path.exists(final):  # the same step written again (a stop right after an epoch's end)
        shutil.rmtree(final)
    os.rename(partial, final)
    _fsync_dir(plan_dir)
    _prune(plan_dir)
    return final


def _prune(plan_dir: str) -> None:
    """Removes every checkpoint but the newest two, and what killed writes of other processes left."""
    for _, name in _steps_in(plan_dir)[:-CHECKPOINTS_KEPT]:
        shutil.rmtree(os.path.join(plan_dir, name), ignore_errors=True)
    for name in os.listdir(plan_dir):
        if name.startswith(".partial-") and not name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(os.path.join(plan_dir, name), ignore_errors=True)


def _load(path: str) -> Any:
    kwargs: Dict[str, Any] = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = False  # the run's own files; torch 1.13's safe loader refuses an optimizer's floats
    return torch.load(path, **kwargs)


def read_checkpoint(folder: str) -> Tuple[Dict[str, Any], List[int], Dict[str, Any], Dict[str, Any]]:
    """(state, order, model state dict, optimizer state dict) of a torch checkpoint folder, tensors
    on the CPU; a CheckpointError naming the folder or file when something is missing or wrong."""
    if not os.path.isdir(folder):
        raise CheckpointError(f"no checkpoint folder at {folder}")
    state_path = os.path.join(folder, STATE_FILE)
    try:
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"{state_path} is missing: {folder} is not a whole checkpoint") from None
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{state_path} could not be read: {err}") from None
    try:
        CHECKPOINT_STATE(state, [])
    except Invalid as err:
        raise CheckpointError(f"{state_path} is not a valid checkpoint state: {err}") from None
    if state["engine"] != "torch":
        raise CheckpointError(f"{state_path}: the checkpoint was written by the {state['engine']} engine; the torch engine resumes its own checkpoints only")
    order_path = os.path.join(folder, ORDER_FILE)
    try:
        with open(order_path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise CheckpointError(f"{order_path} could not be read: {err.strerror or err}") from None
    if len(data) % 4:
        raise CheckpointError(f"{order_path} is not a list of uint32 ({len(data)} bytes)")
    loaded = []
    for file in (MODEL_FILE, OPTIMIZER_FILE):
        path = os.path.join(folder, file)
        try:
            value = _load(path)
        except Exception as err:  # noqa: BLE001  (a truncated or foreign file raises all sorts)
            raise CheckpointError(f"{path} could not be loaded: {str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}") from None
        if not isinstance(value, dict):
            raise CheckpointError(f"{path} does not hold a state dict")
        loaded.append(value)
    return state, _order_of(data), loaded[0], loaded[1]
