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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/03_training.ipynb)

# %%
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

# %% [markdown]
# # 03 · Training a VAE and reading its numbers
#
# A training run prints a number per epoch, "loss: 285.3". This notebook trains VAEs and takes those numbers
# apart: which parts they have, what they can and cannot be compared with, and how two common bugs show up in them.
#
# **What you will learn**
# - train a VAE with `vae_lesson` and read its learning curves: the reconstruction term and the KL term, per epoch;
# - explain why a Bernoulli decoder on grey-level images has an entropy floor, why binarising the images
#   changes what the number means, and why a Gaussian decoder can report a *positive* log-likelihood;
# - estimate the test log-likelihood $\log p(x)$ in nats by importance sampling and place it next to the ELBO;
# - diagnose two bugs from a training script posted in a forum question: images normalised to $[-1, 1]$ and fed to
#   binary cross-entropy, and a learning rate of $10^{-5}$.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.distributions import Bernoulli, Independent, Normal

import vae_lesson as vl

seed = 0
device = vl.setup(seed=seed)

# %% [markdown]
# ## 1. The data are grey levels, not black and white
#
# `vl.load` gives images with pixel values $x_i \in [0, 1]$. Many pixels lie strictly between 0 and 1 (the
# soft edges of a stroke). That matters below, because a Bernoulli distribution is a distribution over
# $\{0, 1\}$ only.

# %%
train = vl.load(split="train")
test = vl.load(split="test")
x = test.images
grey_share = ((x > 0) & (x < 1)).float().mean().item()
print(f"{test.name}: {len(train)} training and {len(test)} test images; "
      f"{100 * grey_share:.0f} % of the test pixels lie strictly between 0 and 1")
assert grey_share > 0.05  # a sizeable share of grey pixels

fig, axes = plt.subplots(2, 1, figsize=(7, 2.6))
vl.plots.show_images(x[:10], nrow=10, title="test images (grey levels)", ax=axes[0])
vl.plots.show_images(vl.data.binarize(x[:10], torch.Generator().manual_seed(seed)), nrow=10,
                     title="the same images, binarised: each pixel is 1 with probability $x_i$", ax=axes[1])
plt.show()

# %% [markdown]
# **What you should see:** on top, digits with soft grey edges; below, the same digits as black-and-white dots,
# speckled where the original was grey (binarisation is random).

# %% [markdown]
# ## 2. Train a VAE and watch both terms
#
# Training maximises the ELBO of each image, averaged over the data,
#
# $$\mathrm{ELBO}(x) = \underbrace{\mathbb E_{q(z\mid x)}\big[\log p(x\mid z)\big]}_{\texttt{rec}}
# \;-\; \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big)}_{\texttt{kl}} \;\le\; \log p(x),$$
#
# with one $z \sim q(z\mid x)$ per image and step, and Adam on the loss $-\mathrm{ELBO}$. `vl.fit` runs that loop
# and records, per epoch, `rec`, `kl` and `elbo` on the training set (averaged over the epoch's mini-batches) and
# `test_rec`, `test_kl`, `test_elbo` on the test set (after the epoch). All numbers are in **nats per image**.
#
# `vl.trained(name)` trains with the settings named in `vae_lesson/recipes.py`, or loads the model from a cache if
# it was trained before. The first model has a Bernoulli decoder and is trained on the grey-level images as they are
# (`binarize="none"`).

# %%
print(vl.RECIPES["training_grey"])
model_grey, hist_grey = vl.trained("training_grey", seed=seed)
print(f"{len(hist_grey['epoch'])} epochs; last epoch: rec {hist_grey['rec'][-1]:.1f}, kl {hist_grey['kl'][-1]:.1f}, "
      f"test ELBO {hist_grey['test_elbo'][-1]:.1f} nats per image")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
vl.plots.plot_history(hist_grey, keys=("rec", "test_rec"), ax=axes[0])
axes[0].set_title(r"reconstruction term $\mathbb{E}_q[\log p(x\mid z)]$")
vl.plots.plot_history(hist_grey, keys=("kl", "test_kl"), ax=axes[1])
axes[1].set_title(r"KL term $\mathrm{KL}(q(z\mid x)\,\|\,p(z))$")
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** the reconstruction term climbs steeply in the first epochs and then flattens; the KL
# term moves about in the first epochs, then rises and levels off.
#
# The two terms trade against each other. The KL is the price, in nats, of making $q(z \mid x)$ depend on $x$: a
# code that tells the decoder nothing about the image costs 0 nats of KL. The model pays it because the
# reconstruction improves by much more than it costs:

