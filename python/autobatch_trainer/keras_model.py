"""A small interpreter of the Keras JSON topology the tfjs side writes (model.json), so that the
PyTorch trainer runs the very models tfjs builds (src/main/engine/models/build-model.ts) and
assembles for fine-tuning (start-model.ts, input-adapters.ts) without writing any twice.

Layers supported: InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation,
Dense, Flatten, MaxPooling2D, GlobalAveragePooling2D, Add, Permute, Rescaling, in Sequential and
functional (Model/Functional) topologies. Anything else is a ModelError naming the layer.

Inputs and outputs are in Keras's layout (NHWC images, [N, F] tables). Inside, image tensors are
kept channels-first (NCHW), where torch's convolutions are fastest: every tensor's layout is
decided once, when the model is built (from the static shapes), and a layer that needs the other
layout gets its input permuted. A Flatten over a channels-first map that feeds one Dense layer
flattens in (C, H, W) order, and that Dense layer's kernel rows are permuted to match when the
weights are converted (convert.py), which saves a permute per step.

Matching tfjs: 'same' padding is TensorFlow's (at stride 2 the extra row/column goes at the
bottom/right), a 'same' max pool pads with -inf, and batch normalisation in training normalises
with the batch's biased variance and moves the moving statistics as tfjs-layers does
(moving -= (moving - batch) * (1 - momentum), batch variance biased), with epsilon and momentum
read from each layer's config.
"""
import math
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .convert import tfjs_to_torch, torch_to_tfjs
from .model_files import ModelError, read_model_dir, write_model_dir

__all__ = ["KerasNet", "ModelError", "load_tfjs_model", "save_tfjs_model"]

# Layouts of a 4-D tensor (a Keras shape of rank 3): channels-first inside, or Keras's own
# (channels-last) order. Tensors of other ranks are always in Keras's order.
CF = "channels_first"
KERAS = "keras"

Shape = Tuple[int, ...]  # a Keras shape without the batch axis


class Info(NamedTuple):
    shape: Shape
    layout: str


class WeightSpec(NamedTuple):
    suffix: str  # the tfjs weight name after "<layer>/"
    attr: str  # the module's parameter or buffer
    kind: str  # the conversion (convert.CONVERSIONS)
    context: Optional[Tuple[int, ...]]
    tfjs_shape: Shape


def _to_cf(x: torch.Tensor) -> torch.Tensor:
    """Channels-first shape [N, C, H, W]; the memory layout is chosen for the device.

    On the CPU the data stays channels-last in memory (the permuted view, made explicit): torch's
    CPU convolutions then run the whole net channels-last, measured 1.2-1.4x faster than standard
    NCHW strides for the small and large CNNs and ResNet-20 (bench:torch-overhead, the bare loop
    on both layouts). Elsewhere standard NCHW strides, the layout cuDNN and MPS were measured with
    by everyone else; with one channel the permuted view counts as both, so it is reshaped."""
    if x.device.type == "cpu":
        return x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    n, h, w, c = x.shape
    return x.reshape(n, 1, h, w) if c == 1 else x.permute(0, 3, 1, 2).contiguous()


def _to_keras(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1)


def _converter(have: Info, want: Optional[str]) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
    if want is None or len(have.shape) != 3 or have.layout == want:
        return None
    return _to_cf if want == CF else _to_keras


def _relu6(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x)


def _activation(layer: "KLayer", name: Any, channel_dim: int) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
    if name in (None, "linear"):
        return None
    table: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "relu": F.relu,
        "relu6": _relu6,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "elu": F.elu,
        "selu": F.selu,
        "softplus": F.softplus,
        "softsign": F.softsign,
        "swish": F.silu,
        "softmax": lambda x: F.softmax(x, dim=channel_dim),
    }
    if name not in table:
        raise layer.error(f"has activation {name!r}; supported: linear, {', '.join(sorted(table))}")
    return table[name]


def _pair(layer: "KLayer", key: str, default: Any = None) -> Tuple[int, int]:
    value = layer.config.get(key, default)
    if isinstance(value, int):
        value = [value, value]
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value)):
        raise layer.error(f"has {key} {value!r}; expected two positive whole numbers")
    return int(value[0]), int(value[1])


