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
# *Time: about 100 minutes (core path 45) · Read first: 01, 03 · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/05_no_encoder.ipynb)
#
# A forum question, in short: *we generate by feeding the decoder $z \sim \mathcal N(0, I)$, and the trained
# encoder's means and standard deviations end up close to 0 and 1 anyway. So why not train the decoder on
# $z \sim \mathcal N(0, I)$ with the reconstruction loss alone and drop the encoder? The KL term sends the decoder no
# gradient anyway.* We run its code's experiment, explain the outcome, and run versions that work.
#
# **What you will learn**
# - why a decoder fed $z$ independent of the image $x$ learns the mean image, and how to measure the collapse;
# - that the question's loss is the ELBO with $q(z \mid x) = p(z)$, a loose bound whose best decoder ignores $z$;
# - that the importance-weighted bound with the prior as proposal trains the same decoder without collapse;
# - what the encoder buys: efficiency, in prior draws per encoder pass;
# - which parameters the KL term trains, where "close to 0 and 1" holds, and decoder-only methods that work.

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

import matplotlib.pyplot as plt
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence
from tqdm.auto import trange

import vae_lesson as vl
from vae_lesson.objectives import kl_term

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown] tags=["core"]
# ## 1. The experiment: a decoder trained on $z \sim \mathcal N(0, I)$
#
# First a VAE for comparison ($\beta = 1$, recipe `no_encoder_vae`). Then the proposal: the **same decoder
# architecture**, trained on binary cross-entropy with $z \sim \mathcal N(0, I)$ drawn afresh for each image,
# independently of it; same data, batches, epochs and optimiser as the VAE, learning rate $10^{-3}$ (the question's
# $10^{-5}$ would add a second problem, notebook 03). `k=1` draw per image is the question's loss; section 5 uses more.
#
# We also drop the question's `Normalize((0.5,), (0.5,))`: it maps pixels to $[-1, 1]$, and binary cross-entropy
# needs targets in $[0, 1]$. Below 0 the loss rewards pushing the output to 0 without end: it goes negative, the log
# of no probability. Recent PyTorch refuses such targets; written out:

# %%
x_norm = (vl.load(split="test").images[:100] - 0.5) / 0.5      # the question's pixels, in [-1, 1]
y = torch.full_like(x_norm, 1e-3)                              # an output (almost) black everywhere
bce_norm = -(x_norm * y.log() + (1 - x_norm) * (1 - y).log()).sum(dim=(1, 2, 3)).mean().item()
print(f"binary cross-entropy with targets in [-1, 1], output 0.001 everywhere: {bce_norm:.0f} nats per image")
assert bce_norm < 0   # a check of the arithmetic: a loss below 0 is not -log of a probability

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
# **What you should see:** the decoder trained alone draws the same blob ten times, like the mean image beside it;
# the VAE's decoder draws ten different digits from the same ten codes.

# %% [markdown] tags=["core"]
# ## 2. Why: for $z$ independent of $x$ the best output is $\mathbb E[x]$
#
# Write the decoder's output (pixel means) for code $z$ as $f(z)$ and the per-image loss as $\ell(f(z), x)$. If $z$ is
# drawn independently of $x$, the expected loss splits into one problem per code:
#
# $$\mathcal L(f) = \mathbb E_{x}\,\mathbb E_{z \sim \mathcal N(0, I)}\big[\ell(f(z), x)\big]
# = \mathbb E_{z}\Big[\underbrace{\mathbb E_{x}\big[\ell(f(z), x)\big]}_{g(f(z))}\Big],$$
#
# and every $f(z)$ minimises **the same** function $g(y) = \mathbb E_x[\ell(y, x)]$, whatever $z$ is.
#
# - Binary cross-entropy, per pixel: $g(y_i) = -\mathbb E[x_i]\log y_i - (1 - \mathbb E[x_i])\log(1 - y_i)$, and
#   $g'(y_i) = -\mathbb E[x_i]/y_i + (1 - \mathbb E[x_i])/(1 - y_i) = 0$ gives $y_i = \mathbb E[x_i]$.
# - Squared error (a Gaussian decoder with fixed $\sigma$):
#   $\mathbb E\,\|y - x\|^2 = \|y - \mathbb E[x]\|^2 + \mathbb E\,\|x - \mathbb E[x]\|^2$, smallest at $y = \mathbb E[x]$.
#
# So the optimal decoder outputs the mean image $\bar x = \mathbb E[x]$ for every code; its loss cannot go below
# $g(\bar x)$. This is about the loss, not encoders: any objective that lets a code's target depend on the image
# escapes it. With an encoder, $z \sim q(z \mid x)$ lands near similar images' codes, so the best output becomes
# $\mathbb E[x \mid z]$; sections 5 and 8 get there without one.

# %% [markdown] tags=["core"]
# ## 3. Measured: the outputs collapse onto the mean image
#
# Two numbers per decoder (pixels in $[0, 1]$, averaged over pixels and 200 codes): the mean distance of its outputs
# to the mean image, $|f(z) - \bar x|$, and between two of its outputs.

