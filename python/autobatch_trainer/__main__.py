"""Entry of a torch trainer process: `python -m autobatch_trainer`, started by the host
(src/main/service/python-trainer.ts) with the package folder on PYTHONPATH. One job or one probe
session (probe_session.py), then exit.
Messages out go on fd 3, host messages come on stdin (protocol.py); stdout and stderr are the
libraries', kept by the host only for a crash's message."""
import os
import queue
import sys
import threading
import time
from typing import Any, Dict

from .allocator import tune_malloc_for_training
from .protocol import Channel, Invalid, check_host_message, check_probe_host_message, is_probe_host_message

HEARTBEAT_S = 1.0
METRICS_INTERVAL_S = 0.1


class Metrics:
    """Steps and epochs sent at most ~10 times a second, as the tfjs trainer's EventBatcher does."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.steps: list = []
        self.epochs: list = []
        self.last = 0.0

    def add_step(self, step: Dict[str, Any]) -> None:
        self.steps.append(step)
        self._maybe_flush()

    def add_epoch(self, epoch: Dict[str, Any]) -> None:
        self.epochs.append(epoch)
        self.flush()

    def _maybe_flush(self) -> None:
        if time.perf_counter() - self.last >= METRICS_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        if not self.steps and not self.epochs:
            return
        self.channel.send({"type": "metrics", "steps": self.steps, "epochs": self.epochs})
        self.steps, self.epochs = [], []
        self.last = time.perf_counter()


def preload() -> None:
    try:
        from . import job, probe_session  # noqa: F401  (imported for their torch import)
    except Exception:  # a broken torch install: the job's own import reports it
        pass


def main() -> int:
    # Before torch is imported: from then on large tensors are reused heap blocks (allocator.py).
    tune_malloc_for_training()
    channel = Channel()
    stop = threading.Event()
    started = threading.Event()
    box: Dict[str, Any] = {}

    inbox: "queue.Queue[Dict[str, Any]]" = queue.Queue()

    def on_message(raw: Any) -> None:
        probe = is_probe_host_message(raw)
        try:
            if isinstance(raw, dict) and "$invalid" in raw:
                raise Invalid([], raw["$invalid"])
            message = check_probe_host_message(raw) if probe else check_host_message(raw)
        except Invalid as err:
            request = raw.get("request") if isinstance(raw, dict) else None
            probe_id = request.get("id") if isinstance(request, dict) else None
            if probe and raw.get("type") == "probe" and isinstance(probe_id, int) and not isinstance(probe_id, bool):
                channel.send({"type": "probe-failed", "id": probe_id, "cause": "error", "message": f"invalid probe message from host: {err}"})
                return
            channel.send({"type": "failed", "cause": "bad-config", "message": f"invalid message from host: {err}"})
            if not started.is_set():
                box["invalid"] = True
                started.set()
            return
        kind = message["type"]
        if kind == "stop":
            stop.set()
        elif kind == "set-batch":
            # Taken by the loop before its next step (an adaptive run's host decided it).
            box["batch"] = {k: message[k] for k in ("batchSize", "learningRate", "rampSteps")}
        elif kind in ("probe", "end"):
            if "session" in box:
                inbox.put(message)
            elif kind == "probe":
                channel.send({"type": "probe-failed", "id": message["request"]["id"], "cause": "error", "message": "no probe session: send start-probes before any probe"})
        elif started.is_set():  # one job or session per process
            what = "a probe session" if "session" in box else "a job"
            channel.send({"type": "failed", "cause": "bad-config", "message": f"{what} was already started in this process: start a new process for another"})
        else:
            box["session" if kind == "start-probes" else "job"] = message["session" if kind == "start-probes" else "job"]
            started.set()

    def on_end() -> None:
        # The host went away: nobody wants this job's results.
        os._exit(0)

    channel.listen(on_message, on_end)
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(HEARTBEAT_S):
            channel.send({"type": "heartbeat", "time": time.time() * 1000})

    threading.Thread(target=heartbeat, name="heartbeat", daemon=True).start()
    channel.send({"type": "ready", "pid": os.getpid()})
    # torch (~1.4 s on a 2-core CPU) is imported while the host prepares the net, or while this
    # process waits as the service's spare: the job then starts without that wait. Importing
    # below takes the same import lock, so a job that comes first simply waits for it.
    threading.Thread(target=preload, name="preload", daemon=True).start()
    started.wait()
    code = 0
    if "job" in box:
        from .job import run_job  # heartbeats flow while torch finishes loading

        run_job(box["job"], channel, stop.is_set, Metrics(channel), lambda: box.pop("batch", None))
    elif "session" in box:
        from .probe_session import run_probe_session

        code = run_probe_session(box["session"], channel, inbox)
    done.set()
    return code


if __name__ == "__main__":
    sys.exit(main())
