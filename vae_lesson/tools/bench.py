"""Training throughput of `fit` next to the usual DataLoader loop, measured in one run.

`fit` keeps a whole split as one float tensor on the training device and draws each batch by
indexing it with a seeded permutation. The textbook alternative keeps the images as PIL images,
converts each one with torchvision's ToTensor as it is drawn and collates batches in a
DataLoader. Both loops here train the same model from the same initial weights with the same
batch size, optimizer (Adam, lr) and loss (`elbo`). What differs is what `fit` does differently:
the data pipeline, and Adam fused into one kernel per step (`train.adam`) where torch supports
it, against torch's default Adam in the tutorial loop.
Their epochs alternate, so that load from other processes slows both alike.
"""
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import config
from ..data import IMAGE_SHAPE, ImageData, load
from ..models import make_vae
from ..objectives import elbo
from ..train import _sync, adam, fit, no_argument_checks, train_step

SYNTHETIC_SIZE = 60_000  # as many images as MNIST's training split


def synthetic_uint8(n=SYNTHETIC_SIZE, seed=0):
    """n random 28x28 uint8 images (uniform noise): MNIST's size and type, not its content."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, *IMAGE_SHAPE[1:]), dtype=np.uint8)


class PILImages(torch.utils.data.Dataset):
    """Images kept as PIL images and converted by ToTensor one at a time, as in most tutorials."""

    def __init__(self, images_uint8):
        from PIL import Image
        from torchvision import transforms

        self.images = [Image.fromarray(a) for a in images_uint8]
        self.transform = transforms.ToTensor()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i])  # (1, 28, 28) float in [0, 1]


def _images_uint8(dataset, seed):
    """The training images as uint8 (N, 28, 28): synthetic noise, or a data set's training split."""
    if dataset == "synthetic":
        return synthetic_uint8(SYNTHETIC_SIZE, seed=seed)
    data = load(dataset, "train", device="cpu")
    return (data.images[:, 0] * 255).round().to(torch.uint8).numpy()


def _model(arch, latent, hidden, seed, device):
    torch.manual_seed(seed)
    return make_vae(arch=arch, latent_dim=latent, hidden=hidden).to(device)


def _summary(epoch_seconds, n):
    per_epoch = statistics.median(epoch_seconds)
    return {"seconds_per_epoch": per_epoch, "images_per_second": n / per_epoch,
            "epoch_seconds": epoch_seconds}


class FitLoop:
    """`fit` on float images (N, 1, 28, 28) already on the device, in one call for all epochs, as a
    notebook calls it; `between(row)` runs after each epoch (the other loops' epochs), outside the
    seconds fit times for its training loop (which leave out the test evaluation)."""

    def __init__(self, images, batch_size, arch, latent, hidden, lr, seed, device):
        self.model = _model(arch, latent, hidden, seed, device)
        self.data = ImageData(images, torch.zeros(len(images), dtype=torch.long), "bench")
        self.settings = dict(batch_size=batch_size, lr=lr, seed=seed, progress=False)

    def run(self, epochs, between=None):
        return fit(self.model, self.data, None, epochs=epochs, callback=between, **self.settings)["seconds"]


class MinimalLoop:
    """The shortest loop with fit's math, written by hand: two nn.Sequential, the closed-form KL,
    binary_cross_entropy_with_logits summed over pixels, fused Adam; no torch.distributions.
    The yardstick for fit's overhead (same batches, same sizes, its own permutation)."""

    def __init__(self, images, batch_size, arch, latent, hidden, lr, seed, device):
        if arch != "mlp":
            raise ValueError("the minimal loop is an MLP; use --arch mlp")
        from ..models import N_PIXELS

        torch.manual_seed(seed)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(N_PIXELS, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * latent)).to(device)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, N_PIXELS)).to(device)
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        try:
            self.optimizer = torch.optim.Adam(params, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            self.optimizer = torch.optim.Adam(params, lr=lr)
        self.images, self.batch_size, self.device = images.flatten(1), batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self):
        _sync(self.device)
        start = time.perf_counter()
        order = torch.randperm(len(self.images), generator=self.generator).to(self.device)
        for idx in order.split(self.batch_size):
            self.step(self.images.index_select(0, idx))  # as fit draws its batches
        _sync(self.device)
        return time.perf_counter() - start

    def step(self, x):
        """One step on a batch of flat images (B, 784)."""
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        logits = self.decoder(z)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum()
        loss = (rec + kl) / len(x)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