# %%
def distance_to_mean(images):
    return (images - x_mean).abs().mean().item()

pairwise_distance = vl.metrics.mean_pairwise_distance  # mean |a - b| per pixel over all pairs

alone = distance_to_mean(samples_alone), pairwise_distance(samples_alone)
full = distance_to_mean(samples_vae), pairwise_distance(samples_vae)
print(f"decoder alone: to the mean image {alone[0]:.4f}, between samples {alone[1]:.4f}")
print(f"VAE:           to the mean image {full[0]:.4f}, between samples {full[1]:.4f}")
vl.claim("alone-near-mean", "the decoder alone's samples sit near the mean image and each other (the larger distance)",
         max(alone), "<", 0.05, null=min(full), null_is="the VAE's samples (the smaller of its two)");

# %% [markdown]
# The decoder trained alone ends at the loss of the constant mean image, the floor $g(\bar x)$ derived above:

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
assert abs(losses_alone[-1] - floor) < 0.02 * abs(floor)   # the loss ends at its floor

# %% [markdown]
# **What you should see:** the loss falls within a few epochs almost onto the dashed line and stays there.
#
# Which digits do the samples show? A digit classifier (`vl.metrics.digit_classifier()`) labels the 200 samples;
# we count the classes it sees and the entropy of the class histogram ($\log 10 = 2.30$ nats for ten equal classes,
# 0 for one), and its confidence (mean largest class probability).

# %%
classifier = vl.metrics.digit_classifier()
accuracy = vl.metrics.accuracy(classifier, test)
print(f"classifier accuracy on the test images: {accuracy:.1%}")
coverage, conf = {}, {}
for name, images in [("decoder alone", samples_alone), ("VAE", samples_vae), ("test images", test.images)]:
    coverage[name] = vl.metrics.class_coverage(images, classifier)
    conf[name] = vl.metrics.confidence(images, classifier)
    print(f"{name:13s}: {coverage[name][0]:2d} classes, entropy {coverage[name][1]:.2f} nats, "
          f"confidence {conf[name]:.2f}")
assert accuracy > 0.9                                         # a trustworthy instrument
vl.claim("alone-one-class", "the decoder alone's samples fall in (nearly) one class", coverage["decoder alone"][0],
         "<", 2.5, null=coverage["VAE"][0], null_is="the VAE's, from the same codes", unit="classes");
assert conf["decoder alone"] > 0.9                             # "with high confidence"
assert conf["decoder alone"] > conf["VAE"]    # a threshold that passes the VAE passes the collapsed decoder too

# %% [markdown]
# The decoder alone's samples fall in one class, with higher confidence than the VAE's: confidence does not flag
# the collapse; the missing classes do.

# %% [markdown] tags=["deep-dive"]
# ## 4. The question's loss is a lower bound, a loose one
#
# On grey levels the Bernoulli $p_\theta(x \mid z) = \prod_i y_i^{x_i}(1 - y_i)^{1 - x_i}$ is not a density
# (notebook 04 §5), so $\mathcal J_\theta(x) = \log \mathbb E_{z \sim p(z)}[p_\theta(x \mid z)]$, the log-likelihood
# for binary images, is here **the grey-level objective**. The algebra below needs only $p_\theta(x \mid z) \ge 0$: every
# bound bounds $\mathcal J_\theta(x)$, comparable between decoders of the same images, and
# $p_\theta(z \mid x) \propto p(z)\,p_\theta(x \mid z)$ is still a distribution over $z$.
#
# The question's loss is not arbitrary. By Jensen's inequality
# $\mathcal J_\theta(x) \ge \mathbb E_{z \sim p(z)}[\log p_\theta(x \mid z)]$: it is the ELBO of notebook 01 with the
# encoder replaced by the prior, $q(z \mid x) = p(z)$ (then $\mathrm{KL}(q \,\|\, p) = 0$). The ELBO's gap is
# $\mathrm{KL}(q(z \mid x)\,\|\,p_\theta(z \mid x))$, so here
#
# $$\mathbb E_{p(z)}\big[\log p_\theta(x \mid z)\big] = \mathcal J_\theta(x) - \mathrm{KL}\big(p(z)\,\|\,p_\theta(z \mid x)\big).$$
#
# It is the objective **minus a penalty that is zero only when $p_\theta(z \mid x)$ equals the prior**, when $z$
# tells the decoder nothing about $x$: section 2's collapse, seen from the bound. How loose is
# it at its best (the mean image)? On test images, beside the VAE's ELBO:

# %%
bound_question = -loss_of_constant(x_mean, test.images)        # the question's bound, for its best decoder
elbo_vae = vl.train.evaluate(vae, test.images)["elbo"]           # the VAE's ELBO, one z ~ q(z|x) per image
print(f"test images, nats per image: the question's bound at its optimum {bound_question:.1f}; "
      f"the VAE's ELBO {elbo_vae:.1f}")
vl.claim("question-bound-loose", "on test images the VAE's ELBO is tens of nats above the question's bound at its "
         "optimum", elbo_vae, ">", bound_question + 30, null=bound_question,
         null_is="the question's bound for the mean image", unit="nats");

