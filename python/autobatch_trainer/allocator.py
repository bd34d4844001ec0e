"""glibc malloc settings for a training process, applied before torch allocates anything.

Why: PyTorch's CPU tensors come from malloc. glibc serves a block above its mmap threshold (which
starts at 128 KiB and rises, up to 32 MiB, each time such a block is freed) with fresh pages from
mmap, so every step's large activations fault their pages in again and the kernel zeroes them.
Which sizes are hit depends on the process's history, so one shape or one process can be several
times slower than another. Measured on the 2-core benchmark VM, batch norm forward and backward
at 512x16x32x32, 2 threads: 89-237 ms with glibc's defaults, 12-14 ms with these settings
(bench/torch-allocator.py). With mmap off for the heap's blocks and trimming off, freed blocks are
reused; the cost is that the process keeps its peak heap until it exits, and a trainer process
lives for one run or one search.

Settings the user made (the MALLOC_*_ environment variables) win: nothing is changed then."""
import ctypes
import os
import platform
from typing import Optional

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_TOP_PAD_BYTES = 64 << 20
_USER_SETTINGS = ("MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def tune_malloc_for_training() -> Optional[str]:
    """Applies the settings on glibc; returns what was done, or None where nothing was."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    if any(name in os.environ for name in _USER_SETTINGS):
        return None
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt takes an int: -1 is the largest value M_TRIM_THRESHOLD accepts (never trim).
    ok = mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, -1) == 1 and mallopt(_M_TOP_PAD, _TOP_PAD_BYTES) == 1
    return "glibc malloc: heap blocks reused, no mmap, no trim" if ok else None
