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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/04_no_encoder.ipynb)

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
# # 04 · Could we train a VAE without the encoder?
#
# A question on a statistics forum runs, in short: *when we generate, we feed the decoder $z \sim \mathcal N(0, I)$,
# and at the end of training the encoder's means and standard deviations are close to 0 and 1 anyway. So why not
# train the decoder on $z \sim \mathcal N(0, I)$ directly, with the reconstruction loss only, and drop the encoder?
# The KL term does not send any gradient to the decoder in any case.* The question came with code that does exactly
# that. This notebook runs the experiment and explains its outcome.
#
# **What you will learn**
# - derive what a decoder learns when its input $z$ is drawn independently of the image $x$, for binary
#   cross-entropy and for squared error;
# - measure the collapse of such a decoder onto the mean image, next to a VAE trained on the same data, in pixel
#   distances and with a digit classifier (class coverage, not confidence, reveals it);
# - check with autograd which parameters the KL term trains, and measure what the encoder gives the decoder:
#   a code $z$ that carries information about $x$;
# - say in one paragraph how a GAN trains a generator without an encoder.

# %%
import math

import matplotlib.pyplot as plt
import torch

import vae_lesson as vl
from vae_lesson.objectives import kl_term

seed = 0
device = vl.setup(seed=seed)

# %% [markdown]
# ## 1. The experiment: a decoder trained on $z \sim \mathcal N(0, I)$
#
# First a VAE for comparison (encoder, decoder, standard normal prior, $\beta = 1$), from the recipe
# `no_encoder_vae`. Then the proposal itself: the **same decoder architecture** (we build a whole VAE with the same
# settings and use only its `decoder`), trained on the reconstruction loss $-\log p(x \mid z)$ (binary
# cross-entropy, as in the question) with $z \sim \mathcal N(0, I)$ drawn afresh for each image, independently of it.
# Same data, batches, epochs and optimiser as the VAE; the learning rate is $10^{-3}$, not the question's
# $10^{-5}$, so that a slow learning rate (notebook 03) is not what goes wrong.

# %%
train, test = vl.load(split="train"), vl.load(split="test")
vae, hist_vae = vl.trained("no_encoder_vae", seed=seed)
latent_dim = vl.RECIPES["no_encoder_vae"]["latent_dim"]
x_mean = train.images.mean(dim=0)            # the mean training image, (1, 28, 28)
print(vl.RECIPES["no_encoder_vae"], f"-> trained for {len(hist_vae['epoch'])} epochs")


# %%
def train_decoder_alone(latent_dim, epochs, batch_size=128, lr=1e-3):
    """The forum proposal: a decoder fed z ~ N(0, I) that is independent of x. Returns (decoder, losses)."""
    torch.manual_seed(seed)
    decoder = vl.make_vae(**{**vl.RECIPES["no_encoder_vae"], "latent_dim": latent_dim}).decoder.to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    order_rng = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(epochs):
        total = torch.zeros((), device=device)
        for idx in vl.data.batches(len(train), batch_size, order_rng, device):
            x = train.images[idx]
            z = torch.randn(len(x), latent_dim, device=device)   # drawn without looking at x
            px_z = decoder(z)
            loss = -px_z.log_prob(x).mean()                        # binary cross-entropy, summed over pixels
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
# and every $f(z)$ minimises **the same** function $g(y) = \mathbb E_x[\ell(y, x)]$ of the output $y$, whatever $z$ is.
#
# - Binary cross-entropy, per pixel: $g(y_i) = -\mathbb E[x_i]\log y_i - (1 - \mathbb E[x_i])\log(1 - y_i)$, and
#   $g'(y_i) = -\mathbb E[x_i]/y_i + (1 - \mathbb E[x_i])/(1 - y_i) = 0$ gives $y_i = \mathbb E[x_i]$.
# - Squared error (a Gaussian decoder with fixed $\sigma$):
#   $\mathbb E\,\|y - x\|^2 = \|y - \mathbb E[x]\|^2 + \mathbb E\,\|x - \mathbb E[x]\|^2$, smallest at $y = \mathbb E[x]$.
#
# So the optimal decoder ignores $z$ and outputs the mean image $\bar x = \mathbb E[x]$ for every code: all its
# samples are the same. Its loss can get no lower than the loss of that constant, $g(\bar x)$. In a VAE, by contrast,
# $z \sim q(z \mid x)$ depends on $x$, and the best output for code $z$ is $\mathbb E[x \mid z]$, the mean of the
# images whose codes land near $z$: a different image for each region of the latent space.
#
# ## 3. Measured: the outputs collapse onto the mean image
#
# Two numbers per decoder, in pixel units (pixels in $[0, 1]$): the mean distance $|f(z) - \bar x|$ of its outputs to the
# mean image, and the mean distance between two of its outputs (both averaged over pixels and over 200 codes).