# %% [markdown]
# A decoder trained on the question's loss ends at the first number (section 3): a correct bound, too loose.

# %% [markdown] tags=["core"]
# ## 5. Without an encoder, done right: many prior draws per image
#
# A tighter bound with the same ingredients is the importance-weighted bound (Burda et al., 2016) with the prior as
# proposal: draw $K$ codes $z_k \sim p(z)$ independently of $x$ and average *before* taking the log,
#
# $$\mathcal L_K(x) = \mathbb E_{z_1, \dots, z_K \sim p(z)}\Big[\log \frac1K \sum_{k=1}^K p_\theta(x \mid z_k)\Big],
# \qquad \mathcal L_1 \le \mathcal L_2 \le \dots \le \mathcal J_\theta(x), \quad \mathcal L_K \to \mathcal J_\theta(x).$$
#
# $\mathcal L_1$ is the question's loss. For $K > 1$ the gradient is
# $\nabla_\theta \mathcal L_K = \mathbb E\big[\sum_k \tilde w_k\, \nabla_\theta \log p_\theta(x \mid z_k)\big]$ with
# $\tilde w_k = p_\theta(x \mid z_k) / \sum_j p_\theta(x \mid z_j)$: each image trains mostly the draw that already
# explains it best, so the objective pairs images with codes. Train the same decoder with $K = 32$ (160 Adam steps in
# quick mode, 500 otherwise; fewer than the VAE's, so section 5 also trains a VAE for the same number of steps).
# Only $K = 1$ and $K = 32$ are trained here: how the bound grows with $K$ is not measured.

# %%
K = 32
steps_iw = vl.by_mode(500, 160)                             # Adam steps
epochs_iw = max(1, round(steps_iw / math.ceil(len(train) / 128)))
decoder_iw, losses_iw = train_decoder_alone(latent_dim, epochs=epochs_iw, k=K)
print(f"decoder alone, K = {K}, {epochs_iw} epochs (the VAE: {len(hist_vae['epoch'])}): "
      f"loss {losses_iw[0]:.1f} -> {losses_iw[-1]:.1f} nats per image")
samples_iw = decoder_iw(z).mean.detach()          # the same 200 codes as before

fig, axes = plt.subplots(3, 1, figsize=(8, 3.4))
vl.plots.show_images(samples_alone[:10], nrow=10, title="decoder alone, K = 1 (the question's loss)", ax=axes[0])
vl.plots.show_images(samples_iw[:10], nrow=10, title=f"decoder alone, K = {K}, no encoder", ax=axes[1])
vl.plots.show_images(samples_vae[:10], nrow=10, title="VAE decoder", ax=axes[2])
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** the middle row, from a decoder that never met an encoder, shows different digits, like
# the VAE's (bottom row); the class entropies below say how evenly.
#
# Now section 3's yardsticks, and bounds on $\mathcal J$ for test images (50 in quick mode, else 100; the same in
# sections 6 and 8), all with $K = 1000$: the VAE with its encoder as proposal; the decoder alone with the prior as
# proposal and, since that can sit far below $\mathcal J$ (section 6), with a Gaussian $q_n(z)$ per image, fitted by
# 300 Adam steps on its ELBO, decoder fixed (section 8): $\log \frac1K \sum_k p_\theta(x \mid z_k)\,p(z_k)/q_n(z_k)$,
# $z_k \sim q_n$. A second VAE, stopped at the decoder alone's step count, separates longer training from the model.

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
def proposal_bound(decoder, q, x, k=1000, chunk=100):
    """The k-draw bound with proposal q (one distribution per image), one number per image."""
    log_w = []
    for _ in range(k // chunk):
        z_ = q.sample((chunk,))                                                   # (chunk, images, latent_dim)
        log_px_z = decoder(z_.flatten(0, 1)).log_prob(x.repeat(chunk, 1, 1, 1)).view(chunk, len(x))
        log_w.append(log_px_z + vae.prior().log_prob(z_) - q.log_prob(z_))
    return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)

iw = distance_to_mean(samples_iw), pairwise_distance(samples_iw)
coverage["decoder alone, K"] = vl.metrics.class_coverage(samples_iw, classifier)
n_eval = vl.by_mode(min(len(test), 100), 50)
x_eval = test.images[:n_eval]
torch.manual_seed(SEED)
bound_iw = vl.objectives.prior_log_likelihood(decoder_iw, vae.prior, x_eval, k=1000)
bound_iw_q_each = proposal_bound(decoder_iw, fit_posteriors(decoder_iw, x_eval), x_eval)   # per image
bound_iw_q = bound_iw_q_each.mean().item()
ll_vae_each = vl.log_likelihood(vae, x_eval, k=1000, reduce=False)   # per image, K = 1000 encoder draws
ll_vae = ll_vae_each.mean().item()
torch.manual_seed(SEED)                                            # its initial weights, reproducibly
vae_eq = vl.make_vae(**vl.RECIPES["no_encoder_vae"]).to(device)    # the VAE, stopped at the same steps
hist_eq = vl.fit(vae_eq, train, epochs=epochs_iw, seed=SEED)
eq_minus_q = vl.log_likelihood(vae_eq, x_eval, k=1000, reduce=False) - bound_iw_q_each   # per image
ll_eq = bound_iw_q + eq_minus_q.mean().item()
bound_mean = -loss_of_constant(x_mean, x_eval)
for name, d in [("decoder alone, K", iw), ("VAE", full)]:
    print(f"{name + ':':17s} {coverage[name][0]} classes, entropy {coverage[name][1]:.2f} nats; "
          f"to the mean image {d[0]:.3f}, between samples {d[1]:.3f}")
