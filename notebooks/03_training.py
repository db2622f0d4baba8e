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
# # 03 · Training a VAE and reading its numbers
#
# *Time: about 100 minutes (core path 45) · Read first: 01, 02 · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/03_training.ipynb)
#
# A training run prints one number per epoch, "loss: 285.3". This notebook writes the training loop out, then takes
# those numbers apart.
#
# **What you will learn**
# - write a VAE's training loop yourself and check it against `vl.fit`;
# - read the reconstruction and KL curves, and why the KL first dips, then climbs;
# - compare a model with the best decoder that ignores $z$; recognise posterior collapse and KL warm-up;
# - explain the entropy floor of a Bernoulli decoder on grey levels, what binarising changes, and why a Gaussian
#   decoder can report a *positive* log-likelihood;
# - estimate the test log-likelihood $\log p(x)$ by importance sampling;
# - diagnose two bugs in a forum question's script: images in $[-1, 1]$ fed to binary cross-entropy, and `lr=1e-5`.

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
import math
import time

import matplotlib.pyplot as plt
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

import vae_lesson as vl

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown] tags=["core"]
# ## 1. The data are grey levels, not black and white
#
# `vl.load` gives pixel values $x_i \in [0, 1]$, and many lie strictly between 0 and 1 (the soft edges of a stroke).
# That matters below: a Bernoulli distribution is a distribution over $\{0, 1\}$ only.

# %%
train = vl.load(split="train")
test = vl.load(split="test")
x = test.images
grey_share = ((x > 0) & (x < 1)).float().mean().item()
print(f"{test.name}: {len(train)} training and {len(test)} test images; "
      f"{100 * grey_share:.0f} % of the test pixels lie strictly between 0 and 1")

fig, axes = plt.subplots(2, 1, figsize=(7, 2.6))
vl.plots.show_images(x[:10], nrow=10, title="test images (grey levels)", ax=axes[0])
vl.plots.show_images(vl.data.binarize(x[:10], torch.Generator().manual_seed(SEED)), nrow=10,
                     title="the same images, binarised: each pixel is 1 with probability $x_i$", ax=axes[1])
plt.show()

# %% [markdown]
# **What you should see:** on top, digits with soft grey edges; below, the same digits as black-and-white dots,
# speckled where the original was grey (binarisation is random).

# %% [markdown] tags=["core"]
# ## 2. The training loop, written out
#
# Training maximises the ELBO of each image, averaged over the data,
#
# $$\mathrm{ELBO}(x) = \underbrace{\mathbb E_{q(z\mid x)}\big[\log p(x\mid z)\big]}_{\texttt{rec}}
# \;-\; \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big)}_{\texttt{kl}} \;\le\; \log p(x).$$
#
# One training step takes a mini-batch $x_1, \dots, x_B$ and, for each image,
#
# 1. runs the encoder: $q(z\mid x) = \mathcal N\big(\mu(x), \operatorname{diag}\sigma^2(x)\big)$;
# 2. draws one code by reparameterization (notebook 02): $z = \mu(x) + \sigma(x) \odot \varepsilon$, $\varepsilon \sim \mathcal N(0, I)$,
#    so gradients flow through $z$ into $\mu$ and $\sigma$;
# 3. runs the decoder and scores the image: $\log p(x\mid z)$, a one-draw estimate of `rec`;
# 4. adds the KL in closed form, $\mathrm{KL} = \frac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big)$;
#
# then takes one Adam step on the loss $-\frac1B \sum_b \big(\log p(x_b\mid z_b) - \beta\,\mathrm{KL}_b\big)$, with
# $\beta = 1$ for the ELBO (section 5 varies it). An **epoch** is one pass over the training images; all numbers are
# in **nats per image**. The function below also records, per epoch, the training averages and the test ELBO, and per
# step the batch's KL and the **code use**: the decoder's gain on 100 test images over the best decoder that ignores
# $z$, which outputs the mean training image $\bar x$ (section 3):
#
# $$\text{code use} = \frac1{100}\sum_n \Big[\log p\big(x_n \mid z_n\big) - \log \mathrm{Bern}\big(x_n;\ \bar x\big)\Big],
# \qquad z_n \sim q(z \mid x_n).$$
#
# It is 0 or less for a decoder that ignores $z$. (The $z_n$ use fixed noise of their own, so measuring leaves training
# unchanged.)

# %%
x_mean = train.images.mean(0, keepdim=True)          # the best output of a decoder that ignores z (section 3)


def mean_image_decoder(images):
    """p(x|z) of the best decoder that ignores z: pixel i is Bernoulli(mean training x_i), whatever z."""
    probs = x_mean.clamp(1e-6, 1 - 1e-6).to(images.dtype).expand_as(images)
    return Independent(Bernoulli(probs=probs, validate_args=False), 3)


probe_eps = torch.randn(100, 16, generator=torch.Generator().manual_seed(SEED)).to(device)  # fixed noise


@torch.no_grad()
def code_use(model, x):
    """Nats by which the decoder, reading draws z ~ q(z|x), beats the best decoder that ignores z."""
    qz = model.encoder(x)
    z = qz.mean + qz.stddev * probe_eps.to(qz.mean.dtype)
    return (model.decoder(z).log_prob(x) - mean_image_decoder(x).log_prob(x)).mean().item()