# %%
rec_gain = hist_grey["rec"][-1] - hist_grey["rec"][0]
kl_rise = hist_grey["kl"][-1] - min(hist_grey["kl"])
print(f"reconstruction term: {hist_grey['rec'][0]:.1f} -> {hist_grey['rec'][-1]:.1f} nats (gain {rec_gain:.1f})")
print(f"KL term: lowest {min(hist_grey['kl']):.1f}, last {hist_grey['kl'][-1]:.1f} nats (rise {kl_rise:.1f})")
assert rec_gain > 20               # the reconstruction improves a lot ...
assert hist_grey["kl"][-1] > 5     # ... by putting information about x into z, which costs KL
assert kl_rise > 1                 # the KL rises from its lowest point
assert kl_rise < rec_gain          # the KL the model pays is far below what reconstruction gains

# %% [markdown]
# ## 3. A Bernoulli decoder on grey levels: the entropy floor
#
# For one pixel with target $x_i \in [0, 1]$ and decoder probability $p_i$, the Bernoulli "log-likelihood" (minus
# the binary cross-entropy) is
#
# $$\ell(p_i; x_i) = x_i \log p_i + (1 - x_i)\log(1 - p_i) \;\le\; x_i \log x_i + (1 - x_i)\log(1 - x_i) = -H(x_i),$$
#
# with equality only at $p_i = x_i$ (Gibbs' inequality). For a grey pixel $H(x_i) > 0$: **even a decoder that
# outputs the image exactly scores $-\sum_i H(x_i)$**, not 0. That sum is a floor set by the data, not by the
# model. (`torch.special.xlogy` computes $x \log x$ with $0 \log 0 = 0$.)

# %%
H = -(torch.special.xlogy(x, x) + torch.special.xlogy(1 - x, 1 - x))   # H(x_i) per pixel
floor = H.sum(dim=(1, 2, 3))                                             # sum_i H(x_i) per image
perfect = Independent(Bernoulli(probs=x, validate_args=False), 3).log_prob(x)  # decoder output = the image
print(f"entropy floor: {floor.mean():.1f} nats per test image; a perfect decoder scores {perfect.mean():.1f}")
assert torch.allclose(perfect, -floor, atol=0.1)

test_rec, test_elbo = hist_grey["test_rec"][-1], hist_grey["test_elbo"][-1]
print(f"trained model: rec {test_rec:.1f}, ELBO {test_elbo:.1f}; its rec is "
      f"{-floor.mean().item() - test_rec:.1f} nats below the best possible, {-floor.mean().item():.1f}")
assert test_rec <= -floor.mean().item() + 1e-3   # no decoder gets past the floor
assert floor.mean() > 0.1 * abs(test_elbo)        # and the floor is a large part of the number

# %% [markdown]
# Worse, $\prod_i p_i^{x_i}(1-p_i)^{1-x_i}$ is not a probability density over grey images at all: for one pixel,
# $\int_0^1 p^{x}(1-p)^{1-x}\,dx < 1$ for every $p$ (it would have to be 1). The number the grey-level run reports is
# therefore not $\log p(x)$ of any model of grey images. (Loaiza-Ganem & Cunningham, *The continuous Bernoulli*,
# NeurIPS 2019, fix this by normalising.)

# %%
t = torch.linspace(0, 1, 10_001)                     # pixel values x in [0, 1]
for p in (0.01, 0.2, 0.5, 0.9):
    mass = torch.trapezoid(torch.exp(Bernoulli(probs=torch.tensor(p), validate_args=False).log_prob(t)), t).item()
    print(f"p = {p}: integral over x in [0, 1] = {mass:.3f}")
    assert mass < 1 - 1e-3

