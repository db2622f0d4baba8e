"""Settings read from the environment, in one place.

VAE_LESSON_DEVICE    force a device ("cpu", "cuda", "cuda:1", "mps")
VAE_LESSON_DATASET   data set for the whole series: mnist (default), fashion-mnist, digits
VAE_LESSON_DATA_DIR  where data sets are downloaded / looked for
VAE_LESSON_CACHE_DIR where trained models are cached
VAE_LESSON_QUICK     "1" shrinks epochs and sizes so the whole series runs in minutes
VAE_LESSON_SEED      the random seed of every notebook and its models (default 0), to check that
                     no claim hangs on one seed
VAE_LESSON_STATIC    "1" draws static figures instead of interactive widgets (set under tests)

Each is read when it is used, never at import time, so a change takes effect at the next call.
"""
import os
import random
from pathlib import Path

import numpy as np
import torch

def _flag(name):
    return os.environ.get(name, "0").strip().lower() not in ("", "0", "false", "no", "off")


def quick():
    """True when VAE_LESSON_QUICK=1: fewer epochs and smaller sizes."""
    return _flag("VAE_LESSON_QUICK")


def static():
    """True when VAE_LESSON_STATIC=1: widgets draw a static figure (set under tests)."""
    return _flag("VAE_LESSON_STATIC")


def seed():
    """The series' random seed: VAE_LESSON_SEED, default 0."""
    text = os.environ.get("VAE_LESSON_SEED", "0").strip() or "0"
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"VAE_LESSON_SEED must be a whole number, got {text!r}") from None


_seed_setting = seed  # setup's argument is also called seed


def by_mode(full, quick_value):
    """`full` normally, `quick_value` when VAE_LESSON_QUICK=1."""
    return quick_value if quick() else full


def dataset_name():
    return os.environ.get("VAE_LESSON_DATASET", "mnist")


def data_dir():
    return Path(os.environ.get("VAE_LESSON_DATA_DIR", Path.home() / ".cache" / "vae_lesson" / "data"))


def cache_dir():
    return Path(os.environ.get("VAE_LESSON_CACHE_DIR", Path.home() / ".cache" / "vae_lesson" / "models"))


def get_device():
    """CUDA, then Apple MPS, then CPU; VAE_LESSON_DEVICE overrides."""
    forced = os.environ.get("VAE_LESSON_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def setup(seed=None):
    """Seed everything (default: VAE_LESSON_SEED, else 0) and print what this notebook runs with.
    Returns the device."""
    seed = _seed_setting() if seed is None else seed
    seed_everything(seed)
    device = get_device()
    mode = by_mode("full", "quick")
    print(f"device: {device} | torch {torch.__version__} | seed {seed} | "
          f"data set: {dataset_name()} | mode: {mode}")
    return device
