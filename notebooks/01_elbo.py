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
# # 01 · The ELBO, derived and checked
#
# *Time: about 90 minutes (core path 35) · Read first: 00 · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/01_elbo.ipynb)
#
# A VAE is trained by maximising the **evidence lower bound** (ELBO). This notebook derives it twice, then checks
# every step with numbers: first in a small linear-Gaussian model where $\log p(x)$ and the posterior $p(z \mid x)$ are
# known exactly, then on a trained VAE.
#
# **What you will learn**
# - why $\log p(x) = \log \int p(x \mid z)\, p(z)\, dz$ cannot be computed for a neural decoder, and what the ELBO does instead;
# - to derive the ELBO by Jensen's inequality and as $\log p(x) - \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$, and to
#   check numerically that the gap is exactly that KL and vanishes only at the true posterior;
# - to read the ELBO as reconstruction minus KL, and to see that binary cross-entropy is a Bernoulli log-likelihood and
#   summed MSE a Gaussian one (notebook 04 follows this reading further);
# - to compute the KL between diagonal Gaussians in closed form and check it three ways;
# - to measure how far the ELBO of a trained VAE lies below $\log p(x)$, with the importance-weighted bound.

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
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, MultivariateNormal, Normal, kl_divergence

import vae_lesson as vl
from vae_lesson.linear_gaussian import LinearGaussian, as_mvn

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown] tags=["core"]
# ## 1. A latent-variable model, and the integral we cannot do
#
# A latent-variable model generates an image $x$ in two steps: draw a code $z \sim p(z) = \mathcal N(0, I)$, then draw
# $x \sim p(x \mid z)$, where the **decoder** $p(x \mid z)$ is a neural network that turns $z$ into the parameters of
# a distribution over pixels. The probability the model gives an image is the average over all codes:
#
# $$p(x) = \int p(x \mid z)\, p(z)\, dz .$$
#
# Training by maximum likelihood would maximise $\log p(x)$ over the data. (All logarithms here are natural, so
# log-probabilities are in **nats**: one nat is a factor of $e \approx 2.72$ in probability, $\log 2 = 0.69$ nats is
# one bit.) But the integral has no closed form when
# $p(x \mid z)$ is a neural network, and a grid with 10 points per axis over the 16-dimensional $z$ of section 7's VAE
# has $10^{16}$ points. Monte Carlo,
# $p(x) \approx \frac1k \sum_i p(x \mid z_i)$ with $z_i \sim p(z)$, is correct on average but useless in practice:
# almost every $z_i$ from the prior decodes to an image that has nothing to do with $x$. Section 7 measures it on a
# trained VAE: of 1000 draws from the prior, one carries nearly the whole sum. The posterior
# $p(z \mid x) = p(x \mid z)\,p(z)/p(x)$, the codes that *do* explain $x$, needs the same $p(x)$ and is out of reach too.
#
# The way out: an **encoder** $q(z \mid x)$, a distribution we choose (a diagonal Gaussian computed by a network from $x$),
# meant to put its mass where $p(z \mid x)$ does.

# %% [markdown] tags=["core"]
# ## 2. The ELBO by Jensen's inequality
#
# Multiply and divide by $q(z \mid x)$ inside the integral, then use that $\log$ is concave, so
# $\log \mathbb E[w] \ge \mathbb E[\log w]$ (Jensen's inequality):
#
# $$\log p(x) = \log \int q(z \mid x)\, \frac{p(x \mid z)\, p(z)}{q(z \mid x)}\, dz
# = \log \mathbb E_{q(z \mid x)}\!\left[\frac{p(x \mid z)\, p(z)}{q(z \mid x)}\right]
# \;\ge\; \mathbb E_{q(z \mid x)}\!\left[\log \frac{p(x \mid z)\, p(z)}{q(z \mid x)}\right] =: \mathrm{ELBO}(q, x).$$
#
# The right-hand side is an expectation under $q$, which we can sample: no integral over all of $z$-space is left.
# Jensen's inequality is an equality exactly when the ratio $w = p(x \mid z)p(z)/q(z \mid x)$ is the same for every $z$,
# i.e. when $q(z \mid x) \propto p(x \mid z)p(z)$, which is the posterior.

# %% [markdown] tags=["core"]
# ## 3. The ELBO as $\log p(x)$ minus a KL
#
# Write $p(x \mid z)\,p(z) = p(z \mid x)\,p(x)$ (Bayes' rule) inside the logarithm:
#
# $$\mathrm{ELBO}(q, x) = \mathbb E_{q}\!\left[\log p(x) + \log \frac{p(z \mid x)}{q(z \mid x)}\right]
# = \log p(x) - \mathrm{KL}\big(q(z \mid x) \,\|\, p(z \mid x)\big).$$
#
# So the gap between the ELBO and $\log p(x)$ is *exactly* the KL divergence from $q$ to the true posterior. A KL is
# $\ge 0$ and $= 0$ only when the two distributions are equal: the bound holds for every $q$ and is tight only at
# $q(z \mid x) = p(z \mid x)$. Maximising the ELBO over $q$ therefore pulls $q$ towards the posterior; maximising it over
# the decoder raises $\log p(x)$ *or* shrinks the gap, by moving the posterior towards what $q$ can represent.