def train_by_hand(model, train, test, epochs, lr=1e-3, batch_size=128, seed=0, warmup_steps=0):
    """Maximise the ELBO of `model` on `train` with Adam. warmup_steps > 0 raises the KL's weight beta
    from 0 to 1 over that many steps (KL warm-up). Returns the per-epoch and the per-step records."""
    optimizer = vl.train.adam(model, lr)                 # torch.optim.Adam, fused into one kernel where torch can
    pz = model.prior()                                   # p(z) = N(0, I)
    torch.manual_seed(seed)                              # the noise eps of every z
    order_rng = torch.Generator().manual_seed(seed)      # the order of the mini-batches
    history = {key: [] for key in ("epoch", "loss", "elbo", "rec", "kl", "test_elbo", "test_rec", "test_kl")}
    per_step = {"kl": [], "code_use": [], "beta": []}
    probe = test.images[:100]
    step = 0
    for epoch in range(epochs):
        model.train()
        sums = torch.zeros(4, dtype=train.images.dtype, device=train.images.device)
        for idx in vl.data.batches(len(train), batch_size, order_rng, train.images.device):
            x = train.images[idx]
            qz = model.encoder(x)                        # q(z|x) = N(mu(x), diag sigma^2(x))
            z = qz.rsample()                             # z = mu + sigma * eps, eps ~ N(0, I)
            px_z = model.decoder(z)                      # p(x|z)
            rec = px_z.log_prob(x)                       # log p(x|z): one number per image
            kl = kl_divergence(qz, pz)                   # KL(q(z|x) || p(z)) in closed form
            beta = min(1.0, step / warmup_steps) if warmup_steps else 1.0
            loss = -(rec - beta * kl).mean()             # minus the (beta-weighted) ELBO, batch mean
            optimizer.zero_grad()
            loss.backward()                              # gradients flow through z into mu and sigma
            optimizer.step()
            step += 1
            sums += torch.stack([loss.detach() * len(idx), (rec - kl).detach().sum(),
                                 rec.detach().sum(), kl.detach().sum()])
            per_step["kl"].append(kl.mean().item())
            per_step["code_use"].append(code_use(model, probe))
            per_step["beta"].append(beta)
        model.eval()
        row = dict(zip(("loss", "elbo", "rec", "kl"), (sums / len(train)).tolist()), epoch=epoch + 1)
        row.update({f"test_{k}": v for k, v in vl.train.evaluate(model, test.images).items()})
        for key in history:
            history[key].append(row[key])
    return history, per_step

# %% [markdown]
# Train the `"training_grey"` recipe's model (a Bernoulli decoder on grey levels, section 6) from its initial
# weights for about 120 steps, in float64 for the comparison in the next cell: a few seconds on a CPU.

# %%
settings = {k: v for k, v in vl.RECIPES["training_grey"].items() if k != "binarize"}
print(settings)
steps_per_epoch = math.ceil(len(train) / 128)
loop_epochs = max(2, math.ceil(120 / steps_per_epoch))

train64, test64 = (vl.data.ImageData(d.images.double(), d.labels, d.name) for d in (train, test))
torch.manual_seed(SEED)                                  # the initial weights, as vl.trained draws them
model_loop = vl.make_vae(**settings).to(device, torch.float64)
with torch.no_grad():
    kl_init = kl_divergence(model_loop.encoder(x.double()), model_loop.prior()).mean().item()
start = time.perf_counter()
hist_loop, steps_loop = train_by_hand(model_loop, train64, test64, loop_epochs, seed=SEED)
print(f"{loop_epochs} epochs ({len(steps_loop['kl'])} steps) in {time.perf_counter() - start:.1f} s; "
      f"test ELBO {hist_loop['test_elbo'][-1]:.1f} nats per image")

# %% [markdown]
# `vl.fit` is the same loop plus a progress bar and a NaN check, except that for the prior $\mathcal N(0, I)$ it uses
# the faster KL formula of notebook 01 (`vl.objectives.kl_to_standard_normal`). With the same initial weights and seed
# it draws the same batches and noise, so its history must match ours to rounding error; more than $10^{-6}$ nats would
# mean the two compute different things. Hence float64: the two KL formulas round differently, and 120 steps of
# float32, above all on a GPU, amplify that.

# %%
torch.manual_seed(SEED)
model_fit = vl.make_vae(**settings).to(device, torch.float64)
hist_fit = vl.fit(model_fit, train64, test64, epochs=loop_epochs, seed=SEED, progress=False)
keys = ("loss", "elbo", "rec", "kl", "test_elbo", "test_rec", "test_kl")
diff = max(abs(a - b) for key in keys for a, b in zip(hist_loop[key], hist_fit[key]))
print("test ELBO per epoch, by hand and by vl.fit:", *([round(v, 2) for v in h["test_elbo"][:3]] for h in (hist_loop, hist_fit)))
print(f"largest difference over {len(keys)} quantities and {loop_epochs} epochs: {diff:.1e} nats")
assert len(hist_fit["epoch"]) == loop_epochs and diff < 1e-6

# %% [markdown]
# From here on, `vl.trained(name)` calls `vl.fit` with the settings in `vae_lesson/recipes.py`, for many more epochs,
# and caches the model.

# %% [markdown] tags=["core"]
# ## 3. The two terms, and the solution that ignores $z$
#
# Per epoch, `vl.fit` records `rec`, `kl` and `elbo` on the training set (epoch averages) and
# `test_rec`, `test_kl`, `test_elbo` on the test set.

# %%
print(vl.RECIPES["training_grey"])
model_grey, hist_grey = vl.trained("training_grey", seed=SEED)
print(f"{len(hist_grey['epoch'])} epochs; last epoch: rec {hist_grey['rec'][-1]:.1f}, kl {hist_grey['kl'][-1]:.1f}, "
      f"test ELBO {hist_grey['test_elbo'][-1]:.1f} nats per image")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
vl.plots.plot_history(hist_grey, keys=("rec", "test_rec"), ax=axes[0])
axes[0].set_title(r"reconstruction term $\mathbb{E}_q[\log p(x\mid z)]$")
vl.plots.plot_history(hist_grey, keys=("kl", "test_kl"), ax=axes[1])
axes[1].set_title(r"KL term $\mathrm{KL}(q(z\mid x)\,\|\,p(z))$")
plt.tight_layout()

