"""The wire between the host and this trainer: one JSON document per line. The trainer writes on
a dedicated pipe (fd 3), never stdout, so a library's stray print cannot corrupt a message; the
host writes on stdin. JSON has no NaN or +-Infinity, and a diverging loss is such a number, so
non-finite numbers travel as {"$f": "NaN" | "Infinity" | "-Infinity"} (src/shared/json-lines.ts
reads and writes them the same way).

What the host sends is checked here against a mirror of the zod schemas in
src/shared/trainer-protocol.ts; test/fixtures/protocol/host-messages.json holds messages both
sides must judge the same way (test/integration/torch-protocol.test.ts runs both)."""
import json
import math
import os
import re
import threading
from typing import Any, Callable, Dict, List, Optional

_TAGS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def tag_non_finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by its tag."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$f": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, dict):
        return {k: tag_non_finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tag_non_finite(v) for v in value]
    return value


def encode_line(value: Any) -> bytes:
    return (json.dumps(tag_non_finite(value), allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")


def _untag(obj: Dict[str, Any]) -> Any:
    if len(obj) == 1 and isinstance(obj.get("$f"), str) and obj["$f"] in _TAGS:
        return _TAGS[obj["$f"]]
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"bare {name} is not JSON (non-finite numbers travel as {{\"$f\": ...}})")


def decode_line(line: str) -> Any:
    return json.loads(line, object_hook=_untag, parse_constant=_reject_constant)


class Channel:
    """Messages out on fd 3 (whole lines, one writer at a time), host messages in from stdin."""

    def __init__(self, out_fd: int = 3, in_fd: int = 0) -> None:
        self._out_fd = out_fd
        self._in = os.fdopen(in_fd, "r", encoding="utf-8", errors="replace", closefd=False)
        self._lock = threading.Lock()
        self.closed = False

    def send(self, message: Dict[str, Any]) -> None:
        data = encode_line(message)
        with self._lock:
            if self.closed:
                return
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self._out_fd, view)
                    view = view[written:]
            except (BrokenPipeError, OSError):
                # The host is gone: nobody wants what comes next.
                self.closed = True

    def listen(self, on_message: Callable[[Any], None], on_end: Callable[[], None]) -> threading.Thread:
        """Reads host lines on a daemon thread; `on_end` when stdin closes (the host went away)."""

        def read() -> None:
            for line in self._in:
                if not line.strip():
                    continue
                try:
                    message = decode_line(line)
                except ValueError as err:
                    message = {"$invalid": f"not a JSON line: {err}"}
                on_message(message)
            on_end()

        thread = threading.Thread(target=read, name="host-messages", daemon=True)
        thread.start()
        return thread


# ---- a mirror of the zod schemas the host's messages must pass -------------------------------

class Invalid(Exception):
    def __init__(self, path: List[str], message: str) -> None:
        super().__init__(f"{'.'.join(path) or 'message'}: {message}")


Check = Callable[[Any, List[str]], None]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def number(*, integer: bool = False, min: Optional[float] = None, max: Optional[float] = None, gt: Optional[float] = None, lt: Optional[float] = None) -> Check:
    def check(v: Any, path: List[str]) -> None:
        if not _is_number(v):
            raise Invalid(path, f"expected a number, got {type(v).__name__}")
        # zod 4's number() takes finite numbers only.
        if not math.isfinite(v):
            raise Invalid(path, "expected a finite number")
        if integer and (v != int(v) or abs(v) > 2**53 - 1):
            raise Invalid(path, "expected a safe integer")
        if min is not None and v < min:
            raise Invalid(path, f"must be at least {min}")
        if max is not None and v > max:
            raise Invalid(path, f"must be at most {max}")
        if gt is not None and not v > gt:
            raise Invalid(path, f"must be greater than {gt}")
        if lt is not None and not v < lt:
            raise Invalid(path, f"must be less than {lt}")

    return check


def string(*, min: int = 0, max: Optional[int] = None, pattern: Optional[str] = None) -> Check:
    def check(v: Any, path: List[str]) -> None:
        if not isinstance(v, str):
            raise Invalid(path, f"expected a string, got {type(v).__name__}")
        # zod counts UTF-16 code units; the app's strings here are paths and names, where it agrees with len().
        if len(v) < min or (max is not None and len(v) > max):
            raise Invalid(path, f"length must be from {min} to {max}")
        if pattern is not None and not re.fullmatch(pattern, v):
            raise Invalid(path, f"must match {pattern}")

    return check


def boolean() -> Check:
    def check(v: Any, path: List[str]) -> None:
        if not isinstance(v, bool):
            raise Invalid(path, "expected true or false")

    return check


def one_of(*options: Any) -> Check:
    def check(v: Any, path: List[str]) -> None:
        if isinstance(v, bool) or v not in options:
            raise Invalid(path, f"expected one of {', '.join(map(str, options))}")

    return check


