"""Reads and writes models in the tfjs layers format (model.json + weights.bin), as
src/main/engine/models/model-files.ts does: the same two files, the same manifest, written to a
temporary folder that is then renamed, so a reader never sees half a model."""
import json
import os
import shutil
import sys
from typing import Any, Dict, List, NamedTuple, Tuple

import torch

MODEL_JSON = "model.json"
WEIGHTS_BIN = "weights.bin"
STATE_DICT = "state_dict.pt"


class ModelError(Exception):
    """A model this trainer cannot use; the message names the file, layer or weight and why."""


class ModelFiles(NamedTuple):
    model_json: Dict[str, Any]
    # Weight name -> tensor in tfjs's layout (float32, CPU), in the manifest's order.
    weights: Dict[str, torch.Tensor]


def _read_json(where: str) -> Dict[str, Any]:
    try:
        with open(where, "r", encoding="utf-8") as f:
            data = json.load(f)
    except OSError as err:
        raise ModelError(f"could not read {where}: {err.strerror or err}") from err
    except ValueError as err:
        raise ModelError(f"{where} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ModelError(f"{where} holds {type(data).__name__}, not a JSON object")
    return data


def _manifest(model_json: Dict[str, Any], where: str) -> Tuple[List[str], List[Dict[str, Any]]]:
    """The weight files (in order) and weight specs (in order) of every manifest group."""
    groups = model_json.get("weightsManifest")
    if not isinstance(groups, list) or not groups:
        raise ModelError(f"{where} has no weightsManifest (a list of {{paths, weights}} groups)")
    paths: List[str] = []
    specs: List[Dict[str, Any]] = []
    for g, group in enumerate(groups):
        if not isinstance(group, dict) or not isinstance(group.get("paths"), list) or not isinstance(group.get("weights"), list):
            raise ModelError(f"{where}: weightsManifest[{g}] needs 'paths' and 'weights' lists")
        paths.extend(str(p) for p in group["paths"])
        for i, spec in enumerate(group["weights"]):
            field = f"weightsManifest[{g}].weights[{i}]"
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not isinstance(spec.get("shape"), list):
                raise ModelError(f"{where}: {field} needs a name and a shape")
            if spec.get("quantization"):
                raise ModelError(f"{where}: {field} ({spec['name']}) is quantized; only float32 weights are supported")
            if spec.get("dtype", "float32") != "float32":
                raise ModelError(f"{where}: {field} ({spec['name']}) is {spec.get('dtype')}; only float32 weights are supported")
            if not all(isinstance(d, int) and d >= 0 for d in spec["shape"]):
                raise ModelError(f"{where}: {field} ({spec['name']}) has shape {spec['shape']}, not a list of sizes")
            specs.append(spec)
    return paths, specs


def _numel(shape: List[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def read_model_dir(model_dir: str) -> ModelFiles:
    where = os.path.join(model_dir, MODEL_JSON)
    model_json = _read_json(where)
    if not isinstance(model_json.get("modelTopology"), dict):
        raise ModelError(f"{where} has no modelTopology object (not a tfjs layers model)")
    paths, specs = _manifest(model_json, where)
    chunks = []
    for p in paths:
        # As model-files.ts: the shards lie beside model.json, whatever folder the manifest names.
        shard = os.path.join(model_dir, os.path.basename(p))
        try:
            with open(shard, "rb") as f:
                chunks.append(f.read())
        except OSError as err:
            raise ModelError(f"could not read the weights file {shard} that {where} lists: {err.strerror or err}") from err
    data = b"".join(chunks)
    expected = sum(_numel(s["shape"]) for s in specs) * 4
    if len(data) != expected:
        raise ModelError(
            f"{', '.join(paths)} in {model_dir} hold {len(data)} bytes, but the weights model.json lists take {expected}"
        )
    if sys.byteorder != "little":
        raise ModelError("weights.bin holds little-endian float32, and this machine is big-endian")
    values = torch.frombuffer(bytearray(data), dtype=torch.float32) if data else torch.empty(0)
    weights: Dict[str, torch.Tensor] = {}
    offset = 0
    for spec in specs:
        n = _numel(spec["shape"])
        if spec["name"] in weights:
            raise ModelError(f"{where}: the weight {spec['name']} is listed twice in weightsManifest")
        weights[spec["name"]] = values[offset : offset + n].reshape(spec["shape"])
        offset += n
    return ModelFiles(model_json, weights)


def _float32_bytes(t: torch.Tensor) -> bytes:
    """The tensor's values as little-endian float32 (without numpy, which torch does not require)."""
    buf = bytearray(t.numel() * 4)
    if buf:
        torch.frombuffer(buf, dtype=torch.float32).copy_(t.reshape(-1))
    return bytes(buf)


def write_model_dir(
    out_dir: str,
    model_json: Dict[str, Any],
    weights: List[Tuple[str, torch.Tensor]],
    metadata: Dict[str, Any],
    state_dict: Dict[str, torch.Tensor],
) -> Dict[str, Any]:
    """model.json (model_json's topology, a manifest of `weights` in their order, `metadata` as
    userDefinedMetadata) and weights.bin (float32), plus state_dict.pt; returns the path and the
    bytes of model.json + weights.bin (what model-files.ts reports)."""
    out_dir = os.path.abspath(out_dir)
    tmp = f"{out_dir}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        specs = []
        with open(os.path.join(tmp, WEIGHTS_BIN), "wb") as f:
            for name, tensor in weights:
                t = tensor.detach().to("cpu", torch.float32).contiguous()
                specs.append({"name": name, "shape": list(t.shape), "dtype": "float32"})
                f.write(_float32_bytes(t))
        doc = {
            "modelTopology": model_json["modelTopology"],
            "format": "layers-model",
            "generatedBy": f"autobatch_trainer (PyTorch {torch.__version__})",
            "convertedBy": None,
            "weightsManifest": [{"paths": [WEIGHTS_BIN], "weights": specs}],
            "userDefinedMetadata": metadata,
        }
        with open(os.path.join(tmp, MODEL_JSON), "w", encoding="utf-8") as f:
            json.dump(doc, f, allow_nan=False)
        torch.save({k: v.detach().to("cpu") for k, v in state_dict.items()}, os.path.join(tmp, STATE_DICT))
        shutil.rmtree(out_dir, ignore_errors=True)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = os.path.getsize(os.path.join(out_dir, MODEL_JSON)) + os.path.getsize(os.path.join(out_dir, WEIGHTS_BIN))
    return {"path": out_dir, "bytes": size}