# %% [markdown]
# ## 4. Binarised images: a true log-probability
#
# `vl.fit(..., binarize="dynamic")` draws fresh black-and-white images $x^{\text{bin}}_i \sim \mathrm{Bernoulli}(x_i)$
# every epoch (the test set is binarised once, with a fixed seed). Now each target is 0 or 1, the Bernoulli decoder
# is a genuine distribution over the data, and $\log p(x^{\text{bin}}\mid z) \le 0$ is the log of a probability.
# Train that model and set its test ELBO beside the grey-level one:

# %%
print(vl.RECIPES["training_binary"])
model_bin, hist_bin = vl.trained("training_binary", seed=seed)
x_bin = vl.data.binarize(x, torch.Generator().manual_seed(seed + 1))   # the test set fit() used
elbo_grey, elbo_bin = hist_grey["test_elbo"][-1], hist_bin["test_elbo"][-1]
print(f"test ELBO: grey-level model {elbo_grey:.1f}, binarised model {elbo_bin:.1f} nats per image")
assert abs(elbo_grey - elbo_bin) < 0.1 * abs(elbo_grey)   # within 10 %

# %% [markdown]
# Why are the two numbers so close, if only one is a log-probability? Because $\ell(p; x)$ is linear in $x$:
# averaged over binarisations, $\mathbb E\big[\ell(p; x^{\text{bin}})\big] = \ell(p; x)$. The grey-level loss is the
# binarised loss averaged over the binarisation noise, and the entropy floor of section 3 is exactly the entropy of
# that noise. Check it on one decoder output per test image, scored against the grey image and against 200 binarised
# copies of it:

# %%
with torch.no_grad():   # the grey model's decoder output for each test image, scored two ways
    px_z = model_grey.decoder(model_grey.encoder(x).mean)
    score_grey = px_z.log_prob(x).mean().item()
    score_bin = torch.stack([px_z.log_prob(vl.data.binarize(x)) for _ in range(200)]).mean().item()
print(f"one decoder output scored on grey targets {score_grey:.1f}, "
      f"on binarised targets (mean of 200 draws) {score_bin:.1f} nats")
assert abs(score_grey - score_bin) < 0.01 * abs(score_grey)

# %% [markdown]
# Same digits, same decoder, the same number on average, different meaning: only the binarised one is a
# log-probability of data.

# %% [markdown]
# ## 5. A Gaussian decoder: densities can exceed 1
#
# With $p(x\mid z) = \prod_i \mathcal N(x_i;\, \mu_i(z),\, \sigma^2)$ and a fixed $\sigma = 0.1$, each pixel contributes at
# most the density's peak,
#
# $$\log \mathcal N(x_i; x_i, \sigma^2) = -\log\big(\sigma\sqrt{2\pi}\big) \approx 1.38 \text{ nats for } \sigma = 0.1,$$
#
# so $\log p(x \mid z)$ can be as large as $784 \times 1.38 \approx 1085$ nats. A density is not a probability: it is
# positive and large when the images are predicted to within much less than one unit of $x$. Its value also depends
# on the units: measuring pixels in $[0, 255]$ instead of $[0, 1]$ divides every density by 255 per pixel, which
# subtracts $784 \log 255 \approx 4344$ nats from every log-likelihood without changing the model at all.

# %%
print(vl.RECIPES["training_gaussian"])
model_gauss, hist_gauss = vl.trained("training_gaussian", seed=seed)
sigma = model_gauss.decoder.log_sigma.exp().item()
D = x[0].numel()
peak = D * -math.log(sigma * math.sqrt(2 * math.pi))
print(f"Gaussian decoder, sigma = {sigma:g}: test rec {hist_gauss['test_rec'][-1]:.1f}, "
      f"test ELBO {hist_gauss['test_elbo'][-1]:.1f}; the largest possible rec is {peak:.1f} nats")
assert hist_gauss["test_rec"][-1] <= peak
assert hist_gauss["test_elbo"][-1] > 0     # a positive "log-likelihood"

with torch.no_grad():                      # the same model, pixels measured in [0, 255]
    px_z = model_gauss.decoder(model_gauss.encoder(x).mean)
    px_z_255 = Independent(Normal(255 * px_z.mean, 255 * px_z.stddev), 3)
    shift = (px_z_255.log_prob(255 * x) - px_z.log_prob(x)).mean().item()
print(f"change of units shifts log p(x|z) by {shift:.1f} nats (D log 255 = {D * math.log(255):.1f})")
assert abs(shift + D * math.log(255)) < 1