def array(item: Check, *, min: int = 0, max: Optional[int] = None) -> Check:
    def check(v: Any, path: List[str]) -> None:
        if not isinstance(v, list):
            raise Invalid(path, "expected an array")
        if len(v) < min or (max is not None and len(v) > max):
            raise Invalid(path, f"must have from {min} to {max} items")
        for i, x in enumerate(v):
            item(x, path + [str(i)])

    return check


def nullable(inner: Check) -> Check:
    def check(v: Any, path: List[str]) -> None:
        if v is not None:
            inner(v, path)

    return check


class Optional_:
    def __init__(self, check: Check) -> None:
        self.check = check


def strict_object(fields: Dict[str, Any]) -> Check:
    """Like z.strictObject: every required field present, no unknown field; Optional_(c) may be absent."""

    def check(v: Any, path: List[str]) -> None:
        if not isinstance(v, dict):
            raise Invalid(path, "expected an object")
        for key in v:
            if key not in fields:
                raise Invalid(path, f"unknown field {key!r}")
        for key, spec in fields.items():
            optional = isinstance(spec, Optional_)
            inner = spec.check if optional else spec
            if key not in v:
                if optional:
                    continue
                raise Invalid(path + [key], "required")
            # zod's optional() takes undefined, which JSON cannot carry; null is a value like any other.
            inner(v[key], path + [key])

    return check


BACKEND_CHOICES = ("auto", "torch-cuda", "torch-mps", "tensorflow", "webgpu", "torch-cpu", "wasm", "cpu")
MODEL_KINDS = ("small", "large", "mlp", "resnet-8", "resnet-14", "resnet-20", "resnet-18", "mobilenet-0.35", "mobilenet-0.5", "mobilenet-1.0")
RUN_MODELS = MODEL_KINDS + ("imported",)
OPTIMIZERS = ("adam", "sgd")
AUGMENT_LEVELS = ("none", "light", "standard")
TUNING_MODES = ("quick", "full")

START_FROM = strict_object({
    "source": string(min=1, max=4096),
    "sourceKind": one_of("run", "folder", "file", "url"),
    "runId": Optional_(number(integer=True, min=1)),
    "digest": string(pattern="[0-9a-f]{64}"),
    "architecture": string(min=1, max=200),
    "classes": array(string(), max=100_000),
    "inputShape": array(number(integer=True, min=1), min=1, max=4),
    "unfreeze": number(integer=True, min=0),
    "blocks": number(integer=True, min=0),
    "batchNormTrained": boolean(),
    "fineTuneLearningRate": number(gt=0, max=10),
})

TRAIN_CONFIG = strict_object({
    "model": one_of(*RUN_MODELS),
    "batchSize": number(integer=True, min=1, max=1 << 20),
    "evalBatchSize": Optional_(number(integer=True, min=1, max=1 << 16)),
    "microBatchSize": Optional_(number(integer=True, min=1, max=1 << 20)),
    "epochs": number(integer=True, min=1, max=100_000),
    "learningRate": number(gt=0, max=10),
    "optimizer": one_of(*OPTIMIZERS),
    "momentum": number(min=0, lt=1),
    "warmupSteps": number(integer=True, min=0, max=10_000_000),
    "backend": one_of(*BACKEND_CHOICES),
    "seed": number(integer=True, min=0, max=2**31 - 1),
    "adaptive": Optional_(boolean()),
    "validationsPerEpoch": Optional_(number(integer=True, min=1, max=20)),
    "augment": Optional_(one_of(*AUGMENT_LEVELS)),
    "startFrom": Optional_(START_FROM),
})

TUNING_ORIGIN = strict_object({
    "sessionId": number(integer=True, min=1),
    "mode": one_of(*TUNING_MODES),
    "recommendation": strict_object({
        "batchSize": number(integer=True, min=1),
        "learningRate": number(gt=0),
        "warmupSteps": number(integer=True, min=0),
        "optimizer": one_of(*OPTIMIZERS),
        "memoryCeiling": number(integer=True, min=0),
        "expectedSamplesPerSecond": number(min=0),
        "noiseScale": nullable(number()),
    }),
})

PREPARED_NET = strict_object({
    "modelDir": string(min=1),
    "groups": array(strict_object({"layers": array(string(min=1)), "rateFactor": number(gt=0)}), min=1),
})

TRAIN_JOB = strict_object({
    "kind": one_of("train"),
    "runId": number(integer=True, min=1),
    "datasetDir": string(min=1),
    "config": TRAIN_CONFIG,
    "artifactDir": Optional_(string(min=1)),
    "maxSteps": Optional_(number(integer=True, min=1)),
    "startModelDir": Optional_(string(min=1)),
    "tuning": Optional_(TUNING_ORIGIN),
    "prepared": Optional_(PREPARED_NET),
    "threads": Optional_(number(integer=True, min=1, max=256)),
    "memoryCapBytes": Optional_(number(integer=True, min=1)),
    "checkpoints": Optional_(strict_object({"dir": string(min=1), "everySeconds": number(min=0.1, max=86400)})),
    "resume": Optional_(strict_object({"checkpointDir": string(min=1)})),
    "adaptive": Optional_(strict_object({"everySteps": number(integer=True, min=2, max=1_000_000)})),
})