# %% [markdown] tags=["core"]
# ## 4. Checking it where everything is exact: a linear-Gaussian model
#
# With a *linear* decoder, the integral of section 1 can be done by hand. Take
#
# $$p(z) = \mathcal N(0, I_d), \qquad p(x \mid z) = \mathcal N(Wz + b,\ \sigma^2 I_D).$$
#
# Then $x = Wz + b + \sigma\varepsilon$ is a sum of Gaussians, so $p(x) = \mathcal N(b,\ WW^\top + \sigma^2 I_D)$, and
# completing the square in $\log p(x \mid z) + \log p(z)$ gives the posterior
# $p(z \mid x) = \mathcal N\big(S W^\top (x - b)/\sigma^2,\ S\big)$ with $S = (I_d + W^\top W / \sigma^2)^{-1}$.
# `vl.linear_gaussian.LinearGaussian` implements this model with the same parts as a VAE: `decoder(z)` returns
# $p(x \mid z)$, calling `prior()` returns $p(z)$, and `posterior(x)`, which is also its `encoder(x)`, the exact
# $p(z \mid x)$. We take $d = 1$ (so $q$ has just a mean and a scale) and $D = 2$, in float64.
#
# Each density is a `torch.distributions` object, with `.mean`, `.stddev`, `.sample(shape)` and `.log_prob(value)`.
# `Normal(loc, scale)` holds independent 1-D Gaussians; `Independent(Normal(...), 1)` makes the last axis one event, so
# `log_prob` sums over it and returns one number per data point. The posterior is a `MultivariateNormal` (a full
# covariance); `as_mvn(q)` rewrites a diagonal Gaussian as one, for KLs to it.

# %%
W = torch.tensor([[1.0], [0.5]], dtype=torch.float64)  # D = 2, d = 1
b = torch.tensor([0.2, -0.3], dtype=torch.float64)
lg = LinearGaussian(W, b, sigma=0.5)
x = torch.tensor([[1.5, 0.4]], dtype=torch.float64)  # one data point

log_px = lg.log_marginal(x).item()
pz_x = lg.posterior(x)
post_mean, post_std = pz_x.mean.item(), pz_x.stddev.item()
print(f"log p(x) = {log_px:.4f} nats;  p(z|x) = N({post_mean:.4f}, {post_std:.4f}^2)")

# The posterior is Bayes' rule: log p(z|x) = log p(x|z) + log p(z) - log p(x) at any z
z = torch.linspace(-3, 3, 7, dtype=torch.float64).unsqueeze(-1)
bayes = lg.decoder(z).log_prob(x) + lg.prior().log_prob(z) - lg.log_marginal(x)
print("largest |log p(z|x) - Bayes' rule| over 7 values of z:", (pz_x.log_prob(z) - bayes).abs().max().item())
assert torch.allclose(pz_x.log_prob(z), bayes, atol=1e-12)


# %% [markdown]
# For a Gaussian $q(z) = \mathcal N(m, s^2)$ the ELBO has a closed form too (derived in the docstring of
# `LinearGaussian.reconstruction`): $\mathbb E_q\|x - Wz - b\|^2 = \|x - Wm - b\|^2 + s^2 \|W\|^2$. Before trusting it,
# compare it with the definition of section 2, a Monte Carlo average of $\log p(x \mid z) + \log p(z) - \log q(z)$ over
# $z \sim q$, which should agree within a few standard errors.

# %%
def gaussian_q(mean, scale):
    """q(z) = N(mean, scale^2) over the 1-D latent, for our one data point."""
    return Independent(Normal(torch.tensor([[mean]], dtype=torch.float64),
                              torch.tensor([[scale]], dtype=torch.float64)), 1)

qz = gaussian_q(0.5, 0.8)
z = qz.sample((100_000,))                                          # (100000, 1, 1)
log_w = lg.decoder(z).log_prob(x) + lg.prior().log_prob(z) - qz.log_prob(z)
mc, se = log_w.mean().item(), log_w.std().item() / math.sqrt(len(log_w))
closed = lg.elbo(qz, x).item()
print(f"ELBO: closed form {closed:.4f}, Monte Carlo {mc:.4f} +- {se:.4f}")
assert abs(mc - closed) < 4 * se

# %% [markdown]
# Now the identity of section 3, for several $q$: the ELBO, the KL to the exact posterior, their sum, and $\log p(x)$.

# %%
settings = [(post_mean, post_std), (post_mean + 0.5, post_std), (post_mean, 0.3 * post_std), (0.0, 1.0), (-1.0, 0.5)]
print(f"{'q mean':>7} {'q scale':>8} {'ELBO':>9} {'KL(q||p(z|x))':>14} {'ELBO + KL':>10} {'log p(x)':>9}")
gaps = []
for mean, scale in settings:
    qz = gaussian_q(mean, scale)
    elbo = lg.elbo(qz, x).item()
    kl = kl_divergence(qz, Independent(Normal(pz_x.mean, pz_x.stddev), 1)).item()  # d = 1: p(z|x) as a diagonal Gaussian
    print(f"{mean:7.3f} {scale:8.3f} {elbo:9.4f} {kl:14.6f} {elbo + kl:10.6f} {log_px:9.4f}")
    assert abs(elbo + kl - log_px) < 1e-10  # ELBO + KL = log p(x), to float64 precision
    gaps.append(log_px - elbo)
print("gap at the exact posterior:", gaps[0])
assert abs(gaps[0]) < 1e-10                  # tight at q = p(z|x) ...
assert min(gaps[1:]) > 1e-3                  # ... and a strict bound everywhere else

# %% [markdown]
# A check on a grid of means and scales: the ELBO should peak at the grid point next to $p(z \mid x)$.

# %%
means = torch.linspace(-2, 3, 101, dtype=torch.float64)
scales = torch.linspace(0.05, 1.5, 59, dtype=torch.float64)
grid_mean, grid_scale = torch.meshgrid(means, scales, indexing="ij")
q_grid = Independent(Normal(grid_mean.reshape(-1, 1), grid_scale.reshape(-1, 1)), 1)
elbo_grid = lg.elbo(q_grid, x).reshape(grid_mean.shape)
best = elbo_grid.argmax()
best_mean, best_scale = grid_mean.flatten()[best].item(), grid_scale.flatten()[best].item()
print(f"best q on the grid: N({best_mean:.3f}, {best_scale:.3f}^2); exact posterior N({post_mean:.3f}, {post_std:.3f}^2)")
assert (elbo_grid < log_px).all()  # a check: section 3 says so for every q
assert abs(best_mean - post_mean) <= (means[1] - means[0]) and abs(best_scale - post_std) <= (scales[1] - scales[0])