# %% [markdown]
# So the three test ELBOs printed in this notebook (Bernoulli decoder on grey levels, on binarised images, Gaussian
# decoder) are three different quantities. Compare nats only between
# models of **the same data, in the same units, under the same kind of likelihood**; papers report MNIST numbers on
# binarised images for this reason.
#
# ## 6. The test log-likelihood by importance sampling
#
# The ELBO is a lower bound. Drawing $k$ codes $z_1, \dots, z_k \sim q(z\mid x)$ and averaging the importance weights
# $w_j = p(x\mid z_j)\,p(z_j)/q(z_j\mid x)$ gives a tighter one (Burda et al., 2016),
#
# $$\log p(x) \;\ge\; \mathcal L_k(x) = \mathbb E\Big[\log \frac1k \sum_{j=1}^k w_j\Big] \;\ge\; \mathcal L_1(x) = \mathrm{ELBO}(x),$$
#
# which rises to $\log p(x)$ as $k \to \infty$. `vl.log_likelihood(model, images, k)` averages $\mathcal L_k$ over the
# test images; we report it as the test log-likelihood, next to the ELBO (here averaged over 10 draws of $z$ per image
# so its own noise is small). Only the two models whose number is a log-likelihood are evaluated.

# %%
k = vl.by_mode(1000, 100)
log_px = {}
for name, model, data in [("Bernoulli, binarised", model_bin, x_bin), ("Gaussian, sigma 0.1", model_gauss, x)]:
    log_px[name] = vl.log_likelihood(model, data, k=k)
    with torch.no_grad():
        elbo_ = torch.stack([vl.elbo(model, data)["elbo"] for _ in range(10)]).mean().item()
    print(f"{name:22s} log p(x) ~ {log_px[name]:8.1f}   ELBO {elbo_:8.1f}   gap {log_px[name] - elbo_:5.1f} nats (k = {k})")
    assert log_px[name] >= elbo_

# %% [markdown]
# For both models the importance-sampled estimate lies above the ELBO. The gap estimates the part of $\log p(x)$
# that the ELBO misses because $q(z\mid x)$ is not the true posterior.
#
# ## 7. Bug 1: images in $[-1, 1]$ fed to binary cross-entropy
#
# A forum question (*"couldn't we just sample from a standard normal distribution without the encoder?"*, notebook 04)
# loads MNIST with `transforms.Normalize((0.5,), (0.5,))`, which maps pixels to $[-1, 1]$, and trains with
# `F.binary_cross_entropy`. `vae_lesson` refuses such images for a Bernoulli decoder:

# %%
x_normalised = (x - 0.5) / 0.5          # what Normalize((0.5,), (0.5,)) does
try:
    vl.elbo(model_grey, x_normalised)
    raise AssertionError("vae_lesson accepted images in [-1, 1]")
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# Why refuse? For a target $x_i < 0$ the per-pixel loss $-\ell(p; x_i) = -x_i\log p - (1-x_i)\log(1-p)$ has a
# term $-x_i \log p = |x_i|\log p$ that goes to $-\infty$ as $p \to 0$: the loss is **unbounded below**. For the
# background, $x_i = -1$, the loss is $\log p - 2\log(1-p)$. Training then drives those outputs to 0 for ever,
# reporting ever more negative losses, and the best output for a pixel is no longer its value. A negative BCE also
# means $\ell > 0$, a "probability" above 1.

# %%
p = torch.tensor([0.5, 1e-1, 1e-3, 1e-6, 1e-9])
for x_i in (-1.0, -0.4):
    loss = -(x_i * torch.log(p) + (1 - x_i) * torch.log1p(-p))     # BCE with target x_i
    print(f"target {x_i:4}: BCE at p =", [f"{v:g}" for v in p.tolist()], "->", [round(v, 1) for v in loss.tolist()])
    assert (loss.diff() < 0).all() and loss[-1] < -5      # keeps falling as p -> 0, far below 0
# inside [0, 1] the minimiser is the target itself, and the loss is bounded below by H(x_i) >= 0
p_grid = torch.linspace(0.001, 0.999, 999)
x_i = 0.3
loss = -(x_i * torch.log(p_grid) + (1 - x_i) * torch.log1p(-p_grid))
print(f"target {x_i}: minimised at p = {p_grid[loss.argmin()]:.3f}, minimum {loss.min():.3f} >= 0")
assert abs(p_grid[loss.argmin()] - x_i) < 0.002 and loss.min() >= 0

