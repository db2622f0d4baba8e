"""Settings read from the environment, in one place.

VAE_LESSON_DEVICE    force a device ("cpu", "cuda", "cuda:1", "mps")
VAE_LESSON_DATASET   data set for the whole series: mnist (default), fashion-mnist, digits
VAE_LESSON_DATA_DIR  where data sets are downloaded / looked for
VAE_LESSON_CACHE_DIR where trained models are cached
VAE_LESSON_QUICK     "1" shrinks epochs and sizes so the whole series runs in minutes
VAE_LESSON_SEED      the random seed of every notebook and its models (default 0), to check that
                     no claim hangs on one seed
VAE_LESSON_STATIC    "1" draws static figures instead of interactive widgets (set under tests)
VAE_LESSON_CLAIMS    "raise": a teaching claim that a run does not support raises (set under tests,
                     by the claims ledger and the website build); otherwise it shows a box and the
                     notebook goes on
VAE_LESSON_CLAIMS_LEDGER  a file each claim is appended to as a JSON line (implies "raise")

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


def claims_raise():
    """True when a claim that does not hold must stop the notebook (vae_lesson.claims): under tests,
    the claims ledger and the website build (VAE_LESSON_CLAIMS=raise, or a ledger file set). A
    student's run shows the failed claim in a box instead and goes on."""
    if os.environ.get("VAE_LESSON_CLAIMS_LEDGER", "").strip():
        return True
    mode = os.environ.get("VAE_LESSON_CLAIMS", "show").strip().lower() or "show"
    if mode not in ("raise", "show"):
        raise ValueError(f"VAE_LESSON_CLAIMS must be 'raise' or 'show', got {mode!r}")
    return mode == "raise"


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


def _mps_available():
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def available_devices():
    """The devices this machine has, as VAE_LESSON_DEVICE would name them."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    return names


def _has(device):
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    if device.type == "mps":
        return _mps_available()
    try:  # another kind torch knows (xpu, meta, ...): it exists if a tensor can be made on it
        torch.empty(0, device=device)
        return True
    except Exception:
        return False


def _forced_device(text):
    """VAE_LESSON_DEVICE as a device, or one line saying what was asked and what is available."""
    fix = (f"available here: {', '.join(available_devices())}; set VAE_LESSON_DEVICE to one of "
           f"these, or unset it to pick the best one")
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise ValueError(f"VAE_LESSON_DEVICE={text!r} is not a device name; {fix}") from None
    if not _has(device):
        raise RuntimeError(f"VAE_LESSON_DEVICE={text!r} asks for a device this machine lacks; {fix}")
    return device


def get_device():
    """CUDA, then Apple MPS, then CPU; VAE_LESSON_DEVICE overrides (checked: it must exist here)."""
    forced = os.environ.get("VAE_LESSON_DEVICE", "").strip()
    if forced:
        return _forced_device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def flush_denormals():
    """Compute float32 numbers below 1.2e-38 (subnormals) as zero on the CPU; returns whether
    this CPU supports it (x86 does).

    Many CPUs compute with subnormals in microcode, tens of times slower per operation. Training
    makes them where a weight exp(log w - max) underflows: notebook 05's decoder trained with 32
    prior draws per image took 60 s for 160 steps on a 2-core Intel Xeon, 8.5 s with them
    flushed, for the same losses to 0.1 nats. Flushing changes each such number by less than
    1.2e-38 (float64: 2.2e-308). It is the CPU's setting for the calling thread, so it holds for
    NumPy and Python floats on that thread too; the CPU threads torch starts later inherit it, so
    `import vae_lesson` sets it, before the first parallel computation. To undo it:
    torch.set_flush_denormal(False)."""
    return torch.set_flush_denormal(True)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def setup(seed=None):
    """Seed everything (default: VAE_LESSON_SEED, else 0), draw figures sharp (plots.sharp_figures) and
    print what this notebook runs with. Returns the device."""
    seed = _seed_setting() if seed is None else seed
    seed_everything(seed)
    from .plots import sharp_figures

    sharp_figures()
    device = get_device()
    mode = by_mode("full", "quick")
    print(f"device: {device} | torch {torch.__version__} | seed {seed} | "
          f"data set: {dataset_name()} | mode: {mode}")
    return device
