# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Lab: build a VAE yourself
#
# *Time: about 110 minutes (core path 110) · Read first: 01, 03 · GPU: helps, not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/08_lab_build_a_vae.ipynb)
#
# So far `vl.make_vae` and `vl.fit` built and trained every model. In this lab you write each part of a VAE
# (Kingma & Welling, 2014) yourself, one stage at a time, and compare it with the package's version on the same
# weights and the same random seed.
#
# **What you will learn**
# - write an encoder and a decoder as `nn.Module`s whose `forward` returns a `torch.distributions` object;
# - draw $z$ by reparameterization by hand, and see why gradients reach the encoder;
# - write the KL to the prior in closed form, and the ELBO of each image;
# - write the training loop, and show that it reproduces `vl.fit` step for step.
#
# Each stage gives the formula, then a cell for your code (marked `# YOUR CODE HERE`), then a check cell that prints
# a hint until your code is right.

# %% cellView="form" jupyter={"source_hidden": true} tags=["setup"]
# @title Setup (Colab only: installs the helper package; nothing to read here)
# Setup. In Colab this installs the series' helper package, vae_lesson, from GitHub; it keeps Colab's
# own torch, numpy and widgets, so no restart is needed. Anywhere else it does nothing.
REPO_URL = "https://github.com/vae-lesson/vae-lesson"  # a copy of the series: vae-lesson set-repo URL
REF = "main"  # the branch or tag to install
import sys


class SetupError(Exception):
    def _render_traceback_(self):  # Jupyter shows the message alone, without a traceback
        return [f"SetupError: {self}"]


