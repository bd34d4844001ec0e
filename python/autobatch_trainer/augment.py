"""Augmentation of a training batch, as src/main/engine/training/augment.ts does it: the same
draws (per sample, from the app's generator seeded by (run seed, step)) and the same result —
a shift with black fill, for 'standard' also a mirror and brightness/contrast around each
image's per-channel mean, clipped to the pixel range. Here the move is one gather."""
import struct
from typing import List, Optional, Tuple

import torch

from .rng import create_rng, step_seed

SHIFT_FRACTION = 1 / 8  # AUGMENT_SHIFT_FRACTION in src/shared/fine-tuning.ts
INTENSITY_RANGE = 0.2  # AUGMENT_INTENSITY_RANGE


def _f32(v: float) -> float:
    return struct.unpack("f", struct.pack("f", v))[0]


class Plan:
    def __init__(self, shift_y: List[int], shift_x: List[int], flip: List[int], colour: Optional[Tuple[List[float], List[float]]]) -> None:
        self.shift_y = shift_y
        self.shift_x = shift_x
        self.flip = flip
        self.colour = colour


def plan(level: str, n: int, h: int, w: int, seed: int, step: int) -> Plan:
    """augmentationPlan(): the draws of one step, sample by sample in a fixed order."""
    rng = create_rng(step_seed(seed, step))
    max_y = int(h * SHIFT_FRACTION)
    max_x = int(w * SHIFT_FRACTION)
    shift_y, shift_x, flip = [0] * n, [0] * n, [0] * n
    brightness: List[float] = []
    contrast: List[float] = []
    for i in range(n):
        shift_y[i] = int(rng() * (2 * max_y + 1)) - max_y
        shift_x[i] = int(rng() * (2 * max_x + 1)) - max_x
        if level != "standard":
            continue
        flip[i] = 1 if rng() < 0.5 else 0
        # Float32Array in JavaScript: each draw is kept in single precision.
        brightness.append(_f32(1 - INTENSITY_RANGE + 2 * INTENSITY_RANGE * rng()))
        contrast.append(_f32(1 - INTENSITY_RANGE + 2 * INTENSITY_RANGE * rng()))
    return Plan(shift_y, shift_x, flip, (brightness, contrast) if level == "standard" else None)


def apply(x: torch.Tensor, p: Plan, pixel_max: float) -> torch.Tensor:
    """The plan applied to images [n, h, w, c] in [0, pixel_max]; a new tensor."""
    n, h, w, _ = x.shape
    device = x.device
    sy = torch.tensor(p.shift_y, device=device).view(n, 1)
    sx = torch.tensor(p.shift_x, device=device).view(n, 1)
    flip = torch.tensor(p.flip, device=device, dtype=torch.bool).view(n, 1)
    rows = torch.arange(h, device=device).view(1, h) - sy  # output row r shows input row r - shiftY
    cols = torch.arange(w, device=device).view(1, w) - sx
    cols = torch.where(flip, w - 1 - cols, cols)  # mirrored: input column w - 1 - (c - shiftX)
    inside = ((rows >= 0) & (rows < h)).view(n, h, 1) & ((cols >= 0) & (cols < w)).view(n, 1, w)
    batch = torch.arange(n, device=device).view(n, 1, 1)
    moved = x[batch, rows.clamp(0, h - 1).view(n, h, 1), cols.clamp(0, w - 1).view(n, 1, w)]
    moved = moved * inside.unsqueeze(-1).to(x.dtype)
    if p.colour is None:
        return moved
    brightness, contrast = p.colour
    # b*((v - m)*c + m) = v*(b*c) + m*(b*(1 - c)), m the image's per-channel mean (as in augment.ts).
    scale = torch.tensor([_f32(b * c) for b, c in zip(brightness, contrast)], device=device).view(n, 1, 1, 1)
    offset = torch.tensor([_f32(b * (1 - c)) for b, c in zip(brightness, contrast)], device=device).view(n, 1, 1, 1)
    mean = moved.mean(dim=(1, 2), keepdim=True)
    return torch.clamp(moved * scale + mean * offset, 0, pixel_max)


def augment_batch(x: torch.Tensor, level: str, seed: int, step: int, normalization: dict) -> torch.Tensor:
    """The batch as this step trains on it (augmentBatch in augment.ts)."""
    if level == "none":
        return x
    if x.dim() != 4:
        raise ValueError(f'augmentation "{level}" needs a batch of images [n, h, w, c]; got inputs of shape {list(x.shape)}')
    if normalization.get("kind") != "scale":
        raise ValueError('augmentation needs images scaled to a pixel range; this dataset is standardized (a table): use augmentation "none"')
    n, h, w, _ = x.shape
    return apply(x, plan(level, n, h, w, seed, step), 255 * float(normalization["scale"]))