# %%
def distance_to_mean(images):
    return (images - x_mean).abs().mean().item()

pairwise_distance = vl.metrics.mean_pairwise_distance  # mean |a - b| per pixel over all pairs

alone = distance_to_mean(samples_alone), pairwise_distance(samples_alone)
full = distance_to_mean(samples_vae), pairwise_distance(samples_vae)
print(f"decoder alone: to the mean image {alone[0]:.4f}, between samples {alone[1]:.4f}")
print(f"VAE:           to the mean image {full[0]:.4f}, between samples {full[1]:.4f}")
assert alone[0] < 0.05 and alone[1] < 0.05               # near zero: one image, the mean
assert full[0] > 5 * alone[0] and full[1] > 5 * alone[1]  # the VAE's samples differ from it and from each other

# %% [markdown]
# The loss tells the same story. The decoder trained alone ends at the loss of the constant mean image,
# $g(\bar x) = -\mathbb E_x \log \mathrm{Bernoulli}(x;\, \bar x)$, the floor derived above:

# %%
from torch.distributions import Bernoulli, Independent

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
assert abs(losses_alone[-1] - floor) < 0.02 * abs(floor)

# %% [markdown]
# **What you should see:** the loss falls within a few epochs almost onto the dashed line and stays there: once the
# decoder outputs the mean image there is nothing left to learn from a $z$ that says nothing about $x$.
#
# Do the samples look like digits, and like *which* digits? Ask a small digit classifier, trained on the training
# images (`vl.metrics.digit_classifier()`, cached after the first call), which class each of the 200 samples shows.
# Two numbers summarise its answers: how many of the ten classes it sees at least once, and the entropy of the class
# histogram ($\log 10 = 2.30$ nats when all ten classes are equally frequent, 0 when all samples get one class).

# %%
classifier = vl.metrics.digit_classifier()
print(f"classifier accuracy on the test images: {vl.metrics.accuracy(classifier, test):.1%}")
coverage = {}
for name, images in [("decoder alone", samples_alone), ("VAE", samples_vae), ("test images", test.images)]:
    with torch.no_grad():
        counts = torch.bincount(classifier(images).argmax(-1), minlength=10)
    coverage[name] = vl.metrics.class_coverage(images, classifier)
    print(f"{name:13s}: {coverage[name][0]:2d} classes, entropy {coverage[name][1]:.2f} nats, "
          f"confidence {vl.metrics.confidence(images, classifier):.2f}; images per class {counts.tolist()}")
assert vl.metrics.accuracy(classifier, test) > 0.9           # a trustworthy instrument
assert coverage["decoder alone"][0] <= 2                       # (nearly) all samples one class ...
assert coverage["VAE"][0] >= 8                                 # ... while the VAE draws (almost) every class
assert coverage["VAE"][1] > coverage["decoder alone"][1] + 1.5

# %% [markdown]
# The classifier puts every sample of the decoder trained alone into one class, and with high confidence: the
# mean image looks like *some* digit. Its confidence alone would not flag the collapse; the missing classes do.
#
# ## 4. The KL term sends no gradient to the decoder, yet the encoder is needed
#
# The question is right about one thing. $\mathrm{KL}(q_\phi(z\mid x)\,\|\,p(z))$ depends only on the encoder's
# parameters $\phi$ (and the prior's), not on the decoder's parameters $\theta$, so
# $\nabla_\theta\, \mathrm{KL} = 0$. Autograd agrees: backpropagating the KL alone leaves every decoder gradient
# empty.

# %%
x = train.images[:128]
qz, z, px_z = vae(x)                             # z ~ q(z|x), reparameterised
kl = kl_term(qz, z, vae.prior).mean()
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
# $z = \mu_\phi(x) + \sigma_\phi(x)\,\varepsilon$ trains both networks, and what the encoder provides is the **pairing**:
# the decoder is asked to reconstruct $x$ from a $z$ that carries information about that $x$. Measure it with the
# trained VAE: reconstruct each test image from its own code $z \sim q(z \mid x)$, from the code of another test image,
# and from $z \sim p(z)$.

# %%
x = test.images
with torch.no_grad():
    qz = vae.encoder(x)
    z_own = qz.sample()
    z_other = z_own[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed)).to(device)]
    z_prior = vae.prior.sample(len(x))
    rec = {name: vae.decoder(z_).log_prob(x).mean().item()
           for name, z_ in [("own code", z_own), ("another image's code", z_other), ("prior", z_prior)]}
    kl_test = kl_term(qz, z_own, vae.prior).mean().item()
