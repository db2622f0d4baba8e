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
# # 05 · Could we train a VAE without the encoder?
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/05_no_encoder.ipynb)
#
# A question on a statistics forum runs, in short: *when we generate, we feed the decoder $z \sim \mathcal N(0, I)$,
# and at the end of training the encoder's means and standard deviations are close to 0 and 1 anyway. So why not
# train the decoder on $z \sim \mathcal N(0, I)$ directly, with the reconstruction loss only, and drop the encoder?
# The KL term does not send any gradient to the decoder in any case.* The question came with code that does exactly
# that. This notebook runs that experiment, explains its outcome, and then runs the version of the idea that works.
#
# **What you will learn**
# - derive what a decoder learns when its input $z$ is drawn independently of the image $x$, for binary
#   cross-entropy and for squared error, and measure the collapse onto the mean image in pixel distances and with a
#   digit classifier (class coverage, not confidence, reveals it);
# - see that the question's loss is the ELBO with $q(z \mid x)$ fixed to $p(z)$: a valid but loose lower bound on
#   $\log p(x)$, whose best decoder ignores $z$;
# - train the same decoder without an encoder on a tighter bound, the importance-weighted bound with the prior as
#   proposal, and measure that it does not collapse;
# - measure what the encoder buys, efficiency: how many prior draws it takes to do what one encoder pass does, and
#   why that number grows exponentially with the information a code carries;
# - check with autograd which parameters the KL term trains, find the latent dimensions the VAE leaves unused (where
#   the question's "close to 0 and 1" is true), and name the other ways to do without an encoder.

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
import copy
import math
import time

import matplotlib.pyplot as plt
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence
from tqdm.auto import trange

import vae_lesson as vl
from vae_lesson.objectives import kl_term

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown]
# ## 1. The experiment: a decoder trained on $z \sim \mathcal N(0, I)$
#
# First a VAE for comparison (encoder, decoder, standard normal prior, $\beta = 1$), from the recipe
# `no_encoder_vae`. Then the proposal itself: the **same decoder architecture** (we build a whole VAE with the same
# settings and use only its `decoder`), trained on the reconstruction loss $-\log p(x \mid z)$ (binary
# cross-entropy, as in the question) with $z \sim \mathcal N(0, I)$ drawn afresh for each image, independently of it.
# Same data, batches, epochs and optimiser as the VAE; the learning rate is $10^{-3}$, not the question's
# $10^{-5}$, so that a slow learning rate (notebook 03) is not what goes wrong.
#
# The training function takes a number of draws `k` per image; `k=1` is the question's loss. Section 5 explains
# and uses `k > 1`.

# %%
train, test = vl.load(split="train"), vl.load(split="test")
vae, hist_vae = vl.trained("no_encoder_vae", seed=SEED)
latent_dim = vl.RECIPES["no_encoder_vae"]["latent_dim"]
x_mean = train.images.mean(dim=0)            # the mean training image, (1, 28, 28)
print(vl.RECIPES["no_encoder_vae"], f"-> trained for {len(hist_vae['epoch'])} epochs")


# %%
def train_decoder_alone(latent_dim, epochs, k=1, batch_size=128, lr=1e-3):
    """A decoder fed z ~ N(0, I) drawn independently of x, no encoder. Maximises, per image,
    log (1/k) sum_i p(x | z_i) over k draws z_i; k=1 is the question's loss -log p(x | z).
    Returns (decoder, losses per epoch)."""
    torch.manual_seed(SEED)
    decoder = vl.make_vae(**{**vl.RECIPES["no_encoder_vae"], "latent_dim": latent_dim}).decoder.to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    order_rng = torch.Generator().manual_seed(SEED)
    losses = []
    for epoch in trange(epochs, desc=f"decoder alone, k={k}"):
        total = torch.zeros((), device=device)
        for idx in vl.data.batches(len(train), batch_size, order_rng, device):
            x = train.images[idx]
            z = torch.randn(k, len(x), latent_dim, device=device)   # k draws per image, none looks at x
            log_px_z = decoder(z.flatten(0, 1)).log_prob(x.repeat(k, 1, 1, 1)).view(k, len(x))
            loss = -(torch.logsumexp(log_px_z, dim=0) - math.log(k)).mean()   # k=1: binary cross-entropy
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(idx)
        losses.append(total.item() / len(train))
    return decoder.eval(), losses

decoder_alone, losses_alone = train_decoder_alone(latent_dim, epochs=len(hist_vae["epoch"]))
print(f"decoder alone: loss {losses_alone[0]:.1f} -> {losses_alone[-1]:.1f} nats per image")

# %%
n = 200
with torch.no_grad():
    z = torch.randn(n, latent_dim, device=device)     # the same codes for both decoders
    samples_alone = decoder_alone(z).mean
    samples_vae = vae.decoder(z).mean

fig, axes = plt.subplots(2, 2, figsize=(8.5, 2.6), gridspec_kw={"width_ratios": [10, 1]})
vl.plots.show_images(samples_alone[:10], nrow=10, title=r"decoder trained alone, $z \sim \mathcal{N}(0, I)$", ax=axes[0, 0])
vl.plots.show_images(x_mean[None], nrow=1, title="mean image", ax=axes[0, 1])
vl.plots.show_images(samples_vae[:10], nrow=10, title="VAE decoder, the same ten $z$", ax=axes[1, 0])
axes[1, 1].set_axis_off()
plt.tight_layout()
plt.show()