# %% [markdown]
# What does PyTorch itself do with such targets? Try its two binary cross-entropy functions on one background
# pixel, $x_i = -1$: `F.binary_cross_entropy` takes probabilities $p$ (the script's sigmoid outputs),
# `F.binary_cross_entropy_with_logits` takes logits, $p = \operatorname{sigmoid}(\text{logit})$.

# %%
import torch.nn.functional as F

target = torch.tensor([-1.0])          # on the CPU, where a failed check is an ordinary Python error
try:
    bce = F.binary_cross_entropy(torch.tensor([1e-9]), target).item()
    print(f"F.binary_cross_entropy accepts the target; at p = 1e-9 the loss is {bce:.1f}")
    assert bce < 0
except RuntimeError as err:
    print("F.binary_cross_entropy refuses the target:", err)
logits = torch.tensor([0.0, -10.0, -20.0, -40.0])
bce_logits = F.binary_cross_entropy_with_logits(logits, target.expand_as(logits), reduction="none")
print("F.binary_cross_entropy_with_logits at logits", logits.tolist(), "->", [round(v, 1) for v in bce_logits.tolist()])
assert (bce_logits.diff() < 0).all() and bce_logits[-1] < -30   # unbounded below, no error

# %% [markdown]
# Recent PyTorch versions stop the script with an error; the logits version (common in VAE code because it is
# numerically stable) runs silently and reports a loss that falls without bound. The fix: drop the `Normalize`, or map
# back with $x = (x_{\text{norm}} + 1)/2$ (exercise 3), or use a Gaussian decoder, which accepts any real values.
#
# ## 8. Bug 2: a learning rate of $10^{-5}$
#
# The same script uses Adam with `lr=1e-5`. Adam divides each gradient by a running estimate of its size, so its
# first step moves every weight that has a gradient by almost exactly `lr`, however large the gradient. Check it with
# one step on a fresh model:

# %%
probe = vl.make_vae(arch="mlp", latent_dim=16).to(device)
w_before = torch.cat([p.detach().flatten() for p in probe.parameters()])
optimizer = torch.optim.Adam(probe.parameters(), lr=1e-5)
vl.elbo(probe, train.images[:128])["loss"].backward()
optimizer.step()
move = (torch.cat([p.detach().flatten() for p in probe.parameters()]) - w_before).abs()
move = move[move > 0]                  # weights with a gradient (units that are off get none)
print(f"first Adam step at lr = 1e-5: median move {move.median():.2e}, largest {move.max():.2e}")
assert 0.5e-5 < move.median() < 1.01e-5

# %% [markdown]
# So `lr = 1e-5` takes steps 100 times smaller than the usual `lr = 1e-3`, and needs about 100 times more of them
# to get as far. We
# retrain the first model from the same initial weights and the same batches at `lr=1e-5`, for the same number of
# steps as the first epochs of the `lr=1e-3` run (a throw-away run, so `vl.fit` is called directly).

# %%
n_epochs = min(20, len(hist_grey["epoch"]))
settings = {k: v for k, v in vl.RECIPES["training_grey"].items() if k != "binarize"}
torch.manual_seed(seed)                       # the same initial weights as the recipe
model_slow = vl.make_vae(**settings)          # the recipe's model
hist_slow = vl.fit(model_slow, train, test, epochs=n_epochs, lr=1e-5, seed=seed, progress=False)

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(hist_grey["epoch"][:n_epochs], hist_grey["test_elbo"][:n_epochs], label="lr = 1e-3")
ax.plot(hist_slow["epoch"], hist_slow["test_elbo"], label="lr = 1e-5")
ax.set_xlabel("epoch (same batches for both)")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.set_ylabel("test ELBO (nats per image)")
ax.legend()
plt.show()

# %% [markdown]
# **What you should see:** the `lr = 1e-3` curve rises steeply over the first few epochs and levels off; the
# `lr = 1e-5` curve creeps upward in a nearly straight line, far below it at every epoch shown.