# %% [markdown]
# **What you should see:** the reconstruction term climbs steeply, then flattens; the KL term falls over the first
# epochs, then rises and levels off (section 4).
#
# The KL is the price, in nats, of making $q(z \mid x)$ depend on $x$. It can be avoided: set $q(z\mid x) = p(z)$
# (KL = 0) and let the decoder output the same pixel probabilities $p$ for every image. Since
# $\ell(p; x) = \sum_i x_i \log p_i + (1 - x_i)\log(1 - p_i)$ is linear in $x$, its training average is
# $\ell(p; \bar x)$, largest at $p = \bar x$, **the mean training image** (Gibbs' inequality, section 6). A trained VAE
# earns its KL only if its reconstruction beats this decoder's ELBO by more than the KL:

# %%
elbo_0 = mean_image_decoder(x).log_prob(x).mean().item()   # KL = 0, so ELBO = rec
rec_gain = hist_grey["test_rec"][-1] - elbo_0
kl_paid = hist_grey["test_kl"][-1]
print(f"best decoder that ignores z (KL = 0): test ELBO {elbo_0:.1f} nats per image")
print(f"trained VAE: test rec {hist_grey['test_rec'][-1]:.1f} (a gain of {rec_gain:.1f} nats over it) "
      f"for a KL of {kl_paid:.1f} nats; test ELBO {hist_grey['test_elbo'][-1]:.1f}")
vl.claim("code-worth-its-kl", "the trained VAE's code buys several times more reconstruction than it costs in KL",
         rec_gain / kl_paid, ">", 3, null=1, null_is="a code worth what it costs: the ELBO of the decoder that ignores z");

# %% [markdown] tags=["core"]
# ## 4. Why the KL first dips, then climbs
#
# With few steps per epoch (printed below) the per-epoch training KL falls, then climbs; with the 60,000 MNIST images
# (469 steps an epoch) it all happens within the first epoch. The loop of section 2 recorded the
# KL and the code use at every step:

# %%
print(f"{steps_per_epoch} steps per epoch; training KL in the first epochs:", [round(v, 1) for v in hist_grey["kl"][:6]], "... last", round(hist_grey["kl"][-1], 1))
kl_steps, use_steps = torch.tensor(steps_loop["kl"]), torch.tensor(steps_loop["code_use"])
n_steps = len(kl_steps)
peak = int(kl_steps[: n_steps // 3].argmax())            # the early peak
low = peak + int(kl_steps[peak:].argmin())               # the lowest point after it

fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
for ax, values, name in ((axes[0], kl_steps, "KL of the batch"), (axes[1], use_steps, "code use (100 test images)")):
    ax.plot(range(1, n_steps + 1), values)
    for s in (peak, low):
        ax.axvline(s + 1, color="0.6", ls=":")
    ax.set(title=name, xlabel="training step", ylabel="nats per image")
axes[0].annotate("peak", (peak + 1, kl_steps[peak]), ha="left")
axes[0].annotate("lowest", (low + 1, kl_steps[low]), ha="left", va="top")
axes[1].axhline(0, color="k", lw=0.5)                   # 0: no better than the mean image
axes[1].set_ylim(1.5 * min(use_steps[peak].item(), -5), 1.1 * use_steps.max().item())  # the first steps lie below
plt.tight_layout()
plt.show()

print(f"KL at the initial weights {kl_init:.2f}; peak {kl_steps[peak]:.1f} at step {peak + 1}; "
      f"lowest {kl_steps[low]:.1f} at step {low + 1}; last {kl_steps[-1]:.1f} (step {n_steps})")
print(f"code use at the peak {use_steps[peak]:.1f}, at the lowest point {use_steps[low]:.1f}, "
      f"at the last step {use_steps[-1]:.1f} nats")

# %% [markdown]
# **What you should see:** the KL shoots up from almost 0 within a few steps, falls back, then climbs; the code use
# starts far below 0, is still below 0 at the peak, nears 0 by the KL's lowest point, then climbs. Three phases:
#
# 1. **At the start $q \approx p$**: the untrained encoder outputs $\mu \approx 0$, $\log \sigma^2 \approx 0$; the KL
#    is a fraction of a nat.
# 2. **The early peak buys nothing.** The codes quickly spread far from $p(z)$, but the decoder cannot read them yet
#    (code use below 0). The KL then falls while the decoder learns what needs no code, the mean image: by the lowest
#    point its code use is near 0. This is the dip.
# 3. **The climb buys information.** Once the decoder reads the codes, the KL climbs, and by the last step the code
#    use exceeds the KL: the code is worth more than it costs.

# %%
assert kl_init < 1  # 1. q(z|x) ~ p(z) at the start: a check of the initial weights
vl.claim("peak-buys-nothing", "at the KL's peak the decoder does worse than one that ignores the code",
         use_steps[peak].item(), "<", 0, null=kl_steps[peak].item(), null_is="a peak that buys what it costs");
vl.claim("dip", "the KL falls to less than half its peak", (kl_steps[low] / kl_steps[peak]).item(), "<", 0.5,
         null=1, null_is="no dip");
vl.claim("dip-learns-mean-image", "by the lowest point the code use is within 15 nats of 0", use_steps[low].item(),
         ">", -15, null=use_steps[0].item(), null_is="the code use after the first step");
vl.claim("climb", "the KL climbs to more than twice its lowest", (kl_steps[-1] / kl_steps[low]).item(), ">", 2,
         null=1, null_is="no climb");
vl.claim("climb-worth-its-kl", "at the last step the code use exceeds the KL", (use_steps[-1] - kl_steps[-1]).item(),
         ">", 0, null=use_steps[peak].item() - kl_steps[peak].item(), null_is="as at the peak", unit="nats");

# %% [markdown]
# Is the dip the KL term pulling the codes back to the prior? Test the suspected cause: rerun the loop from the same
# weights and batches with $\beta = 0$ (no pull at all), and compare the dip's depth, the lowest KL after the peak as a
# share of the peak.

# %%
torch.manual_seed(SEED)
model_b0 = vl.make_vae(**settings).to(device, torch.float64)
_, steps_b0 = train_by_hand(model_b0, train64, test64, loop_epochs, seed=SEED, warmup_steps=math.inf)  # beta = step/inf = 0
kl_b0 = torch.tensor(steps_b0["kl"])
peak_b0 = int(kl_b0[: n_steps // 3].argmax())
depth = {"beta = 1": (kl_steps[low] / kl_steps[peak]).item(), "beta = 0": (kl_b0[peak_b0:].min() / kl_b0[peak_b0]).item()}
vl.claim("dip-without-pull", "without the KL's pull (beta = 0) the KL still dips below 75 % of its peak",
         depth["beta = 0"], "<", 0.75, null=1, null_is="no dip without the pull");
vl.claim("pull-deepens-dip", "the KL's pull makes the dip deeper: its depth with beta = 1 is under 0.7 of beta = 0's",
         depth["beta = 1"] / depth["beta = 0"], "<", 0.7, null=1, null_is="the pull changes nothing");

# %% [markdown]
# So the dip is not the KL's pull alone: with no pull at all the KL still rises and falls back; the pull deepens the
# dip. What drives the swing without it (the optimiser, the reconstruction term's own gradient) is not tested here.

# %% [markdown] tags=["core"]
# ## 5. Posterior collapse and KL warm-up
#
# **Posterior collapse** is $q(z\mid x) \approx p(z)$ for every image: a decoder that ignores $z$ and an ELBO no better
# than the mean image's. It happens when a code is never worth its KL. Known causes: a decoder strong enough to do
# without the code (Bowman et al., 2016, an LSTM decoder of sentences); the likelihood's scale (Lucas et al., 2019);
# optimisation stuck near the prior early on (He et al., 2019). A Gaussian decoder scores a reconstruction $\mu$ of $x$
# as $-\lVert x - \mu \rVert^2 / (2\sigma^2)$ plus a constant, so a code is worth at most the mean image's squared error
# over $2\sigma^2$. For a *linear* VAE, Lucas et al. show that at the optimum a latent direction collapses exactly when
# $\sigma^2$ exceeds the data's variance along it, an eigenvalue of the data's covariance: above the largest,
# $\lambda_{\max}$, all collapse.
# Does our MLP follow? Train the same network, weights and batches with $\sigma^2$ below and above $\lambda_{\max}$:

# %%
D = x[0].numel()
worth = (x - train.images.mean(0)).pow(2).flatten(1).sum(1).mean().item()  # squared error of the mean image
lam_max = torch.linalg.eigvalsh(torch.cov(train.images.flatten(1).T.double())).max().item()
sigma_big = math.sqrt(2 * lam_max)                                            # sigma^2 = twice lambda_max
print(f"largest eigenvalue of the data's covariance: {lam_max:.2f}")
test_kl = {}
for sigma in (0.1, 1.0, sigma_big):
    torch.manual_seed(SEED)
    model_sigma = vl.make_vae(**{**settings, "likelihood": "gaussian", "sigma": sigma}).to(device)
    hist_sigma = vl.fit(model_sigma, train, test, epochs=loop_epochs, seed=SEED, progress=False)
    test_kl[sigma] = hist_sigma["test_kl"][-1]
    print(f"sigma = {sigma:5.2f}: a code is worth at most {worth / (2 * sigma**2):8.2f} nats; test KL after "
          f"{len(hist_sigma['epoch'])} epochs {test_kl[sigma]:.3f} nats per image")
vl.claim("collapse-by-scale", "the same MLP collapses when only the likelihood's scale changes: with sigma^2 = "
         "2 lambda_max its KL stays under half a nat", test_kl[sigma_big], "<", 0.5, null=test_kl[1.0],
         null_is="the same network at sigma = 1, which uses its code", unit="nats");

# %% [markdown]
# A common remedy is **KL warm-up** (also called KL annealing): weight the KL by $\beta$ rising from 0 to 1 over the
# first steps, so that early on nothing pulls the codes back to the prior (Bowman et al., 2016; Sønderby et al., 2016).
# The objective is the ELBO only once $\beta = 1$. Rerun the loop from the same initial weights and batches with
# $\beta$ rising over the first half of its steps, for as many steps as the first run:

# %%
torch.manual_seed(SEED)
model_warm = vl.make_vae(**settings).to(device, torch.float64)              # float64, as the run it is compared with
hist_warm, steps_warm = train_by_hand(model_warm, train64, test64, loop_epochs, seed=SEED, warmup_steps=n_steps // 2)
kl_warm = torch.tensor(steps_warm["kl"])
low_plain, low_warm = kl_steps[peak:].min().item(), kl_warm[peak:].min().item()
print(f"peak KL {kl_steps[peak]:.1f} nats without warm-up, {kl_warm.max():.1f} with; "
      f"lowest after step {peak + 1}: {low_plain:.1f} without, {low_warm:.1f} with")
print(f"after {n_steps} steps: test ELBO {hist_loop['test_elbo'][-1]:.1f} without, {hist_warm['test_elbo'][-1]:.1f} with; "
      f"code use {steps_loop['code_use'][-1]:.1f} without, {steps_warm['code_use'][-1]:.1f} with")
vl.claim("warmup-raises-low", "warm-up raises the lowest KL after the peak",
         low_warm - low_plain, ">", 1, null=0, null_is="no difference between the runs", unit="nats");

fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(range(1, n_steps + 1), kl_steps, label=r"KL, $\beta = 1$")
ax.plot(range(1, n_steps + 1), kl_warm, label=r"KL, $\beta$ warmed up from 0")
ax.set(xlabel="training step", ylabel="KL, nats per image")
ax_beta = ax.twinx()                                     # beta has no unit: an axis of its own
ax_beta.plot(range(1, n_steps + 1), steps_warm["beta"], color="0.6", ls="--", label=r"$\beta$ (right axis)")
ax_beta.set(ylabel=r"$\beta$", ylim=(0, 1.05))
lines = ax.get_legend_handles_labels(), ax_beta.get_legend_handles_labels()
ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1]);

# %% [markdown]
# **What you should see:** without warm-up the KL dips after its early peak; with warm-up the peak is higher (nothing
# pulls the codes back while $\beta$ is small), the KL comes down as $\beta$ grows (well before 1), and its lowest point
# stays above the plain run's.
#
# Warm-up targets collapse caused by the path of optimisation (Bowman et al., 2016; He et al., 2019); it cannot undo
# collapse that is the objective's optimum, as for the linear VAE above $\lambda_{\max}$. Neither run here collapses by
# its path, so this notebook does not show warm-up curing a collapse.

# %% [markdown] tags=["deep-dive"]
# ## 6. A Bernoulli decoder on grey levels: the entropy floor
#
# For one pixel with target $x_i \in [0, 1]$ and decoder probability $p_i$, the Bernoulli "log-likelihood" (minus
# the binary cross-entropy) is
#
# $$\ell(p_i; x_i) = x_i \log p_i + (1 - x_i)\log(1 - p_i) \;\le\; x_i \log x_i + (1 - x_i)\log(1 - x_i) = -H(x_i),$$
#
# with equality only at $p_i = x_i$ (Gibbs' inequality). For a grey pixel $H(x_i) > 0$, so **even a decoder that
# outputs the image exactly scores $-\sum_i H(x_i)$**, not 0: a floor set by the data.
# (`torch.special.xlogy` computes $x \log x$ with $0 \log 0 = 0$.)

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
# Worse, $\prod_i p_i^{x_i}(1-p_i)^{1-x_i}$ is not a probability density over grey images: for one pixel,
# $\int_0^1 p^{x}(1-p)^{1-x}\,dx \le 1/2$ for every $p$ (notebook 04, section 5, computes it). So the grey-level number
# is not $\log p(x)$ of any model of grey images (Loaiza-Ganem & Cunningham, 2019).

# %% [markdown] tags=["deep-dive"]
# ## 7. Binarised images: a true log-probability
#
# `vl.fit(..., binarize="dynamic")` draws fresh black-and-white images $x^{\text{bin}}_i \sim \mathrm{Bernoulli}(x_i)$
# every epoch (the test set once). With targets 0 or 1, the Bernoulli decoder is a
# genuine distribution over the data and $\log p(x^{\text{bin}}\mid z) \le 0$ a log-probability. Compare its test ELBO
# with the grey-level one:

# %%
model_bin, hist_bin = vl.trained("training_binary", seed=SEED)
x_bin = vl.data.binarize(x, torch.Generator().manual_seed(SEED + 1))   # the test set fit() used, on any device
elbo_grey, elbo_bin = hist_grey["test_elbo"][-1], hist_bin["test_elbo"][-1]
print(f"test ELBO: grey-level model {elbo_grey:.1f}, binarised model {elbo_bin:.1f} nats per image")
vl.claim("grey-near-binary", "the grey-level and binarised models' test ELBOs differ by a fraction of the floor",
         abs(elbo_grey - elbo_bin), "<", 0.3 * floor.mean().item(), null=floor.mean().item(),
         null_is="the grey model lower by its whole entropy floor", unit="nats");

# %% [markdown]
# Why so close, if only one is a log-probability? Because $\ell(p; x)$ is linear in $x$:
# $\mathbb E\big[\ell(p; x^{\text{bin}})\big] = \ell(p; x)$. The grey-level loss is the binarised loss averaged over the
# binarisation noise, and the entropy floor of section 6 is exactly that noise's entropy. Check it: score one decoder
# output per test image against the grey image and against 200 binarised copies:

# %%
with torch.no_grad():   # the grey model's decoder output for each test image, scored two ways
    px_z = model_grey.decoder(model_grey.encoder(x).mean)
    score_grey = px_z.log_prob(x).mean().item()
    score_bin = torch.stack([px_z.log_prob(vl.data.binarize(x)) for _ in range(200)]).mean().item()
print(f"one decoder output scored on grey targets {score_grey:.1f}, "
      f"on binarised targets (mean of 200 draws) {score_bin:.1f} nats")
assert abs(score_grey - score_bin) < 0.01 * abs(score_grey)

# %% [markdown]
# Same number on average, different meaning: only the binarised one is a log-probability of data.

# %% [markdown] tags=["deep-dive"]
# ## 8. A Gaussian decoder: densities can exceed 1
#
# With $p(x\mid z) = \prod_i \mathcal N(x_i;\, \mu_i(z),\, \sigma^2)$ and a fixed $\sigma = 0.1$, each pixel contributes at
# most the density's peak,
#
# $$\log \mathcal N(x_i; x_i, \sigma^2) = -\log\big(\sigma\sqrt{2\pi}\big) \approx 1.38 \text{ nats for } \sigma = 0.1,$$
#
# so $\log p(x \mid z)$ can reach $784 \times 1.38 \approx 1085$ nats: unlike a probability, a density can exceed 1.
# It also depends on the units: pixels in $[0, 255]$ instead of $[0, 1]$ divide every density by 255 per pixel,
# subtracting $784 \log 255 \approx 4344$ nats from every log-likelihood of the same model.

# %%
model_gauss, hist_gauss = vl.trained("training_gaussian", seed=SEED)
sigma = model_gauss.decoder.log_sigma.exp().item()
peak = D * -math.log(sigma * math.sqrt(2 * math.pi))
print(f"Gaussian decoder, sigma = {sigma:g}: test rec {hist_gauss['test_rec'][-1]:.1f}, "
      f"test ELBO {hist_gauss['test_elbo'][-1]:.1f}; the largest possible rec is {peak:.1f} nats")
assert hist_gauss["test_rec"][-1] <= peak  # a check: no reconstruction beats the density's peak
vl.claim("positive-log-density", "the Gaussian decoder's test ELBO is positive", hist_gauss["test_elbo"][-1], ">", 100,
         null=0, null_is="the largest log of a probability", unit="nats");

with torch.no_grad():                      # the same model, pixels measured in [0, 255]
    px_z = model_gauss.decoder(model_gauss.encoder(x).mean)
    px_z_255 = Independent(Normal(255 * px_z.mean, 255 * px_z.stddev), 3)
    shift = (px_z_255.log_prob(255 * x) - px_z.log_prob(x)).mean().item()
print(f"change of units shifts log p(x|z) by {shift:.1f} nats (D log 255 = {D * math.log(255):.1f})")
assert abs(shift + D * math.log(255)) < 1

# %% [markdown]
# So the three test ELBOs (grey, binarised, Gaussian) are three different quantities. Compare nats only between models
# of **the same data, in the same units, under the same kind of likelihood**; papers report MNIST numbers on binarised
# images for this reason (Salakhutdinov & Murray, 2008).

# %% [markdown] tags=["deep-dive"]
# ## 9. The three models side by side
#
# Each row shows the decoder's mean $\mathbb E[x \mid z]$ (pixel probabilities, or $\mu(z)$ for the Gaussian) for
# $z \sim q(z\mid x)$ of a test image (reconstructions; the binarised model gets the binarised image) or $z \sim p(z)$
# (samples).

# %%
n_show = 8
models = {"grey Bernoulli": (model_grey, x), "binarised Bernoulli": (model_bin, x_bin), "Gaussian": (model_gauss, x)}
rows = [("test images", x[:n_show]), ("binarised test images", x_bin[:n_show])]
rows += [(f"{name}: reconstructions", model.reconstruct(data[:n_show])) for name, (model, data) in models.items()]
rows += [(f"{name}: samples from p(z)", model.sample(n_show)) for name, (model, data) in models.items()]
fig, axes = plt.subplots(len(rows), 1, figsize=(6.5, 1.05 * len(rows)))
for ax, (title, images) in zip(axes, rows):
    vl.plots.show_images(images, nrow=n_show, title=title, ax=ax)
plt.tight_layout()

ratios = []
for name, (model, data) in models.items():   # is each reconstruction closer to its own image than to another?
    recon = model.reconstruct(data[:300])
    own, other = (recon - x[:300]).abs().mean().item(), (recon - x[:300].roll(1, 0)).abs().mean().item()
    print(f"{name:20s}: mean |reconstruction - its image| {own:.3f}, - another image {other:.3f}")
    ratios.append(own / other)
vl.claim("recon-keeps-identity", "all three models reconstruct an image closer to it than to another test image",
         max(ratios), "<", 0.6, null=1, null_is="as close to another image as to its own");

# %% [markdown]
# **What you should see:** all three models keep each digit's identity; the binarised model, shown the speckled image,
# reconstructs a smooth grey one (its pixel probabilities); the samples look like digits, some badly formed. Notebook 06
# explains why samples are worse than reconstructions.

# %% [markdown] tags=["deep-dive"]
# ## 10. The test log-likelihood by importance sampling
#
# The ELBO is a lower bound. Averaging the importance weights $w_j = p(x\mid z_j)\,p(z_j)/q(z_j\mid x)$ of $k$ codes
# $z_j \sim q(z\mid x)$ gives a tighter one (Burda et al., 2016),
#
# $$\log p(x) \;\ge\; \mathcal L_k(x) = \mathbb E\Big[\log \frac1k \sum_{j=1}^k w_j\Big] \;\ge\; \mathcal L_1(x) = \mathrm{ELBO}(x),$$
#
# which rises to $\log p(x)$ as $k \to \infty$. `vl.log_likelihood(model, images, k)` averages $\mathcal L_k$ over at
# most 1,000 test images ($k$ decoder passes each), with its standard error over images. Here it is, next to the
# ELBO, for the two models whose number is a log-likelihood.

# %%
k = vl.by_mode(1000, 100)
n_ll = min(len(x), 1000)
log_px = {}
for name, model, data in [("Bernoulli, binarised", model_bin, x_bin[:n_ll]), ("Gaussian, sigma 0.1", model_gauss, x[:n_ll])]:
    log_px[name], se = vl.log_likelihood(model, data, k=k, return_se=True)
    with torch.no_grad():
        elbo_ = torch.stack([vl.elbo(model, data)["elbo"] for _ in range(10)]).mean().item()
    print(f"{name:22s} L_k {log_px[name]:8.1f} (standard error {se:.2f})   ELBO {elbo_:8.1f}   "
          f"gap {log_px[name] - elbo_:5.1f} nats (k = {k}, {n_ll} test images)")
    assert log_px[name] >= elbo_  # a check of the code: with k >= 1 the bound cannot fall below the ELBO on average

# %% [markdown]
# Both estimates lie above the ELBO, as they do on average. So the gap is a *lower bound* on what the ELBO misses because
# $q(z\mid x)$ is not the true posterior; with more draws it grows, on average.

# %% [markdown] tags=["core"]
# ## 11. Bug 1: images in $[-1, 1]$ fed to binary cross-entropy
#
# A forum question (*"couldn't we just sample from a standard normal distribution without the encoder?"*, notebook 05)
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
# Why refuse? For $x_i < 0$ the per-pixel loss $-\ell(p; x_i) = -x_i\log p - (1-x_i)\log(1-p)$ has a term
# $|x_i|\log p$ that goes to $-\infty$ as $p \to 0$: the loss is **unbounded below**. For the background, $x_i = -1$, it
# is $\log p - 2\log(1-p)$. Training drives those outputs to 0 for ever, reporting ever more negative losses, and the
# best output is no longer the pixel's value. A negative BCE means $\ell > 0$: a "probability" above 1.

# %%
p = torch.tensor([0.5, 1e-1, 1e-3, 1e-6, 1e-9])
for x_i in (-1.0, -0.4):
    loss = -(x_i * torch.log(p) + (1 - x_i) * torch.log1p(-p))     # BCE with target x_i
    print(f"target {x_i:4}: BCE at p =", [f"{v:g}" for v in p.tolist()], "->", [round(v, 1) for v in loss.tolist()])
    assert (loss.diff() < 0).all() and loss[-1] < -5      # keeps falling as p -> 0, far below 0

# %% [markdown]
# What does PyTorch do? Try both its binary cross-entropy functions on one background pixel, $x_i = -1$:
# `F.binary_cross_entropy` takes probabilities $p$ (the script's sigmoid outputs),
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
# Recent PyTorch versions stop the script with an error; the logits version (common in VAE code for its
# numerical stability) runs silently, its loss falling without bound. The fix: drop the `Normalize`, map back with
# $x = (x_{\text{norm}} + 1)/2$ (exercise 3), or use a Gaussian decoder, which accepts any real values.

# %% [markdown] tags=["deep-dive"]
# ## 12. Bug 2: a learning rate of $10^{-5}$
#
# The script also uses Adam with `lr=1e-5`. Adam divides each gradient by a running estimate of its size, so its first
# step moves every weight that has a gradient by almost exactly `lr`, whatever the gradient's size (as long as it is
# far above Adam's $\epsilon = 10^{-8}$). One step on a fresh
# model:

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
# So `lr = 1e-5` takes steps 100 times smaller than the usual `lr = 1e-3`. Retrain the first model from the same weights
# and batches at `lr=1e-5` for the first epochs of the `lr=1e-3` run (a throw-away run, so `vl.fit` directly; a few
# seconds on the digits).

# %%
n_epochs = min(20, len(hist_grey["epoch"]))
torch.manual_seed(SEED)                       # the same initial weights as the recipe
model_slow = vl.make_vae(**settings)          # the recipe's model
hist_slow = vl.fit(model_slow, train, test, epochs=n_epochs, lr=1e-5, seed=SEED, progress=False)

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(hist_grey["epoch"][:n_epochs], hist_grey["test_elbo"][:n_epochs], label="lr = 1e-3")
ax.plot(hist_slow["epoch"], hist_slow["test_elbo"], label="lr = 1e-5")
ax.set(xlabel="epoch (same batches for both)", ylabel="test ELBO (nats per image)")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.legend();

# %% [markdown]
# **What you should see:** the `lr = 1e-3` curve rises steeply over the first few epochs and levels off; the
# `lr = 1e-5` curve creeps up almost linearly, far below it at every epoch shown.

# %%
tenth = max(1, n_epochs // 10)
fast_early, slow_end = hist_grey["test_elbo"][tenth - 1], hist_slow["test_elbo"][-1]
print(f"lr 1e-3 after {tenth} epoch(s): {fast_early:.1f};  lr 1e-5 after {n_epochs} epochs: {slow_end:.1f};  "
      f"lr 1e-3 after {n_epochs} epochs: {hist_grey['test_elbo'][n_epochs - 1]:.1f} nats")
assert all(s < f for s, f in zip(hist_slow["test_elbo"], hist_grey["test_elbo"]))  # behind at every epoch
vl.claim("small-lr-slow", "ten times as many steps at lr 1e-5 end below lr 1e-3's first tenth", fast_early - slow_end,
         ">", 0, null=fast_early - hist_grey["test_elbo"][n_epochs - 1], null_is="lr 1e-5 as fast as lr 1e-3");

# %% [markdown]
# Ten times as many steps at `lr = 1e-5` end below where `lr = 1e-3` stands after a tenth of them: a learning rate
# 100 times too small costs more than 10 times the training time.


# %% [markdown] tags=["deep-dive"]
# ## Exercises
#
# **Exercise 1 (bits per dimension).** Papers often report $-\log_2 p(x)$ divided by the number of pixels $D$: bits
# per dimension. Write `to_bits_per_dim(log_px, D)`, converting a log-likelihood in nats per image of $D$ pixels into
# bits per dimension. The check tries it on fair coins (exactly 1 bit per pixel), then on the binarised
# model of section 10.

# %%
log_px_bin = log_px["Bernoulli, binarised"]   # nats per image
print(f"log p(x) ~ {log_px_bin:.1f} nats per image, D = {D} pixels")

# %%
def to_bits_per_dim(log_px, D):
    ### BEGIN SOLUTION
    return -log_px / (D * math.log(2))
    ### END SOLUTION

# %%
def check_answer():
    coin = Independent(Bernoulli(probs=torch.full((D,), 0.5)), 1)         # every pixel a fair coin: 1 bit each
    image = torch.randint(0, 2, (D,)).float()
    quarter = Independent(Bernoulli(probs=torch.full((2,), 0.25)), 1)     # two pixels at p = 1/4, both on: 2 bits each
    known = [(coin.log_prob(image).item(), D, 1.0), (quarter.log_prob(torch.ones(2)).item(), 2, 2.0)]
    ok = all(abs(float(to_bits_per_dim(lp, d)) - bits) < 1e-6 for lp, d, bits in known)
    print(f"fair coins: {float(to_bits_per_dim(*known[0][:2])):.4f} bits per pixel (1 expected); the binarised model: "
          f"{float(to_bits_per_dim(log_px_bin, D)):.4f} bits per dimension")
    return ok


vl.exercises.check(check_answer, hint="divide by ln 2 to turn nats into bits, by D for per pixel, and mind the sign "
                              "(bits per dimension are positive)",
                   success="a code length: fewer bits per pixel means a better model of the binarised digits")

# %% [markdown]
# **Exercise 2 (predict, then run: other units).** Section 8 measured the pixels in $[0, 255]$. Suppose instead they
# are measured in $[0, 2]$, that is $x \mapsto 2x$ (and the decoder's mean and $\sigma$ scale with them). Before running
# anything, predict by how many nats per image the Gaussian model's $\log p(x \mid z)$ changes, and write the number in
# `my_prediction`. The check then measures it on the test images.

# %%
### BEGIN SOLUTION
my_prediction = -D * math.log(2)   # nats per image: the change in log p(x|z) when the pixels are measured in [0, 2]
### END SOLUTION

# %%
def check_answer():
    if not isinstance(my_prediction, (int, float)):
        print("write your prediction, a number of nats, in my_prediction first")
        return False
    with torch.no_grad():
        px_z = model_gauss.decoder(model_gauss.encoder(x).mean)
        px_z_2 = Independent(Normal(2 * px_z.mean, 2 * px_z.stddev), 3)
        change = (px_z_2.log_prob(2 * x) - px_z.log_prob(x)).mean().item()
    print(f"you predicted {my_prediction:.1f} nats; measured {change:.1f}")
    return abs(my_prediction - change) < 1


vl.exercises.check(check_answer, hint="each of the D pixels' densities is divided by the scale factor 2",
                   success="-D log 2: the same model, a different number; compare nats only in the same units")

# %% [markdown]
# **Exercise 3 (fix bug 1).** Map `x_normalised` (section 11) back to images `x_fixed` that `vl.elbo` accepts, and
# compute `elbo_fixed`, their mean ELBO under `model_grey` in nats per image (a float).

# %%
### BEGIN SOLUTION
x_fixed = (x_normalised + 1) / 2
with torch.no_grad():
    elbo_fixed = vl.elbo(model_grey, x_fixed)["elbo"].mean().item()
### END SOLUTION

# %%
def check_answer():
    if not torch.allclose(x_fixed, x, atol=1e-6):
        print("x_fixed is not the original test images")
        return False
    with torch.no_grad():   # the mean ELBO of the test images, 10 times with fresh draws of z
        reference = torch.stack([vl.elbo(model_grey, x)["elbo"].mean() for _ in range(10)])
    print(f"your ELBO {elbo_fixed:.1f}; the test images' mean ELBO {reference.mean():.1f} "
          f"(it varies by {reference.std():.1f} between draws of z)")
    return abs(elbo_fixed - reference.mean().item()) < 2.0


vl.exercises.check(check_answer, hint="Normalize computed (x - 0.5) / 0.5: invert that; then take the mean of "
                              "vl.elbo(model_grey, x_fixed)['elbo'] (the ELBO, not the loss or rec) as a float",
                   success="the images are back in [0, 1] and the ELBO is that of the original test images")

# %% [markdown] tags=["core"]
# ## Summary
#
# - A training step: encode, draw $z = \mu + \sigma \odot \varepsilon$, decode, score $\log p(x\mid z)$, subtract the KL,
#   take an Adam step. `vl.fit` is that loop, to rounding error.
# - The yardstick: the best decoder that ignores $z$ (KL = 0); a useful model's reconstruction beats it by several
#   times its KL.
# - The KL's early peak pays for codes the decoder cannot read yet; the climb is information the decoder uses. The dip
#   happens without the KL's pull too; the pull deepens it. Warm-up softens the pull. The likelihood's scale alone
#   collapses the same MLP, at $\sigma^2$ above the data's largest variance (a linear VAE's optimum collapses there).
# - Grey levels under a Bernoulli decoder: an entropy floor, no density; binarised images: a log-probability; a
#   Gaussian decoder: a density, possibly positive, unit-dependent. Compare nats only like with like.
# - The importance-weighted bound with many samples estimates $\log p(x)$, above the ELBO on average.
# - Images in $[-1, 1]$ make binary cross-entropy unbounded below; `lr=1e-5` shortens each Adam step 100 times.
#
# Next, notebook 04: what the reconstruction term measures.

# %% [markdown] tags=["core"]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-encoding variational Bayes. *ICLR*. Section 2.
# - D. P. Kingma and J. Ba (2015). Adam: a method for stochastic optimization. *ICLR*. Section 12.
# - Y. Burda, R. Grosse and R. Salakhutdinov (2016). Importance weighted autoencoders. *ICLR*.
#   Section 10.
# - S. R. Bowman, L. Vilnis, O. Vinyals, A. M. Dai, R. Jozefowicz and S. Bengio (2016). Generating sentences from a
#   continuous space. *CoNLL*. Section 5.
# - C. K. Sønderby, T. Raiko, L. Maaløe, S. K. Sønderby and O. Winther (2016). Ladder variational autoencoders.
#   *NeurIPS*. Section 5.
# - J. Lucas, G. Tucker, R. Grosse and M. Norouzi (2019). Don't blame the ELBO! A linear VAE perspective on posterior
#   collapse. *NeurIPS*. Section 5.
# - J. He, D. Spokoyny, G. Neubig and T. Berg-Kirkpatrick (2019). Lagging inference networks and posterior collapse
#   in variational autoencoders. *ICLR*. Section 5.
# - R. Salakhutdinov and I. Murray (2008). On the quantitative analysis of deep belief networks. *ICML*. Section 8.
# - G. Loaiza-Ganem and J. P. Cunningham (2019). The continuous Bernoulli: fixing a pervasive error in variational
#   autoencoders. *NeurIPS*. Section 6.