# %% [markdown]
# Move $q$ yourself. The left panel shows the prior, the exact posterior and $q$; the right one shows $\log p(x)$,
# the ELBO, and the gap between them, which is $\mathrm{KL}(q \,\|\, p(z \mid x))$.

# %%
z_axis = torch.linspace(-3, 4, 400, dtype=torch.float64)


def plot_q(mean, scale, axes):
    """Densities of p(z), p(z|x) and q on the left; log p(x), ELBO and gap on the right."""
    qz = Normal(torch.tensor(mean, dtype=torch.float64), torch.tensor(scale, dtype=torch.float64))
    elbo = lg.elbo(Independent(Normal(qz.loc.view(1, 1), qz.scale.view(1, 1)), 1), x).item()
    ax = axes[0]
    ax.plot(z_axis, Normal(0.0, 1.0).log_prob(z_axis).exp(), "k:", label="prior $p(z)$")
    ax.plot(z_axis, Normal(post_mean, post_std).log_prob(z_axis).exp(), "C0", label="posterior $p(z|x)$")
    ax.plot(z_axis, qz.log_prob(z_axis).exp(), "C1--", label="$q(z)$")
    ax.set_xlabel("$z$"); ax.set_ylabel("density"); ax.set_ylim(0, 2.8); ax.legend(loc="upper left", fontsize=8)
    ax = axes[1]
    low = min(log_px - 6, elbo - 0.5)                      # the bars start at the bottom of the axis
    ax.bar([0], [elbo - low], bottom=[low], width=0.5, color="C1", label=f"ELBO = {elbo:.3f}")
    ax.bar([0], [log_px - elbo], bottom=[elbo], width=0.5, color="C3", alpha=0.5,
           label=f"gap = KL(q || p(z|x)) = {log_px - elbo:.3f}")
    ax.axhline(log_px, color="C0", label=f"log p(x) = {log_px:.3f}")
    ax.set_xlim(-1, 2); ax.set_xticks([]); ax.set_ylim(low, log_px + 1)
    ax.set_ylabel("nats"); ax.legend(loc="center right", fontsize=8)
    ax.set_title(f"q = N({mean:.2f}, {scale:.2f}$^2$)")
    return elbo


def draw_q(mean, scale):
    """One figure for the sliders."""
    plot_q(mean, scale, plt.subplots(1, 2, figsize=(10, 3))[1])
    plt.show()


def static_q():
    """Three settings at once: q at the posterior, shifted, too narrow."""
    fig, axes = plt.subplots(3, 2, figsize=(10, 8))
    for row, (mean, scale) in zip(axes, [(post_mean, post_std), (post_mean + 0.8, post_std), (post_mean, 0.15)]):
        plot_q(mean, scale, row)
    plt.tight_layout()


vl.widgets.interact_or_static(draw_q, static_q, mean=(-2.0, 3.0, 0.05), scale=(0.05, 1.5, 0.05));

# %% [markdown]
# **What you should see:** when the orange $q$ sits on the blue posterior, the red gap vanishes and the orange ELBO bar
# reaches the blue line $\log p(x)$. Shifting $q$ or making it too narrow opens the gap.

# %% [markdown] tags=["core"]
# ## 5. The other reading: reconstruction minus KL to the prior
#
# Split the ratio in the ELBO differently, $\log \frac{p(x \mid z)\,p(z)}{q(z \mid x)} = \log p(x \mid z) - \log \frac{q(z \mid x)}{p(z)}$:
#
# $$\mathrm{ELBO}(q, x) = \underbrace{\mathbb E_{q(z \mid x)}[\log p(x \mid z)]}_{\text{reconstruction}}
# \;-\; \underbrace{\mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big)}_{\text{stay close to the prior}} .$$
#
# This is the form a VAE computes: the first term needs only samples $z \sim q(z \mid x)$ and the decoder, the second
# has a closed form (section 6). Both readings are the same number, as the linear-Gaussian model confirms:

# %%
qz = gaussian_q(0.5, 0.8)
pz = lg.prior()
reading_1 = lg.log_marginal(x) - kl_divergence(as_mvn(qz), pz_x)             # section 3
reading_2 = lg.reconstruction(qz, x) - kl_divergence(qz, pz)                 # this section
print(f"log p(x) - KL(q || p(z|x)) = {reading_1.item():.6f};  E_q[log p(x|z)] - KL(q || p(z)) = {reading_2.item():.6f}")
assert torch.allclose(reading_1, reading_2, atol=1e-10)

# %% [markdown]
# What "reconstruction" means depends on the decoder's distribution.
#
# ### 5a. A Bernoulli decoder: binary cross-entropy
#
# If the decoder outputs a probability $\hat x_i$ for each of the $D$ pixels, $p(x \mid z) = \prod_i \hat x_i^{x_i}(1 - \hat x_i)^{1 - x_i}$ and
#
# $$\log p(x \mid z) = \sum_{i=1}^D \big[x_i \log \hat x_i + (1 - x_i) \log(1 - \hat x_i)\big] = -\mathrm{BCE}(\hat x, x),$$
#
# minus the binary cross-entropy summed over pixels (`reduction='sum'`, per image). Check it on random images:

# %%
gen = torch.Generator().manual_seed(0)
x_img = torch.rand(5, 1, 28, 28, generator=gen).round()      # 5 binary "images"
logits = torch.randn(5, 1, 28, 28, generator=gen)            # a decoder's outputs
px_z = Independent(Bernoulli(logits=logits), 3)              # p(x|z): one event per image
log_px_z = px_z.log_prob(x_img)
bce = torch.stack([F.binary_cross_entropy(torch.sigmoid(l), xi, reduction="sum") for l, xi in zip(logits, x_img)])
print("log p(x|z):", log_px_z.numpy().round(2))
print("-BCE:      ", (-bce).numpy().round(2))
assert torch.allclose(log_px_z, -bce, rtol=1e-5)

