"""The app's dataset cache (src/shared/dataset-types.ts; written by src/main/engine/datasets/):
meta.json, x.bin (uint8 or float32, sample-major), y.bin (uint16), train.idx and val.idx
(uint32), all little-endian. Read with torch.frombuffer into tensors that stay as stored (the
features as one uint8 tensor on the device); batches are normalised exactly as Node's
toFloatBatch does it (in double precision, then rounded to float32)."""
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List

import torch


class DatasetError(Exception):
    pass


@dataclass
class Dataset:
    manifest: Dict[str, Any]
    input_shape: List[int]
    classes: List[str]
    sample_size: int
    #: [count, *input_shape], uint8 or float32, on the training device.
    x: torch.Tensor
    #: [count] int64 labels, on the device.
    y: torch.Tensor
    train_index: List[int]
    validation_index: torch.Tensor
    #: uint8 features: value -> normalised float32 (256 entries, on the device); else None.
    lookup: Any
    #: standardized features: float64 mean and 1/std per feature (on the device); else None.
    mean: Any
    inverse_std: Any
    #: float32 features scaled: the scale (the product is taken in double precision, as in Node).
    scale: Any = None

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        """Normalised float32 features of the samples at `indices` (a long tensor on the device)."""
        raw = self.x.index_select(0, indices)
        if self.lookup is not None:
            return self.lookup[raw.long()]
        if self.mean is not None:
            flat = raw.reshape(raw.shape[0], -1).double()
            return ((flat - self.mean) * self.inverse_std).float().reshape(raw.shape)
        return (raw.double() * self.scale).float()


def _read(path: str, dtype: torch.dtype, length: int, what: str) -> torch.Tensor:
    size = os.path.getsize(path)
    expected = length * torch.tensor([], dtype=dtype).element_size()
    if size != expected:
        raise DatasetError(f"{what}: {os.path.basename(path)} has {size} bytes, expected {expected}")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if length == 0:
        return torch.empty(0, dtype=dtype)
    return torch.frombuffer(data, dtype=dtype)


def _count_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value)


def load_dataset(folder: str, device: torch.device) -> Dataset:
    """Reads a cached dataset folder; DatasetError says what is wrong with a damaged one."""
    if sys.byteorder != "little":
        raise DatasetError("dataset caches are little-endian; this machine is big-endian")
    where = f"dataset cache {folder}"
    try:
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{where}: cannot read meta.json: {err}") from err
    if not isinstance(m, dict) or m.get("formatVersion") != 1:
        raise DatasetError(f"{where}: unsupported formatVersion {m.get('formatVersion') if isinstance(m, dict) else None} (expected 1)")
    shape = m.get("inputShape")
    if not _count_list(shape) or not shape or min(shape) < 1:
        raise DatasetError(f"{where}: bad inputShape")
    dtype = m.get("featureDtype")
    if dtype not in ("uint8", "float32"):
        raise DatasetError(f"{where}: bad featureDtype")
    count = m.get("count")
    if not isinstance(count, int) or count < 0:
        raise DatasetError(f"{where}: bad count")
    classes = m.get("classes")
    if not isinstance(classes, list) or not classes:
        raise DatasetError(f"{where}: bad classes")
    split = m.get("split") or {}
    if not isinstance(split.get("trainCount"), int) or not isinstance(split.get("validationCount"), int):
        raise DatasetError(f"{where}: bad split")
    norm = m.get("normalization") or {}
    sample_size = 1
    for d in shape:
        sample_size *= d
    if norm.get("kind") == "standardize":
        if len(norm.get("mean", [])) != sample_size or len(norm.get("std", [])) != sample_size:
            raise DatasetError(f"{where}: normalization has {len(norm.get('mean', []))} means for {sample_size} features")
    elif norm.get("kind") != "scale":
        raise DatasetError(f"{where}: bad normalization")

    x = _read(os.path.join(folder, "x.bin"), torch.uint8 if dtype == "uint8" else torch.float32, count * sample_size, where)
    # torch has no uint16 or uint32 before 2.3: read the bits as int16/int32 and mask them back.
    y = _read(os.path.join(folder, "y.bin"), torch.int16, count, where).long() & 0xFFFF
    train = _read(os.path.join(folder, "train.idx"), torch.int32, split["trainCount"], where).long() & 0xFFFFFFFF
    val = _read(os.path.join(folder, "val.idx"), torch.int32, split["validationCount"], where).long() & 0xFFFFFFFF
    k = len(classes)
    if y.numel() and int(y.max()) >= k:
        bad = int(torch.nonzero(y >= k)[0])
        raise DatasetError(f"{where}: label {int(y[bad])} of sample {bad} is not below {k} classes")
    for idx in (train, val):
        if idx.numel() and int(idx.max()) >= count:
            raise DatasetError(f"{where}: split index {int(idx.max())} is out of range")

    lookup = mean = inverse_std = None
    if norm["kind"] == "scale":
        scale = float(norm["scale"])
        if dtype == "uint8":
            lookup = (torch.arange(256, dtype=torch.float64) * scale).float().to(device)
    else:
        mean = torch.tensor(norm["mean"], dtype=torch.float64, device=device)
        std = torch.tensor(norm["std"], dtype=torch.float64)
        std = torch.where((std == 0) | ~torch.isfinite(std), torch.ones_like(std), std)
        inverse_std = (1.0 / std).to(device)
    ds = Dataset(
        manifest=m,
        input_shape=list(shape),
        classes=[str(c) for c in classes],
        sample_size=sample_size,
        x=x.reshape([count] + list(shape)).to(device),
        y=y.to(device),
        train_index=train.tolist(),
        validation_index=val.to(device),
        lookup=lookup,
        mean=mean,
        inverse_std=inverse_std,
    )
    if norm["kind"] == "scale" and dtype == "float32":
        ds.scale = float(norm["scale"])
    return ds
