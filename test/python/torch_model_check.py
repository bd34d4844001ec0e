"""The Python half of test/integration/torch-model.test.ts: runs the tasks of a JSON job file
(argv[1]) with autobatch_trainer.keras_model (PYTHONPATH=<repo>/python) and prints one JSON line,
a result per task. Tensors travel as raw little-endian float32 files."""
import json
import sys
from typing import Any, Dict, List

import torch

from autobatch_trainer.keras_model import ModelError, load_tfjs_model, save_tfjs_model

CPU = torch.device("cpu")


def read_floats(path: str, shape: List[int]) -> torch.Tensor:
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.float32).reshape(shape)


def write_floats(path: str, t: torch.Tensor) -> None:
    t = t.detach().to(CPU, torch.float32).contiguous().reshape(-1)
    buf = bytearray(t.numel() * 4)
    torch.frombuffer(buf, dtype=torch.float32).copy_(t)
    with open(path, "wb") as f:
        f.write(buf)


def perturb(net: torch.nn.Module, seed: int) -> None:
    """Changes every parameter and moving statistic, deterministically (variances stay positive)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in net.state_dict(keep_vars=True).items():
            noise = torch.randn(t.shape, generator=g)
            if name.endswith("moving_variance"):
                t.mul_(0.75 + 0.5 * torch.rand(t.shape, generator=g))
            else:
                scale = 0.25 * float(t.std()) if t.numel() > 1 else 0.0
                t.add_(noise * (scale + 0.02))


def run(task: Dict[str, Any]) -> Dict[str, Any]:
    op = task["op"]
    net, model_json = load_tfjs_model(task["model"], CPU)
    if op == "load":
        return {"layers": net.layer_names}
    if op == "logits":
        x = read_floats(task["inputs"], task["shape"])
        if task.get("trained") is not None:
            net.set_trained_layers(set(task["trained"]))
        if task.get("train"):
            net.train()
        with torch.no_grad():
            write_floats(task["out"], net(x))
        if task.get("save"):
            save_tfjs_model(net, model_json, task["save"], {"from": "torch_model_check"})
        return {}
    if op == "perturb":
        perturb(net, task["seed"])
        saved = save_tfjs_model(net, model_json, task["save"], task["metadata"])
        x = read_floats(task["inputs"], task["shape"])
        with torch.no_grad():
            write_floats(task["out"], net(x))
        return {"saved": saved}
    if op == "freeze":
        # Nothing trained: under train() the batch norms must still use (and keep) the moving statistics.
        x = read_floats(task["inputs"], task["shape"])
        with torch.no_grad():
            expected = net(x)
        before = {k: v.clone() for k, v in net.state_dict().items()}
        net.set_trained_layers(set())
        net.train()
        with torch.no_grad():
            got = net(x)
        unchanged = all(torch.equal(before[k], v) for k, v in net.state_dict().items())
        frozen_grads = [n for n, p in net.named_parameters() if p.requires_grad]
        # Naming every layer trains all but those whose config says trainable: false.
        net.set_trained_layers(set(net.layer_names))
        untrainable = sorted(n for n in net.layer_names if net.parameters_of(n) and not net.is_trainable(n))
        untrainable_grads = [n for n in untrainable for p in net.parameters_of(n) if p.requires_grad]
        trained_without_grad = [n for n in net.trained_layers for p in net.parameters_of(n) if not p.requires_grad]
        return {
            "sameOutputs": bool(torch.equal(expected, got)),
            "statisticsUnchanged": unchanged,
            "gradsWhenFrozen": frozen_grads,
            "untrainable": untrainable,
            "untrainableGrads": untrainable_grads,
            "trainedWithoutGrad": trained_without_grad,
        }
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    with open(sys.argv[1], "r", encoding="utf-8") as f:
        job = json.load(f)
    results = []
    for task in job["tasks"]:
        try:
            results.append({"ok": True, **run(task)})
        except ModelError as err:
            results.append({"ok": False, "type": "ModelError", "message": str(err)})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
