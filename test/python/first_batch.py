"""Test helper: the first training batch of a run as the torch trainer prepares it, written as
raw float32 (features) then int64 (labels) to argv[3]; argv: <dataset folder> <seed> <out file>
[batch size] [augment level]."""
import sys
from array import array

import torch

from autobatch_trainer.augment import augment_batch
from autobatch_trainer.dataset import load_dataset
from autobatch_trainer.rng import create_rng, shuffle_in_place


def main() -> None:
    folder, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    level = sys.argv[5] if len(sys.argv) > 5 else "none"
    ds = load_dataset(folder, torch.device("cpu"))
    order = list(ds.train_index)
    shuffle_in_place(order, create_rng(seed))
    idx = torch.tensor(order[:batch], dtype=torch.long)
    x = augment_batch(ds.batch(idx), level, seed, 1, ds.manifest["normalization"])
    with open(out, "wb") as f:
        # array, not numpy: the trainer's environment promises torch and the standard library only.
        f.write(array("f", x.flatten().tolist()).tobytes())
        f.write(array("q", ds.y.index_select(0, idx).tolist()).tobytes())


if __name__ == "__main__":
    main()