# %% [markdown]
# ### 5b. A Gaussian decoder: MSE is a Gaussian log-likelihood
#
# If the decoder network returns a mean image $\mu = \mu_\theta(z)$ and the pixels have a fixed standard deviation
# $\sigma$ around it,
# $p(x \mid z) = \mathcal N(x;\ \mu,\ \sigma^2 I_D)$ and
#
# $$\log p(x \mid z) = -\frac{\|x - \mu\|^2}{2\sigma^2} - \frac D2 \log(2\pi\sigma^2).$$
#
# The squared error is the only part that depends on the model: minimising a summed MSE *is* maximising a Gaussian
# likelihood, with the scale set by $\sigma$. So `mse_loss(reduction="sum")` + KL is $-$ELBO, up to a constant, for
# $\sigma^2 = 1/2$; `reduction="mean"` divides the MSE by $D$, which weights the KL $D$ (784 for 28×28 images) times
# more (notebook 04 covers such weights). Note what the decoder returns: the *mean* of $p(x \mid z)$, not an image
# drawn from it (a draw would add independent noise of size $\sigma$ to every pixel). In code it is
# `model.decoder(z).mean`, and every "reconstruction" or "sample" image in this series shows that mean. Check it against `torch.distributions`:

# %%
sigma = 0.1
x_img = torch.rand(5, 1, 28, 28, generator=gen)
mu = torch.rand(5, 1, 28, 28, generator=gen)                  # a decoder's mean images
D = x_img[0].numel()
px_z = Independent(Normal(mu, sigma), 3)
sq_err = ((x_img - mu) ** 2).sum((1, 2, 3))                   # = F.mse_loss(..., reduction="sum") per image
by_hand = -sq_err / (2 * sigma**2) - D / 2 * math.log(2 * math.pi * sigma**2)
print("log p(x|z) by torch:   ", px_z.log_prob(x_img).numpy().round(1))
print("-||x-mu||^2/(2 s^2) - c:", by_hand.numpy().round(1))
assert torch.allclose(px_z.log_prob(x_img), by_hand, rtol=1e-5)
assert torch.allclose(sq_err[0], F.mse_loss(mu[0], x_img[0], reduction="sum"))

# %% [markdown]
# But the reconstruction is of a *random* $z \sim q(z \mid x)$: could it decode to a different image (another digit,
# another face) and make the squared error meaningless? And what does a weight on the reconstruction loss, or the
# decoder's $\sigma$, do to the ELBO? Notebook 04 answers both, with measurements; here we go on with the KL term.

# %% [markdown] tags=["core"]
# ## 6. The KL between two diagonal Gaussians, in closed form
#
# For one dimension, $q = \mathcal N(\mu_q, s_q^2)$ and $p = \mathcal N(\mu_p, s_p^2)$:
#
# $$\mathrm{KL}(q \,\|\, p) = \mathbb E_q\big[\log q(z) - \log p(z)\big]
# = \mathbb E_q\!\left[\log\frac{s_p}{s_q} - \frac{(z - \mu_q)^2}{2 s_q^2} + \frac{(z - \mu_p)^2}{2 s_p^2}\right].$$
#
# Under $q$, $\mathbb E(z - \mu_q)^2 = s_q^2$ and $\mathbb E(z - \mu_p)^2 = s_q^2 + (\mu_q - \mu_p)^2$, so
#
# $$\mathrm{KL}(q \,\|\, p) = \log\frac{s_p}{s_q} + \frac{s_q^2 + (\mu_q - \mu_p)^2}{2 s_p^2} - \frac12 .$$
#
# A diagonal Gaussian is a product of independent dimensions, and the KL of a product is the sum over dimensions.
# With $p = \mathcal N(0, I)$ and $\log s_q^2$ written as `log_var` this is
# $\frac12 \sum_j (\mu_j^2 + s_j^2 - 1 - \log s_j^2)$, the formula in `vl.gaussian_kl`. Check the formula against
# `torch.distributions.kl_divergence`, `vl.gaussian_kl` and a Monte Carlo estimate:

# %%
def kl_diagonal(mu_q, s_q, mu_p, s_p):
    """KL(N(mu_q, diag s_q^2) || N(mu_p, diag s_p^2)), summed over the last axis."""
    return (torch.log(s_p / s_q) + (s_q**2 + (mu_q - mu_p) ** 2) / (2 * s_p**2) - 0.5).sum(-1)


gen = torch.Generator().manual_seed(1)
mu_q, mu_p = torch.randn(4, 16, generator=gen), torch.randn(4, 16, generator=gen)
s_q, s_p = torch.rand(4, 16, generator=gen) + 0.3, torch.rand(4, 16, generator=gen) + 0.3
qz, pz = Independent(Normal(mu_q, s_q), 1), Independent(Normal(mu_p, s_p), 1)

ours = kl_diagonal(mu_q, s_q, mu_p, s_p)
torchs = kl_divergence(qz, pz)
z = qz.sample((200_000,))
log_ratio = qz.log_prob(z) - pz.log_prob(z)
mc, se = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(len(z))
print("closed form:", ours.numpy().round(3))
print("torch:      ", torchs.numpy().round(3))
print("Monte Carlo:", mc.numpy().round(3), "+-", se.numpy().round(3))
assert torch.allclose(ours, torchs, rtol=1e-5)
assert ((mc - ours).abs() < 4 * se).all()

# the standard-normal case, against the package's formula
std_normal = Independent(Normal(torch.zeros(16), torch.ones(16)), 1)
kl_std = kl_diagonal(mu_q, s_q, torch.zeros(16), torch.ones(16))
assert torch.allclose(kl_std, vl.gaussian_kl(mu_q, 2 * s_q.log()), rtol=1e-5)
assert torch.allclose(kl_std, kl_divergence(qz, std_normal), rtol=1e-5)
print("KL to N(0, I):", kl_std.numpy().round(3), "(closed form = vl.gaussian_kl = torch)")