for name, value in rec.items():
    print(f"log p(x|z), z from {name:21s}: {value:7.1f} nats per image")
print(f"average KL(q(z|x) || p(z)) on the test images: {kl_test:.1f} nats")
assert rec["own code"] > rec["another image's code"] + 20
assert rec["own code"] > rec["prior"] + 20
assert kl_test > 5

# %% [markdown]
# The own code reconstructs far better than a code chosen without looking at the image: that gap is what the
# decoder trained alone never gets. How much information is it? Averaged over the data, the KL term splits as
#
# $$\mathbb E_x\,\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big) = I_q(x; z) + \mathrm{KL}\big(q(z)\,\|\,p(z)\big) \;\ge\; I_q(x; z),$$
#
# where $q(z) = \mathbb E_x\, q(z\mid x)$ is the aggregate posterior (notebook 06), so the VAE's average KL, the
# number just printed, is an upper bound on the nats of information its codes carry about the image. For the decoder
# trained alone that information is exactly 0 nats, by construction. An estimate of $I_q(x; z)$ for the test images
# (notebook 06 explains it; with $N$ images it can never exceed $\log N$) lies, as it must, below the average KL:

# %%
mi, mi_error = vl.metrics.mutual_information(qz)
print(f"I_q(x; z) estimated at {mi:.2f} +- {mi_error:.2f} nats (log N = {math.log(len(x)):.2f}); "
      f"average KL {kl_test:.1f} nats")
assert 1 < mi <= kl_test       # the codes carry information about x, at most the average KL

# %% [markdown]
# And the question's observation that "the encoder's outputs end up close to 0 and 1"? That holds for the codes
# **pooled over all images**, which is what the prior asks for; each single image's $q(z \mid x)$ is much narrower
# than $\mathcal N(0, I)$ and centred in a different place. Per latent dimension, compare the spread of the means
# $\mu(x)$ across images with the typical standard deviation $\sigma(x)$ of one image's posterior:

# %%
mu, sd = qz.mean, qz.stddev                       # (N, latent_dim) each
spread_of_means = mu.std(dim=0)
typical_sd = sd.mean(dim=0)
ratio = spread_of_means / typical_sd
j = ratio.argmax().item()
print(f"most used dimension z_{j}: spread of the means {spread_of_means[j]:.2f}, "
      f"typical sd of one posterior {typical_sd[j]:.2f}")
pooled_mean, pooled_sd = mu[:, j].mean(), (mu[:, j].var() + sd[:, j].pow(2).mean()).sqrt()
print(f"pooled over images, z_{j} has mean {pooled_mean:.2f} and sd {pooled_sd:.2f}")
assert ratio.max() > 2          # one image's q(z|x) is far narrower than the spread of the codes
assert abs(pooled_mean) < 0.5 and 0.5 < pooled_sd < 1.5   # while the pooled codes are close to N(0, 1)

# %% [markdown]
# ## 5. How a GAN does without an encoder
#
# A GAN's generator also maps $z \sim \mathcal N(0, I)$ to images, and it has no encoder. It escapes the collapse
# because it is never asked to turn a given $z$ into a given $x$. A discriminator is trained to tell generated images
# from real ones, and the generator is trained to fool it: each generated image is judged as a whole, on whether it
# looks like *some* real image, and the set of generated images is pushed to match the set of real ones. A
# per-pixel loss against a randomly paired $x$ rewards the average of all images; a discriminator punishes the
# average, because the mean image is an obvious fake. How obvious? Even a one-number discriminator, "distance to the
# mean image", tells every real test image from every sample of the decoder trained alone:

# %%
d_real = (test.images - x_mean).abs().mean(dim=(1, 2, 3))      # per image, pixels in [0, 1]
d_alone = (samples_alone - x_mean).abs().mean(dim=(1, 2, 3))
print(f"distance to the mean image: real test images {d_real.min():.3f} or more, "
      f"decoder-alone samples {d_alone.max():.3f} or less")
assert d_real.min() > d_alone.max()   # a threshold between them separates real from generated perfectly

# %% [markdown]
# The VAE takes the other route: the encoder pairs each $x$ with codes that identify it, so that a per-image
# reconstruction loss makes sense.
#
# ## Exercises
#
# **Exercise 1 (squared error collapses too).** For a decoder trained with squared error on codes independent of
# $x$, the derivation predicts the mean image again. Compute `loss_mean`, the average of $\|\bar x - x\|^2$ over the
# training images, and `loss_images`, a tensor holding the same average for the constant outputs $y$ = each of the
# first 100 training images. The mean image should beat every one of them.