class DataLoaderLoop:
    """Epochs of a plain DataLoader loop over PIL images with ToTensor, as in most tutorials."""

    def __init__(self, images_uint8, batch_size, arch, latent, hidden, lr, seed, device, workers=0):
        self.loader = torch.utils.data.DataLoader(
            PILImages(images_uint8), batch_size=batch_size, shuffle=True, num_workers=workers,
            generator=torch.Generator().manual_seed(seed), pin_memory=device.type == "cuda",
            persistent_workers=workers > 0)
        self.model = _model(arch, latent, hidden, seed, device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.device = device

    def epoch(self):
        self.model.train()
        _sync(self.device)
        start = time.perf_counter()
        for x in self.loader:
            x = x.to(self.device, non_blocking=True)
            loss = elbo(self.model, x, check=False)["loss"]
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        _sync(self.device)
        return time.perf_counter() - start


LOOPS = ("fit", "dataloader", "minimal")


def run(dataset="synthetic", epochs=3, batch_size=128, arch="mlp", hidden=512, latent=32,
        lr=1e-3, workers=0, device=None, seed=0, loops=LOOPS):
    """Both loops on the same images; returns a JSON-ready dict with both timings and their ratio.

    dataset="synthetic" uses 60,000 random uint8 images (MNIST's size, not its content);
    any other name is loaded with `load` (its training split)."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    unknown = set(loops) - set(LOOPS)
    if unknown or "fit" not in loops:
        raise ValueError(f"loops must include 'fit' and be among {', '.join(LOOPS)}; got {', '.join(loops)}")
    if workers < 0:
        raise ValueError(f"workers must be 0 or more, got {workers}")
    device = torch.device(device or config.get_device())
    images_uint8 = _images_uint8(dataset, seed)
    if batch_size > len(images_uint8):
        raise ValueError(f"batch size {batch_size} is larger than the data ({len(images_uint8)} images)")
    # Both loops see exactly the same pixels: fit gets them as floats, the DataLoader as PIL images.
    images = torch.from_numpy(images_uint8).unsqueeze(1).float().div(255).to(device)
    common = dict(batch_size=batch_size, arch=arch, latent=latent, hidden=hidden, lr=lr, seed=seed,
                  device=device)
    names = [name for name in LOOPS if name in loops and (name != "minimal" or arch == "mlp")]
    make = {"fit": lambda: FitLoop(images, **common),
            "dataloader": lambda: DataLoaderLoop(images_uint8, workers=workers, **common),
            "minimal": lambda: MinimalLoop(images, **common)}
    others = [make[name]() for name in names if name != "fit"]
    # Epochs alternate between the loops (the others run between fit's epochs), so that a slowdown
    # from other processes hits all alike; the first epoch of each is a warm-up and is not counted.
    other_seconds = [[] for _ in others]

    def between(_row):
        for loop, times in zip(others, other_seconds):
            times.append(loop.epoch())

    fit_seconds = make["fit"]().run(epochs + 1, between)
    seconds = [fit_seconds, *other_seconds]
    names = ["fit", *[name for name in names if name != "fit"]]
    summary = {name: _summary(times[1:], len(images_uint8)) for name, times in zip(names, seconds)}
    fast, slow, minimal = summary["fit"], summary.get("dataloader"), summary.get("minimal")
    return {
        "dataset": dataset,
        "synthetic": dataset == "synthetic",
        "note": (f"synthetic data: {len(images_uint8):,} random 28x28 images (MNIST's size, "
                 f"not its content)"
                 if dataset == "synthetic" else f"training split of {dataset}"),
        "n_images": len(images_uint8),
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "arch": arch, "hidden": hidden, "latent": latent, "batch_size": batch_size,
        "timed_epochs": epochs, "warmup_epochs": 1, "epochs_alternate": True,
        "vl_fit": fast,
        "vl_fit_optimizer": "fused Adam where supported (vae_lesson.train.adam)",
        **({"dataloader": {**slow, "workers": workers, "transform": "PIL image -> ToTensor per item",
                           "optimizer": "torch.optim.Adam, default implementation"},
            "speedup": slow["seconds_per_epoch"] / fast["seconds_per_epoch"],
            "speedup_per_epoch": [b / a for a, b in zip(fast["epoch_seconds"], slow["epoch_seconds"])]}
           if slow else {}),
        **({"minimal_loop": {**minimal, "what": ("two nn.Sequential, closed-form KL, "
                             "binary_cross_entropy_with_logits, fused Adam; no torch.distributions")},
            # fit's seconds over the minimal loop's: 1.0 = no overhead from the distributions
            "fit_vs_minimal": fast["seconds_per_epoch"] / minimal["seconds_per_epoch"],
            "fit_vs_minimal_per_epoch": [a / b for a, b in zip(fast["epoch_seconds"],
                                                               minimal["epoch_seconds"])]}
           if minimal else {}),
    }


def run_steps(dataset="digits", steps=2000, batch_size=128, hidden=512, latent=16, lr=1e-3,
              device=None, seed=0):
    """fit's training step (`train.train_step`, as fit calls it) against the minimal loop's step,
    alternating step by step on the same batches: per-step medians and their ratio. Steadier than
    whole epochs against a load that comes and goes, it times the step alone, not fit's loop."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    device = torch.device(device or config.get_device())
    images = torch.from_numpy(_images_uint8(dataset, seed)).unsqueeze(1).float().div(255).to(device)
    model = _model("mlp", latent, hidden, seed, device)
    optimizer = adam(model, lr)
    minimal = MinimalLoop(images, batch_size, "mlp", latent, hidden, lr, seed, device)
    generator = torch.Generator().manual_seed(seed)
    times = {"fit": [], "minimal": []}

    def timed(name, step):
        _sync(device)
        start = time.perf_counter()
        step()
        _sync(device)
        times[name].append(time.perf_counter() - start)

    warmup = min(50, steps // 10)
    with no_argument_checks():  # as in fit
        for i in range(steps + warmup):
            idx = torch.randperm(len(images), generator=generator)[:batch_size].to(device)
            x = images.index_select(0, idx)      # (B, 1, 28, 28) for fit's model
            x_flat = x.flatten(1)                # the same pixels, (B, 784), for the minimal loop
            pair = [("fit", lambda: train_step(model, optimizer, x, 1.0)),
                    ("minimal", lambda: minimal.step(x_flat))]
            for name, step in pair if i % 2 else pair[::-1]:  # alternate which goes first
                timed(name, step)
    fit_s, minimal_s = (statistics.median(times[k][warmup:]) for k in ("fit", "minimal"))
    return {"dataset": dataset, "device": str(device), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "hidden": hidden, "latent": latent, "batch_size": batch_size,
            "timed_steps": steps, "warmup_steps": warmup,
            "fit_step_seconds": fit_s, "minimal_step_seconds": minimal_s,
            "fit_vs_minimal_per_step": fit_s / minimal_s}
