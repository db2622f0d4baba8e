"""Settings read from the environment, in one place.

VAE_LESSON_DEVICE    force a device ("cpu", "cuda", "cuda:1", "mps")
VAE_LESSON_DATASET   data set for the whole series: mnist (default), fashion-mnist, digits
VAE_LESSON_DATA_DIR  where data sets are downloaded / looked for
VAE_LESSON_CACHE_DIR where trained models are cached
VAE_LESSON_QUICK     "1" shrinks epochs and sizes so the whole series runs in minutes
VAE_LESSON_STATIC    "1" draws static figures instead of interactive widgets (set under tests)
"""
import os
import random
from pathlib import Path

import numpy as np
import torch

QUICK = os.environ.get("VAE_LESSON_QUICK", "0") not in ("", "0", "false", "False")
STATIC = os.environ.get("VAE_LESSON_STATIC", "0") not in ("", "0", "false", "False")


def by_mode(full, quick):
    """`full` normally, `quick` when VAE_LESSON_QUICK=1 (the one place quick mode is read)."""
    return quick if QUICK else full


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


def setup(seed=0):
    """Seed everything and print what this notebook runs with. Returns the device."""
    seed_everything(seed)
    device = get_device()
    mode = by_mode("full", "quick")
    print(f"device: {device} | torch {torch.__version__} | seed {seed} | "
          f"data set: {dataset_name()} | mode: {mode}")
    return device