# %% [markdown]
# **What you should see:** the decoder trained alone draws the same blurred blob ten times, and it looks like the
# mean training image beside it; the VAE's decoder draws ten different images from the same ten codes, most of them
# recognisable digits.
#
# ## 2. Why: for $z$ independent of $x$ the best output is $\mathbb E[x]$
#
# Write the decoder's output for code $z$ as $f(z)$ (its pixel means) and the per-image loss as $\ell(f(z), x)$. If
# $z$ is drawn independently of $x$, the expected loss splits into one problem per code:
#
# $$\mathcal L(f) = \mathbb E_{x}\,\mathbb E_{z \sim \mathcal N(0, I)}\big[\ell(f(z), x)\big]
# = \mathbb E_{z}\Big[\underbrace{\mathbb E_{x}\big[\ell(f(z), x)\big]}_{g(f(z))}\Big],$$
#
# and every $f(z)$ minimises **the same** function $g(y) = \mathbb E_x[\ell(y, x)]$ of the output $y$, whatever $z$
# is.
#
# - Binary cross-entropy, per pixel: $g(y_i) = -\mathbb E[x_i]\log y_i - (1 - \mathbb E[x_i])\log(1 - y_i)$, and
#   $g'(y_i) = -\mathbb E[x_i]/y_i + (1 - \mathbb E[x_i])/(1 - y_i) = 0$ gives $y_i = \mathbb E[x_i]$.
# - Squared error (a Gaussian decoder with fixed $\sigma$):
#   $\mathbb E\,\|y - x\|^2 = \|y - \mathbb E[x]\|^2 + \mathbb E\,\|x - \mathbb E[x]\|^2$, smallest at $y = \mathbb E[x]$.
#
# So the optimal decoder ignores $z$ and outputs the mean image $\bar x = \mathbb E[x]$ for every code: all its
# samples are the same. Its loss can get no lower than the loss of that constant, $g(\bar x)$.
#
# The derivation is about this loss: one $z$ per image, drawn without looking at the image, and the decoder asked to
# turn it into that image. It does not say that a decoder needs an encoder. Any objective that lets the target of
# a code depend on the image escapes it: a VAE's encoder draws $z \sim q(z \mid x)$ near the other codes of similar
# images, so the best output for code $z$ becomes $\mathbb E[x \mid z]$, a different image for each region of the
# latent space; section 5 gets there without an encoder.
#
# ## 3. Measured: the outputs collapse onto the mean image
#
# Two numbers per decoder, in pixel units (pixels in $[0, 1]$): the mean distance $|f(z) - \bar x|$ of its outputs to
# the mean image, and the mean distance between two of its outputs (both averaged over pixels and over 200 codes).

# %%
def distance_to_mean(images):
    return (images - x_mean).abs().mean().item()

pairwise_distance = vl.metrics.mean_pairwise_distance  # mean |a - b| per pixel over all pairs

alone = distance_to_mean(samples_alone), pairwise_distance(samples_alone)
full = distance_to_mean(samples_vae), pairwise_distance(samples_vae)
print(f"decoder alone: to the mean image {alone[0]:.4f}, between samples {alone[1]:.4f}")
print(f"VAE:           to the mean image {full[0]:.4f}, between samples {full[1]:.4f}")
assert alone[0] < 0.05 and alone[1] < 0.05               # near zero, one image (digits 0.010-0.014, MNIST subset 0.016-0.020)
assert full[0] > 5 * alone[0] and full[1] > 5 * alone[1]  # the VAE's samples differ from it and from each other

# %% [markdown]
# The loss tells the same story. The decoder trained alone ends at the loss of the constant mean image,
# $g(\bar x) = -\mathbb E_x \log \mathrm{Bernoulli}(x;\, \bar x)$, the floor derived above:

# %%
def loss_of_constant(y, images):
    """-log p(x | z) averaged over images, for a decoder whose output is y for every z."""
    return -Independent(Bernoulli(probs=y.expand_as(images), validate_args=False), 3).log_prob(images).mean().item()

floor = loss_of_constant(x_mean, train.images)
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(range(1, len(losses_alone) + 1), losses_alone, label="decoder alone (train loss)")
ax.axhline(floor, color="k", ls="--", label="loss of the constant mean image")
ax.set_xlabel("epoch"); ax.set_ylabel("nats per image"); ax.legend()
plt.show()
print(f"decoder alone, last epoch: {losses_alone[-1]:.1f}; constant mean image: {floor:.1f} nats per image")
assert abs(losses_alone[-1] - floor) < 0.02 * abs(floor)   # within 0.3 % on digits, 1.3 % on the MNIST subset

# %% [markdown]
# **What you should see:** the loss falls within a few epochs almost onto the dashed line and stays there: once the
# decoder outputs the mean image there is nothing left to learn from a $z$ that says nothing about $x$.
#
# Do the samples look like digits, and like *which* digits? Ask a small digit classifier, trained on the training
# images (`vl.metrics.digit_classifier()`, cached after the first call), which class each of the 200 samples shows.
# Two numbers summarise its answers: how many of the ten classes it sees at least once, and the entropy of the class
# histogram ($\log 10 = 2.30$ nats when all ten classes are equally frequent, 0 when all samples get one class).
# A third, its confidence (the mean of its largest class probability), is the number one might look at first.

# %%
classifier = vl.metrics.digit_classifier()
print(f"classifier accuracy on the test images: {vl.metrics.accuracy(classifier, test):.1%}")
coverage, conf = {}, {}
for name, images in [("decoder alone", samples_alone), ("VAE", samples_vae), ("test images", test.images)]:
    with torch.no_grad():
        counts = torch.bincount(classifier(images).argmax(-1), minlength=10)
    coverage[name] = vl.metrics.class_coverage(images, classifier)
    conf[name] = vl.metrics.confidence(images, classifier)
    print(f"{name:13s}: {coverage[name][0]:2d} classes, entropy {coverage[name][1]:.2f} nats, "
          f"confidence {conf[name]:.2f}; images per class {counts.tolist()}")
assert vl.metrics.accuracy(classifier, test) > 0.9           # a trustworthy instrument (digits 98 %, MNIST subset 96 %)
assert coverage["decoder alone"][0] <= 2                       # (nearly) all samples one class ...
assert coverage["VAE"][0] >= 8                                 # ... while the VAE draws (almost) every class
assert coverage["VAE"][1] > coverage["decoder alone"][1] + 1.5
assert conf["decoder alone"] > 0.9                             # "with high confidence": 0.98-1.00 in all runs
assert conf["decoder alone"] > conf["VAE"]                     # VAE 0.88-0.91 (MNIST subset 0.75-0.79): a threshold
                                                               # that passes the VAE passes the collapsed decoder too