def _same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> Tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: (before, after), the odd one after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _out_size(layer: "KLayer", size: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> int:
    if padding == "same":
        return -(-size // stride)
    out = (size - ((kernel - 1) * dilation + 1)) // stride + 1
    if out < 1:
        raise layer.error(f"with 'valid' padding leaves no output from an input of size {size}")
    return out


def _channel_dim(info: Info) -> int:
    """Where the Keras last axis (the channels) is in the tensor as held."""
    return 1 if len(info.shape) == 3 and info.layout == CF else -1


class KLayer(nn.Module):
    """One Keras layer: its name, config, static input/output shapes and the layouts it takes."""

    def __init__(self, name: str, class_name: str, config: Dict[str, Any]):
        super().__init__()
        self.keras_name = name
        self.class_name = class_name
        self.config = config
        self.keras_trainable = config.get("trainable", True) is not False
        self.weight_specs: List[WeightSpec] = []
        self.wants: List[Optional[str]] = []  # per input: the layout it needs (None: either)
        self.out: Info = Info((), KERAS)

    def error(self, what: str) -> ModelError:
        return ModelError(f"layer '{self.keras_name}' ({self.class_name}) {what}")

    def check_no_extras(self) -> None:
        """Regularizers and constraints would change training; none are supported."""
        for key, value in self.config.items():
            if (key.endswith("_regularizer") or key.endswith("_constraint")) and value is not None:
                raise self.error(f"has {key} {value!r}; regularizers and constraints are not supported")
        fmt = self.config.get("data_format")
        if fmt not in (None, "channels_last"):
            raise self.error(f"has data_format {fmt!r}; only channels_last is supported")

    def one_input(self, infos: Sequence[Info], rank: Optional[int] = None) -> Info:
        if len(infos) != 1:
            raise self.error(f"takes {len(infos)} inputs; it needs exactly one")
        if rank is not None and len(infos[0].shape) != rank:
            raise self.error(f"gets an input of shape {list(infos[0].shape)}; it needs rank {rank} (without the batch axis)")
        return infos[0]

    def new_weight(self, attr: str, torch_shape: Sequence[int], suffix: str, kind: str, tfjs_shape: Shape, context: Any = None) -> None:
        self.register_parameter(attr, nn.Parameter(torch.zeros(tuple(torch_shape))))
        self.weight_specs.append(WeightSpec(suffix, attr, kind, context, tuple(tfjs_shape)))


class Conv2D(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        self.check_no_extras()
        h, w, cin = self.one_input(infos, 3).shape
        c = self.config
        kh, kw = _pair(self, "kernel_size")
        self.stride = _pair(self, "strides", [1, 1])
        self.dilation = _pair(self, "dilation_rate", [1, 1])
        padding = c.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise self.error(f"has padding {padding!r}; supported: valid, same")
        if c.get("groups", 1) != 1:
            raise self.error(f"has groups {c.get('groups')!r}; only 1 is supported")
        depthwise = self.class_name == "DepthwiseConv2D"
        if depthwise:
            mult = c.get("depth_multiplier", 1)
            if not (isinstance(mult, int) and mult > 0):
                raise self.error(f"has depth_multiplier {mult!r}; expected a positive whole number")
            cout, self.groups = cin * mult, cin
            self.new_weight("weight", (cout, 1, kh, kw), "depthwise_kernel", "depthwise", (kh, kw, cin, mult), (cin, mult))
        else:
            cout = c.get("filters")
            if not (isinstance(cout, int) and cout > 0):
                raise self.error(f"has filters {cout!r}; expected a positive whole number")
            self.groups = 1
            self.new_weight("weight", (cout, cin, kh, kw), "kernel", "conv2d", (kh, kw, cin, cout))
        if c.get("use_bias", True):
            self.new_weight("bias", (cout,), "bias", "as_is", (cout,))
        else:
            self.register_parameter("bias", None)
        # Symmetric padding goes to the convolution itself; TensorFlow's uneven one is padded first.
        self.padding: Tuple[int, int] = (0, 0)
        self.pad: Optional[Tuple[int, int, int, int]] = None
        if padding == "same":
            top, bottom = _same_pads(h, kh, self.stride[0], self.dilation[0])
            left, right = _same_pads(w, kw, self.stride[1], self.dilation[1])
            if top == bottom and left == right:
                self.padding = (top, left)
            else:
                self.pad = (left, right, top, bottom)
        oh = _out_size(self, h, kh, self.stride[0], padding, self.dilation[0])
        ow = _out_size(self, w, kw, self.stride[1], padding, self.dilation[1])
        self.activation = _activation(self, c.get("activation"), 1)
        self.wants = [CF]
        self.out = Info((oh, ow, cout), CF)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad is not None:
            x = F.pad(x, self.pad)
        y = F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        return self.activation(y) if self.activation is not None else y


class Dense(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        self.check_no_extras()
        info = self.one_input(infos)
        if not info.shape:
            raise self.error("gets a scalar input")
        units = self.config.get("units")
        if not (isinstance(units, int) and units > 0):
            raise self.error(f"has units {units!r}; expected a positive whole number")
        fan_in = info.shape[-1]
        hwc = ctx.channels_first_flatten.get(self.keras_name)
        if hwc is not None:
            self.new_weight("weight", (units, fan_in), "kernel", "dense_after_flatten", (fan_in, units), hwc)
        else:
            self.new_weight("weight", (units, fan_in), "kernel", "dense", (fan_in, units))
        if self.config.get("use_bias", True):
            self.new_weight("bias", (units,), "bias", "as_is", (units,))
        else:
            self.register_parameter("bias", None)
        # A Dense layer maps the last Keras axis, so an image tensor must be in Keras's order.
        self.wants = [KERAS]
        self.out = Info(info.shape[:-1] + (units,), KERAS)
        self.activation = _activation(self, self.config.get("activation"), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight, self.bias)
        return self.activation(y) if self.activation is not None else y


class _BatchNormInTraining(torch.autograd.Function):
    """Batch normalisation over axis 1 with the batch's statistics: returns y, the batch mean and
    the batch's biased variance (for the moving statistics; no gradient flows through those).

    Not F.batch_norm(training=True): torch's CPU kernel computes the batch statistics less
    precisely (on MobileNet-0.35 its outputs were 6x further from a float64 reference than
    tfjs's: 6e-4 at logits of 5), and keeps the unbiased variance. Here the statistics are two
    passes as tf.moments takes them (the mean, then the mean squared deviation), y is the centred
    x scaled, and the gradient is torch's fused closed-form batch-norm backward given these
    statistics (tfjs's batch-norm-layer.ts does the same). y comes from the fused inference kernel
    given these statistics, one pass over x; the only full-size temporary is the centred x, squared
    in place. torch.var_mean would be as precise but took 8x as long as the fused kernel on the
    CPU; this takes about as long (forward and backward at 64x16x32x32, 2 threads: 2.1 ms against
    nn.BatchNorm2d's 2.05 ms; an earlier version that kept the centred x for y took 12.9 ms)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, gamma: Optional[torch.Tensor], beta: Optional[torch.Tensor], epsilon: float) -> Any:
        channels = x.shape[1]
        if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
            # Channels-last (the CPU's layout, _to_cf): [N*H*W, C] is a view; torch's CPU sum is a
            # cascade of partial sums, as precise as the two-stage sum below.
            rows = x.permute(0, 2, 3, 1).reshape(-1, channels)
            count = rows.shape[0]
            mean = rows.sum(0) / count
            var = (rows - mean).square_().sum(0) / count
        else:
            flat = x.reshape(x.shape[0], channels, -1)
            count = flat.shape[0] * flat.shape[2]
            # Sums over the spatial axis, then the batch: partial sums lose less than one long sum.
            mean = flat.sum(2).sum(0) / count
            var = (flat - mean.view(1, -1, 1)).square_().sum(2).sum(0) / count
        y = F.batch_norm(x, mean, var, gamma, beta, False, 0.0, epsilon)
        invstd = torch.rsqrt(var + epsilon)
        ctx.save_for_backward(x, gamma, mean, invstd)
        ctx.epsilon = epsilon
        ctx.has_beta = beta is not None
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx: Any, dy: torch.Tensor, _dmean: Any, _dvar: Any) -> Any:
        x, gamma, mean, invstd = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], gamma is not None and ctx.needs_input_grad[1], ctx.has_beta and ctx.needs_input_grad[2]]
        layout = torch.channels_last if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
        dx, dgamma, dbeta = torch.ops.aten.native_batch_norm_backward(dy.contiguous(memory_format=layout), x, gamma, None, None, mean, invstd, True, ctx.epsilon, mask)
        return dx, dgamma if mask[1] else None, dbeta if mask[2] else None, None


class BatchNormalization(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        self.check_no_extras()
        info = self.one_input(infos)
        rank = len(info.shape)
        if rank == 0:
            raise self.error("gets a scalar input")
        axis = self.config.get("axis", -1)
        if isinstance(axis, list) and len(axis) == 1:
            axis = axis[0]
        if axis not in (-1, rank):
            raise self.error(f"normalises axis {axis!r}; only the last axis (-1) is supported")
        for key in ("epsilon", "momentum"):
            value = self.config.get(key)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0):
                raise self.error(f"has {key} {value!r}; expected a number")
        self.epsilon = float(self.config["epsilon"])
        self.momentum = float(self.config["momentum"])
        channels = info.shape[-1]
        for attr, key in (("gamma", "scale"), ("beta", "center")):
            if self.config.get(key, True):
                self.new_weight(attr, (channels,), attr, "as_is", (channels,))
            else:
                self.register_parameter(attr, None)
        self.register_buffer("moving_mean", torch.zeros(channels))
        self.register_buffer("moving_variance", torch.ones(channels))
        self.weight_specs.append(WeightSpec("moving_mean", "moving_mean", "as_is", None, (channels,)))
        self.weight_specs.append(WeightSpec("moving_variance", "moving_variance", "as_is", None, (channels,)))
        # F.batch_norm normalises axis 1: images channels-first; other ranks move their last axis there.
        self.wants = [CF]
        self.move_axis = rank >= 2 and rank != 3
        self.out = Info(info.shape, CF if rank == 3 else KERAS)
        # Batch statistics only while the net trains this layer (KerasNet.set_trained_layers).
        self.trained = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.move_axis:
            x = x.movedim(-1, 1)
        if self.training and self.trained:
            y, mean, var = _BatchNormInTraining.apply(x, self.gamma, self.beta, self.epsilon)
            with torch.no_grad():
                self.moving_mean.sub_((self.moving_mean - mean) * (1.0 - self.momentum))
                self.moving_variance.sub_((self.moving_variance - var) * (1.0 - self.momentum))
        else:
            y = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, False, 0.0, self.epsilon)
        return y.movedim(1, -1) if self.move_axis else y


class ReLU(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        info = self.one_input(infos)
        for key in ("negative_slope", "threshold"):
            if self.config.get(key) not in (None, 0, 0.0):
                raise self.error(f"has {key} {self.config.get(key)!r}; only 0 is supported")
        max_value = self.config.get("max_value")
        if max_value is not None and not (isinstance(max_value, (int, float)) and max_value > 0):
            raise self.error(f"has max_value {max_value!r}; expected a positive number or null")
        self.max_value = None if max_value is None else float(max_value)
        self.wants = [None]
        self.out = info

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.max_value is None:
            return F.relu(x)
        if self.max_value == 6.0:
            return F.relu6(x)
        return torch.clamp(x, 0.0, self.max_value)


class Activation(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        info = self.one_input(infos)
        self.activation = _activation(self, self.config.get("activation"), _channel_dim(info))
        self.wants = [None]
        self.out = info

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(x) if self.activation is not None else x


class Rescaling(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        info = self.one_input(infos)
        scale, offset = self.config.get("scale", 1.0), self.config.get("offset", 0.0)
        for key, value in (("scale", scale), ("offset", offset)):
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)):
                raise self.error(f"has {key} {value!r}; only a single number is supported")
        self.scale, self.offset = float(scale), float(offset)
        self.wants = [None]
        self.out = info

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * self.scale
        return y + self.offset if self.offset != 0.0 else y


class Flatten(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        self.check_no_extras()
        info = self.one_input(infos)
        consumers = ctx.consumers.get(self.keras_name, [])
        feeds_one_dense = len(consumers) == 1 and ctx.class_of[consumers[0]] == "Dense"
        if len(info.shape) == 3 and info.layout == CF and feeds_one_dense:
            # Flattened as held, (C, H, W); the Dense after it takes its kernel rows permuted.
            ctx.channels_first_flatten[consumers[0]] = info.shape
            self.wants = [CF]
        else:
            self.wants = [KERAS]
        self.out = Info((math.prod(info.shape),), KERAS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class MaxPooling2D(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        self.check_no_extras()
        h, w, c = self.one_input(infos, 3).shape
        self.kernel = _pair(self, "pool_size", [2, 2])
        self.stride = _pair(self, "strides", None) if self.config.get("strides") is not None else self.kernel
        padding = self.config.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise self.error(f"has padding {padding!r}; supported: valid, same")
        # TensorFlow's 'same' max pool ignores the padding: padded with -inf, never the maximum.
        self.pad: Optional[Tuple[int, int, int, int]] = None
        if padding == "same":
            top, bottom = _same_pads(h, self.kernel[0], self.stride[0])
            left, right = _same_pads(w, self.kernel[1], self.stride[1])
            if top + bottom + left + right > 0:
                self.pad = (left, right, top, bottom)
        oh = _out_size(self, h, self.kernel[0], self.stride[0], padding)
        ow = _out_size(self, w, self.kernel[1], self.stride[1], padding)
        self.wants = [CF]
        self.out = Info((oh, ow, c), CF)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad is not None:
            x = F.pad(x, self.pad, value=-math.inf)
        return F.max_pool2d(x, self.kernel, self.stride)


class GlobalAveragePooling2D(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        self.check_no_extras()
        _h, _w, c = self.one_input(infos, 3).shape
        if self.config.get("keepdims"):
            raise self.error("has keepdims true; not supported")
        self.wants = [CF]
        self.out = Info((c,), KERAS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class Add(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        if len(infos) < 2:
            raise self.error(f"takes {len(infos)} input(s); it needs two or more")
        shapes = {i.shape for i in infos}
        if len(shapes) != 1:
            raise self.error(f"adds shapes {[list(i.shape) for i in infos]}; broadcasting is not supported")
        layouts = {i.layout for i in infos}
        common = infos[0].layout if len(layouts) == 1 else CF
        self.wants = [common] * len(infos)
        self.out = Info(infos[0].shape, common if len(infos[0].shape) == 3 else KERAS)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        y = xs[0] + xs[1]
        for x in xs[2:]:
            y = y + x
        return y


class Permute(KLayer):
    def build(self, infos: Sequence[Info], ctx: "BuildContext") -> None:
        info = self.one_input(infos)
        dims = self.config.get("dims")
        rank = len(info.shape)
        if not (isinstance(dims, list) and sorted(dims) == list(range(1, rank + 1))):
            raise self.error(f"has dims {dims!r}; expected a permutation of 1..{rank}")
        self.dims = (0,) + tuple(int(d) for d in dims)
        self.wants = [KERAS]
        self.out = Info(tuple(info.shape[d - 1] for d in dims), KERAS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims)


LAYER_CLASSES: Dict[str, type] = {
    "Conv2D": Conv2D,
    "DepthwiseConv2D": Conv2D,
    "Dense": Dense,
    "BatchNormalization": BatchNormalization,
    "ReLU": ReLU,
    "Activation": Activation,
    "Rescaling": Rescaling,
    "Flatten": Flatten,
    "MaxPooling2D": MaxPooling2D,
    "GlobalAveragePooling2D": GlobalAveragePooling2D,
    "Add": Add,
    "Permute": Permute,
}


class LayerDef(NamedTuple):
    name: str
    class_name: str
    config: Dict[str, Any]
    inbound: List[str]


class BuildContext:
    def __init__(self, defs: Sequence[LayerDef]):
        self.class_of = {d.name: d.class_name for d in defs}
        self.consumers: Dict[str, List[str]] = {}
        for d in defs:
            for src in d.inbound:
                self.consumers.setdefault(src, []).append(d.name)
        # Dense layer name -> the (h, w, c) of the channels-first map its Flatten flattened.
        self.channels_first_flatten: Dict[str, Tuple[int, ...]] = {}


def _input_shape(config: Dict[str, Any], where: str) -> Shape:
    shape = config.get("batch_input_shape", config.get("batch_shape"))
    if not isinstance(shape, list) or len(shape) < 2:
        raise ModelError(f"{where} has no batch_input_shape; the model's input shape is unknown")
    dims = shape[1:]
    if not all(isinstance(d, int) and d > 0 for d in dims):
        raise ModelError(f"{where} has input shape {shape}; every axis but the batch must have a fixed size")
    return tuple(dims)


def _inbound_names(layer: Dict[str, Any], name: str) -> List[str]:
    nodes = layer.get("inbound_nodes", [])
    if not isinstance(nodes, list):
        raise ModelError(f"layer '{name}' has inbound_nodes {nodes!r}; expected a list")
    if len(nodes) > 1:
        raise ModelError(f"layer '{name}' ({layer.get('class_name')}) is applied {len(nodes)} times; shared layers are not supported")
    if not nodes:
        return []
    names = []
    for entry in nodes[0] if isinstance(nodes[0], list) else [nodes[0]]:
        if not (isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[0], str)):
            raise ModelError(f"layer '{name}' has an inbound node {entry!r} this reader does not understand (Keras 2 / tfjs format expected)")
        if entry[1] != 0 or entry[2] != 0:
            raise ModelError(f"layer '{name}' takes output {entry[1]}.{entry[2]} of '{entry[0]}'; only single-output layers applied once are supported")
        names.append(entry[0])
    return names


def _topology_defs(topology: Dict[str, Any]) -> Tuple[str, Shape, str, List[LayerDef], str]:
    """(model name, input shape, input layer name, layers in topological order, output layer name)."""
    class_name = topology.get("class_name")
    config = topology.get("config")
    if class_name == "Sequential":
        layers = config.get("layers") if isinstance(config, dict) else config
        model_name = str(config.get("name", "sequential")) if isinstance(config, dict) else "sequential"
        if not isinstance(layers, list) or not layers:
            raise ModelError("the Sequential model has no layers")
        first = layers[0]
        if not isinstance(first, dict) or not isinstance(first.get("config"), dict):
            raise ModelError("the Sequential model's first layer has no config")
        input_name = f"{first['config'].get('name', 'input')}_input"
        if first.get("class_name") == "InputLayer":
            input_name = str(first["config"].get("name", input_name))
        shape = _input_shape(first["config"], f"the first layer ('{first['config'].get('name')}')")
        defs: List[LayerDef] = []
        previous = input_name
        for i, layer in enumerate(layers):
            if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
                raise ModelError(f"layer {i} of the Sequential model has no config")
            if i == 0 and layer.get("class_name") == "InputLayer":
                continue
            name = str(layer["config"].get("name", f"layer_{i}"))
            defs.append(LayerDef(name, str(layer.get("class_name")), layer["config"], [previous]))
            previous = name
        return model_name, shape, input_name, defs, previous
    if class_name not in ("Model", "Functional"):
        raise ModelError(f"modelTopology.class_name is {class_name!r}; supported: Sequential, Model, Functional")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelError("the functional model's config has no layers list")
    ins, outs = config.get("input_layers"), config.get("output_layers")
    if not (isinstance(ins, list) and len(ins) == 1 and isinstance(outs, list) and len(outs) == 1):
        raise ModelError("only models with one input and one output are supported (config.input_layers, config.output_layers)")
    if not all(isinstance(e, list) and e and isinstance(e[0], str) for e in (ins[0], outs[0])):
        raise ModelError(f"config.input_layers {ins!r} / output_layers {outs!r} are not [[name, 0, 0]] lists")
    input_name, output_name = ins[0][0], outs[0][0]
    raw: List[LayerDef] = []
    input_shape: Optional[Shape] = None
    for i, layer in enumerate(config["layers"]):
        if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
            raise ModelError(f"layer {i} of the model has no config")
        name = str(layer.get("name", layer["config"].get("name")))
        if layer.get("class_name") == "InputLayer":
            if name != input_name:
                raise ModelError(f"InputLayer '{name}' is not the model's input ('{input_name}')")
            input_shape = _input_shape(layer["config"], f"InputLayer '{name}'")
            continue
        raw.append(LayerDef(name, str(layer.get("class_name")), layer["config"], _inbound_names(layer, name)))
    if input_shape is None:
        raise ModelError(f"the model's input layer '{input_name}' is not among its layers")
    # Kahn's order, stable in the file's order (tfjs writes layers topologically already).
    done: Set[str] = {input_name}
    ordered: List[LayerDef] = []
    pending = list(raw)
    known = {d.name for d in raw} | {input_name}
    for d in raw:
        for src in d.inbound:
            if src not in known:
                raise ModelError(f"layer '{d.name}' takes '{src}', which is not a layer of the model")
    while pending:
        ready = [d for d in pending if all(s in done for s in d.inbound)]
        if not ready:
            raise ModelError(f"layers {[d.name for d in pending][:5]} form a cycle or depend on nothing computed")
        for d in ready:
            ordered.append(d)
            done.add(d.name)
        pending = [d for d in pending if d.name not in done]
    return str(config.get("name", "model")), input_shape, input_name, ordered, output_name


class Step(NamedTuple):
    layer: KLayer
    inputs: Tuple[int, ...]  # slots
    converts: Tuple[Optional[Callable[[torch.Tensor], torch.Tensor]], ...]
    out: int
    free: Tuple[int, ...]  # slots no later step reads


class KerasNet(nn.Module):
    """The model a model.json describes, as a torch module: forward(x) takes [N, *input_shape] in
    Keras's layout and returns what the model's output layer gives (logits [N, classes])."""

    def __init__(self, topology: Dict[str, Any]):
        super().__init__()
        if not isinstance(topology, dict):
            raise ModelError("modelTopology is not an object")
        self.model_name, self.input_shape, self.input_name, defs, output_name = _topology_defs(topology)
        names = [self.input_name] + [d.name for d in defs]
        if len(set(names)) != len(names):
            raise ModelError("two layers share a name")
        ctx = BuildContext(defs)
        self.layer_names: List[str] = names
        self.keras_layers = nn.ModuleDict()
        self._by_name: Dict[str, KLayer] = {}
        slot_of = {self.input_name: 0}
        infos: Dict[str, Info] = {self.input_name: Info(self.input_shape, KERAS)}
        steps: List[Tuple[KLayer, Tuple[int, ...], Tuple[Any, ...], int]] = []
        for d in defs:
            cls = LAYER_CLASSES.get(d.class_name)
            if cls is None:
                raise ModelError(
                    f"layer '{d.name}' is a {d.class_name}, which the PyTorch engine does not support "
                    f"(supported: {', '.join(sorted(set(LAYER_CLASSES) | {'InputLayer'}))})"
                )
            layer: KLayer = cls(d.name, d.class_name, d.config)
            in_infos = [infos[s] for s in d.inbound]
            layer.build(in_infos, ctx)
            converts = tuple(_converter(i, w) for i, w in zip(in_infos, layer.wants))
            infos[d.name] = layer.out
            slot_of[d.name] = len(slot_of)
            steps.append((layer, tuple(slot_of[s] for s in d.inbound), converts, slot_of[d.name]))
            self._by_name[d.name] = layer
            self.keras_layers[_module_key(d.name, self.keras_layers)] = layer
        if output_name not in slot_of:
            raise ModelError(f"the model's output layer '{output_name}' is not among its layers")
        self.output_name = output_name
        self._output_slot = slot_of[output_name]
        self._output_convert = _converter(infos[output_name], KERAS)
        self.output_shape = infos[output_name].shape
        last_use: Dict[int, int] = {}
        for i, (_l, ins, _c, _o) in enumerate(steps):
            for s in ins:
                last_use[s] = i
        self._steps = [
            Step(l, ins, cv, o, tuple(s for s in set(ins) if last_use[s] == i and s != self._output_slot))
            for i, (l, ins, cv, o) in enumerate(steps)
        ]
        self._slots = len(slot_of)
        self.set_trained_layers(set(names))

    # ---- the API the trainer uses ------------------------------------------------------------

    def parameters_of(self, layer_name: str) -> List[nn.Parameter]:
        """The layer's trainable tensors (kernel, bias, gamma, beta; not the moving statistics)."""
        if layer_name == self.input_name:
            return []
        layer = self._by_name.get(layer_name)
        if layer is None:
            raise ModelError(f"the model has no layer '{layer_name}'")
        return [getattr(layer, s.attr) for s in layer.weight_specs if isinstance(getattr(layer, s.attr), nn.Parameter)]

    def is_trainable(self, layer_name: str) -> bool:
        """Whether the layer has parameters and its Keras config lets it train (the input adapters' does not)."""
        layer = self._by_name.get(layer_name)
        return layer is not None and layer.keras_trainable and bool(self.parameters_of(layer_name))

    def set_trained_layers(self, names: Iterable[str]) -> None:
        """Trains exactly these layers (those whose Keras config says trainable: false never):
        the others' parameters get requires_grad False, and their batch norms use the moving
        statistics even under net.train()."""
        wanted = set(names)
        unknown = wanted - set(self.layer_names)
        if unknown:
            raise ModelError(f"the model has no layer(s) {sorted(unknown)}")
        self.trained_layers: Set[str] = set()
        for name, layer in self._by_name.items():
            trained = name in wanted and layer.keras_trainable
            if trained:
                self.trained_layers.add(name)
            for p in self.parameters_of(name):
                p.requires_grad_(trained)
            if isinstance(layer, BatchNormalization):
                layer.trained = trained

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"the model takes inputs of shape [N, {', '.join(map(str, self.input_shape))}], got {list(x.shape)}")
        slots: List[Optional[torch.Tensor]] = [None] * self._slots
        slots[0] = x
        for step in self._steps:
            args = []
            for s, convert in zip(step.inputs, step.converts):
                t = slots[s]
                args.append(convert(t) if convert is not None else t)
            for s in step.free:
                slots[s] = None
            slots[step.out] = step.layer(*args)
        y = slots[self._output_slot]
        assert y is not None
        return self._output_convert(y) if self._output_convert is not None else y

    # ---- weights ---------------------------------------------------------------------------

    def weight_table(self) -> Dict[str, Tuple[KLayer, WeightSpec]]:
        """tfjs weight name -> (layer, spec), for every weight the topology needs."""
        return {f"{layer.keras_name}/{spec.suffix}": (layer, spec) for layer in self._by_name.values() for spec in layer.weight_specs}

    def load_tfjs_weights(self, weights: Dict[str, torch.Tensor]) -> None:
        table = self.weight_table()
        for name, (layer, spec) in table.items():
            if name not in weights:
                raise ModelError(f"weights.bin has no weight '{name}' (layer '{layer.keras_name}', {layer.class_name}); the manifest does not list it")
            value = weights[name]
            if tuple(value.shape) != spec.tfjs_shape:
                raise ModelError(
                    f"the weight '{name}' has shape {list(value.shape)} in the manifest, but layer '{layer.keras_name}' "
                    f"({layer.class_name}) needs {list(spec.tfjs_shape)}"
                )
            with torch.no_grad():
                getattr(layer, spec.attr).copy_(tfjs_to_torch(spec.kind, value, spec.context))
        extra = [n for n in weights if n not in table]
        if extra:
            raise ModelError(f"the manifest lists weights no layer of the topology has: {extra[:5]}")

    def tfjs_weights(self, order: Sequence[str]) -> List[Tuple[str, torch.Tensor]]:
        """The named weights in tfjs's layout, in this order."""
        table = self.weight_table()
        missing = [n for n in order if n not in table]
        if missing or len(order) != len(table):
            raise ModelError(f"the manifest's weights do not match the model's: unknown {missing[:5]}, {len(order)} listed for {len(table)}")
        out = []
        for name in order:
            layer, spec = table[name]
            out.append((name, torch_to_tfjs(spec.kind, getattr(layer, spec.attr), spec.context)))
        return out


def _module_key(name: str, taken: nn.ModuleDict) -> str:
    """A ModuleDict key for a Keras name (torch forbids '.' in them); the state_dict shows it."""
    key = name.replace(".", "_") or "layer"
    base, i = key, 2
    while key in taken:
        key, i = f"{base}_{i}", i + 1
    return key


def _manifest_order(model_json: Dict[str, Any]) -> List[str]:
    return [w["name"] for g in model_json.get("weightsManifest", []) for w in g.get("weights", [])]


def load_tfjs_model(model_dir: str, device: torch.device) -> Tuple[KerasNet, Dict[str, Any]]:
    """The model in model_dir (model.json + weights.bin) as a KerasNet on `device`, in eval
    mode, every layer trained (set_trained_layers narrows it); and the parsed model.json."""
    files = read_model_dir(model_dir)
    net = KerasNet(files.model_json["modelTopology"])
    net.load_tfjs_weights(files.weights)
    net.eval()
    return net.to(device), files.model_json


def save_tfjs_model(net: KerasNet, model_json: Dict[str, Any], out_dir: str, metadata: Dict[str, Any]) -> Dict[str, Any]:
    """The net in the tfjs layers format (model_json's topology, its weights manifest's names and
    order, userDefinedMetadata = metadata) plus state_dict.pt; {"path", "bytes"} as model-files.ts."""
    weights = net.tfjs_weights(_manifest_order(model_json))
    return write_model_dir(out_dir, model_json, weights, metadata, net.state_dict())