# %% [markdown]
# **Full covariance.** Exercise 2 below needs the KL between Gaussians whose covariances are not diagonal, such as the
# posterior of a linear-Gaussian model with a 2-D latent. For $q = \mathcal N(m_q, \Sigma_q)$ and
# $p = \mathcal N(m_p, \Sigma_p)$ in $d$ dimensions, the same steps (now with $\mathbb E_q[(z - m_p)^\top \Sigma_p^{-1} (z - m_p)]
# = \operatorname{tr}(\Sigma_p^{-1}\Sigma_q) + (m_q - m_p)^\top \Sigma_p^{-1} (m_q - m_p)$) give
#
# $$\mathrm{KL}(q \,\|\, p) = \frac12\Big[\operatorname{tr}(\Sigma_p^{-1}\Sigma_q) + (m_p - m_q)^\top \Sigma_p^{-1} (m_p - m_q)
# - d + \log\frac{\det \Sigma_p}{\det \Sigma_q}\Big],$$
#
# which is the diagonal formula above when both covariances are diagonal. Check it against torch:

# %%
def kl_full(m_q, C_q, m_p, C_p):
    """KL(N(m_q, C_q) || N(m_p, C_p)) for one pair of d-dimensional Gaussians."""
    P = torch.linalg.inv(C_p)
    diff = m_p - m_q
    return 0.5 * (torch.trace(P @ C_q) + diff @ P @ diff - len(m_q) + torch.logdet(C_p) - torch.logdet(C_q))


A, B = torch.randn(3, 3, generator=gen, dtype=torch.float64), torch.randn(3, 3, generator=gen, dtype=torch.float64)
C_q, C_p = A @ A.T + 0.1 * torch.eye(3, dtype=torch.float64), B @ B.T + 0.1 * torch.eye(3, dtype=torch.float64)
m_q, m_p = torch.randn(3, generator=gen, dtype=torch.float64), torch.randn(3, generator=gen, dtype=torch.float64)
ours = kl_full(m_q, C_q, m_p, C_p)
torchs = kl_divergence(MultivariateNormal(m_q, C_q), MultivariateNormal(m_p, C_p))
print(f"full-covariance KL: formula {ours.item():.6f}, torch {torchs.item():.6f}")
assert torch.allclose(ours, torchs, rtol=1e-8)

# %% [markdown] tags=["deep-dive"]
# ## 7. On a trained VAE: how far below $\log p(x)$ is the ELBO?
#
# For a neural decoder $\log p(x)$ is unknown, but we can bound it more tightly than the ELBO. Average $k$ importance
# weights $w_i = p(x \mid z_i)\,p(z_i)/q(z_i \mid x)$ with $z_i \sim q(z \mid x)$ *before* taking the logarithm:
#
# $$\mathcal L_k(x) = \mathbb E\left[\log \frac1k \sum_{i=1}^k w_i\right] \le \log p(x) .$$
#
# Each $w_i$ has mean $\mathbb E_q[w] = p(x)$ (section 2), so the average of $k$ weights is an unbiased estimate of
# $p(x)$, and by Jensen's inequality its logarithm is on average below $\log p(x)$. $k = 1$ is the ELBO; the bound
# rises with $k$ and tends to $\log p(x)$ as $k \to \infty$ (Burda, Grosse & Salakhutdinov, 2016).
# `vl.iw_bound(model, x, k)` computes it per image from the model's `encoder`, `decoder` and `prior`; `lg`'s encoder is
# the exact posterior, so every $w_i = p(x)$ and the bound is exact for any $k$ (`check=False` skips the checks that
# `x` holds images):

# %%
exact_iw = vl.iw_bound(lg, x, k=10, check=False).item()
print(f"k = 10 bound with the exact posterior: {exact_iw:.6f};  log p(x) = {log_px:.6f}")
assert abs(exact_iw - log_px) < 1e-10

# %% [markdown]
# That is the easy case. The convergence $\mathcal L_k \to \log p(x)$ holds for *any* $q$ that covers the posterior.
# Take a poor $q$, the prior $p(z) = \mathcal N(0, 1)$ itself (then $w_i = p(x \mid z_i)$), and estimate
# $\mathcal L_k$ by averaging $\log \frac1k \sum_i w_i$ over many independent sets of $k$ draws:

# %%
torch.manual_seed(SEED)
L_prior = {}
for k in (1, 10, 100, 1000):
    R_lg = {1: 200_000, 10: 20_000, 100: 20_000, 1000: 2000}[k]
    z = torch.randn(R_lg, k, 1, dtype=torch.float64)                 # R_lg sets of k draws from q = p(z)
    log_w = lg.decoder(z).log_prob(x)                                 # log w_i = log p(x|z_i): shape (R_lg, k)
    L_hat = torch.logsumexp(log_w, dim=1) - math.log(k)
    L_prior[k] = (L_hat.mean().item(), L_hat.std().item() / math.sqrt(R_lg))
L_prior_1 = lg.elbo(Independent(Normal(torch.zeros(1, 1, dtype=torch.float64),
                                       torch.ones(1, 1, dtype=torch.float64)), 1), x).item()
print(f"q = p(z): exact ELBO (k = 1) {L_prior_1:.3f};  exact log p(x) = {log_px:.4f}")
for k, (value, se) in L_prior.items():
    print(f"k = {k:5d}: L_k = {value:8.4f} +- {se:.4f}   (log p(x) - L_k = {log_px - value:.4f})")
values = [v for v, _ in L_prior.values()]
ses = [se for _, se in L_prior.values()]
assert abs(L_prior[1][0] - L_prior_1) < 4 * L_prior[1][1]                  # k = 1 is the ELBO of q = p(z)
assert all(b - a > 4 * math.hypot(sa, sb) for a, b, sa, sb in zip(values, values[1:], ses, ses[1:]))  # rises ...
assert L_prior[1000][0] < log_px + 3 * L_prior[1000][1]                    # ... from below
vl.claim("lg-iw-reaches-log-px", "with q = p(z), L_1000 lies within a few thousandths of a nat of log p(x)",
         log_px - L_prior[1000][0], "<", 0.005, null=log_px - L_prior_1, null_is="the ELBO's gap (k = 1)",
         se=L_prior[1000][1], unit="nats");