# %% [markdown]
# The classifier puts every sample of the decoder trained alone into one class, and with high confidence, higher than
# for the VAE's varied samples: the mean image looks like *some* digit, always the same one. Its confidence alone
# would not flag the collapse; the missing classes do.
#
# ## 4. The question's loss is a lower bound on $\log p(x)$, a loose one
#
# The question's loss is not arbitrary. The model is $p(z)\,p_\theta(x \mid z)$, and by Jensen's inequality
#
# $$\log p_\theta(x) = \log \mathbb E_{z \sim p(z)}\big[p_\theta(x \mid z)\big]
# \;\ge\; \mathbb E_{z \sim p(z)}\big[\log p_\theta(x \mid z)\big],$$
#
# so minimising $-\log p_\theta(x \mid z)$ with $z \sim p(z)$ maximises a valid lower bound on the log-likelihood. It
# is the ELBO of notebook 01 with the encoder replaced by the prior, $q(z \mid x) = p(z)$ (then
# $\mathrm{KL}(q \,\|\, p) = 0$). The ELBO's gap is $\mathrm{KL}(q(z \mid x)\,\|\,p_\theta(z \mid x))$, so here
#
# $$\mathbb E_{p(z)}\big[\log p_\theta(x \mid z)\big] = \log p_\theta(x) - \mathrm{KL}\big(p(z)\,\|\,p_\theta(z \mid x)\big).$$
#
# Maximising this bound maximises the likelihood **minus a penalty that is zero only when the model's posterior
# $p_\theta(z \mid x)$ equals the prior**, that is, only when $z$ tells the decoder nothing about $x$. Every decoder
# that uses $z$ pays it; the decoder that ignores $z$ pays nothing. That is the collapse of section 2 seen from the
# bound. How loose is the bound at its best? On the training images its maximum over all decoders is reached by the
# mean training image (section 2); on the test images set that decoder's bound beside the VAE's test ELBO, a bound of
# the same kind with the encoder as $q$:

# %%
bound_question = -loss_of_constant(x_mean, test.images)        # the question's bound, for its best decoder
elbo_vae = vl.train.evaluate(vae, test.images)["elbo"]           # the VAE's ELBO, one z ~ q(z|x) per image
print(f"test images, nats per image: the question's bound at its optimum {bound_question:.1f}; "
      f"the VAE's ELBO {elbo_vae:.1f}")
assert elbo_vae > bound_question + 30                             # 70 nats apart on digits, 73-75 on the MNIST subset

# %% [markdown]
# A decoder trained on the question's loss ends at the first number (section 3); the VAE's bound is tens of nats
# higher on images neither model saw. The question's objective is a correct bound that is too loose to be worth
# maximising.
#
# ## 5. Without an encoder, done right: many prior draws per image
#
# A tighter bound with the same ingredients, $z \sim p(z)$ and no encoder, is the importance-weighted bound of
# Burda et al. (2016) with the prior as the proposal. Draw $K$ codes $z_1, \dots, z_K \sim p(z)$ independently of
# $x$ and average the likelihoods *before* taking the log:
#
# $$\mathcal L_K(x) = \mathbb E_{z_1, \dots, z_K \sim p(z)}\Big[\log \frac1K \sum_{k=1}^K p_\theta(x \mid z_k)\Big],
# \qquad \mathcal L_1 \le \mathcal L_2 \le \dots \le \log p_\theta(x), \quad \mathcal L_K \to \log p_\theta(x).$$
#
# $\mathcal L_1$ is the question's loss. For $K > 1$ the gradient is
# $\nabla_\theta \mathcal L_K = \mathbb E\big[\sum_k \tilde w_k\, \nabla_\theta \log p_\theta(x \mid z_k)\big]$ with
# $\tilde w_k = p_\theta(x \mid z_k) / \sum_j p_\theta(x \mid z_j)$: each image trains mostly the draw that already explains it best. The objective itself
# pairs images with codes, so the best output for a region of $z$ is no longer the mean of all images. Train the same
# decoder, on the same data, with $K = 32$ draws per image. Each step decodes 32 times as many codes as before: the
# cell trains for about 160 steps in quick mode, about 10 s on a 2-core CPU, and 500 steps otherwise (about 25 s);
# it prints its own time.

# %%
K = 32
steps_iw = vl.by_mode(500, 160)                             # Adam steps
epochs_iw = max(1, round(steps_iw / math.ceil(len(train) / 128)))  # digits: 42 epochs (quick: 13)
start = time.perf_counter()
decoder_iw, losses_iw = train_decoder_alone(latent_dim, epochs=epochs_iw, k=K)
print(f"decoder alone, K = {K}, {epochs_iw} epochs: loss {losses_iw[0]:.1f} -> {losses_iw[-1]:.1f} nats per image "
      f"({time.perf_counter() - start:.0f} s)")
with torch.no_grad():
    samples_iw = decoder_iw(z).mean                  # the same 200 codes as before

fig, axes = plt.subplots(3, 1, figsize=(8, 3.4))
vl.plots.show_images(samples_alone[:10], nrow=10, title="decoder alone, K = 1 (the question's loss)", ax=axes[0])
vl.plots.show_images(samples_iw[:10], nrow=10, title=f"decoder alone, K = {K}, no encoder", ax=axes[1])
vl.plots.show_images(samples_vae[:10], nrow=10, title="VAE decoder", ax=axes[2])
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** the middle row, from a decoder that never met an encoder, shows different digits, nearly
# as varied as the VAE's in the bottom row and a little blurrier; the top row is the mean-image blob again.
#
# Many of the weights $\tilde w_k$ are tiny. A draw that explains the image 100 nats worse than the best one gets
# $\tilde w_k \le e^{-100} \approx 4 \times 10^{-44}$, below the smallest normal float32 number
# ($1.2 \times 10^{-38}$). Many CPUs compute with such "subnormal" numbers tens of times more slowly, so
# `import vae_lesson` tells the CPU to round them to zero (`vl.config.flush_denormals`); without that the training
# cell above took 60 s instead of 9 s in quick mode on a 2-core Intel CPU. Two things to check: how many weights are
# that small, computed in float64 where they are not rounded away, and whether rounding them to zero changes the
# gradient that trains the decoder, compared with the same gradient in float64 (on the CPU, for 128 training images
# and $K$ fresh draws each).

# %%
def iw_gradient(decoder, x, z, dtype):
    """log p(x | z_k) for each draw and image, and the gradient of the K-draw loss, in this float type."""
    decoder = copy.deepcopy(decoder).cpu().to(dtype)
    log_px_z = decoder(z.to(dtype).flatten(0, 1)).log_prob(x.to(dtype).repeat(len(z), 1, 1, 1)).view(len(z), len(x))
    loss = -(torch.logsumexp(log_px_z, dim=0) - math.log(len(z))).mean()
    loss.backward()
    return log_px_z.detach().double(), torch.cat([p.grad.flatten().double() for p in decoder.parameters()])