print(f"bounds on J, {n_eval} test images, nats per image: decoder alone, K = {K}: {bound_iw:.1f} (prior as proposal), "
      f"{bound_iw_q:.1f} (fitted q_n); VAE: {ll_vae:.1f} (encoder); mean image: {bound_mean:.1f}")
vl.claim("iw-no-collapse", "trained on the K-draw bound, the decoder alone draws (nearly) all ten classes",
         coverage["decoder alone, K"][0], ">", 7.5, null=coverage["decoder alone"][0],
         null_is="the same decoder trained on the question's loss", unit="classes");
vl.claim("iw-varied", "its samples are far from the mean image and from each other, over half the VAE's distances",
         min(iw[0] / full[0], iw[1] / full[1]), ">", 0.5, null=max(alone[0] / full[0], alone[1] / full[1]),
         null_is="the decoder trained on the question's loss");
vl.claim("iw-uses-z", "its test bound is tens of nats above the mean image's", bound_iw, ">", bound_mean + 20,
         null=bound_mean, null_is="the mean image for every code (z unused)", unit="nats");
print(f"the VAE's {ll_vae - bound_iw:.1f}-nat lead splits into: its longer training {ll_vae - ll_eq:.1f} "
      f"(VAE at {epochs_iw} epochs: {ll_eq:.1f}); at equal steps, encoder vs fitted-q_n bound, {ll_eq - bound_iw_q:.1f}; "
      f"the decoder alone's prior-proposal bound {bound_iw_q - bound_iw:.1f}")
vl.claim("prior-bound-understates", "the fitted proposal raises the decoder alone's bound by over 2 nats",
         bound_iw_q - bound_iw, ">", 2, null=0.0, null_is="the prior-proposal bound as tight", unit="nats");
vl.claim("vae-bound-higher-equal-steps", "at equal steps the VAE's bound stays above the decoder alone's better bound",
         ll_eq - bound_iw_q, ">", 1, null=0.0, null_is="the two bounds equal", unit="nats",
         se=(eq_minus_q.std() / len(eq_minus_q) ** 0.5).item());

# %% [markdown]
# So the answer is not a flat no: trained on $z \sim \mathcal N(0, I)$ alone, the decoder does not collapse once the
# loss is the $K$-draw bound. The VAE's lead splits three ways (printed): its longer training; the prior-proposal
# bound's looseness; and, at equal steps, a gap between two lower bounds with different proposals (encoder; fitted
# $q_n$), not a clean model comparison. Equal steps are not equal compute: the decoder alone decodes $K$ codes per image.

# %% [markdown] tags=["core"]
# ## 6. What the encoder buys: efficiency
#
# Bound $\mathcal J(x)$ of the test images under the VAE's own decoder in two ways: with the prior as proposal, for
# $K = 1$ to $10^4$, and with the encoder as proposal ($K = 1$ is the ELBO). Both rise towards the same number as $K$
# grows; they differ only in where the draws land.

# %%
ks = [1, 100, 10_000]
torch.manual_seed(SEED)
prior_each = [vl.objectives.prior_log_likelihood(vae.decoder, vae.prior, x_eval, k=k, reduce=False) for k in ks]
prior_estimate = [b.mean().item() for b in prior_each]
encoder_estimate = {1: vl.log_likelihood(vae, x_eval, k=1), 1000: ll_vae}
kl_each = kl_term(vae.encoder(x_eval), None, vae.prior).detach()          # per image
short_each = ll_vae_each - prior_each[-1]                           # how far 10^4 prior draws fall short
kl_eval = kl_each.mean().item()
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
ax.set_xlabel("K, draws per image"); ax.set_ylabel("bound on J(x), nats per image"); ax.legend()
plt.show()
# a check of the estimator, not evidence: the expected K-draw bound never falls as K grows
assert all(b > a - 0.5 for a, b in zip(prior_estimate, prior_estimate[1:]))
vl.claim("one-encoder-draw-beats-prior", "one encoder draw gives a higher bound than 10^4 prior draws",
         encoder_estimate[1] - prior_estimate[-1], ">", 2, null=0.0,
         null_is="10^4 prior draws as good as one encoder draw", unit="nats");
high = kl_each > kl_each.median()
vl.claim("high-kl-falls-short", "images with above-median KL fall further short with 10^4 prior draws than the others",
         (short_each[high].mean() - short_each[~high].mean()).item(), ">", 2.0, null=0.0, unit="nats",
         null_is="a shortfall unrelated to the KL", se=(short_each[high].var() / high.sum() + short_each[~high].var() / (~high).sum()).sqrt().item());

