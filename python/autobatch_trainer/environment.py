"""What this Python offers the torch engine, as ONE JSON line on stdout.

`python -m autobatch_trainer.environment` is what the host's discovery (src/main/service/
python-discovery.ts) runs on each candidate interpreter. It must never fail on a machine without
torch: whatever goes wrong becomes a field of the answer (the import error's last line, the
reason CUDA or MPS is not available). Standard library and torch only; Python 3.8+ syntax.
"""

import json
import platform
import sys
import traceback


def _last_line(exc):
    """The last non-empty line of an exception as Python prints it (what the user would search for)."""
    lines = [l.strip() for l in traceback.format_exception_only(type(exc), exc) if l.strip()]
    return lines[-1] if lines else type(exc).__name__


def _cuda(torch):
    try:
        if not torch.cuda.is_available():
            built = getattr(torch.version, "cuda", None)
            if not built:
                return {"available": False, "device": None, "reason": "this torch is built without CUDA (a CPU-only build)"}
            count = torch.cuda.device_count()
            if count == 0:
                return {"available": False, "device": None, "reason": "torch is built for CUDA %s but sees no CUDA device (driver or GPU missing)" % built}
            return {"available": False, "device": None, "reason": "torch is built for CUDA %s but CUDA is not available" % built}
        return {"available": True, "device": torch.cuda.get_device_name(0), "reason": None}
    except Exception as exc:  # a broken driver must not end the probe
        return {"available": False, "device": None, "reason": _last_line(exc)}


def _mps(torch):
    try:
        backend = getattr(torch.backends, "mps", None)
        if backend is None:
            return {"available": False, "reason": "this torch has no MPS backend (MPS needs torch 1.12+ on macOS)"}
        if backend.is_available():
            return {"available": True, "reason": None}
        if sys.platform != "darwin":
            return {"available": False, "reason": "MPS is Apple's GPU API, available on macOS only"}
        if not backend.is_built():
            return {"available": False, "reason": "this torch is built without MPS"}
        return {"available": False, "reason": "MPS is not available (needs macOS 12.3+ on an Apple GPU)"}
    except Exception as exc:
        return {"available": False, "reason": _last_line(exc)}


def describe():
    info = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": None,
        "torchError": None,
        "cuda": {"available": False, "device": None, "reason": "torch is not importable"},
        "mps": {"available": False, "reason": "torch is not importable"},
        "cpuThreads": None,
    }
    try:
        import torch  # noqa: F401 - the point of the probe
    except BaseException as exc:  # ImportError, but also a broken install's OSError or SystemExit
        info["torchError"] = _last_line(exc)
        return info
    info["torch"] = str(torch.__version__)
    info["cuda"] = _cuda(torch)
    info["mps"] = _mps(torch)
    try:
        info["cpuThreads"] = int(torch.get_num_threads())
    except Exception:
        info["cpuThreads"] = None
    return info


def main():
    line = json.dumps(describe())
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