x_check = train.images[:128].cpu()
z_check = torch.randn(K, len(x_check), latent_dim, generator=torch.Generator().manual_seed(SEED))
log_px_z64, grad64 = iw_gradient(decoder_iw, x_check, z_check, torch.float64)
_, grad32 = iw_gradient(decoder_iw, x_check, z_check, torch.float32)   # subnormals rounded to zero
log_w = log_px_z64 - torch.logsumexp(log_px_z64, dim=0)                 # log of the normalised weights
share_tiny = (log_w < math.log(torch.finfo(torch.float32).tiny)).double().mean().item()
grad_error = ((grad32 - grad64).norm() / grad64.norm()).item()
print(f"weights below the smallest normal float32: {share_tiny:.0%} (median weight e^{log_w.median().item():.0f})")
print(f"gradient in float32 with subnormals flushed vs float64: relative difference {grad_error:.1e}")
assert share_tiny > 0.2      # digits 41-43 %, MNIST subset 33-34 % (a decoder that ignored z: all 1/K, none tiny)
assert grad_error < 1e-4     # 8e-06 on digits, 3-5e-06 on the MNIST subset: float32 rounding, nothing lost

# %% [markdown]
# **What you should see:** more than a fifth of the weights (about 40 % on the digits) are below
# $1.2 \times 10^{-38}$, and the gradient computed
# with them rounded to zero agrees with the float64 one to about $10^{-5}$, the precision of float32 itself. Those
# weights carry nothing the training needs; only the time spent on them was lost.
#
# Measured with the yardsticks of section 3, and with the model's bound on test images. The test bound is
# $\mathcal L_K$ with $K = 1000$ prior draws; for the VAE the same $K = 1000$ bound with its encoder as proposal
# (notebook 03's log-likelihood estimate). Both are lower bounds on each model's $\log p(x)$. They are taken over the
# first 50 test images in quick mode (100 otherwise), the same images for every number in this section, the
# next one and section 8.

# %%
iw = distance_to_mean(samples_iw), pairwise_distance(samples_iw)
coverage["decoder alone, K"] = vl.metrics.class_coverage(samples_iw, classifier)
n_eval = vl.by_mode(min(len(test), 100), 50)   # enough: every margin below is many nats
x_eval = test.images[:n_eval]
torch.manual_seed(SEED)
bound_iw = vl.objectives.prior_log_likelihood(decoder_iw, vae.prior, x_eval, k=1000)
ll_vae = vl.log_likelihood(vae, x_eval, k=1000)
print(f"decoder alone, K = {K}: {coverage['decoder alone, K'][0]} classes, entropy {coverage['decoder alone, K'][1]:.2f} nats; "
      f"to the mean image {iw[0]:.3f}, between samples {iw[1]:.3f}")
print(f"VAE:                {coverage['VAE'][0]} classes, entropy {coverage['VAE'][1]:.2f} nats; "
      f"to the mean image {full[0]:.3f}, between samples {full[1]:.3f}")
print(f"test bound ({n_eval} test images), nats per image: decoder alone, K = {K}: {bound_iw:.1f}; VAE: {ll_vae:.1f}; "
      f"the question's bound at its optimum: {-loss_of_constant(x_mean, x_eval):.1f}")
assert coverage["decoder alone, K"][0] >= 8        # no collapse: (nearly) all classes (10 in every run) ...
assert coverage["decoder alone, K"][1] > 1.2        # ... none dominating: digits 2.2, MNIST subset 1.7-1.8 nats (collapsed: 0)
assert iw[0] > 0.5 * full[0] and iw[1] > 0.5 * full[1]        # far from the mean image, varied: 0.74-0.88 of the VAE's
assert bound_iw > -loss_of_constant(x_mean, x_eval) + 20       # it uses z: 45-46 nats above (MNIST subset 49-50)
assert ll_vae > bound_iw                                       # the VAE's is still higher: by 25-26 nats (MNIST subset 33-35)

# %% [markdown]
# So the answer to the question is not a flat no. Training a decoder on $z \sim \mathcal N(0, I)$ alone works once the
# loss is a tight enough bound on $\log p(x)$: the question's one-draw loss collapses, the $K$-draw bound does not.
# Its test bound is still below the VAE's. Part of that is training: it had far fewer epochs than the VAE (on digits
# 42 against 200; in quick mode 13 against 100). Part is the bound itself: how far a prior-proposal bound can sit
# below $\log p(x)$, and why $K$ has to be large, is the next section.
#
# ## 6. What the encoder buys: efficiency
#
# Take the VAE's own decoder and estimate $\log p(x)$ of its test images in two ways: with the prior as proposal,
# $\log \frac1K \sum_k p(x \mid z_k)$, $z_k \sim p(z)$, for $K = 1$ to $10^4$; and with the encoder as proposal,
# $\log \frac1K \sum_k p(x \mid z_k)\,p(z_k)/q(z_k \mid x)$, $z_k \sim q(z \mid x)$ ($K = 1$ is the ELBO). Both are
# lower bounds on the same number that rise towards it as $K$ grows; they differ only in where the draws land. In
# quick mode the sweep uses the first 50 test images ($5 \times 10^5$ decoder passes at $K = 10^4$, 5 to 15 s on a
# 2-core CPU).

# %%
ks = [1, 10, 100, 1000, 10_000]
torch.manual_seed(SEED)
prior_estimate = [vl.objectives.prior_log_likelihood(vae.decoder, vae.prior, x_eval, k=k) for k in ks]
encoder_estimate = {1: vl.log_likelihood(vae, x_eval, k=1), 1000: ll_vae}
with torch.no_grad():
    kl_eval = kl_term(vae.encoder(x_eval), None, vae.prior).mean().item()
for k, value in zip(ks, prior_estimate):
    print(f"prior as proposal,   K = {k:6d}: {value:7.1f} nats per image")
for k, value in encoder_estimate.items():
    print(f"encoder as proposal, K = {k:6d}: {value:7.1f} nats per image")
short = encoder_estimate[1000] - prior_estimate[-1]
print(f"10^4 prior draws fall {short:.1f} nats short of 1000 encoder draws "
      f"({encoder_estimate[1] - prior_estimate[-1]:.1f} nats short of a single one)")