# %%
# --- solution (lecturers: delete before handing out) ---
images = train.images
loss_mean = (x_mean - images).pow(2).sum(dim=(1, 2, 3)).mean()
loss_images = torch.stack([(y - images).pow(2).sum(dim=(1, 2, 3)).mean() for y in images[:100]])

# %%
total_variance = (train.images - x_mean).pow(2).sum(dim=(1, 2, 3)).mean()
if torch.isclose(loss_mean, total_variance, rtol=1e-4) and len(loss_images) == 100 \
        and (loss_mean < loss_images).all():
    print(f"correct: the mean image scores {loss_mean:.1f}, the best single image {loss_images.min():.1f}")
else:
    print("not yet: hint: sum the squared pixel differences per image, then average over all training images")
assert torch.isclose(loss_mean, total_variance, rtol=1e-4) and (loss_mean < loss_images).all()

# %% [markdown]
# **Exercise 2 (a bigger latent space does not help).** Maybe 16 dimensions were too few? Train the decoder alone
# with a 64-dimensional $z$ (use `train_decoder_alone`, for a third of the VAE's epochs to keep it short), draw 200
# samples into `samples_64`, and check whether they still collapse.

# %%
# --- solution (lecturers: delete before handing out) ---
decoder_64, _ = train_decoder_alone(64, epochs=max(1, len(hist_vae["epoch"]) // 3))
with torch.no_grad():
    samples_64 = decoder_64(torch.randn(200, 64, device=device)).mean

# %%
d64 = distance_to_mean(samples_64), pairwise_distance(samples_64)
print(f"latent 64, decoder alone: to the mean image {d64[0]:.4f}, between samples {d64[1]:.4f} "
      f"(VAE: {full[0]:.4f}, {full[1]:.4f})")
if samples_64.shape == (200, 1, 28, 28) and d64[1] < full[1] / 3:
    print("correct: still one image; no latent size helps when z carries no information about x")
else:
    print("not yet: hint: decode 200 codes of size 64 with decoder_64 and take .mean")
assert samples_64.shape == (200, 1, 28, 28) and d64[1] < full[1] / 3

# %% [markdown]
# **Exercise 3 (a sampled KL).** Section 4 used the closed-form KL. With a prior that has no closed form the
# KL is estimated from the sampled $z$ as $\log q(z\mid x) - \log p(z)$, and that $z$ is what the decoder sees. Does the
# decoder get a gradient now? Backpropagate `kl_term(qz, z, vae.prior, method="mc")` alone and set
# `decoder_grads_zero` to True if every decoder gradient is None or zero.

# %%
x = train.images[:128]
qz, z, px_z = vae(x)
vae.zero_grad(set_to_none=True)
# --- solution (lecturers: delete before handing out) ---
kl_mc = kl_term(qz, z, vae.prior, method="mc").mean()
kl_mc.backward()
decoder_grads_zero = all(p.grad is None or p.grad.abs().max() == 0 for p in vae.decoder.parameters())

# %%
truth = all(p.grad is None or p.grad.abs().max() == 0 for p in vae.decoder.parameters())
encoder_moved = any(p.grad is not None and p.grad.abs().max() > 0 for p in vae.encoder.parameters())
if decoder_grads_zero == truth and truth and encoder_moved:
    print("correct: z feeds the decoder, but the KL estimate does not go through the decoder, so theta gets nothing")
else:
    print("not yet: hint: call .backward() on the KL estimate only, then look at p.grad for vae.decoder.parameters()")
assert decoder_grads_zero == truth and truth and encoder_moved
vae.zero_grad(set_to_none=True)

# %% [markdown]
# ## Summary
#
# - A decoder trained on $z \sim \mathcal N(0, I)$ independent of $x$ minimises, for every $z$, the same expected loss,
#   whose minimiser is the mean image (binary cross-entropy and squared error alike). Measured: its samples sit about a
#   hundredth (in pixel units) from the mean image and from each other, while a VAE's are many times farther apart;
#   a digit classifier puts all of them in one class, and the VAE's samples in (nearly) all ten.
# - The KL term indeed sends no gradient to the decoder. The encoder matters through the reconstruction term: it
#   pairs each image with codes that identify it (bounded in nats by the average KL), so that the decoder can learn
#   $\mathbb E[x \mid z]$ instead of $\mathbb E[x]$.
# - Pooled over images, the codes look like $\mathcal N(0, I)$; per image they do not. Sampling from the prior at
#   generation time uses the pooled picture: notebook 05 takes that up.
# - A GAN avoids the encoder by judging whole samples with a discriminator instead of pairing each $z$ with one $x$.