# %% [markdown]
# **What you should see:** the prior-proposal curve climbs ever more slowly and at $K = 10^4$ is still below both
# orange lines.
#
# Why so many? With the prior as proposal a draw's weight $p(x \mid z_k)$ is large only where the posterior
# $p(z \mid x)$ is, a small region of the prior's mass. Importance sampling needs about
# $K \approx e^{\mathrm{KL}(p(z \mid x)\,\|\,p(z))}$ draws (Chatterjee & Diaconis, 2018); with the encoder's KL
# standing in, the $e^{\mathrm{KL}}$ printed. Tested image by image: images whose posterior is further from the
# prior fall further short at $K = 10^4$.
#
# So the encoder's contribution is not pairing as such (the $K$-draw bound pairs too) but *amortised inference*: one
# forward pass lands where $z$ explains $x$.

# %% [markdown] tags=["deep-dive"]
# ## 7. The KL term sends no gradient to the decoder, yet the encoder is needed
#
# The question is right about one thing: $\mathrm{KL}(q_\phi(z\mid x)\,\|\,p(z))$ does not depend on the decoder's
# parameters $\theta$, so $\nabla_\theta\, \mathrm{KL} = 0$. That is a fact about the computation graph, which
# autograd displays (a check, not an experiment): the KL alone leaves every decoder gradient empty.

# %%
qz, z_q, px_z = vae(train.images[:128])          # z ~ q(z|x), reparameterised
vae.zero_grad(set_to_none=True)
kl_term(qz, z_q, vae.prior).mean().backward()
decoder_untouched = all(p.grad is None or p.grad.abs().max() == 0 for p in vae.decoder.parameters())
encoder_grad = sum(p.grad.abs().sum().item() for p in vae.encoder.parameters() if p.grad is not None)
print(f"KL alone -> decoder gradients all None or zero: {decoder_untouched}; "
      f"encoder gradient size: {encoder_grad:.1f}")
assert decoder_untouched and encoder_grad > 0   # a check of the graph: the KL reaches the encoder only
vae.zero_grad(set_to_none=True)

# %% [markdown]
# Yet the KL acts on the decoder indirectly: it decides which codes the decoder is trained on, pulling them towards the
# prior, which is why prior draws decode to digits: exercise 2 removes it ($\beta = 0$), notebook 07 (§7-8) weakens it. And if
# every $q(z \mid x)$ really were $\mathcal N(0, I)$, the VAE would be the question's model and would draw the mean
# image; §3's VAE draws most of the ten classes.
#
# But the encoder is not idle: the reconstruction term with $z = \mu_\phi(x) + \sigma_\phi(x)\,\varepsilon$ trains
# both networks, and the encoder provides the **pairing** in one pass (§6), a $z$ that carries information about
# this $x$. Reconstruct each test image from its own code $z \sim q(z \mid x)$, from another test image's code, and
# from $z \sim p(z)$; then test a suspected cause: mix 20% of the mean image into every output,
# $y \to 0.8\,y + 0.2\,\bar x$, which takes away confident pixels and leaves the digit.
#
# **Predict, then run.** Which reconstructs a test image worse: another test image's code, or a code drawn from the
# prior without looking at any image? Set `my_prediction` to `"another image's code"` or `"prior"`.

# %%
my_prediction = None  # "another image's code" or "prior"
### BEGIN SOLUTION
my_prediction = "another image's code"
### END SOLUTION

# %%
vl.exercises.check(lambda: my_prediction in ("another image's code", "prior"), hint='set my_prediction to '
                   '"another image\'s code" or "prior" in the cell above', success="prediction recorded; run the next cell");

# %%
x = test.images
with torch.no_grad():
    qz = vae.encoder(x)
    z_own = qz.sample()
    z_other = z_own[torch.randperm(len(x), generator=torch.Generator().manual_seed(SEED)).to(device)]
    z_prior = vae.prior.sample(len(x))
    codes = {"own code": z_own, "another image's code": z_other, "prior": z_prior}
    rec = {name: vae.decoder(z_).log_prob(x).mean().item() for name, z_ in codes.items()}
    soft = {name: loss_of_constant(0.8 * vae.decoder(z_).mean + 0.2 * x_mean, x) for name, z_ in codes.items()}
    kl_test = kl_term(qz, z_own, vae.prior).mean().item()
for name in codes:
    print(f"z from {name:21s}: reconstruction term {rec[name]:7.1f} nats per image; "
          f"with 20% mean image mixed in {-soft[name]:7.1f}")
print(f"average KL(q(z|x) || p(z)) on the test images: {kl_test:.1f} nats")
vl.claim("own-code-best", "the own code reconstructs far better than a prior draw", rec["own code"], ">",
         rec["prior"] + 20, null=rec["prior"], null_is="a code drawn without looking at the image", unit="nats");
vl.claim("other-code-worse", "another image's code reconstructs worse than a prior draw",
         rec["prior"] - rec["another image's code"], ">", 5, null=0.0, null_is="the two equal", unit="nats");
