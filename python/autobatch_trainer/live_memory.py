"""Counting live tensor bytes on any torch device, and the capped test device built on it.

A TorchDispatchMode sees every operator call of its thread (the autograd engine's backward ops
included, on the CPU) and every output tensor. Each new output's storage is counted once while
any tensor seen on it lives (weakref.finalize on those tensors: torch keeps a tensor's Python
object alive as long as the C++ tensor is, so the finalizer fires when the tensor really dies).
Outputs that share an input's storage (views, in-place results) allocate nothing: they only keep
an already counted storage alive longer, and a storage that existed before the mode started (the
weights) is part of the base, measured by the caller.

Like tfjs's engine count (src/main/engine/tuner/probe-runner.ts), it counts tensors, not
allocator blocks: scratch memory inside kernels and allocator slack are not in it.

With a cap, an operator whose outputs take base + live bytes above it fails with an error that
reads like PyTorch's own out-of-memory error: the capped test device of the memory-ceiling tests
(src/main/engine/tuner/capped-backend.ts is tfjs's)."""
import weakref
from typing import Any, Dict, Iterable, List, Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


def storage_of(t: torch.Tensor) -> Any:
    """The tensor's untyped storage: untyped_storage() from torch 2.0, storage().untyped() on 1.13."""
    if hasattr(t, "untyped_storage"):
        return t.untyped_storage()
    return t.storage().untyped()


def storage_key(t: torch.Tensor) -> Optional[int]:
    """An id of the memory behind a tensor (its storage's address), None for an empty storage."""
    try:
        s = storage_of(t)
    except (RuntimeError, NotImplementedError):  # tensors without storage (sparse, meta)
        return None
    return s.data_ptr() if s.nbytes() > 0 else None


def tensor_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind these tensors."""
    seen: Dict[int, int] = {}
    for t in tensors:
        key = storage_key(t)
        if key is not None and key not in seen:
            seen[key] = storage_of(t).nbytes()
    return sum(seen.values())


def describe_cap(cap: int) -> str:
    """The capped test device, as its device name says it."""
    return f"capped test device: tensor allocations above {cap} live bytes fail"


class CappedMemoryError(RuntimeError):
    def __init__(self, device: str, requested: int, live: int, cap: int) -> None:
        super().__init__(
            f"{device.upper()} out of memory: tried to allocate {requested} bytes "
            f"(capped test device: {live} bytes live, cap {cap} bytes)"
        )


class LiveTensorCounter(TorchDispatchMode):
    """Live bytes of the tensors created while the mode is active, their peak, and an optional cap on base + live."""

    def __init__(self, base_bytes: int = 0, cap_bytes: Optional[int] = None) -> None:
        super().__init__()
        self.base_bytes = base_bytes
        self.cap_bytes = cap_bytes
        #: storage key -> [bytes, tensors seen on it that are alive]
        self._storages: Dict[int, List[int]] = {}
        self.live = 0
        self.peak = 0

    def reset_peak(self) -> None:
        self.peak = self.live

    @property
    def peak_total(self) -> int:
        return self.base_bytes + self.peak

    def _release(self, key: int) -> None:
        entry = self._storages.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del self._storages[key]
            self.live -= entry[0]

    def _hold(self, t: torch.Tensor, key: int) -> None:
        self._storages[key][1] += 1
        weakref.finalize(t, self._release, key)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        inputs = {storage_key(t) for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)}
        fresh: List[Any] = []
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            key = storage_key(t)
            if key is None:
                continue
            if key in self._storages:
                self._hold(t, key)  # another tensor on a counted storage (a view, an in-place result)
            elif key not in inputs:
                fresh.append((t, key, storage_of(t).nbytes()))
        requested = sum(n for _, _, n in {k: (t, k, n) for t, k, n in fresh}.values())
        if self.cap_bytes is not None and requested and self.base_bytes + self.live + requested > self.cap_bytes:
            device = fresh[0][0].device.type
            raise CappedMemoryError(device, requested, self.base_bytes + self.live, self.cap_bytes)
        for t, key, nbytes in fresh:
            if key not in self._storages:
                self._storages[key] = [nbytes, 0]
                self.live += nbytes
            self._hold(t, key)
        if self.live > self.peak:
            self.peak = self.live
        return out