print(f"average KL(q(z|x) || p(z)) of these images: {kl_eval:.1f} nats; e^KL = {math.exp(kl_eval):.1e}")

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.semilogx(ks, prior_estimate, "o-", label="prior as proposal")
ax.axhline(encoder_estimate[1000], color="C1", ls="--", label="encoder as proposal, K = 1000")
ax.axhline(encoder_estimate[1], color="C1", ls=":", label="encoder as proposal, K = 1 (ELBO)")
ax.set_xlabel("K, draws per image"); ax.set_ylabel("estimate of log p(x), nats per image"); ax.legend()
plt.show()
assert all(b > a for a, b in zip(prior_estimate, prior_estimate[1:]))   # more draws, a tighter bound
assert short > 3                                             # 8.1-9.0 nats short on digits, 15.2-16.3 on the MNIST subset
assert encoder_estimate[1] > prior_estimate[-1]                      # one encoder draw beats 10^4 prior draws: by 5.3-7.4
                                                                      # nats on digits, 9.8-11.2 on the MNIST subset

# %% [markdown]
# **What you should see:** the prior-proposal curve climbs by tens of nats per factor of 10 at first, then by
# fewer and fewer, and at $K = 10^4$ is still below both orange lines: $10^4$ draws from the prior do worse than a
# single draw from the encoder.
#
# Why so many? With the prior as proposal the weight of a draw is $p(x \mid z_k)$, and it is large only where the
# posterior $p(z \mid x)$ is, a small region of the prior's mass. Importance sampling needs about
# $K \approx e^{\mathrm{KL}(p(z \mid x)\,\|\,p(z))}$ draws before the estimate settles (Chatterjee & Diaconis, 2018).
# The encoder's $q(z \mid x)$ stands in for $p(z \mid x)$: its average $\mathrm{KL}(q(z \mid x)\,\|\,p(z))$, printed
# above, is about 14.5 nats on the digits data set, so the prior would need of the order of
# $e^{14.5} \approx 2 \times 10^6$ draws per image, where the encoder needs one forward pass. The count grows
# exponentially with everything that adds nats to that KL:
# - **latent dimensions**: each dimension the model uses, with posterior standard deviation $\sigma_j$ inside a prior
#   of standard deviation 1, adds about $\log(1/\sigma_j)$ nats (2.3 nats, a factor 10 in $K$, at $\sigma_j = 0.1$);
# - **data**: to tell $N$ training images apart the codes must carry about $\log N$ nats, and a model that renders more
#   detail carries more, so more and richer data push the KL, and $K$, up.
#
# The same count works against training with the prior as proposal: the bound with $K = 32$ draws can be close to
# $\log p(x)$ only for images whose posterior is not much more than $\log 32 = 3.5$ nats away from the prior, so the
# objective pays the decoder of section 5 little for codes more informative than that. The encoder's contribution is
# not the pairing as such (the $K$-draw bound pairs images with codes too) but *amortised inference*: one forward
# pass lands in the region of $z$ that explains $x$.
#
# ## 7. The KL term sends no gradient to the decoder, yet the encoder is needed
#
# The question is right about one thing. $\mathrm{KL}(q_\phi(z\mid x)\,\|\,p(z))$ depends only on the encoder's
# parameters $\phi$ (and the prior's), not on the decoder's parameters $\theta$, so
# $\nabla_\theta\, \mathrm{KL} = 0$. Autograd agrees: backpropagating the KL alone leaves every decoder gradient
# empty.

# %%
x = train.images[:128]
qz, z_q, px_z = vae(x)                           # z ~ q(z|x), reparameterised
kl = kl_term(qz, z_q, vae.prior).mean()
vae.zero_grad(set_to_none=True)
kl.backward()
decoder_untouched = all(p.grad is None or p.grad.abs().max() == 0 for p in vae.decoder.parameters())
encoder_grad = sum(p.grad.abs().sum().item() for p in vae.encoder.parameters() if p.grad is not None)
print(f"KL alone -> decoder gradients all None or zero: {decoder_untouched}; "
      f"encoder gradient size: {encoder_grad:.1f}")
assert decoder_untouched and encoder_grad > 0
vae.zero_grad(set_to_none=True)

# %% [markdown]
# But that does not make the encoder idle. The reconstruction term $\log p_\theta(x \mid z)$ with
# $z = \mu_\phi(x) + \sigma_\phi(x)\,\varepsilon$ trains both networks, and what the encoder provides is the
# **pairing**: the decoder is asked to reconstruct $x$ from a $z$ that carries information about that $x$. Measure it with the trained VAE:
# reconstruct each test image from its own code $z \sim q(z \mid x)$, from the code of another test image, and from
# $z \sim p(z)$. A fourth number helps read the other three: the entropy of the decoder's output, summed over pixels,
# $H = -\sum_i [y_i \log y_i + (1 - y_i)\log(1 - y_i)]$, small for a sharp image (pixels near 0 or 1), large for a
# blurred one.

# %%
def output_entropy(px_z):
    """Entropy of the decoder's Bernoulli output, summed over pixels, averaged over images (nats)."""
    return px_z.entropy().mean().item()

x = test.images
with torch.no_grad():
    qz = vae.encoder(x)
    z_own = qz.sample()
    z_other = z_own[torch.randperm(len(x), generator=torch.Generator().manual_seed(SEED)).to(device)]
    z_prior = vae.prior.sample(len(x))
    codes = {"own code": z_own, "another image's code": z_other, "prior": z_prior}
    rec = {name: vae.decoder(z_).log_prob(x).mean().item() for name, z_ in codes.items()}
    entropy = {name: output_entropy(vae.decoder(z_)) for name, z_ in codes.items()}
    kl_test = kl_term(qz, z_own, vae.prior).mean().item()
for name in codes:
    print(f"z from {name:21s}: log p(x|z) {rec[name]:7.1f} nats per image; "
          f"output entropy {entropy[name]:6.1f} nats")
print(f"average KL(q(z|x) || p(z)) on the test images: {kl_test:.1f} nats")
assert rec["own code"] > rec["another image's code"] + 20
assert rec["own code"] > rec["prior"] + 20
assert entropy["prior"] > entropy["another image's code"] + 5   # prior draws decode blurrier: +10-17 nats (MNIST subset +35-39)
assert kl_test > 5