# %% [markdown]
# **What you should see:** with $q = p(z)$ the ELBO is about 5 nats below $\log p(x)$, and $\mathcal L_k$ climbs to it:
# within a few thousandths of a nat at $k = 1000$ (about a hundredth at $k = 100$). The better $q$ matches the
# posterior, the smaller the $k$ needed.
#
# The VAE: the series' 16-dimensional MLP VAE with a Bernoulli decoder, trained on **binarised** digits (each pixel
# set to 1 with probability equal to its grey level, afresh every epoch; recipe `"elbo_binary"`, the same model as
# notebook 03's `"training_binary"`). On binary images $p(x \mid z)$ is a true probability, so $\log p(x)$ is the
# log-probability of the image and the bounds below are bounds on it. We evaluate on test images binarised once.
# (Training takes seconds to minutes, once; then it loads from the cache.)

# %%
print(vl.RECIPES["elbo_binary"])
start = time.perf_counter()
model, history = vl.trained("elbo_binary", seed=SEED)
print(f"trained or loaded in {time.perf_counter() - start:.1f} s")
test = vl.load(split="test")
n_test = min(len(test), vl.by_mode(500, 300))   # fewer test images in quick mode
x_grey = test.images[:n_test]                                               # grey levels in [0, 1]
x_test = vl.data.binarize(x_grey, torch.Generator().manual_seed(SEED + 1))  # binary test images
print(f"{n_test} test images")

