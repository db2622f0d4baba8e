"""Training: one `fit` loop with a progress bar and a per-epoch history, and `trained_vae`,
which trains a model once and loads it from the cache (vae_lesson.cache) after that."""
import contextlib
import inspect
import math
import time

import torch
from tqdm.auto import trange

from . import config, timings
from .cache import load_or_build
from .data import batches, binarize as binarize_images, check_images, load
from .models import make_vae
from .objectives import elbo

# Epochs by data set, (full mode, quick mode), chosen by the number of training steps (mini-batches of
# 128) the notebooks' asserts were checked at: 2,400 on the 1,500 digits in full mode (200 epochs), 790
# on 10,000 MNIST images in quick mode (10 epochs), 1,200 on the digits in quick mode. Five epochs of
# MNIST's 60,000 images are 2,345 steps, within that range; they also keep the series cold near 15
# minutes on a 2-core CPU. The 4,000 images of mnist-5k (32 steps an epoch): 75 epochs (the digits' 2,400 steps)
# and, in quick mode, 10 (320 steps, as MNIST's quick mode). Pass epochs=... to vl.trained or vl.fit to train longer.
EPOCHS = {"mnist": (5, 10), "fashion-mnist": (5, 10), "digits": (200, 100), "mnist-5k": (75, 10)}


def default_epochs(dataset):
    full, quick = EPOCHS[dataset]
    return config.by_mode(full, quick)


@contextlib.contextmanager
def no_argument_checks():
    """torch.distributions without argument validation, for the inner training loop.

    Validation checks every parameter tensor each time a distribution is built (Normal's loc and
    scale, the prior's), and on a GPU each check waits for the device (`if not valid.all()`):
    a host-device synchronisation per distribution per step. The values computed are the same;
    fit checks the loss for NaN at the end of each epoch instead."""
    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(previous)


