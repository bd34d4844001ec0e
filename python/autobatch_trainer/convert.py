"""The one conversion between tfjs's weight layouts and the torch modules' (both directions).

tfjs (like Keras) stores a convolution kernel as [kh, kw, in, out] and a dense kernel as
[in, out]; the torch modules here compute convolutions in NCHW with torch's [out, in, kh, kw]
and dense layers with F.linear's [out, in]. A Flatten over a channels-first feature map orders
its values (C, H, W) where Keras orders them (H, W, C), so the dense layer right after it gets
its kernel's rows permuted. Everything else (biases, batch-norm gamma/beta and moving
statistics) is stored as is.

Each conversion is one row of CONVERSIONS: a pair of functions (to torch, to tfjs) that take
the tensor and the row's context (the feature map's (h, w, c) for `dense_after_flatten`).
Loading, saving and any later "recipe" use only tfjs_to_torch / torch_to_tfjs.
"""
from typing import Callable, Dict, NamedTuple, Optional, Tuple

import torch

Context = Optional[Tuple[int, ...]]


class Conversion(NamedTuple):
    to_torch: Callable[[torch.Tensor, Context], torch.Tensor]
    to_tfjs: Callable[[torch.Tensor, Context], torch.Tensor]
    describe: str


def _as_is(t: torch.Tensor, _ctx: Context) -> torch.Tensor:
    return t


def _conv_to_torch(k: torch.Tensor, _ctx: Context) -> torch.Tensor:
    return k.permute(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]


def _conv_to_tfjs(w: torch.Tensor, _ctx: Context) -> torch.Tensor:
    return w.permute(2, 3, 1, 0)  # [out, in, kh, kw] -> [kh, kw, in, out]


def _depthwise_to_torch(k: torch.Tensor, _ctx: Context) -> torch.Tensor:
    # A grouped convolution (groups = in) numbers its outputs channel-major: output i*mult + m
    # is input channel i's m-th filter, which is how [in, mult] flattens.
    kh, kw, cin, mult = k.shape
    return k.reshape(kh, kw, cin * mult).permute(2, 0, 1).unsqueeze(1)  # -> [in*mult, 1, kh, kw]


def _depthwise_to_tfjs(w: torch.Tensor, ctx: Context) -> torch.Tensor:
    assert ctx is not None, "a depthwise kernel converts back with its (in, mult)"
    cin, mult = ctx
    out, _one, kh, kw = w.shape
    return w.squeeze(1).permute(1, 2, 0).reshape(kh, kw, cin, mult)


def _transpose(t: torch.Tensor, _ctx: Context) -> torch.Tensor:
    return t.t()


def _flatten_dense_to_torch(k: torch.Tensor, ctx: Context) -> torch.Tensor:
    assert ctx is not None, "the dense layer after a flatten converts with the feature map's (h, w, c)"
    h, w, c = ctx
    units = k.shape[1]
    # rows in (h, w, c) order -> (c, h, w) order, then [in, out] -> [out, in]
    return k.reshape(h, w, c, units).permute(2, 0, 1, 3).reshape(c * h * w, units).t()


def _flatten_dense_to_tfjs(wt: torch.Tensor, ctx: Context) -> torch.Tensor:
    assert ctx is not None, "the dense layer after a flatten converts with the feature map's (h, w, c)"
    h, w, c = ctx
    units = wt.shape[0]
    return wt.t().reshape(c, h, w, units).permute(1, 2, 0, 3).reshape(h * w * c, units)


CONVERSIONS: Dict[str, Conversion] = {
    "as_is": Conversion(_as_is, _as_is, "stored as is (bias, gamma, beta, moving statistics)"),
    "conv2d": Conversion(_conv_to_torch, _conv_to_tfjs, "[kh, kw, in, out] <-> [out, in, kh, kw]"),
    "depthwise": Conversion(_depthwise_to_torch, _depthwise_to_tfjs, "[kh, kw, in, mult] <-> [in*mult, 1, kh, kw]"),
    "dense": Conversion(_transpose, _transpose, "[in, out] <-> [out, in]"),
    "dense_after_flatten": Conversion(
        _flatten_dense_to_torch, _flatten_dense_to_tfjs, "[h*w*c, out] (rows HWC) <-> [out, c*h*w] (columns CHW)"
    ),
}


def tfjs_to_torch(kind: str, tensor: torch.Tensor, context: Context = None) -> torch.Tensor:
    """A tfjs weight in the torch module's layout (a new contiguous tensor)."""
    return CONVERSIONS[kind].to_torch(tensor, context).contiguous().clone()


def torch_to_tfjs(kind: str, tensor: torch.Tensor, context: Context = None) -> torch.Tensor:
    """A torch module's weight in tfjs's layout (a new contiguous tensor on the CPU)."""
    return CONVERSIONS[kind].to_tfjs(tensor.detach().to("cpu"), context).contiguous().clone()