# %% [markdown]
# The own code reconstructs far better than a code chosen without looking at the image: that gap is what the decoder
# trained alone never gets. Why does another image's code do *worse* than a prior draw? The code of another image
# decodes to a sharp picture of that other digit, as sharp as the own codes' pictures (they are the same codes,
# shuffled, hence the same entropy): confident pixels, many of them wrong for this image, and binary cross-entropy
# charges $-\log(1 - y_i)$ for a pixel that is $y_i \approx 1$ where the image is blank, a lot when the decoder is
# sure. A prior draw often lands between the training codes (notebook 07 measures these gaps) and decodes to a
# blurrier image with hedged pixels, which cost less when they are wrong. Being confidently wrong is worse than being
# vague.
#
# How much information do the codes carry? Averaged over the data, the KL term splits as
#
# $$\mathbb E_x\,\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big) = I_q(x; z) + \mathrm{KL}\big(q(z)\,\|\,p(z)\big) \;\ge\; I_q(x; z),$$
#
# where $q(z) = \frac1N \sum_n q(z\mid x_n)$ is the aggregate posterior of the $N$ images used (notebook 07), so the
# VAE's average KL, the number just printed, is an upper bound on the nats its codes carry about the image. For the
# decoder trained alone that information is exactly 0 nats, by construction. Over $N$ images, $I_q(x; z)$ is at
# most $\log N$, the information needed to say which of the $N$ images a code came from. That ceiling belongs to
# the $N$ images used, not to the model: with more images it rises. An estimate of $I_q(x; z)$ close to $\log N$
# therefore says one checkable thing: a single draw $z \sim q(z \mid x_n)$ tells image $n$ apart from the other
# $N - 1$. A test of that which can fail: give each draw to the image whose posterior gives it the highest
# density, and count how often that is its own image; with codes that overlapped (a weak encoder, or the decoder
# trained alone, whose "posterior" is $p(z)$ for every image) the count would be near $1/N$.

# %%
mi, mi_error = vl.metrics.mutual_information(qz)
with torch.no_grad():
    log_q = torch.stack([qz.log_prob(z_own[i]) for i in range(len(x))])   # (draws, images): log q(z_i | x_n)
    identified = (log_q.argmax(dim=1) == torch.arange(len(x), device=device)).float().mean().item()
print(f"N = {len(x)} test images: I_q(x; z) estimated at {mi:.2f} +- {mi_error:.2f} nats, log N = {math.log(len(x)):.2f}; "
      f"average KL {kl_test:.1f} nats")
print(f"a draw from q(z|x_n) is closest, in posterior density, to its own image x_n for {identified:.1%} of the images "
      f"(chance: {1 / len(x):.1%})")
assert identified > 0.8         # digits (N = 297): 97.3-99.0 %; the MNIST subset (N = 1000): 92.9-94.4 %

# %% [markdown]
# And the question's observation that "the encoder's outputs end up close to 0 and 1"? Look at it per latent dimension
# $j$, over the test images: the typical standard deviation $\sigma_j(x)$ of one image's posterior, the typical
# $|\mu_j(x)|$, the spread of the means $\mu_j(x)$ across images, and the nats the dimension contributes to the
# average KL.

# %%
mu, sd = qz.mean, qz.stddev                       # (N, latent_dim) each
typical_sd, typical_abs_mu, spread_of_means = sd.mean(dim=0), mu.abs().mean(dim=0), mu.std(dim=0)
kl_per_dim = kl_divergence(Normal(mu, sd), Normal(0.0, 1.0)).mean(dim=0)     # nats, averaged over images
collapsed = typical_sd > 0.8                       # per image, q(z_j | x) is close to N(0, 1)
active = vl.metrics.active_units(qz)               # Var_x(mu_j(x)) > 0.01 (Burda et al., 2016)
order = kl_per_dim.argsort(descending=True)
print(" dim  mean sigma  mean |mu|  spread of mu  KL (nats)  'active'")
for j in order.tolist():
    print(f"z_{j:<3d} {typical_sd[j]:9.2f} {typical_abs_mu[j]:10.2f} {spread_of_means[j]:12.2f} "
          f"{kl_per_dim[j]:10.2f}  {bool(active[j])}{'   <- nearly collapsed' if collapsed[j] else ''}")
print(f"{int(collapsed.sum())} of {latent_dim} dimensions nearly collapsed (mean sigma > 0.8), carrying "
      f"{kl_per_dim[collapsed].sum():.2f} of the {kl_per_dim.sum():.1f} nats; active_units counts {int(active.sum())} as active")
used = ~collapsed
pooled_mean, pooled_sd = mu.mean(dim=0), (mu.var(dim=0) + sd.pow(2).mean(dim=0)).sqrt()
informative = kl_per_dim > 0.5
assert (kl_per_dim[collapsed] < 0.5).all()                       # nearly collapsed dimensions carry (almost) nothing
assert (spread_of_means[informative] > typical_sd[informative]).all()   # every informative one: q(z|x) narrower than the spread ...
assert (spread_of_means[used] / typical_sd[used]).median() > 2   # ... in the typical used one by a factor over 2
assert (pooled_mean.abs() < 0.5).all() and ((pooled_sd > 0.5) & (pooled_sd < 1.5)).all()   # pooled: close to N(0, 1)

# %%
fig, ax = plt.subplots(figsize=(7, 3))
pos = torch.arange(latent_dim)
ax.bar(pos - 0.2, typical_sd[order].cpu(), width=0.4, label=r"mean $\sigma_j(x)$ (one image)")
ax.bar(pos + 0.2, spread_of_means[order].cpu(), width=0.4, label=r"spread of $\mu_j(x)$ (across images)")
ax.axhline(1, color="k", lw=0.8, ls="--")
ax.set_xticks(pos, [f"$z_{{{j}}}$" for j in order.tolist()], fontsize=8)
ax.set_xlabel("latent dimension, most informative first"); ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **What you should see:** in most dimensions one image's $\sigma_j$ is a small fraction of the spread of the means
# (the posterior pins $z_j$ down, and different images put it in different places). On the digits data set, at the
# right, a few dimensions (4 of 16 with seed 0) with $\sigma_j$ near 1 and means near 0 for every image; a VAE
# trained on more varied images (the real handwritten digits of MNIST, say) may use all 16.
#
# So the observation is true, in two different senses. In the nearly collapsed dimensions it is true *per image*:
# $q(z_j \mid x) \approx \mathcal N(0, 1)$ whatever $x$ is, and those dimensions carry almost no information (the KL
# objective switches off dimensions the decoder does not need). `active_units`, with its usual threshold of 0.01 on
# the variance of the means, counts a dimension as active once its means vary by more than 0.1, so it can call such
# dimensions active: compare its column with the KL column (on digits with seed 0 it counts all 16). In the used
# dimensions it is true only **pooled over images**, which is what the prior asks for: each image's posterior is
# narrow and sits in a different place, and the mixture of them all has mean near 0 and standard deviation near 1.
# Sampling from the prior at generation time relies on the pooled picture; notebook 06 takes that up.
#
# ## 8. Other ways to do without an encoder
#
# **Per-image optimisation (non-amortised inference).** The encoder is a shortcut: for each image it outputs a
# posterior $q(z \mid x)$ in one forward pass. Without it, one can fit a separate Gaussian $q_n(z)$ to each image by
# gradient ascent on that image's ELBO, with the decoder fixed, which is classical variational inference; the
# encoder *amortises* that optimisation over images (Gershman & Goodman, 2014). Try it on the VAE's decoder: start
# every $q_n$ at the prior, never call the encoder, and take 300 Adam steps for the same test images as in section 6
# (a few seconds).

