"""Converts a model in the tfjs layers format (model.json + weights.bin, as AutoBatch Studio saves a
trained run) to a PyTorch state_dict of the engine's KerasNet, with the engine's own conversion
table (autobatch_trainer/convert.py: conv kernels [kh,kw,in,out] -> [out,in,kh,kw], dense kernels
transposed, the dense after a flatten permuted HWC -> CHW).

    python convert_weights.py MODEL_DIR OUT.pt

`autobatch recipes export --with-weights` runs it to write model/weights.pt; train_ddp.py then
continues training from those weights. Prints one JSON line: the trainable parameter count and
the file written. Standard library and torch only (PyTorch 1.13 and 2.x).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402

from autobatch_trainer.keras_model import load_tfjs_model  # noqa: E402
from autobatch_trainer.model_files import ModelError  # noqa: E402


def main(argv: list) -> int:
    if len(argv) != 2:
        print("usage: python convert_weights.py MODEL_DIR OUT.pt", file=sys.stderr)
        return 2
    model_dir, out = argv
    try:
        net, _ = load_tfjs_model(model_dir, torch.device("cpu"))
    except ModelError as err:
        print(f"convert_weights.py: {err}", file=sys.stderr)
        return 1
    state = {k: v.detach().to("cpu").contiguous() for k, v in net.state_dict().items()}
    tmp = f"{out}.tmp-{os.getpid()}"
    torch.save(state, tmp)
    os.replace(tmp, out)
    parameters = sum(p.numel() for p in net.parameters() if p.requires_grad)
    print(json.dumps({"ok": True, "parameters": parameters, "path": os.path.abspath(out)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
