"""What a training step took from the device, read from the device's own counters
(src/shared/probe-protocol.ts MEMORY_SOURCES):
- CUDA: torch.cuda.max_memory_allocated over the step, after reset_peak_memory_stats (cuda-peak);
- MPS: torch.mps.current_allocated_memory after the step; MPS has no peak counter (mps-allocated);
- the CPU on Linux: the process's peak resident size (VmHWM) over the step, reset beforehand by
  writing 5 to /proc/self/clear_refs, less the resident size when the session started
  (cpu-peak-rss). The trainer keeps freed heap (allocator.py), so before the reset malloc_trim(0)
  hands the free pages back: otherwise a step would reuse pages an earlier, larger probe faulted
  in and its peak would not show;
- elsewhere (no clear_refs, or it cannot be written) the caller counts live tensor bytes instead."""
import ctypes
import platform
from typing import Callable, Optional, Tuple

import torch

_PAGE_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kib(field: str) -> Optional[int]:
    try:
        with open(_PAGE_STATUS, encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _malloc_trim() -> Callable[[], None]:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def run() -> None:
        trim(0)

    return run


class CpuPeakRss:
    """The resident-size peak over a step on Linux; `usable` is False where it cannot be reset."""

    def __init__(self) -> None:
        self._trim = _malloc_trim()
        self.usable = platform.system() == "Linux" and self._reset() and _status_kib("VmHWM") is not None
        # The base is what stays resident with the free heap handed back, as before each step
        # (start()): a base that still held the free pages of loading the dataset and the model
        # was above a small batch's whole peak, which then read 0 B.
        self._trim()
        self.base_bytes = self.resident_bytes() if self.usable else 0

    def _reset(self) -> bool:
        try:
            with open(_CLEAR_REFS, "w", encoding="ascii") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def resident_bytes(self) -> int:
        return (_status_kib("VmRSS") or 0) * 1024

    def start(self) -> None:
        self._trim()
        self._reset()

    def peak(self) -> Tuple[int, int]:
        """(the peak over the base, the raw VmHWM) in bytes since start()."""
        hwm = (_status_kib("VmHWM") or 0) * 1024
        return max(0, hwm - self.base_bytes), hwm


def device_peak_source(device: torch.device) -> Optional[str]:
    """The memory source a device's own counter gives, or None (then live tensor bytes)."""
    if device.type == "cuda":
        return "cuda-peak"
    if device.type == "mps" and hasattr(getattr(torch, "mps", None), "current_allocated_memory"):
        return "mps-allocated"
    return None


def synchronize(device: torch.device) -> None:
    """Waits for every queued kernel of the device (before a clock reading)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "synchronize"):
            mps.synchronize()


def release_cached(device: torch.device) -> None:
    """Hands the caching allocator's free blocks back (after an out-of-memory failure)."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "empty_cache"):
            mps.empty_cache()