# %%
def fit_posteriors(decoder, x, steps=300, lr=0.05):
    """One Gaussian q_n(z) per image, its mean and log-sd optimised on that image's ELBO; no encoder."""
    mu_n = torch.zeros(len(x), latent_dim, device=device, requires_grad=True)     # start at the prior
    log_sd_n = torch.zeros(len(x), latent_dim, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([mu_n, log_sd_n], lr=lr)
    decoder.requires_grad_(False)                                                 # the decoder stays as it is
    for _ in range(steps):
        qz_n = Independent(Normal(mu_n, log_sd_n.exp()), 1)
        elbo_n = decoder(qz_n.rsample()).log_prob(x) - kl_divergence(qz_n, vae.prior())
        optimizer.zero_grad()
        (-elbo_n.sum()).backward()
        optimizer.step()
    decoder.requires_grad_(True)
    return Independent(Normal(mu_n.detach(), log_sd_n.detach().exp()), 1)

@torch.no_grad()
def elbo_of(q, x, draws=20):
    """ELBO of q (a batch of posteriors, one per image), averaged over images, with `draws` draws each."""
    rec = torch.stack([vae.decoder(q.sample()).log_prob(x) for _ in range(draws)]).mean(0)
    return (rec - kl_divergence(q, vae.prior())).mean().item()

torch.manual_seed(SEED)
q_fitted = fit_posteriors(vae.decoder, x_eval)
elbo_fitted, elbo_encoder = elbo_of(q_fitted, x_eval), elbo_of(vae.encoder(x_eval), x_eval)
print(f"ELBO, nats per image: per-image optimisation {elbo_fitted:.1f}, encoder {elbo_encoder:.1f}; "
      f"prior as proposal, K = 10^4: {prior_estimate[-1]:.1f}")
assert elbo_fitted > prior_estimate[-1]          # a few hundred steps per image beat 10^4 blind draws
assert elbo_fitted > elbo_encoder - 2      # and match the encoder: 1.5-1.8 nats better (MNIST subset 3.7-3.9)

# %% [markdown]
# Per-image optimisation finds posteriors about as good as the encoder's (printed above; often slightly better), at
# the cost of an optimisation per image instead of one forward pass. Where it is better, the difference is the
# *amortisation gap* (Cremer et al., 2018): one network for all images can miss the best Gaussian for each. Training a
# decoder this way, with one set of variational parameters per training image updated alongside it, is stochastic
# variational inference (Hoffman et al., 2013); it needs no encoder, but each image's parameters move only when that
# image is in a batch, and a new image needs a fresh optimisation. The VAE's encoder (Kingma & Welling, 2014) is the
# amortised version of the same thing.
#
# **A GAN** (Goodfellow et al., 2014). Its generator also maps $z \sim \mathcal N(0, I)$ to images without an encoder.
# It escapes the collapse another way: it is never asked to turn a given $z$ into a given $x$. A discriminator is
# trained to tell generated images from real ones, and the generator is trained to fool it: each generated image is
# judged as a whole, on whether it looks like *some* real image, and the set of generated images is pushed to match
# the set of real ones. A per-pixel loss against a randomly paired $x$ rewards the average of all images; a
# discriminator punishes the average, because the mean image is an obvious fake. How obvious? Even a one-number
# discriminator, "distance to the mean image", tells every real test image from every sample of the decoder trained
# alone:

# %%
d_real = (test.images - x_mean).abs().mean(dim=(1, 2, 3))      # per image, pixels in [0, 1]
d_alone = (samples_alone - x_mean).abs().mean(dim=(1, 2, 3))
print(f"distance to the mean image: real test images {d_real.min():.3f} or more, "
      f"decoder-alone samples {d_alone.max():.3f} or less")
assert d_real.min() > d_alone.max()   # a threshold between them separates real from generated perfectly

# %% [markdown]
# Four routes, then: the question's one-draw loss (collapses), many prior draws per image (works, at a cost that
# grows exponentially with the information in $z$), per-image optimisation (works, at an optimisation per image),
# and the encoder, which amortises the search. A GAN drops the likelihood altogether.
#
# ## Exercises
#
# **Exercise 1 (squared error collapses too).** For a decoder trained with squared error on codes independent of
# $x$, the derivation predicts the mean image again. Compute `loss_mean`, the average of $\|\bar x - x\|^2$ over the
# training images, and `loss_images`, a tensor holding the same average for the constant outputs $y$ = each of the
# first 100 training images. The mean image should beat every one of them.

# %%
images = train.images

# %%
### BEGIN SOLUTION
loss_mean = (x_mean - images).pow(2).sum(dim=(1, 2, 3)).mean()
loss_images = torch.stack([(y - images).pow(2).sum(dim=(1, 2, 3)).mean() for y in images[:100]])
### END SOLUTION

# %%
def test_exercise_1():
    total_variance = (train.images - x_mean).pow(2).sum(dim=(1, 2, 3)).mean()
    print(f"the mean image scores {float(loss_mean):.1f} (total variance {total_variance:.1f}); "
          f"the best of the 100 single images {float(loss_images.min()):.1f}")
    return (bool(torch.isclose(torch.as_tensor(loss_mean), total_variance, rtol=1e-4))
            and loss_images.shape == (100,) and bool((loss_mean < loss_images).all()))

vl.exercises.check(test_exercise_1,
                   hint="sum the squared pixel differences per image (dim=(1, 2, 3)), then average over all "
                        "training images; do the same with each of images[:100] in place of x_mean",
                   success="the mean image beats every single image, as the derivation says")

# %% [markdown]
# **Exercise 2 (a bigger latent space does not help the one-draw loss).** Maybe 16 dimensions were too few? Train
# the decoder alone with a 64-dimensional $z$ on the question's loss (`train_decoder_alone` with `k=1`, for a third of
# the VAE's epochs to keep it short; a few seconds), draw 200 samples into `samples_64`, and check whether they
# still collapse.

# %%
epochs_64 = max(1, len(hist_vae["epoch"]) // 3)

# %%
### BEGIN SOLUTION
decoder_64, _ = train_decoder_alone(64, epochs=epochs_64)
with torch.no_grad():
    samples_64 = decoder_64(torch.randn(200, 64, device=device)).mean
### END SOLUTION

# %%
def test_exercise_2():
    d64 = distance_to_mean(samples_64), pairwise_distance(samples_64)
    print(f"latent 64, decoder alone: to the mean image {d64[0]:.4f}, between samples {d64[1]:.4f} "
          f"(VAE: {full[0]:.4f}, {full[1]:.4f})")
    return samples_64.shape == (200, 1, 28, 28) and d64[1] < full[1] / 3

vl.exercises.check(test_exercise_2,
                   hint="train with train_decoder_alone(64, epochs=epochs_64), then decode 200 codes of size 64 "
                        "with decoder_64 and take .mean",
                   success="still one image: no latent size helps when the loss pairs z with a random x")

# %% [markdown]
# **Exercise 3 (a sampled KL).** Section 7 used the closed-form KL. With a prior that has no closed form the KL is
# estimated from the sampled $z$ as $\log q(z\mid x) - \log p(z)$, and that $z$ is what the decoder sees. Does the
# decoder get a gradient now? Backpropagate `kl_term(qz, z_q, vae.prior, method="mc")` alone and set
# `decoder_grads_zero` to True if every decoder gradient is None or zero, False otherwise.

# %%
x = train.images[:128]
qz, z_q, px_z = vae(x)
vae.zero_grad(set_to_none=True)

# %%
### BEGIN SOLUTION
kl_mc = kl_term(qz, z_q, vae.prior, method="mc").mean()
kl_mc.backward()
decoder_grads_zero = all(p.grad is None or p.grad.abs().max() == 0 for p in vae.decoder.parameters())
### END SOLUTION

# %%
def test_exercise_3():
    truth = all(p.grad is None or p.grad.abs().max() == 0 for p in vae.decoder.parameters())
    encoder_moved = any(p.grad is not None and p.grad.abs().max() > 0 for p in vae.encoder.parameters())
    print(f"your answer: {decoder_grads_zero}; KL backpropagated (encoder gradients present): {encoder_moved}")
    return encoder_moved and decoder_grads_zero is not None and bool(decoder_grads_zero) == truth

vl.exercises.check(test_exercise_3,
                   hint="call .backward() on the mean of the KL estimate only, then look at p.grad for "
                        "vae.decoder.parameters()",
                   success="z feeds the decoder, but the KL estimate does not go through the decoder, so theta "
                           "gets nothing")
vae.zero_grad(set_to_none=True)

# %% [markdown]
# ## Summary
#
# - A decoder trained on one $z \sim \mathcal N(0, I)$ per image, independent of $x$, minimises for every $z$ the same
#   expected loss, whose minimiser is the mean image (binary cross-entropy and squared error alike). Measured: its
#   samples sit about a hundredth (in pixel units) from the mean image and from each other; a digit classifier puts
#   all of them in one class, with higher confidence than the VAE's, and the VAE's samples in (nearly) all ten.
# - That loss is the ELBO with $q(z \mid x) = p(z)$: a valid lower bound on $\log p(x)$ whose gap,
#   $\mathrm{KL}(p(z)\,\|\,p(z \mid x))$, punishes every use of $z$. At its optimum it sits tens of nats below the
#   VAE's ELBO on test images.
# - The same decoder, trained alone on $z \sim \mathcal N(0, I)$ with the importance-weighted bound
#   $\log \frac1K \sum_k p(x \mid z_k)$, $K = 32$, does not collapse: (nearly) all ten classes, as varied as the VAE's
#   samples. Its test bound is still below the VAE's.
# - What the encoder buys is efficiency. With the prior as proposal, $10^4$ draws per image still fall short of the
#   encoder's estimate; the draws needed grow like $e^{\mathrm{KL}(p(z \mid x)\,\|\,p(z))}$, exponentially in the
#   nats a code carries, which grow with the latent dimensions used and with the data. Per-image optimisation also
#   works, at an optimisation per image; the encoder amortises it into one forward pass.
# - The KL term sends no gradient to the decoder; the encoder matters through the reconstruction term, by handing the
#   decoder codes that identify the image. On digits a few latent dimensions end up unused, with
#   $q(z_j \mid x) \approx \mathcal N(0, 1)$ for every image: there the question's observation holds per image. In the
#   used ones it holds only pooled over images.
# - A GAN avoids the encoder differently, by judging whole samples with a discriminator instead of a likelihood.
#
# ## References
#
# - Kingma, D. P., & Welling, M. (2014). Auto-encoding variational Bayes. *International Conference on Learning
#   Representations (ICLR)*.
# - Rezende, D. J., Mohamed, S., & Wierstra, D. (2014). Stochastic backpropagation and approximate inference in deep
#   generative models. *International Conference on Machine Learning (ICML)*.
# - Burda, Y., Grosse, R., & Salakhutdinov, R. (2016). Importance weighted autoencoders. *International Conference on
#   Learning Representations (ICLR)*. (The $K$-sample bound; the active-units criterion.)
# - Chatterjee, S., & Diaconis, P. (2018). The sample size required in importance sampling. *The Annals of Applied
#   Probability*, 28(2), 1099-1135.
# - Cremer, C., Li, X., & Duvenaud, D. (2018). Inference suboptimality in variational autoencoders. *International
#   Conference on Machine Learning (ICML)*. (The amortisation gap.)
# - Gershman, S. J., & Goodman, N. D. (2014). Amortized inference in probabilistic reasoning. *Proceedings of the
#   Annual Meeting of the Cognitive Science Society*, 36.
# - Hoffman, M. D., Blei, D. M., Wang, C., & Paisley, J. (2013). Stochastic variational inference. *Journal of Machine
#   Learning Research*, 14, 1303-1347.
# - Goodfellow, I., Pouget-Abadie, J., Mirza, M., Xu, B., Warde-Farley, D., Ozair, S., Courville, A., & Bengio, Y.
#   (2014). Generative adversarial nets. *Advances in Neural Information Processing Systems (NeurIPS)*, 27.