def install_vae_lesson(url, ref):
    import importlib.metadata, os, subprocess
    versions = lambda: {str(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    command = ["git", "ls-remote", url, ref]
    tried = " ".join(command)
    git = subprocess.run(command, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    if git.returncode != 0 or not git.stdout.strip():
        said = (git.stderr.strip().splitlines() or ["no such branch or tag"])[-1]
        raise SetupError(
            f"Could not reach branch or tag {ref!r} of {url} (tried `{tried}`: {said}), so vae_lesson "
            f"is not installed. A copy of this series must set its own address: in its folder run "
            f"`vae-lesson set-repo https://github.com/OWNER/REPO --ref BRANCH`, then commit and push.")
    before = versions()
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{url}@{ref}"],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        raise SetupError(f"pip could not install git+{url}@{ref}:\n{pip.stderr.strip()}")
    changed = {n: v for n, v in versions().items() if before.get(n) != v}
    print(f"Installed from {url} at {ref} (commit {git.stdout.split()[0][:7]}):",
          ", ".join(f"{n} {before.get(n, '(new)')} -> {v}" for n, v in sorted(changed.items())))
    if set(changed) & set(before):
        print("A preloaded package changed: restart the runtime (Runtime > Restart session), then go on.")


if "google.colab" in sys.modules:
    install_vae_lesson(REPO_URL, REF)


# %%
import contextlib
import copy
import io
import math
from types import SimpleNamespace

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence
from tqdm.auto import trange

import vae_lesson as vl

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown] tags=["core"]
# ## 0. Data, and the package's model to compare with
#
# The images are $x \in [0, 1]^{1 \times 28 \times 28}$ (grey levels; notebook 03, section 1). The package's model,
# `vl.make_vae(latent_dim=16, hidden=512)`, is the yardstick of every stage: an untrained copy `ref`, made with the
# notebook's seed. `copy_weights` copies its weights into your modules, parameter by parameter, so that yours and the
# package's compute from the same numbers.

# %%
train = vl.load(split="train")
test = vl.load(split="test")
x = test.images[:256]                                   # a fixed batch of test images for the checks
print(f"{test.name}: {len(train)} training and {len(test)} test images of shape {tuple(x.shape[1:])}, on {device}")

torch.manual_seed(SEED)
ref = vl.make_vae(latent_dim=16, hidden=512).to(device)  # the package's model, untrained
print(ref.encoder.net, ref.decoder.net, sep="\n")


@torch.no_grad()
def copy_weights(source, target):
    """Copy the parameters of module `source` into module `target`, in order; both must have the same shapes."""
    mine, theirs = list(target.parameters()), list(source.parameters())
    shapes = [tuple(p.shape) for p in mine], [tuple(p.shape) for p in theirs]
    if shapes[0] != shapes[1]:
        raise ValueError(f"your module's parameter shapes {shapes[0]} differ from the package's {shapes[1]}")
    for p, q in zip(mine, theirs):
        p.copy_(q)
    return target


def yours_or_reference(make, reference, test, name):
    """Your module (made by `make`) with the reference's weights if it passes its exercise's `test`; otherwise a copy
    of the reference, so that a later check tests the later exercise alone."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the test's own printout belongs to its exercise
            passes = bool(test())
    except Exception:
        passes = False
    if passes:
        return copy_weights(reference, make().to(device))
    print(f"(your {name} does not pass exercise {1 if name == 'encoder' else 2} yet: this stage uses the package's)")
    return copy.deepcopy(reference)

# %% [markdown] tags=["core"]
# ## 1. The encoder $q(z \mid x)$
#
# The encoder maps an image to a diagonal Gaussian over the code $z \in \mathbb R^{D}$, $D = 16$:
#
# $$q(z \mid x) = \mathcal N\big(z;\ \mu(x), \operatorname{diag}\sigma^2(x)\big) = \prod_{j=1}^{D}
# \mathcal N\big(z_j;\ \mu_j(x), \sigma_j^2(x)\big).$$
#
# A network outputs $2D$ numbers per image: the first $D$ are $\mu(x)$, the last $D$ are $\log \sigma^2(x)$, any real
# number, so that $\sigma = \exp(\tfrac12 \log\sigma^2) > 0$ needs no constraint. In `torch.distributions`,
# `Normal(mu, sigma)` is $D$ independent normals; `Independent(..., 1)` makes them one distribution over the vector
# $z$, so that `log_prob(z)` sums over $j$ and returns one number per image.
#
# **Exercise 1.** Write `Encoder`: in `__init__`, the network `self.net` = `Flatten`, `Linear(784, hidden)`, `ReLU`,
# `Linear(hidden, 2 * latent_dim)` (the package's, printed above); `forward(x)` returns $q(z \mid x)$ as
# `Independent(Normal(mu, sigma), 1)`.

# %%
class Encoder(nn.Module):
    def __init__(self, latent_dim=16, hidden=512):
        super().__init__()
        ### BEGIN SOLUTION
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
        ### END SOLUTION

    def forward(self, x):
        """q(z|x): an Independent(Normal(mu, sigma), 1) with batch shape (B,) and event shape (latent_dim,)."""
        ### BEGIN SOLUTION
        mu, log_var = self.net(x).chunk(2, dim=-1)
        return Independent(Normal(mu, torch.exp(0.5 * log_var)), 1)
        ### END SOLUTION


# %%
def test_encoder():
    mine = copy_weights(ref.encoder, Encoder().to(device))
    with torch.no_grad():
        qz, qz_ref = mine(x), ref.encoder(x)
    z = qz_ref.sample()
    checks = {"an Independent(Normal)": isinstance(qz, Independent) and isinstance(qz.base_dist, Normal),
              "batch shape (B,), event shape (16,)": (qz.batch_shape, qz.event_shape) == ((len(x),), (16,)),
              "the package's mean": torch.allclose(qz.mean, qz_ref.mean, atol=1e-5),
              "the package's standard deviation": torch.allclose(qz.stddev, qz_ref.stddev, atol=1e-5),
              "the package's log q(z|x)": torch.allclose(qz.log_prob(z), qz_ref.log_prob(z), atol=1e-3)}
    print("failed:", ", ".join(k for k, ok in checks.items() if not ok) or "nothing")
    return all(checks.values())


vl.exercises.check(test_encoder, hint="self.net as described (the order of the layers matters for copy_weights); "
                   "in forward, split the 2D outputs with .chunk(2, dim=-1) into mu and log_var, sigma = "
                   "exp(0.5 * log_var), and wrap Normal(mu, sigma) in Independent(..., 1)",
                   success="your q(z|x) is the package's, to rounding error");

# %% [markdown] tags=["core"]
# ## 2. The decoder $p(x \mid z)$
#
# The decoder maps a code to a distribution over images. For pixel values in $[0, 1]$, a Bernoulli per pixel:
#
# $$p(x \mid z) = \prod_{i=1}^{784} \mathrm{Bern}\big(x_i;\ \pi_i(z)\big), \qquad
# \log p(x \mid z) = \sum_i x_i \log \pi_i + (1 - x_i) \log(1 - \pi_i), \qquad \pi_i = \mathrm{sigmoid}(\ell_i(z)).$$
#
# The network outputs the **logits** $\ell_i$; `Bernoulli(logits=...)` computes $\log p$ from them without forming
# $\log \pi_i$, which would be $-\infty$ where $\pi_i$ rounds to 0. The images are grey levels, not 0 or 1:
# `validate_args=False` lets `log_prob` take them (the formula above stays a cross-entropy; notebook 03, section 6).
# `Independent(..., 3)` makes the $1 \times 28 \times 28$ pixels one event: one $\log p(x \mid z)$ per image.
#
# **Exercise 2.** Write `Decoder`: `self.net` = `Linear(latent_dim, hidden)`, `ReLU`, `Linear(hidden, 784)`;
# `forward(z)` reshapes the output to `(-1, 1, 28, 28)` and returns $p(x \mid z)$.

# %%
class Decoder(nn.Module):
    def __init__(self, latent_dim=16, hidden=512):
        super().__init__()
        ### BEGIN SOLUTION
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784))
        ### END SOLUTION

    def forward(self, z):
        """p(x|z): an Independent(Bernoulli(logits=...), 3) with batch shape (B,) and event shape (1, 28, 28)."""
        ### BEGIN SOLUTION
        logits = self.net(z).view(-1, 1, 28, 28)
        return Independent(Bernoulli(logits=logits, validate_args=False), 3)
        ### END SOLUTION


# %%
def test_decoder():
    mine = copy_weights(ref.decoder, Decoder().to(device))
    sure = copy.deepcopy(ref.decoder)                   # a confident decoder: logits 20 times larger
    with torch.no_grad():
        sure.net[-1].weight.mul_(20)
    mine_sure = copy_weights(sure, Decoder().to(device))
    z = torch.randn(len(x), 16, device=device)
    with torch.no_grad():
        px, px_ref = mine(z), ref.decoder(z)
        log_p, log_p_ref = px.log_prob(x), px_ref.log_prob(x)
        log_p_sure, log_p_sure_ref = mine_sure(z).log_prob(x), sure(z).log_prob(x)
    checks = {"an Independent(Bernoulli)": isinstance(px, Independent) and isinstance(px.base_dist, Bernoulli),
              "batch shape (B,), event shape (1, 28, 28)": (px.batch_shape, px.event_shape) == ((len(x),), (1, 28, 28)),
              "the package's log p(x|z)": torch.allclose(log_p, log_p_ref, rtol=1e-5, atol=1e-2),
              "the package's log p(x|z) for a confident decoder": torch.allclose(log_p_sure, log_p_sure_ref, rtol=1e-4, atol=1e-1)}
    print(f"log p(x|z) of the first image: yours {log_p[0]:.3f}, the package's {log_p_ref[0]:.3f}; failed:",
          ", ".join(k for k, ok in checks.items() if not ok) or "nothing")
    return all(checks.values())


vl.exercises.check(test_decoder, hint="Bernoulli(logits=out, validate_args=False) with out of shape (B, 1, 28, 28) "
                   "(use .view(-1, 1, 28, 28)), wrapped in Independent(..., 3); logits, not probabilities",
                   success="your p(x|z) is the package's");

# %% [markdown] tags=["core"]
# ## 3. The reparameterized draw
#
# The ELBO's reconstruction term is an expectation under $q(z \mid x)$, estimated with one draw. To let its gradient
# reach $\mu$ and $\sigma$ (and the encoder's weights), write the draw as a differentiable function of them
# (notebook 02):
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal N(0, I).$$
#
# **Exercise 3.** Write `draw(qz)`: one $z$ per image from a diagonal Gaussian `qz`, by the formula above, with
# `torch.randn_like`. (It is what `qz.rsample()` does, so with the same seed the two give the same numbers.)

# %%
### BEGIN SOLUTION
def draw(qz):
    """One reparameterized draw z = mu + sigma * eps per row of the diagonal Gaussian qz."""
    return qz.mean + qz.stddev * torch.randn_like(qz.mean)
### END SOLUTION


# %%
def test_draw():
    encoder = copy_weights(ref.encoder, vl.make_vae().encoder.to(device))   # the package's encoder, a copy
    qz = encoder(x)
    torch.manual_seed(SEED)
    z = draw(qz)
    torch.manual_seed(SEED)
    z_ref = qz.rsample()
    try:                                                 # only qz.mean and qz.stddev: no rsample to call
        torch.manual_seed(SEED)
        by_formula = torch.allclose(draw(SimpleNamespace(mean=qz.mean, stddev=qz.stddev)), z_ref, atol=1e-6)
    except Exception:
        by_formula = False
    z.sum().backward()
    grad = encoder.net[1].weight.grad
    many = Independent(Normal(qz.mean[0].detach().expand(20_000, -1), qz.stddev[0].detach().expand(20_000, -1)), 1)
    zs = draw(many)
    se = qz.stddev[0].detach() / math.sqrt(20_000)
    checks = {"same numbers as qz.rsample() on the same seed": torch.allclose(z, z_ref, atol=1e-6),
              "by the formula, from qz.mean and qz.stddev alone": by_formula,
              "mean mu": ((zs.mean(0) - many.mean[0]).abs() < 5 * se).all().item(),
              "standard deviation sigma": torch.allclose(zs.std(0), many.stddev[0], rtol=0.05),
              "gradient reaches the encoder's weights": grad is not None and grad.abs().sum().item() > 0}
    print("failed:", ", ".join(k for k, ok in checks.items() if not ok) or "nothing")
    return all(checks.values())


vl.exercises.check(test_draw, hint="build z from qz.mean, qz.stddev and noise from torch.randn_like, as in the formula; "
                   "no .detach(), no torch.no_grad(), no qz.sample() (it draws without gradients), and not qz.rsample() itself",
                   success="z = mu + sigma * eps: the same numbers as rsample, with gradients");

# %% [markdown] tags=["core"]
# ## 4. The KL to the prior, in closed form
#
# The prior is $p(z) = \mathcal N(0, I)$. For a diagonal Gaussian $q$ the KL has a closed form (notebook 01;
# Kingma & Welling, 2014, appendix B):
#
# $$\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big) = \frac12 \sum_{j=1}^{D}\big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big).$$
#
# **Exercise 4.** Write `kl_to_prior(qz)`: this formula, one value per image, from `qz.mean` and `qz.stddev`.

# %%
### BEGIN SOLUTION
def kl_to_prior(qz):
    """KL(qz || N(0, I)) in closed form, one value per row of the diagonal Gaussian qz."""
    mu, var = qz.mean, qz.stddev.pow(2)
    return 0.5 * (mu.pow(2) + var - 1 - var.log()).sum(-1)
### END SOLUTION


# %%
def test_kl():
    g = torch.Generator().manual_seed(SEED)    # a wide q (codes of a trained model), and the untrained encoder's
    mu, sigma = (2 * torch.randn(64, 16, generator=g)).to(device), (torch.rand(64, 16, generator=g) + 0.05).to(device)
    wide = Independent(Normal(mu, sigma), 1)
    ok = True
    for name, qz in (("a wide q", wide), ("the untrained encoder's q", ref.encoder(x))):
        kl = kl_to_prior(qz)
        kl_torch = kl_divergence(qz, Independent(Normal(torch.zeros_like(qz.mean), torch.ones_like(qz.mean)), 1))
        kl_vl = vl.objectives.kl_to_standard_normal(qz)
        ratio = (kl.sum() / kl_torch.sum()).item()
        print(f"{name}: mean KL yours {kl.mean():.4f}, torch's {kl_torch.mean():.4f}, the package's {kl_vl.mean():.4f}; "
              f"yours / torch's = {ratio:.2f}" + (" (missing 1/2?)" if abs(ratio - 2) < 0.01 else ""))
        ok &= kl.shape == kl_vl.shape and torch.allclose(kl, kl_torch, rtol=1e-4, atol=1e-4)
    try:                                                 # only mean and stddev: torch's kl_divergence cannot take it
        bare = kl_to_prior(SimpleNamespace(mean=mu, stddev=sigma))
        by_formula = torch.allclose(bare, kl_to_prior(wide), rtol=1e-5)
    except Exception:
        by_formula = False
    print("by the formula, from qz.mean and qz.stddev alone:", "yes" if by_formula else "no")
    return ok and by_formula


vl.exercises.check(test_kl, hint="qz.stddev is sigma; the formula needs sigma^2 = qz.stddev**2 and log sigma^2; "
                   "keep the 1/2; sum over the last axis (dim=-1): one number per image; write the formula, not kl_divergence",
                   success="your KL is torch's and the package's closed form");

# %% [markdown] tags=["core"]
# ## 5. The ELBO of each image
#
# With one draw $z = \mu(x) + \sigma(x) \odot \varepsilon$, the ELBO of an image is estimated by
#
# $$\mathrm{ELBO}(x) = \log p(x \mid z) - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big) \;\le\; \log p(x),$$
#
# in nats per image: an unbiased estimate of $\mathbb E_{q(z\mid x)}[\log p(x \mid z)] - \mathrm{KL}$ (Kingma & Welling,
# 2014, eq. 10).
#
# **Exercise 5a (predict, then run).** The untrained decoder's logits are all close to 0. Before computing
# anything, predict the untrained model's mean ELBO on the test images: `"between -10 and 0"`,
# `"between -1000 and -100"` or `"below -10000"`.

# %%
# set my_prediction to "between -10 and 0", "between -1000 and -100" or "below -10000"
### BEGIN SOLUTION
my_prediction = "between -1000 and -100"
### END SOLUTION

# %%
with torch.no_grad():
    torch.manual_seed(SEED)
    elbo_untrained = vl.elbo(ref, test.images)["elbo"].mean().item()   # the package's ELBO, untrained weights


def check_prediction():
    ranges = {"between -10 and 0": (-10, 0), "between -1000 and -100": (-1000, -100), "below -10000": (-math.inf, -10000)}
    assert my_prediction in ranges, f"my_prediction is {my_prediction!r}, not one of {tuple(ranges)}"
    outcome = next((o for o, (low, high) in ranges.items() if low < elbo_untrained < high), "none of these")
    print(f"you predicted {my_prediction!r}; measured {elbo_untrained:.1f} nats per image: {outcome!r}")
    return my_prediction == outcome


vl.exercises.check(check_prediction, hint="logit 0 means pi = 1/2 for each of the 784 pixels: what is "
                   "x log(1/2) + (1 - x) log(1/2)? The KL of the untrained encoder is under 1 nat",
                   success="784 log(1/2) = -543 nats: a decoder that knows nothing pays one bit per pixel");

# %% [markdown]
# **Exercise 5b.** Write `elbo_per_image(encoder, decoder, x)`: the one-draw ELBO of each image, a tensor of shape
# `(B,)`, with your `draw` and `kl_to_prior`. The check runs it on your modules with the package's weights, and
# `vl.elbo` on the package's model, from the same seed: the two draws of $\varepsilon$ are then the same numbers.

# %%
### BEGIN SOLUTION
def elbo_per_image(encoder, decoder, x):
    """One-draw ELBO of each image: log p(x|z) - KL(q(z|x) || N(0, I)) with z = mu + sigma * eps; shape (B,)."""
    qz = encoder(x)
    z = draw(qz)
    return decoder(z).log_prob(x) - kl_to_prior(qz)
### END SOLUTION


# %%
def test_elbo():
    encoder = yours_or_reference(Encoder, ref.encoder, test_encoder, "encoder")
    decoder = yours_or_reference(Decoder, ref.decoder, test_decoder, "decoder")
    package = copy.deepcopy(ref)
    torch.manual_seed(SEED)
    mine = elbo_per_image(encoder, decoder, x)
    torch.manual_seed(SEED)
    theirs = vl.elbo(package, x)["elbo"]
    theirs.mean().backward()                             # the gradient reaches the encoder through z and the KL
    if mine.requires_grad:
        mine.mean().backward()
    grad, grad_ref = encoder.net[1].weight.grad, package.encoder.net[1].weight.grad
    mine, theirs = mine.detach(), theirs.detach()
    checks = {"vl.elbo's values": mine.shape == theirs.shape and torch.allclose(mine, theirs, rtol=1e-5, atol=1e-2),
              "vl.elbo's gradient for the encoder": grad is not None and torch.allclose(grad, grad_ref, rtol=1e-3, atol=1e-5)}
    print(f"mean ELBO: yours {mine.mean():.3f}, vl.elbo's {theirs.mean():.3f} nats per image; largest difference "
          f"{(mine - theirs).abs().max():.1e}; failed:", ", ".join(k for k, ok in checks.items() if not ok) or "nothing")
    return all(checks.values())


vl.exercises.check(test_elbo, hint="encode x, take one z with your draw, score x under the decoder's p(x|z), subtract "
                   "your KL; keep one value per image (no mean); use your draw, so that the gradient reaches the encoder through z "
                   "(no qz.sample(), no .detach()); exercises 3 and 4 must pass first",
                   success="your ELBO is vl.elbo's on the same weights and noise, values and gradient");

# %% [markdown] tags=["core"]
# ## 6. The training loop
#
# Training maximises the average ELBO over the $N$ training images by stochastic gradient ascent: each step takes a
# mini-batch $x_1, \dots, x_B$ and one Adam step (learning rate $10^{-3}$) on the loss
#
# $$\mathcal L = -\frac1B \sum_{b=1}^{B} \mathrm{ELBO}(x_b).$$
#
# An epoch is one pass over the training images in a random order.
#
# **Exercise 6.** Write `train_by_hand(encoder, decoder, images, epochs, batch_size=128, lr=1e-3, seed=0)`: Adam on
# the parameters of both modules, a `trange(epochs)` progress bar, and a list of the loss at every step, returned.
# So that your run can be compared with `vl.fit`'s on the same seed, draw the randomness as it does:
# `torch.manual_seed(seed)` once at the start (the noise $\varepsilon$), and the batches of each epoch from
# `vl.data.batches(len(images), batch_size, order, images.device)` with `order = torch.Generator().manual_seed(seed)`
# made once, before the first epoch.

# %%
### BEGIN SOLUTION
def train_by_hand(encoder, decoder, images, epochs, batch_size=128, lr=1e-3, seed=0):
    """Maximise the mean ELBO of `images` with Adam; returns the loss (minus the batch's mean ELBO) of every step."""
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    torch.manual_seed(seed)                              # the noise eps of every z
    order = torch.Generator().manual_seed(seed)          # the order of the mini-batches
    losses = []
    for epoch in trange(epochs, desc="train_by_hand"):
        for idx in vl.data.batches(len(images), batch_size, order, images.device):
            loss = -elbo_per_image(encoder, decoder, images[idx]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
### END SOLUTION


# %%
def test_loop():
    small = vl.data.ImageData(train.images[:512], train.labels[:512], train.name)       # 2 epochs of 4 steps of 128
    encoder = yours_or_reference(Encoder, ref.encoder, test_encoder, "encoder")
    decoder = yours_or_reference(Decoder, ref.decoder, test_decoder, "decoder")
    losses = train_by_hand(encoder, decoder, small.images, epochs=2, seed=SEED)
    model_fit = copy_weights(ref, vl.make_vae().to(device))
    history = vl.fit(model_fit, small, epochs=2, seed=SEED, progress=False)
    means = [sum(losses[i:i + 4]) / 4 for i in (0, 4)]
    pairs = list(zip([*encoder.parameters(), *decoder.parameters()], model_fit.parameters()))
    gap = max((p - q).abs().max().item() for p, q in pairs)
    print(f"{len(losses)} steps; epoch mean losses yours {means[0]:.3f}, {means[1]:.3f}, vl.fit's "
          f"{history['loss'][0]:.3f}, {history['loss'][1]:.3f} nats; largest weight difference after training {gap:.1e}")
    return (len(losses) == 8 and all(type(loss) is float for loss in losses)
            and all(abs(m - h) < 0.01 for m, h in zip(means, history["loss"]))
            and all(torch.allclose(p, q, atol=1e-4) for p, q in pairs))


vl.exercises.check(test_loop, hint="exercises 3 to 5b must pass first; Adam(lr=lr) on both modules' parameters; one "
                   "loss per mini-batch, minus the batch's mean ELBO; zero the gradients, backward, step; seed once "
                   "with torch.manual_seed(seed) and make `order` once, before the loop over epochs (a new `order` "
                   "each epoch repeats the first epoch's batches); append each loss as a float (.item())",
                   success="your loop takes vl.fit's steps: the same losses and the same weights after 2 epochs");

# %% [markdown]
# ### Does your loop reproduce `vl.fit` over a whole run?
#
# Train your modules and the package's model from the same initial weights, on the same seed, for the same number of
# epochs (a few hundred steps in quick mode), then score both on the **test** images with the same evaluator and the
# same noise. A loop that reproduces `vl.fit` step for step gives the same test ELBO, up to rounding: `vl.fit`'s
# Adam is fused into one kernel, so the last digits differ and the difference grows a little over a run. The check
# allows 0.2 nats, less than the test ELBOs of two runs on different seeds differ by.

# %%
epochs = max(1, round(vl.by_mode(2000, 240) / math.ceil(len(train) / 128)))
encoder_mine = yours_or_reference(Encoder, ref.encoder, test_encoder, "encoder")
decoder_mine = yours_or_reference(Decoder, ref.decoder, test_decoder, "decoder")
losses = train_by_hand(encoder_mine, decoder_mine, train.images, epochs, seed=SEED)
model_fit = copy_weights(ref, vl.make_vae().to(device))
history = vl.fit(model_fit, train, epochs=epochs, seed=SEED)

model_mine = vl.make_vae().to(device)                    # your trained weights in the package's model, to score them
copy_weights(encoder_mine, model_mine.encoder), copy_weights(decoder_mine, model_mine.decoder)
test_elbo = {}
for name, model in (("yours", model_mine), ("vl.fit", model_fit)):
    torch.manual_seed(SEED)                              # the same noise for both
    test_elbo[name] = vl.train.evaluate(model.eval(), test.images)["elbo"]
print(f"{epochs} epochs, {len(losses)} steps; test ELBO: yours {test_elbo['yours']:.2f}, vl.fit's "
      f"{test_elbo['vl.fit']:.2f}, untrained {elbo_untrained:.2f} nats per image")
vl.exercises.check(lambda: abs(test_elbo["vl.fit"] - test_elbo["yours"]) < 0.2,
                   hint="the two test ELBOs should agree to within 0.2 nats; if they do not, your loop departs from "
                   "vl.fit's steps (a seed set again each epoch, a new batch order each epoch, another seed): "
                   "exercise 6's check must pass first",
                   success="your loop reproduces vl.fit's run: the same test ELBO, up to rounding");

# %%
steps_per_epoch = len(losses) // epochs
fig, axes = plt.subplots(1, 2, figsize=(11, 3.3), gridspec_kw={"width_ratios": [1, 1.4]})
epoch_ends = [e * steps_per_epoch for e in history["epoch"]]
epoch_means = [sum(losses[e - steps_per_epoch:e]) / steps_per_epoch for e in epoch_ends]
axes[0].plot(range(1, len(losses) + 1), losses, lw=0.8, color="0.6", label="your loop, each step")
axes[0].plot(epoch_ends, epoch_means, "x", ms=7, label="your loop, epoch mean")
axes[0].plot(epoch_ends, history["loss"], "o", ms=3, label="vl.fit, epoch mean")
axes[0].set(xlabel="training step", ylabel="loss (nats per image)", ylim=(None, min(losses[0], 600)))
axes[0].legend()
with torch.no_grad():
    torch.manual_seed(SEED)
    shown = torch.cat([x[:8], decoder_mine(draw(encoder_mine(x[:8]))).mean,
                       decoder_mine(torch.randn(8, 16, device=device)).mean])
vl.plots.show_images(shown, nrow=8, title="test images; your reconstructions; your samples from p(z)", ax=axes[1])
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** on the left, your per-step loss falls steeply over the first steps, then slowly, and
# `vl.fit`'s epoch means (dots) sit on yours (crosses); on the right, reconstructions that resemble the test digits, and samples from
# $p(z)$ that are blurrier digit-like strokes (a short training run; notebook 06 asks why samples look worse).

# %% [markdown] tags=["core"]
# ## Summary
#
# - An encoder returns $q(z \mid x) = $ `Independent(Normal(mu, sigma), 1)`, a decoder returns
#   $p(x \mid z) = $ `Independent(Bernoulli(logits=...), 3)`: `log_prob` then gives one number per image.
# - $z = \mu + \sigma \odot \varepsilon$ is `rsample`: the same numbers on the same seed, with gradients.
# - The KL to $\mathcal N(0, I)$ is $\frac12 \sum_j(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)$; the ELBO is
#   $\log p(x \mid z) - \mathrm{KL}$; an untrained decoder pays $784 \log 2 = 543$ nats per image.
# - The training loop is Adam on minus the batch's mean ELBO; with the same seed it reproduces `vl.fit` step for
#   step: the same losses, the same weights, and the same test ELBO.

# %% [markdown] tags=["core"]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-encoding variational Bayes. *ICLR*. Sections 1-6.
# - D. P. Kingma and J. Ba (2015). Adam: a method for stochastic optimization. *ICLR*. Section 6.