def train_step(model, optimizer, x, beta):
    """One step of stochastic gradient ascent on the ELBO; returns the step's per-image
    log p(x|z) and KL, detached and left on the device: no sync, and no extra operation per step.
    (The ELBO and the loss follow from these two: rec - kl and -(rec - beta * kl).)"""
    out = elbo(model, x, beta, check=False)
    optimizer.zero_grad(set_to_none=True)
    out["loss"].backward()
    optimizer.step()
    return out["rec"].detach(), out["kl"].detach()


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def adam(model, lr):
    """Adam, fused into one kernel per step where this torch supports it (CUDA, MPS, and the CPU
    since torch 2.4): about 20 % faster per step for an MLP VAE on a 2-core CPU."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(model.parameters(), lr=lr)


@torch.no_grad()
def evaluate(model, images, beta=1.0, batch_size=1000):
    """Mean ELBO, reconstruction and KL per image (nats), one z per image."""
    sums = {"elbo": 0.0, "rec": 0.0, "kl": 0.0}
    for xb in images.split(batch_size):
        out = elbo(model, xb, beta, check=False)
        for key in sums:
            sums[key] += out[key].sum().item()
    return {key: value / len(images) for key, value in sums.items()}


def fit(model, train, test=None, epochs=10, batch_size=128, lr=1e-3, beta=1.0, seed=0,
        binarize="none", progress=True, callback=None):
    """Train `model` on `train` (an ImageData) by maximising the ELBO with weight beta on the KL.

    Returns the history: per epoch, the train loss/ELBO/rec/KL, the test ELBO/rec/KL and the
    seconds the epoch's training took. Ctrl-C stops training and keeps the model and the history
    so far. binarize="dynamic" draws fresh binary images each epoch (the test set is binarised
    once, with a fixed seed). callback(row), if given, is called after each epoch with that
    epoch's numbers (a dict with the history's keys), to plot or log them as training goes;
    its time is not counted in the epoch's seconds (it is in the total that vae_lesson.timings
    records for the call)."""
    if binarize not in ("none", "dynamic"):
        raise ValueError(f"binarize must be 'none' or 'dynamic', not {binarize!r}")
    check_images(train.images, model.likelihood)
    if test is not None:
        check_images(test.images, model.likelihood)
    if batch_size > len(train):
        raise ValueError(f"batch size {batch_size} is larger than the training data ({len(train)} images)")
    device = train.images.device
    model.to(device)
    torch.manual_seed(seed)  # the reparameterization noise
    order_rng = torch.Generator().manual_seed(seed)  # the batch order
    test_images = None
    if test is not None:
        test_images = test.images
        if binarize == "dynamic":
            test_images = binarize_images(test.images, torch.Generator().manual_seed(seed + 1))
    optimizer = adam(model, lr)
    fit_start = time.perf_counter()
    history = {key: [] for key in ("epoch", "loss", "elbo", "rec", "kl",
                                   "test_elbo", "test_rec", "test_kl", "seconds")}
    bar = trange(epochs, desc="training", disable=not progress)
    try:
        for epoch in bar:
            model.train()
            _sync(device)
            start = time.perf_counter()
            x_all = train.images
            if binarize == "dynamic":
                x_all = binarize_images(train.images, order_rng if device.type == "cpu" else None)
            steps = []
            with no_argument_checks():
                for idx in batches(len(train), batch_size, order_rng, device):
                    # index_select: the rows x_all[idx] gives, about 4x faster on a CPU
                    steps.append(train_step(model, optimizer, x_all.index_select(0, idx), beta))
            _sync(device)
            seconds = time.perf_counter() - start
            recs, kls = zip(*steps)
            sums = torch.stack([torch.cat(recs).sum(), torch.cat(kls).sum()])
            rec, kl = (sums / len(train)).tolist()  # one sync per epoch
            elbo_, loss = rec - kl, -(rec - beta * kl)
            if not all(map(math.isfinite, (loss, elbo_, rec, kl))):
                raise FloatingPointError(_nan_message(epoch, lr, model, beta))
            row = {"epoch": epoch + 1, "loss": loss, "elbo": elbo_, "rec": rec, "kl": kl,
                   "seconds": seconds}
            if test_images is not None:
                model.eval()
                row.update({f"test_{k}": v for k, v in evaluate(model, test_images, beta).items()})
            row = {key: row.get(key, float("nan")) for key in history}
            for key in history:
                history[key].append(row[key])
            bar.set_postfix(loss=f"{loss:.1f}", rec=f"{rec:.1f}", kl=f"{kl:.1f}")
            if callback is not None:
                callback(row)
    except KeyboardInterrupt:
        print(f"Interrupted: keeping the model and the history of {len(history['epoch'])} epochs.")
    except ValueError as err:  # torch.distributions refused a NaN mean or a zero/NaN scale
        if "found invalid values" not in str(err):
            raise
        raise FloatingPointError(_nan_message(epoch, lr, model, beta, "a distribution's parameters "
                                              "became NaN or its scale 0")) from None
    finally:
        timings.record("fit", time.perf_counter() - fit_start)
        timings.record("epochs", 0.0, count=len(history["epoch"]))
    model.eval()
    return history


def _nan_message(epoch, lr, model, beta, what="the loss became NaN or infinite"):
    hints = [f"the learning rate may be too high (lr={lr}); try 10x lower"]
    if model.likelihood == "gaussian":
        hints.append("a Gaussian decoder with a tiny or learned sigma can make log p(x|z) explode; "
                     "try a larger fixed sigma")
    if beta <= 0:
        hints.append(f"beta={beta} leaves the encoder's variance unconstrained")
    return (f"{what} in epoch {epoch + 1}. Likely causes: "
            + "; ".join(hints) + ". Check too that the data hold no NaN.")


# --- trained models, by their settings --------------------------------------------------------

def cached_vae(dataset=None, arch="mlp", latent_dim=16, hidden=512, likelihood="bernoulli",
               sigma=0.1, prior="normal", n_pseudo=100, beta=1.0, epochs=None, batch_size=128,
               lr=1e-3, seed=None, binarize="none", device=None, progress=True):
    """trained_vae's work: returns cache.Cached((model, history), from_cache, path)."""
    dataset = dataset or config.dataset_name()
    seed = config.seed() if seed is None else seed
    device = torch.device(device or config.get_device())
    train, test = load(dataset, "train", device), load(dataset, "test", device)
    epochs = default_epochs(dataset) if epochs is None else epochs
    model_args = dict(arch=arch, latent_dim=latent_dim, hidden=hidden, likelihood=likelihood,
                      sigma=sigma, prior=prior, n_pseudo=n_pseudo)
    fit_args = dict(epochs=epochs, batch_size=batch_size, lr=lr, beta=beta, seed=seed,
                    binarize=binarize)
    settings = {**model_args, **fit_args, "dataset": dataset, "n_train": len(train)}

    def restore(state):
        model = make_vae(**model_args)
        model.load_state_dict(state["state_dict"])
        return model.to(device).eval(), state["history"]

    def build():
        torch.manual_seed(seed)  # the initial weights
        model = make_vae(**model_args).to(device)
        history = fit(model, train, test, progress=progress, **fit_args)
        if len(history["epoch"]) < epochs:  # interrupted: returned, but not cached
            return (model, history), None
        state_dict = {k: v.cpu() for k, v in model.state_dict().items()}
        return (model, history), {"state_dict": state_dict, "history": history}

    return load_or_build(f"vae-{dataset}-{arch}-z{latent_dim}", settings, build, restore, device)


def trained_vae(**settings):
    """Train a VAE with these settings (those of `cached_vae`), or load it if the same settings,
    data set and seed (default VAE_LESSON_SEED, else 0) were trained before. Returns
    (model, history). Loaded or trained, the caller's random numbers are left as they were, so
    a notebook draws the same samples after this call whether the model came from the cache or not."""
    return cached_vae(**settings).value


trained_vae.__signature__ = inspect.signature(cached_vae)  # its settings, for help() and the recipes
