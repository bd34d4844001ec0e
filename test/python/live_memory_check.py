"""Test helper for test/integration/torch-probes.test.ts: the Python trainer's memory counters on
plain tensors, each check printed as one JSON line {"check", "ok", "detail"}.
  live_memory_check.py"""
import json
import platform
from typing import Any, List

from autobatch_trainer.allocator import tune_malloc_for_training

tune_malloc_for_training()  # as the trainer does, before torch allocates

import torch  # noqa: E402

from autobatch_trainer.device_memory import CpuPeakRss  # noqa: E402
from autobatch_trainer.job import looks_like_out_of_memory  # noqa: E402
from autobatch_trainer.live_memory import CappedMemoryError, LiveTensorCounter  # noqa: E402

MIB = 1 << 20
results: List[Any] = []


def check(name: str, ok: bool, detail: Any) -> None:
    results.append({"check": name, "ok": bool(ok), "detail": detail})


weights = torch.zeros(MIB // 4)  # 1 MiB that exists before the mode: part of the base, never counted
with LiveTensorCounter() as counter:
    a = torch.ones(2 * MIB // 4)
    check("a new tensor is counted", counter.live == 2 * MIB, counter.live)
    view = a.view(2, -1)
    a.add_(1)
    weights.add_(1)
    check("views and in-place results allocate nothing", counter.live == 2 * MIB, counter.live)
    b = a * 2
    del a
    check("a storage lives while a view of it does", counter.live == 4 * MIB, counter.live)
    del view
    check("the storage is released with its last tensor", counter.live == 2 * MIB, counter.live)
    del b
    check("everything released; the peak kept", counter.live == 0 and counter.peak == 4 * MIB, [counter.live, counter.peak])

capped = LiveTensorCounter(base_bytes=MIB, cap_bytes=3 * MIB)
try:
    with capped:
        keep = torch.ones(MIB // 4)
        torch.ones(2 * MIB // 4)
    check("an allocation above the cap fails", False, "no error")
except CappedMemoryError as err:
    check("an allocation above the cap fails like an out-of-memory error", looks_like_out_of_memory(err) and "CPU out of memory" in str(err), str(err))
check("what fitted under the cap stays counted", capped.live == MIB, capped.live)

rss = CpuPeakRss()
# On Linux the process may reset its own peak; elsewhere the probes count live tensor bytes instead.
check("VmHWM can be reset on Linux, and only there", rss.usable == (platform.system() == "Linux"), rss.base_bytes)
if rss.usable:
    rss.start()
    big = torch.ones(64 * MIB // 4)
    big_peak, _ = rss.peak()
    del big
    rss.start()
    small = torch.ones(MIB // 4)
    small_peak, hwm = rss.peak()
    check("the peak resident size sees a 64 MiB tensor", big_peak >= 60 * MIB, big_peak)
    check("after a reset a small step reads its own peak, not the freed 64 MiB", small_peak < 24 * MIB and hwm > 0, small_peak)

for r in results:
    print(json.dumps(r))