gap, gap_soft = rec["prior"] - rec["another image's code"], soft["another image's code"] - soft["prior"]
print(f"prior draw minus other image's code: {gap:.1f} nats; with 20% mean image mixed in: {gap_soft:.1f} nats")
vl.claim("softening-closes-gap", "mixing 20% mean image into the outputs closes most of that gap",
         gap_soft / gap, "<", 0.5, null=1.0, null_is="the untouched gap (confidence not the cause)");

# %%
vl.exercises.check(lambda: my_prediction == min(("another image's code", "prior"), key=rec.get),
                   hint="compare the two reconstruction terms printed above: which is lower?",
                   success="a confident wrong digit costs more than a hedged guess (the cause is tested above)");

# %% [markdown]
# The own code reconstructs far better than a code chosen without looking at the image, a gap the decoder alone never
# gets. Why does another image's code do *worse* than a prior draw? Suspect: it decodes to a sharp other digit,
# confident pixels, many wrong here, and binary cross-entropy charges $-\log(1 - y_i)$ for $y_i \approx 1$ where the
# image is blank. Taking the confidence away (20% mean image) closes most of the gap, so confident wrong pixels are
# most of the cost.
#
# How much information do the codes carry? Averaged over the data, the KL term splits as
#
# $$\mathbb E_x\,\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big) = I_q(x; z) + \mathrm{KL}\big(q(z)\,\|\,p(z)\big) \;\ge\; I_q(x; z),$$
#
# where $q(z) = \frac1N \sum_n q(z\mid x_n)$ is the aggregate posterior of the $N$ images used (notebook 07 studies
# it): the average KL bounds $I_q(x; z)$, the nats a code carries about which image it came from (0 for the decoder
# alone). Over $N$ images $I_q(x; z) \le \log N$. An estimate near $\log N$ says a single draw $z \sim q(z \mid x_n)$
# tells image $n$ apart from the other $N - 1$. Test it: give each draw to the image whose posterior gives it the
# highest density (chance: $1/N$).

# %%
mi, mi_error = vl.metrics.mutual_information(qz)
with torch.no_grad():
    log_q = torch.stack([qz.log_prob(z_own[i]) for i in range(len(x))])   # (draws, images): log q(z_i | x_n)
    identified = (log_q.argmax(dim=1) == torch.arange(len(x), device=device)).float().mean().item()
print(f"N = {len(x)} test images: I_q(x; z) estimated at {mi:.2f} +- {mi_error:.2f} nats, log N = {math.log(len(x)):.2f}; "
      f"average KL {kl_test:.1f} nats")
print(f"a draw from q(z|x_n) is closest, in posterior density, to its own image x_n for {identified:.1%} of the images "
      f"(chance: {1 / len(x):.1%})")
vl.claim("draw-identifies-image", "a single draw from q(z|x_n) identifies its image among the N",
         identified, ">", 0.8, null=1 / len(x), null_is="chance, codes that overlap");

# %% [markdown]
# And the observation that the encoder's outputs end up "close to 0 and 1"? Per latent dimension $j$, over the test
# images: the typical $\sigma_j(x)$ of one posterior, the typical $|\mu_j(x)|$, the spread of $\mu_j(x)$ across
# images, and the dimension's share of the average KL.

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
pooled_sd = (mu.var(dim=0) + sd.pow(2).mean(dim=0)).sqrt()     # the standard deviation of q(z), per dimension
print(f"pooled over images: |mean| at most {mu.mean(dim=0).abs().max():.2f}, standard deviation {pooled_sd.min():.2f} "
      f"to {pooled_sd.max():.2f}; per image: mean sigma {typical_sd.min():.2f} to {typical_sd.max():.2f}")
if collapsed.any():                                              # checks, run only when the set is not empty:
    assert (kl_per_dim[collapsed] < 0.5).all()                   # nearly collapsed dimensions carry (almost) nothing
informative = kl_per_dim > 0.5                                   # every informative one: q(z|x) narrower than the spread ...
assert (spread_of_means[informative] > typical_sd[informative]).all()
vl.claim("means-spread-beyond-sigma", "in the typical used dimension the means spread over twice one posterior's "
         "sigma", (spread_of_means[~collapsed] / typical_sd[~collapsed]).median().item(), ">", 2.0, null=0.0,
         null_is="every posterior on the prior: means that do not spread");

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
# **What you should see:** in most dimensions one image's $\sigma_j$ is a small fraction of the spread of the means;
# at the right, possibly a few nearly collapsed dimensions with $\sigma_j$ near 1 and means near 0 for every image.
#
# So the observation is true in two senses. In nearly collapsed dimensions, if any (count printed), it is true *per
# image*: $q(z_j \mid x) \approx \mathcal N(0, 1)$ whatever $x$ is, carrying almost no information (`active_units`
# may still call them active: compare its column with the KL's). In the used dimensions it is true only **pooled over
# images**: each posterior is narrow, in its own place; their mixture's mean and standard deviation are printed above
# (prior: 0 and 1). Notebook 06 takes that up.