_START = strict_object({"type": one_of("start"), "job": TRAIN_JOB})
_STOP = strict_object({"type": one_of("stop")})
_SET_BATCH = strict_object({
    "type": one_of("set-batch"),
    "batchSize": number(integer=True, min=1, max=1 << 20),
    "learningRate": number(gt=0, max=10),
    "rampSteps": number(integer=True, min=0, max=1_000_000),
})

# src/shared/probe-protocol.ts: the probe session and its requests.
PROBE_SESSION = strict_object({
    "kind": one_of("probe-session"),
    "datasetDir": string(min=1),
    "model": one_of(*RUN_MODELS),
    "optimizer": one_of(*OPTIMIZERS),
    "backend": one_of(*BACKEND_CHOICES),
    "seed": number(integer=True, min=0),
    "momentum": Optional_(number(min=0, lt=1)),
    "augment": Optional_(one_of(*AUGMENT_LEVELS)),
    "startModel": Optional_(strict_object({
        "dir": string(min=1),
        "unfreeze": number(integer=True, min=0),
        "fineTuneRateFactor": number(gt=0),
    })),
    "memoryCapBytes": Optional_(number(integer=True, min=1)),
    "prepared": Optional_(PREPARED_NET),
    "threads": Optional_(number(integer=True, min=1, max=256)),
})

_ID = number(integer=True)
PROBE_REQUESTS = {
    "memory": strict_object({"kind": one_of("memory"), "id": _ID, "batchSize": number(integer=True, min=1), "forwardOnly": Optional_(boolean())}),
    "throughput": strict_object({
        "kind": one_of("throughput"),
        "id": _ID,
        "batchSize": number(integer=True, min=1),
        "warmupSteps": number(integer=True, min=0),
        "steps": number(integer=True, min=1),
        "microBatch": Optional_(number(integer=True, min=1)),
    }),
    "noise": strict_object({
        "kind": one_of("noise"),
        "id": _ID,
        "microBatch": number(integer=True, min=1),
        "k": number(integer=True, min=2),
        "steps": number(integer=True, min=1),
        "pretrainSteps": Optional_(number(integer=True, min=0)),
        "windows": Optional_(number(integer=True, min=1, max=8)),
        "learningRate": number(gt=0),
    }),
    "learning-rate": strict_object({
        "kind": one_of("learning-rate"),
        "id": _ID,
        "batchSize": number(integer=True, min=1),
        "minRate": number(gt=0),
        "maxRate": number(gt=0),
        "steps": number(integer=True, min=4, max=1000),
        "stopFactor": number(gt=1),
    }),
    "trial": strict_object({
        "kind": one_of("trial"),
        "id": _ID,
        "batchSize": number(integer=True, min=1),
        "learningRate": number(gt=0),
        "warmupSteps": number(integer=True, min=0),
        "seconds": number(gt=0),
    }),
}


def probe_request(v: Any, path: List[str]) -> None:
    """z.discriminatedUnion('kind', ...): the kind picks the schema."""
    if not isinstance(v, dict):
        raise Invalid(path, "expected an object")
    check = PROBE_REQUESTS.get(v.get("kind")) if isinstance(v.get("kind"), str) else None
    if check is None:
        raise Invalid(path + ["kind"], f"expected one of {', '.join(PROBE_REQUESTS)}")
    check(v, path)


_START_PROBES = strict_object({"type": one_of("start-probes"), "session": PROBE_SESSION})
_PROBE = strict_object({"type": one_of("probe"), "request": probe_request})
_END = strict_object({"type": one_of("end")})

_HOST_MESSAGES = {"start": _START, "stop": _STOP, "set-batch": _SET_BATCH}
_PROBE_HOST_MESSAGES = {"start-probes": _START_PROBES, "probe": _PROBE, "end": _END}


def _check(message: Any, table: Dict[str, Check]) -> Dict[str, Any]:
    if not isinstance(message, dict):
        raise Invalid([], "expected an object")
    kind = message.get("type")
    check = table.get(kind) if isinstance(kind, str) else None
    if check is None:
        raise Invalid(["type"], f"expected one of {', '.join(repr(k) for k in table)}")
    check(message, [])
    return message


def check_host_message(message: Any) -> Dict[str, Any]:
    """The message if it is a valid host message of a run (hostMessageSchema); raises Invalid saying what is wrong."""
    return _check(message, _HOST_MESSAGES)


def check_probe_host_message(message: Any) -> Dict[str, Any]:
    """The message if it is a valid host message of a probe session (probeHostMessageSchema); raises Invalid."""
    return _check(message, _PROBE_HOST_MESSAGES)


def is_probe_host_message(message: Any) -> bool:
    """Whether a message belongs to the probe protocol (then checked against its schema), as probe-session.ts tells them."""
    return isinstance(message, dict) and message.get("type") in _PROBE_HOST_MESSAGES