# %%
tenth = max(1, n_epochs // 10)
fast_early, slow_end = hist_grey["test_elbo"][tenth - 1], hist_slow["test_elbo"][-1]
print(f"lr 1e-3 after {tenth} epoch(s): {fast_early:.1f};  lr 1e-5 after {n_epochs} epochs: {slow_end:.1f};  "
      f"lr 1e-3 after {n_epochs} epochs: {hist_grey['test_elbo'][n_epochs - 1]:.1f} nats")
assert all(s < f for s, f in zip(hist_slow["test_elbo"], hist_grey["test_elbo"]))  # behind at every epoch
assert slow_end < fast_early   # ten times more steps at lr 1e-5 do not reach lr 1e-3's first tenth

# %% [markdown]
# ## Exercises
#
# **Exercise 1 (bits per dimension).** Papers often report $-\log_2 p(x)$ divided by the number of pixels $D$: bits
# per dimension. Convert the binarised model's test log-likelihood `log_px_bin` (nats per image) into `bits_per_dim`.

# %%
log_px_bin = log_px["Bernoulli, binarised"]   # estimated in section 6
# --- solution (lecturers: delete before handing out) ---
bits_per_dim = -log_px_bin / (D * math.log(2))

# %%
expected = -log_px_bin / math.log(2) / D
if abs(bits_per_dim - expected) < 1e-6:
    print(f"correct: {log_px_bin:.1f} nats per image = {bits_per_dim:.3f} bits per dimension")
else:
    print("not yet: hint: divide by ln 2 to turn nats into bits, by D = 784 for per pixel, and mind the sign")
assert abs(bits_per_dim - expected) < 1e-6

# %% [markdown]
# **Exercise 2 (when is a Gaussian log-density positive?).** Find the decoder scale `sigma_star` at which the
# peak log-density of $\mathcal N(x_i; \mu_i, \sigma^2)$ is exactly 0 nats. For any smaller $\sigma$, a good enough
# reconstruction gives a positive log-likelihood.

# %%
# --- solution (lecturers: delete before handing out) ---
sigma_star = 1 / math.sqrt(2 * math.pi)

# %%
peak_at_star = Normal(0.0, sigma_star).log_prob(torch.tensor(0.0)).item()
if abs(peak_at_star) < 1e-5:
    print(f"correct: sigma* = {sigma_star:.4f}; the decoder above (sigma = {sigma:g}) is below it, so its peak is positive")
else:
    print(f"not yet: the peak log-density at your sigma is {peak_at_star:.3f}; hint: solve -log(sigma * sqrt(2 pi)) = 0")
assert abs(peak_at_star) < 1e-5 and sigma < sigma_star

# %% [markdown]
# **Exercise 3 (fix bug 1).** Map `x_normalised` back to images `x_fixed` that `vl.elbo` accepts, and compute
# their mean ELBO under `model_grey`.

# %%
# --- solution (lecturers: delete before handing out) ---
x_fixed = (x_normalised + 1) / 2
with torch.no_grad():
    elbo_fixed = vl.elbo(model_grey, x_fixed)["elbo"].mean().item()

# %%
ok = torch.allclose(x_fixed, x, atol=1e-6)
if ok:
    print(f"correct: the images are back in [0, 1]; ELBO {elbo_fixed:.1f} nats per image")
else:
    print("not yet: hint: Normalize computed (x - 0.5) / 0.5; invert that")
assert ok and elbo_fixed < 0

# %% [markdown]
# ## Summary
#
# - A training log shows two terms: the reconstruction $\mathbb E_q[\log p(x\mid z)]$ and the KL, the price in nats
#   of a code that carries information about $x$.
# - A Bernoulli decoder on grey-level images has an entropy floor and is not a normalised density; binarised images
#   give a true log-probability; a Gaussian decoder gives a density, which can be positive and depends on units.
#   Compare nats only on the same data under the same kind of likelihood.
# - The importance-weighted bound with many samples estimates $\log p(x)$ and always lies above the ELBO.
# - Images in $[-1, 1]$ make binary cross-entropy unbounded below (recent PyTorch refuses them in
#   `F.binary_cross_entropy`, not in the logits version); `lr=1e-5` makes each Adam step 100 times shorter.
#
# Next, notebook 04 takes up the rest of that forum question: could the decoder be trained without an encoder?