# %% [markdown] tags=["core"]
# ## 8. Other ways to do without an encoder
#
# **Per-image optimisation.** Section 5 fitted one Gaussian $q_n(z)$ per image on its ELBO, decoder fixed: classical
# variational inference, which the encoder *amortises* into one forward pass (Gershman & Goodman, 2014). Do it for
# the VAE's decoder, never calling the encoder, and compare with the encoder's ELBO.

# %%
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
vl.claim("fitted-beats-encoder", "300 steps per image beat the encoder's ELBO (the amortisation gap)",
         elbo_fitted - elbo_encoder, ">", 0.5, null=0.0, null_is="the encoder's ELBO (no amortisation gap)",
         unit="nats");

# %% [markdown]
# Per-image optimisation beats the encoder's posteriors, at an optimisation per image instead of one forward pass:
# the *amortisation gap* (Cremer et al., 2018). Training a decoder
# with one set of variational parameters per training image is stochastic variational inference (Hoffman et al.,
# 2013); the VAE's encoder (Kingma & Welling, 2014) is its amortised version.
#
# **Decoder-only generators** escape section 2's collapse by letting a code's target depend on the images. *GLO*
# (Bojanowski et al., 2018) learns one code per training image jointly with the generator on a reconstruction loss.
# *IMLE* (Li & Malik, 2018) draws many prior codes per batch and trains, for each real image, only the sample nearest
# to it: a hard-max cousin of $\tilde w_k$. *GMMN* (Li, Swersky & Zemel, 2015) pairs nothing: it matches the set of
# generated images to the real ones by maximum mean discrepancy.
#
# **A GAN** (Goodfellow et al., 2014) also judges sets: a discriminator learns to tell generated images from real
# ones, and the generator learns to fool it. A per-pixel loss against a random $x$ rewards the average image; a
# discriminator punishes it. Even a one-number discriminator, "distance to the mean image", spots the decoder alone:

# %%
d_real = (test.images - x_mean).abs().mean(dim=(1, 2, 3))      # per image, pixels in [0, 1]
d_alone = (samples_alone - x_mean).abs().mean(dim=(1, 2, 3))
auc = (d_real[:, None] > d_alone[None]).float().mean().item()   # P(a real image lies farther than a sample)
print(f"distance to the mean image: real test images {d_real.min():.3f} or more, "
      f"decoder-alone samples {d_alone.max():.3f} or less; AUC {auc:.3f}")
vl.claim("mean-image-obvious-fake", "distance to the mean image tells real test images from the decoder alone's "
         "samples (AUC)", auc, ">", 0.99, null=0.5, null_is="a discriminator at chance");

# %% [markdown] tags=["deep-dive"]
# ## Exercises
#
# **Exercise 1 (squared error collapses too).** Compute `loss_mean`, the average of $\|\bar x - x\|^2$ over the
# training images, and `loss_images`, the same average for each of the first 100 training images as constant output
# $y$. By section 2's identity the mean image beats every one, so the check tests your code.

# %%
images = train.images
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
                   success="your numbers obey the identity: the mean image beats every single image")

# %% [markdown]
# **Exercise 2 (β = 0; uses §7's `z_prior`).** Predict: without the KL, is $q(z)$ (codes pooled) wider or narrower,
# one posterior's $\sigma$ larger or smaller; do prior draws decode better or worse (`my_prediction`)? Then load
# `vae_beta0, hist_beta0` with `vl.trained`, recipe `no_encoder_vae_beta0`.

# %%
my_prediction = None  # prior draws of the beta = 0 model decode "better" or "worse" than the beta = 1 model's
### BEGIN SOLUTION
my_prediction = "worse"
vae_beta0, hist_beta0 = vl.trained("no_encoder_vae_beta0", seed=SEED)
### END SOLUTION

# %%
vl.exercises.check(lambda: len(hist_beta0["kl"]) == len(hist_vae["kl"]) and hist_beta0["kl"][-1] > 2 * hist_vae["kl"][-1],
                   hint='vl.trained("no_encoder_vae_beta0", seed=SEED)', success="its KL, never penalised, grew large")

# %% [markdown]
# If prior draws decode worse, is the decoder worse or do the draws miss the codes? Decode draws from a Gaussian with
# $\beta = 0$'s $q(z)$ mean and standard deviation too; score each set by its Fréchet distance to the test images.

# %%
spread, drawn = {}, {}
with torch.no_grad():
    for name, model in [("beta = 1", vae), ("beta = 0", vae_beta0)]:
        qz_model = model.encoder(test.images)
        spread[name] = (qz_model.mean.var(dim=0) + qz_model.variance.mean(dim=0)).sqrt()   # q(z)'s sd, per dimension
        drawn[f"{name}, prior draws"] = model.decoder(z_prior).mean
        print(f"{name}: q(z)'s sd, median over dimensions {spread[name].median():.2f}; one posterior's sigma, "
              f"median {qz_model.stddev.median():.3f}")
    mean_beta0 = vae_beta0.encoder(test.images).mean.mean(dim=0)                             # beta = 0's q(z) mean
    z_matched = mean_beta0 + spread["beta = 0"] * torch.randn_like(z_prior)                   # ... and its sd
    drawn["beta = 0, draws matched to its q(z)"] = vae_beta0.decoder(z_matched).mean