# %%
def weight_summary(m, x, k=1000, chunk=100):
    """The k-sample bound, the largest weight's share and the effective sample size, per image."""
    with torch.no_grad():
        log_w = torch.cat([vl.objectives.log_weights(m, x, chunk) for _ in range(k // chunk)])  # (k, n)
    total = torch.logsumexp(log_w, 0)
    bound = total - math.log(k)
    top_share = (log_w.max(0).values - total).exp()
    ess = (2 * total - torch.logsumexp(2 * log_w, 0)).exp()
    return bound, top_share, ess


ks = [1, 10, 100, 1000]
torch.manual_seed(SEED)
bounds = {k: vl.iw_bound(model, x_test, k, chunk=100) for k in ks[:-1]}  # per image, the same images for every k
bounds[1000], top_q, ess_q = weight_summary(model, x_test)                 # the same bound, keeping the weights
for k in ks:
    se = bounds[k].std().item() / math.sqrt(n_test)
    print(f"k = {k:5d}: {bounds[k].mean().item():8.2f} nats per image  (standard error {se:.2f})")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(ks, [bounds[k].mean().item() for k in ks], "o-")
ax.set_xscale("log"); ax.set_xlabel("k (importance samples)"); ax.set_ylabel("bound on log p(x), nats per image")
ax.set_title("k = 1 is the ELBO");

# %% [markdown]
# **What you should see:** the bound rising with $k$, by more than a nat from $k = 1$ (the ELBO) to $k = 1000$, and by
# less and less per tenfold step.
#
# The standard errors printed above measure how much the images differ from each other, not how noisy each estimate is.
# To measure the Monte Carlo noise, repeat each estimate with fresh draws and see how much two runs on the same images
# disagree; the mean of the two runs halves its variance. A step, or a difference between steps, counts when it
# exceeds twice its noise.

# %%
torch.manual_seed(SEED + 1)
noise, both = {}, {}
for k in ks:
    repeat = vl.iw_bound(model, x_test, k, chunk=100)
    both[k] = ((bounds[k] + repeat) / 2).mean().item()                   # the mean bound over both runs
    noise[k] = (bounds[k] - repeat).std().item() / (2 * math.sqrt(n_test))  # ... and its standard error
    print(f"k = {k:4d}: mean of two runs {both[k]:8.2f} nats, Monte Carlo standard error {noise[k]:.3f}")
steps = [both[b] - both[a] for a, b in zip(ks, ks[1:])]
for a, b, step in zip(ks, ks[1:], steps):
    print(f"k = {a} -> {b}: +{step:.2f} nats = {step / math.hypot(noise[a], noise[b]):.1f} x the noise of the step")
last_se = math.hypot(noise[100], noise[1000])
vl.claim("iw-still-rises", "the bound still rises from k = 100 to k = 1000", steps[2], ">", 2 * last_se, null=0.0,
         null_is="a bound that has stopped rising", se=last_se, unit="nats");
for i in (1, 2):  # step i is smaller than step i - 1: 2 L_k - L_{k/10} - L_{10k} > 0 for k = ks[i]
    se = math.sqrt(4 * noise[ks[i]] ** 2 + noise[ks[i - 1]] ** 2 + noise[ks[i + 1]] ** 2)
    vl.claim(f"iw-steps-shrink-{ks[i + 1]}", f"the step to k = {ks[i + 1]} is smaller than the step to k = {ks[i]}",
             steps[i - 1] - steps[i], ">", 2 * se, null=0.0, null_is="equal steps: linear in log k", se=se, unit="nats");
elbo_gap, gap_se = both[1000] - both[1], math.hypot(noise[1000], noise[1])
print(f"the ELBO lies at least {elbo_gap:.1f} nats per image below log p(x)")
vl.claim("elbo-below-log-px", "on the trained VAE the ELBO lies more than 1 nat below log p(x) (at least the k = 1000 "
         "bound's gap)", elbo_gap, ">", 1.0, null=0.0, null_is="an ELBO as tight as the k = 1000 bound", se=gap_se,
         unit="nats");

# %% [markdown]
# The $k = 1000$ bound is still below $\log p(x)$, so the ELBO's true gap, $\mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$,
# is at least the number printed. **The ELBO is a bound, not the likelihood**: comparing two models by their ELBOs
# compares their likelihoods *and* how well each encoder fits its posterior.
#
# Section 1 claimed that Monte Carlo over the *prior* is useless. That estimator is the same bound with $q(z \mid x)$
# replaced by $p(z)$. Measure it with $k = 1000$ draws per image, and count how many draws matter: the largest
# weight's share of the sum, $\max_i w_i / \sum_i w_i$, and the **effective sample size**
# $(\sum_i w_i)^2 / \sum_i w_i^2$ (1000 if all weights were equal, 1 if one weight were everything):

# %%
prior_as_q = lambda x: Independent(Normal(torch.zeros(len(x), 16, device=x.device),
                                          torch.ones(len(x), 16, device=x.device)), 1)
naive_model = vl.models.VAE(prior_as_q, model.decoder, model.prior)
torch.manual_seed(SEED)
naive, top_prior, ess_prior = weight_summary(naive_model, x_test)
print(f"prior sampling, k = 1000: {naive.mean().item():.1f} nats;  encoder, k = 1: {bounds[1].mean().item():.1f};  "
      f"encoder, k = 1000: {bounds[1000].mean().item():.1f}")
print(f"draws from p(z):      largest weight's share median {top_prior.median():.0%}; "
      f"effective sample size median {ess_prior.median():.1f} of 1000")
print(f"draws from q(z|x):    largest weight's share median {top_q.median():.1%}; "
      f"effective sample size median {ess_q.median():.0f} of 1000")
vl.claim("prior-draws-worse", "a thousand draws from the prior estimate log p(x) worse than one draw from q(z|x)",
         bounds[1].mean().item() - naive.mean().item(), ">", 10, null=0.0,
         null_is="prior draws as good as the encoder's", unit="nats");
vl.claim("one-draw-dominates", "with prior draws, one draw of the thousand carries nearly the whole sum (over 90%)",
         top_prior.median().item(), ">", 0.9, null=0.001, null_is="all 1000 weights equal");
vl.claim("no-draw-dominates", "with draws from q(z|x), no single draw carries most of the sum",
         top_q.median().item(), "<", 0.5, null=top_prior.median().item(), null_is="as with prior draws");
vl.claim("ess-q-larger", "draws from q(z|x) give a median effective sample size over 3 times the prior draws'",
         ess_q.median().item(), ">", 3 * ess_prior.median().item(), null=ess_prior.median().item(),
         null_is="the prior draws' median", unit="draws");
vl.claim("ess-q-far-below-k", "... though still far below 1000 (under 100)", ess_q.median().item(), "<", 100,
         null=1000, null_is="q(z|x) = p(z|x): all weights equal", unit="draws");

# %% [markdown]
# **What you should see:** a thousand draws from the prior give a far worse estimate than a *single* draw from the
# encoder: for a typical image one weight of the thousand is nearly the whole sum. With draws from $q(z \mid x)$ no
# single weight is most of the sum and the effective sample size is over 3 times larger, though still far below 1000:
# $q(z \mid x)$ is not the posterior either (which is why $\mathcal L_k$ keeps rising with $k$).

# %% [markdown] tags=["deep-dive"]
# ## Exercises
#
# Each exercise has a cell for your answer (between the two solution markers; a student's
# copy has `# YOUR CODE HERE` there) and a check cell below it, which prints a hint until the answer is right.

# %% [markdown]
# **Exercise 1 (predict, then run: too wide or too narrow?).** In the linear-Gaussian model of section 4, take two
# Gaussians $q$ with the posterior's mean: one with twice the posterior's standard deviation, one with half of it.
# Which has the higher ELBO? Write your prediction in `my_prediction` (`"wider"`, `"narrower"` or `"the same"`) first,
# then compute both ELBOs with `lg.elbo(gaussian_q(mean, std), x)` and set `elbo_wide` and `elbo_narrow` (floats).

# %%
my_prediction = None  # "wider", "narrower" or "the same"
### BEGIN SOLUTION
my_prediction = "narrower"
elbo_wide = lg.elbo(gaussian_q(post_mean, 2 * post_std), x).item()
elbo_narrow = lg.elbo(gaussian_q(post_mean, 0.5 * post_std), x).item()
### END SOLUTION


# %%
def test_too_wide_or_narrow():
    """The prediction, then both ELBOs against log p(x) - KL(q || p(z|x)), computed with torch's KL."""
    if my_prediction not in ("wider", "narrower", "the same"):
        raise ValueError(f'my_prediction is {my_prediction!r}, not "wider", "narrower" or "the same"')
    expected = {r: log_px - kl_divergence(as_mvn(gaussian_q(post_mean, r * post_std)), pz_x).item() for r in (2, 0.5)}
    winner = "wider" if expected[2] > expected[0.5] else "narrower" if expected[2] < expected[0.5] else "the same"
    print(f"your ELBOs: wider {float(elbo_wide):.4f}, narrower {float(elbo_narrow):.4f}; expected {expected[2]:.4f}, "
          f"{expected[0.5]:.4f}. You predicted {my_prediction!r}; the higher ELBO is the {winner} q")
    right = abs(float(elbo_wide) - expected[2]) < 1e-6 and abs(float(elbo_narrow) - expected[0.5]) < 1e-6
    return right and my_prediction == winner


vl.exercises.check(test_too_wide_or_narrow,
                   hint='my_prediction is "wider", "narrower" or "the same"; elbo_wide = lg.elbo(gaussian_q(post_mean, '
                        '2 * post_std), x).item(), elbo_narrow likewise with 0.5 * post_std. If only the prediction '
                        'fails, find why the other q wins, then correct it',
                   success="the narrower q loses 0.32 nats, the wider 0.81: the gap KL(q || p(z|x)) = log(1/r) + r^2/2 "
                           "- 1/2 for a std ratio r charges a q that puts mass where the posterior has little more "
                           "than one that misses some of it. Exercise 2 finds a fitted q narrower than the posterior");

# %% [markdown]
# **Exercise 2 (the best diagonal $q$ still leaves a gap).** A VAE's encoder is a *diagonal* Gaussian. In a
# linear-Gaussian model with a 2-dimensional latent, the posterior has correlated dimensions, so no diagonal $q$ can equal
# it. Find the diagonal Gaussian with the highest ELBO: set `q_mean` and `q_std` (each of shape `(1, 2)`). Hint: since
# $\mathrm{ELBO} = \log p(x) - \mathrm{KL}(q \,\|\, p(z \mid x))$, maximise minus the full-covariance KL of section 6
# with $\Sigma_q = \operatorname{diag}(s_1^2, s_2^2)$ and $\Sigma_p = S$. It has the posterior's mean; for the
# variances, set the derivative with respect to each $s_j^2$ to zero (the answer involves the posterior's *precision*
# matrix $\Lambda = S^{-1}$).

# %%
lg2 = LinearGaussian(torch.tensor([[1.0, 0.8], [0.3, 1.0], [0.5, -0.2]], dtype=torch.float64),
                     torch.zeros(3, dtype=torch.float64), sigma=0.5)
x2 = torch.tensor([[1.0, 0.5, -0.5]], dtype=torch.float64)
pz_x2 = lg2.posterior(x2)          # exact p(z|x): pz_x2.mean, pz_x2.covariance_matrix

# %%
### BEGIN SOLUTION
precision = torch.linalg.inv(pz_x2.covariance_matrix[0])
q_mean = pz_x2.mean
q_std = (1 / precision.diagonal()).sqrt().unsqueeze(0)   # s_j^2 = 1 / Lambda_jj, not the posterior's S_jj
### END SOLUTION


# %%
def test_best_diagonal():
    """No small change of the mean or the scales may raise the ELBO, and the gap must stay > 0."""
    def elbo2(mean, std):
        return lg2.elbo(Independent(Normal(mean, std), 1), x2).item()

    best = elbo2(q_mean, q_std)
    gap = lg2.log_marginal(x2).item() - best
    nudges = [torch.tensor([[dx, dy]], dtype=torch.float64) for dx, dy in [(1, 0), (-1, 0), (0, 1), (0, -1)]]
    better = [elbo2(q_mean + 0.01 * n, q_std) > best + 1e-9 or elbo2(q_mean, q_std * (1 + 0.01 * n)) > best + 1e-9
              for n in nudges]
    print(f"ELBO of your q {best:.5f}; gap to log p(x) {gap:.5f} nats")
    print("your q's std:", q_std.numpy().round(3), " posterior marginal std:", pz_x2.stddev.numpy().round(3))
    return not any(better) and gap > 1e-3 and bool((q_std < pz_x2.stddev).all())


vl.exercises.check(test_best_diagonal,
                   hint="use the posterior's mean; d/d(s_j^2) of -KL is (1/s_j^2 - Lambda_jj) / 2, so try "
                        "s_j^2 = 1 / diag of the inverse posterior covariance",
                   success="the best diagonal q has the posterior's mean and variances 1/Lambda_jj, narrower than the "
                           "posterior's marginals, and still leaves a gap");

# %% [markdown]
# **Exercise 3 (the importance-weighted bound by hand).** Given the log-weights $\log w_i$ of $k$ draws
# (`vl.objectives.log_weights(model, x, k)`, shape `(k, batch)`), compute $\log \frac1k \sum_i w_i$ per image, stably
# (the log-weights are around $-100$ nats or lower: `exp` alone would underflow to 0). Use `torch.logsumexp`.

# %%
k = 50
torch.manual_seed(1)
log_w = vl.objectives.log_weights(model, x_test[:20], k).detach()   # (k, 20)

# %%
### BEGIN SOLUTION
my_bound = torch.logsumexp(log_w, dim=0) - math.log(k)
### END SOLUTION


# %%
def test_iw_bound():
    """The same draws must give the same numbers as vl.iw_bound."""
    torch.manual_seed(1)
    reference = vl.iw_bound(model, x_test[:20], k)
    print("yours:    ", my_bound[:5].cpu().numpy().round(2))
    print("reference:", reference[:5].cpu().numpy().round(2))
    return my_bound.shape == reference.shape and torch.allclose(my_bound, reference, atol=1e-3)


vl.exercises.check(test_iw_bound,
                   hint="logsumexp over dim 0 (the k draws), then subtract log k (not divide by k)",
                   success="log (1/k) sum w_i = logsumexp(log w) - log k");


# %% [markdown] tags=["core"]
# ## Summary
#
# - $\log p(x)$ needs an integral over all codes; the ELBO replaces it by an expectation under $q(z \mid x)$.
# - $\mathrm{ELBO} = \log p(x) - \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$: a bound for every $q$, tight only at the
#   true posterior (checked to $10^{-10}$ in the linear-Gaussian model).
# - $\mathrm{ELBO} = \mathbb E_q[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))$: BCE is the Bernoulli
#   reconstruction term, summed MSE the Gaussian one up to $1/(2\sigma^2)$ and a constant.
# - The importance-weighted bound $\mathcal L_k$ rises to $\log p(x)$ as $k$ grows, even with a poor $q$ (the prior,
#   in the linear-Gaussian model); on a trained VAE the ELBO sits more than 1 nat below $\log p(x)$ (at least the
#   $k = 1000$ bound's gap), and sampling from the prior instead of $q(z \mid x)$ leaves one draw carrying nearly the
#   whole estimate.
#
# Next, notebook 02: how to take gradients of $\mathbb E_{q(z \mid x)}[\cdot]$ with respect to the encoder.

# %% [markdown] tags=["core"]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-Encoding Variational Bayes. *International Conference on Learning
#   Representations (ICLR)*. The ELBO of a VAE, its reconstruction-minus-KL form, and the Gaussian KL in closed form.
# - Y. Burda, R. Grosse and R. Salakhutdinov (2016). Importance Weighted Autoencoders. *International Conference on
#   Learning Representations (ICLR)*. The bound $\mathcal L_k$ and its convergence to $\log p(x)$.
# - C. M. Bishop (2006). *Pattern Recognition and Machine Learning*, Springer, sections 2.3 and 10.1. The
#   linear-Gaussian posterior and marginal, and variational inference.
# - A. Kong (1992). A note on importance sampling using standardized weights. Technical report 348, Department of
#   Statistics, University of Chicago. The effective sample size $(\sum_i w_i)^2 / \sum_i w_i^2$.