fd = {name: vl.metrics.frechet_bootstrap(decoded, test.images, classifier) for name, decoded in drawn.items()}
for name, (distance, se) in fd.items():
    print(f"{name:37s}: Fréchet distance to the test images {distance:6.0f} ± {se:.0f}")
vl.claim("beta0-codes-spread", "without the KL the codes spread wider (median ratio of q(z)'s sds)",
         (spread["beta = 0"] / spread["beta = 1"]).median().item(), ">", 1.5, null=1.0, null_is="as wide as at beta = 1");
vl.claim("beta0-prior-draws-worse", "without the KL, prior draws decode further from the test images (Fréchet ratio)",
         fd["beta = 0, prior draws"][0] / fd["beta = 1, prior draws"][0], ">", 1.5, null=1.0, null_is="as close as at beta = 1");
vl.claim("beta0-draws-miss-codes", "draws matched to beta = 0's q(z) decode far closer than its prior draws (ratio)",
         fd["beta = 0, draws matched to its q(z)"][0] / fd["beta = 0, prior draws"][0], "<", 0.5, null=1.0,
         null_is="a decoder as poor wherever it is fed");
fig, axes = plt.subplots(3, 1, figsize=(8, 3.4))
for ax, (name, decoded) in zip(axes, drawn.items()):
    vl.plots.show_images(decoded[:10], nrow=10, title=name, ax=ax)
plt.show()
vl.exercises.check(lambda: my_prediction == ("worse" if fd["beta = 0, prior draws"][0] > fd["beta = 1, prior draws"][0]
                   else "better"), hint='set my_prediction to "better" or "worse"', success="your prediction was right")

# %% [markdown]
# **What you should see:** β = 1's prior draws are digits; β = 0's, from the same codes, smudges; its matched draws
# far better. Without the KL the codes spread beyond the prior; prior draws miss.

# %% [markdown] tags=["core"]
# ## Summary
#
# - A decoder trained on one $z \sim \mathcal N(0, I)$ per image, independent of $x$, has the same best output for
#   every $z$: the mean image. Measured: its samples sit near the mean image, all in one class.
# - That loss is the ELBO with $q(z \mid x) = p(z)$, a bound on the grey-level objective $\mathcal J_\theta(x)$ whose
#   gap $\mathrm{KL}(p(z)\,\|\,p(z \mid x))$ punishes every use of $z$.
# - Trained alone on the $K$-draw bound $\log \frac1K \sum_k p(x \mid z_k)$, $K = 32$, the decoder does not collapse.
#   At equal steps its bound stays below the VAE's; part of the gap is the prior-proposal bound's looseness.
# - What the encoder buys is efficiency: one encoder draw beats $10^4$ prior draws. Per-image optimisation works
#   too and, measured, does better: the encoder buys speed at a cost in ELBO (the amortisation gap).
# - The KL term sends the decoder no gradient, yet decides where the codes sit and so which region the decoder
#   learns: without it ($\beta = 0$, exercise 2) prior draws miss the codes and decode poorly; draws matched to the
#   codes decode better. The encoder matters through the reconstruction term, by handing the decoder codes that
#   identify the image. "Close to 0 and 1" holds pooled over images; per image only in nearly collapsed dimensions,
#   if any.
# - Decoder-only methods that work: GLO (a learned code per image), IMLE (the nearest sample per image), GMMN and GANs
#   (match sets of images, not pairs).

# %% [markdown] tags=["core"]
# ## References
#
# - Kingma, D. P., & Welling, M. (2014). Auto-encoding variational Bayes. *ICLR*.
# - Burda, Y., Grosse, R., & Salakhutdinov, R. (2016). Importance weighted autoencoders. *ICLR*.
# - Chatterjee, S., & Diaconis, P. (2018). The sample size required in importance sampling. *Annals of Applied
#   Probability*, 28(2), 1099-1135.
# - Cremer, C., Li, X., & Duvenaud, D. (2018). Inference suboptimality in variational autoencoders. *ICML*.
# - Gershman, S. J., & Goodman, N. D. (2014). Amortized inference in probabilistic reasoning. *CogSci*, 36.
# - Hoffman, M. D., Blei, D. M., Wang, C., & Paisley, J. (2013). Stochastic variational inference. *JMLR*, 14,
#   1303-1347.
# - Bojanowski, P., Joulin, A., Lopez-Paz, D., & Szlam, A. (2018). Optimizing the latent space of generative
#   networks. *ICML*. (GLO.)
# - Li, K., & Malik, J. (2018). Implicit maximum likelihood estimation. *arXiv:1809.09087*. (IMLE.)
# - Li, Y., Swersky, K., & Zemel, R. (2015). Generative moment matching networks. *ICML*. (GMMN.)
# - Goodfellow, I., Pouget-Abadie, J., Mirza, M., Xu, B., Warde-Farley, D., Ozair, S., Courville, A., & Bengio, Y.
#   (2014). Generative adversarial nets. *NeurIPS*, 27.
