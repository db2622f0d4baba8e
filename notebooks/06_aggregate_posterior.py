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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/06_aggregate_posterior.ipynb)

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
# # 06 · q(z) is not p(z): the aggregate posterior, measured and fixed
#
# A student trained a VAE and asks how to generate new images with it. Draw $z \sim \mathcal N(0, I)$, the
# prior? Or use what the encoder learned, $z = \mu + \sigma\varepsilon$ with the $\mu, \sigma$ of training
# images? The standard answer is "the prior" (notebook 05), and it is right to the degree that the codes
# the decoder was trained on fill the prior. When the loss is `alpha * rec + beta * kl` with a large
# `alpha` (a heavily weighted reconstruction term), they do not. This notebook measures how far apart
# they are, what that does to the samples, and which fix to use.
#
# **What you will learn**
#
# - define the aggregate posterior $q(z) = \frac1N\sum_n q(z\mid x_n)$ and compute $\log q(z)$ for any $z$;
# - split the KL term of the ELBO into the mutual information $I(x; z)$ and the mismatch
#   $\mathrm{KL}(q(z)\,\|\,p(z))$, estimate both, and know why $I(x; z) \le \log N$;
# - read the per-dimension moments of $q(z)$ and its active units, and see why the marginals explain
#   only a small part of $\mathrm{KL}(q(z)\,\|\,p(z))$;
# - find *holes*: prior draws that land far from every code the decoder was trained on, and see why in
#   16 dimensions a density can hide them;
# - measure sample quality with a classifier (Fréchet distance, confidence, class coverage) instead of by eye;
# - choose between sampling from $\mathcal N(0, I)$, from $q(z)$, from a Gaussian mixture fitted after
#   training, and from a VampPrior learned with the model.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.distributions import Independent, Normal

import vae_lesson as vl
from vae_lesson import metrics

SEED = 0  # change it to check that no claim below hangs on one seed (models are trained per seed)
device = vl.setup(seed=SEED)
train, test = vl.load(split="train"), vl.load(split="test")
n_gen = 1000  # images per sampler: Fréchet distances are compared between equal-sized sets

# %% [markdown]
# ## A digit classifier as a measuring instrument
#
# Sample quality is measured, not eyeballed, by a small CNN classifier trained on the training split
# (a few seconds; cached). Three scores of a set of generated images:
#
# - the **Fréchet distance** between Gaussians fitted to the classifier's 64 penultimate-layer features of
#   the generated images ($\mu_g, \Sigma_g$) and of held-out test images ($\mu_r, \Sigma_r$):
#   $d_F = \|\mu_g - \mu_r\|^2 + \operatorname{tr}\big(\Sigma_g + \Sigma_r - 2(\Sigma_g^{1/2}\Sigma_r\Sigma_g^{1/2})^{1/2}\big)$.
#   Lower is better; it grows both for images that look like no digit and for a lack of variety;
# - the **confidence**: the mean of the classifier's largest class probability;
# - the **class coverage**: how many classes the classifier sees, and the entropy of that histogram
#   ($\log 10 = 2.30$ nats when all ten appear equally often).
#
# For scale, `d_real` is the distance between 1,000 real training images and the test images: a sampler
# whose distance is near it makes images about as close to the test set as real ones are.

# %%
classifier = metrics.digit_classifier()
accuracy = metrics.accuracy(classifier, test)
d_real = metrics.frechet_distance(train.images[:n_gen], test.images, classifier)
print(f"classifier test accuracy: {accuracy:.3f}   Fréchet distance real train vs test images: {d_real:.1f}")
assert accuracy > 0.85, "the classifier is too weak to be a measuring instrument"

# %% [markdown]
# ## Heavy reconstruction weight means beta below 1
#
# The loss `alpha * rec + beta * kl` has the same minimiser as `rec + (beta / alpha) * kl`: only the ratio
# counts, so `alpha = 10, beta = 1` is a β-VAE with $\beta = 0.1$. Its objective per image is
# $\mathbb E_{q(z\mid x)}[\log p(x\mid z)] - \beta\,\mathrm{KL}(q(z\mid x)\,\|\,p(z))$. We load (or train) that
# model, and a standard $\beta = 1$ VAE beside it.

# %%
model, history = vl.trained("agg_beta0.1", seed=SEED)      # the question's case: beta = 0.1
model_b1, history_b1 = vl.trained("agg_beta1", seed=SEED)  # a standard VAE
for name, h in [("beta 0.1", history), ("beta 1", history_b1)]:
    print(f"{name}: test ELBO {h['test_elbo'][-1]:.1f} nats, test KL term {h['test_kl'][-1]:.1f} nats")

# %% [markdown]
# ## The aggregate posterior
#
# Every training step draws an image $x_n$ and then a code $z \sim q(z\mid x_n)$; so the decoder only
# ever sees codes from the **aggregate posterior**
#
# $$q(z) = \frac1N \sum_{n=1}^N q(z\mid x_n),$$
#
# a mixture of the $N$ training posteriors. Sampling $z \sim p(z)$ and decoding works where $p(z)$ puts
# its mass on regions that $q(z)$ covers. To compare the two we need
# $\log q(z) = \operatorname{logsumexp}_n \log q(z\mid x_n) - \log N$, which `metrics.aggregate_log_prob`
# evaluates a chunk of $z$ at a time (an $M \times N$ table of $\log q(z_m\mid x_n)$ does not fit in memory
# for MNIST). We use the first $N$ training images, at most 10,000.

# %%
N = min(len(train), 10_000)
x = train.images[:N]
qz_x = metrics.encode(model, x)          # the N posteriors q(z|x_n): batch shape (N,), event (D,)
qz = metrics.aggregate_posterior(qz_x)   # q(z) as a torch mixture
pz = model.prior()                       # p(z) = N(0, I)
z = pz.sample((5,))
log_qz = metrics.aggregate_log_prob(qz_x, z)
print("q(z|x):", qz_x.batch_shape, qz_x.event_shape, "  log q(z) at 5 prior draws:", log_qz.cpu().numpy().round(1))
assert torch.allclose(log_qz, qz.log_prob(z), rtol=1e-4, atol=1e-3)  # the chunks agree with torch's mixture


# %% [markdown]
# ### Exercise 1: log q(z) by hand
#
# Write `log_q(z)` for `z` of shape `(M, D)` using `qz_x.log_prob` (which broadcasts: give `z` a middle axis
# so that it pairs every $z_m$ with every $x_n$) and `torch.logsumexp`. Do not call `metrics`.

# %%
def log_q(z):
    # --- solution (lecturers: delete before handing out) ---
    log_q_z_x = qz_x.log_prob(z.unsqueeze(1))              # (M, N): log q(z_m | x_n)
    return torch.logsumexp(log_q_z_x, dim=1) - math.log(N)


# %%
z_check = torch.cat([pz.sample((20,)), qz.sample((20,))])
mine, reference = log_q(z_check), metrics.aggregate_log_prob(qz_x, z_check)
ok = mine.shape == reference.shape and torch.allclose(mine, reference, rtol=1e-4, atol=1e-3)
print("correct" if ok else "not yet: hint: qz_x.log_prob(z.unsqueeze(1)) has shape (M, N); "
      "logsumexp over the N posteriors, then subtract log N (the mixture weights are 1/N)")
assert ok


# %% [markdown]
# ## Mutual information and the KL decomposition
#
# Average the KL term of the ELBO over the training images, add and subtract $\log q(z)$ inside it:
#
# $$\underbrace{\frac1N\sum_n \mathrm{KL}(q(z\mid x_n)\,\|\,p(z))}_{\text{average KL term}}
# = \underbrace{\frac1N\sum_n \mathbb E_{q(z\mid x_n)}\Big[\log \frac{q(z\mid x_n)}{q(z)}\Big]}_{I(x;\,z)}
# + \underbrace{\mathbb E_{q(z)}\Big[\log \frac{q(z)}{p(z)}\Big]}_{\mathrm{KL}(q(z)\,\|\,p(z))}.$$
#
# The KL term of the ELBO thus pays for two things: the information the codes carry about *which*
# image they came from, $I(x; z)$, and the mismatch between the codes and the prior. Since
# $q(z) \ge q(z\mid x_n)/N$, each term of $I$ is at most $\log N$: **$I(x; z) \le \log N$**.
#
# We estimate $I$ with pairs $(x_n, z \sim q(z\mid x_n))$, averaging $\log q(z\mid x_n) - \log q(z)$; every
# pair is at most $\log N$, so the estimate, like the truth, never exceeds it. $\mathrm{KL}(q(z)\,\|\,p(z))$ is a Monte Carlo average over $z \sim q(z)$, drawn independently,
# and the average KL term is exact (closed form, averaged over all $N$). So the decomposition is a real check:
# the two estimates must add up to the exact value within their Monte Carlo error.

# %%
def decomposition(model, qz_x):
    avg_kl = metrics.average_kl(qz_x, model.prior)
    mi, mi_se = metrics.mutual_information(qz_x)
    kl_qp, kl_se = metrics.kl_aggregate_prior(qz_x, model.prior, n_samples=vl.by_mode(4000, 2000))
    return avg_kl, mi, mi_se, kl_qp, kl_se

qz_x_b1 = metrics.encode(model_b1, x)
results = {"beta 0.1": decomposition(model, qz_x), "beta 1": decomposition(model_b1, qz_x_b1)}
print(f"log N = {math.log(N):.4f}")
for name, (avg_kl, mi, mi_se, kl_qp, kl_se) in results.items():
    error = 4 * math.hypot(mi_se, kl_se) + 1e-3
    print(f"{name}: average KL {avg_kl:6.2f} = I {mi:.4f} (±{mi_se:.4f}) + KL(q(z)||p(z)) {kl_qp:6.2f} (±{kl_se:.2f})"
          f"  -> sum {mi + kl_qp:6.2f}")
    assert abs(avg_kl - (mi + kl_qp)) < error, "the decomposition fails beyond Monte Carlo error"
    assert mi <= math.log(N) + 1e-3, "I(x; z) cannot exceed log N"
avg_kl, mi, _, kl_qp, kl_se = results["beta 0.1"]
assert mi > math.log(N) - 0.5    # at beta 0.1 the codes tell the N training images apart: I is at its ceiling
assert kl_qp > 2 * mi            # ... so most of the KL term is mismatch between q(z) and p(z)

# %% [markdown]
# **What the numbers say:** at $\beta = 0.1$ the mutual information sits at its ceiling $\log N$ (each
# training image gets codes of its own), and the bulk of the KL term is the mismatch
# $\mathrm{KL}(q(z)\,\|\,p(z))$. A smaller $\beta$ lets the model buy reconstruction with exactly that
# mismatch, since $I$ cannot grow any further.

# %% [markdown]
# ## Per-dimension moments and active units
#
# The mean of $q(z)$ is the average of the posterior means; by the law of total variance its variance in
# dimension $j$ is
#
# $$\operatorname{Var}_{q(z)}[z_j] = \operatorname{Var}_n\big(\mu_j(x_n)\big) + \frac1N\sum_n \sigma_j^2(x_n).$$
#
# A dimension is an **active unit** when its posterior mean moves with the image:
# $\operatorname{Var}_n(\mu_j(x_n)) > 0.01$. An inactive dimension tells the decoder next to nothing about
# which image it is decoding.

# %%
m, v = metrics.aggregate_moments(qz_x)
active = metrics.active_units(qz_x)
z_q = metrics.sample_aggregate(qz_x, 50_000)
print(f"active units: {int(active.sum())} of {len(active)}")
print("mean of q(z):    ", m.cpu().numpy().round(2))
print("variance of q(z):", v.cpu().numpy().round(2))
assert torch.allclose(z_q.var(0), v, rtol=0.1), "the law of total variance disagrees with samples of q(z)"

# %% [markdown]
# How far is each marginal $q(z_j)$ from $\mathcal N(0, 1)$? Compare its Gaussian with the same mean
# and variance: $\mathrm{KL}_j = \mathrm{KL}(\mathcal N(m_j, v_j)\,\|\,\mathcal N(0, 1)) = \frac12(v_j + m_j^2 - 1 - \log v_j)$.
# For a Gaussian $p(z)$, $\sum_j \mathrm{KL}_j \le \mathrm{KL}(q(z)\,\|\,p(z))$ always (the moment-matched Gaussian
# is the closest to $p$ that has those moments, and dropping correlations only loses KL).

# %%
kl_j = 0.5 * (v + m**2 - 1 - v.log())
j = int(kl_j.argmax())
fig, axes = plt.subplots(1, 3, figsize=(13, 3))
axes[0].bar(range(len(m)), m.cpu().numpy()); axes[0].axhline(0, color="k", lw=1); axes[0].set_title("mean of $q(z_j)$ (prior: 0)")
axes[1].bar(range(len(v)), v.cpu().numpy()); axes[1].axhline(1, color="k", lw=1); axes[1].set_title("variance of $q(z_j)$ (prior: 1)")
axes[2].bar(range(len(kl_j)), kl_j.cpu().numpy()); axes[2].set_title("$\\mathrm{KL}_j$ (nats)")
for ax in axes:
    ax.set_xlabel("latent dimension $j$")
    ax.set_xticks(range(0, len(m), 3))
plt.tight_layout()
plt.show()
share = kl_j.sum().item() / kl_qp
print(f"sum of per-dimension KLs {kl_j.sum():.2f} nats  vs  KL(q(z)||p(z)) {kl_qp:.2f} nats  ({share:.0%});"
      f"  farthest dimension: j = {j} (mean {m[j]:.2f}, variance {v[j]:.2f})")
assert kl_j.sum() <= kl_qp + 4 * kl_se
assert share < 0.5, "most of the mismatch should be invisible in the marginals"

# %% [markdown]
# **What you should see:** per-dimension KLs that add up to a small part (under half) of
# $\mathrm{KL}(q(z)\,\|\,p(z))$. How far the means and variances are from 0 and 1 depends on the data and on
# $\beta$: nothing in an objective with $\beta < 1$ holds the marginals at $\mathcal N(0, 1)$ (on the digits
# data the variances come out near 1, on MNIST they can be several times 1). Whatever the marginals do,
# most of the mismatch sits in the *joint*: $q(z)$ is a clumpy mixture of $N$ narrow bumps with empty space
# between them, and its one-dimensional shadows cannot show that.
#
# The moments also give the typical size of a code, which we need below:
# $\mathbb E_{q(z)}\|z\|^2 = \sum_j (v_j + m_j^2)$, against $\mathbb E_{p(z)}\|z\|^2 = D$ for the prior.

# %% [markdown]
# ## Decoding along the dimension farthest from the prior
#
# A direct experiment: take the latent dimension $j$ whose marginal is farthest from the standard normal,
# and decode values of that one coordinate drawn from the two distributions. We keep the other
# coordinates at the codes (posterior means) of three training images and set coordinate $j$ to
# quantiles of $q(z_j)$ (top) or of $\mathcal N(0, 1)$ (bottom).

# %%
levels = torch.linspace(0.05, 0.95, 9)
q_levels = z_q[:, j].cpu().quantile(levels)
p_levels = Normal(0.0, 1.0).icdf(levels)
base = qz_x.mean[:3]                               # codes of three training images
def sweep(values):
    z = base.repeat_interleave(len(values), 0).clone()
    z[:, j] = values.repeat(len(base))
    return model.sample(len(z), z=z)

fig = plt.figure(figsize=(12, 4.5))
ax_hist = fig.add_subplot(1, 3, 1)
ax_hist.hist(z_q[:, j].cpu().numpy(), bins=80, density=True, alpha=0.6, label=f"$q(z_{{{j}}})$")
grid = torch.linspace(-4, 4, 200)
ax_hist.plot(grid, Normal(0.0, 1.0).log_prob(grid).exp(), "k", label="N(0, 1)")
ax_hist.set_xlabel(f"$z_{{{j}}}$"); ax_hist.set_ylabel("density"); ax_hist.legend()
vl.plots.show_images(sweep(q_levels), nrow=9, title=f"$z_{{{j}}}$ at quantiles of $q(z_{{{j}}})$", ax=fig.add_subplot(2, 3, (2, 3)))
vl.plots.show_images(sweep(p_levels), nrow=9, title=f"$z_{{{j}}}$ at quantiles of N(0, 1)", ax=fig.add_subplot(2, 3, (5, 6)))
plt.show()

# %% [markdown]
# **What you should see:** the histogram of $q(z_j)$ off-centre or wider than the standard normal (its
# mean and variance are printed above). Along each row of images only coordinate $j$ changes, so the
# change is gradual, and the two sweeps look much alike to the eye: they cover different ranges of the
# same change. The eye cannot tell which is better here.
#
# Now measure it: take $n$ training codes, redraw coordinate $j$ from $q(z_j)$ or from $\mathcal N(0, 1)$
# (all other coordinates untouched), decode, and compare with the test images.

# %%
codes = qz_x.mean[torch.randperm(N)[:n_gen]]
z_from_q, z_from_p = codes.clone(), codes.clone()
z_from_q[:, j] = metrics.sample_aggregate(qz_x, n_gen)[:, j]
z_from_p[:, j] = torch.randn(n_gen)
d_q = metrics.frechet_distance(model.sample(n_gen, z=z_from_q), test.images, classifier)
d_p = metrics.frechet_distance(model.sample(n_gen, z=z_from_p), test.images, classifier)
d_all = metrics.frechet_distance(model.sample(n_gen), test.images, classifier)   # every coordinate from N(0, 1)
print(f"Fréchet distance, z_{j} from q(z_j): {d_q:.1f}   z_{j} from N(0, 1): {d_p:.1f}   "
      f"all of z from N(0, I): {d_all:.1f}   (real images {d_real:.1f})")
assert d_p < 0.5 * d_all, "one coordinate from the prior should cost far less than all of them"

# %% [markdown]
# **What the numbers say:** depending on the data set and the seed, changing this one coordinate from its
# aggregate marginal to the prior costs a lot (a mean offset in that dimension) or next to nothing (a
# marginal that is merely wider than the prior). Either way the cost stays far below that of decoding prior
# draws, where all coordinates come from $\mathcal N(0, I)$ at once: the marginals are not where prior
# samples go wrong.

# %% [markdown]
# ## Holes: prior draws far from every training code
#
# The decoder was trained only on codes of training images. A prior draw is safe to decode where such codes
# are around it, and a *hole* is a region the prior proposes but no code visits. The tempting test is the
# density: is $\log q(z)$ at prior draws as high as at codes of held-out images? In 16 dimensions a density
# can mislead, and the prior itself shows why. $p(z) = \mathcal N(0, I)$ is densest at $z = 0$, yet its draws
# never come near 0: $\|z\|^2$ is a sum of $D = 16$ squares, so $\|z\|$ stays close to $\sqrt D = 4$. The draws
# live in a thin shell (the *typical set*), not where the density peaks.

# %%
D = pz.event_shape[0]
z_p = pz.sample((4000,))
r_p = z_p.norm(dim=1)
zero = torch.zeros(D, device=z_p.device)
print(f"log p(z) at z = 0: {pz.log_prob(zero):.1f}   highest log p(z) among 4000 draws: {pz.log_prob(z_p).max():.1f}")
print(f"||z|| of prior draws: median {r_p.median():.2f}, 5 % to 95 %: {r_p.quantile(0.05):.2f} to {r_p.quantile(0.95):.2f}; "
      f"share with ||z|| < 2: {(r_p < 2).float().mean():.2%}")
assert pz.log_prob(zero) > pz.log_prob(z_p).max()   # the peak of the density ...
assert (r_p < 2).float().mean() < 0.01                          # ... is where (almost) no draw lands


# %% [markdown]
# The codes have a shell of their own, of radius about $\sqrt{\sum_j (v_j + m_j^2)}$, set by training, not
# by the prior. When it is wider than the prior's, the prior's draws fall *inside* it: in a region that
# the smooth mixture $q(z)$ may give a high density although no code lies there, just as $p(z)$ is densest
# at 0 where none of its draws lie. So measure distance instead: for each $z$, the distance to the nearest
# training code $\mu(x_n)$ (posterior mean). The yardstick is the codes $\mu(x)$ of held-out test images:
# images the model never trained on, whose codes still decode to good digits (see below). If prior draws
# were like such codes, half of them would be farther from a training code than the test codes' median.

# %%
def holes(model, qz_x, n=4000):
    z_p = model.prior.sample(n)
    z_test = metrics.encode(model, test.images).mean                  # codes of held-out images
    d_p = metrics.distance_to_nearest(z_p, qz_x.mean)                 # to the nearest training code
    d_test = metrics.distance_to_nearest(z_test, qz_x.mean)
    return z_p, z_test, d_p, d_test

fig, axes = plt.subplots(1, 2, figsize=(12, 3))
for ax, (name, mdl, q) in zip(axes, [("beta 0.1", model, qz_x), ("beta 1", model_b1, qz_x_b1)]):
    z_p, z_test, d_p, d_test = holes(mdl, q)
    m_q, v_q = metrics.aggregate_moments(q)
    far = (d_p > d_test.median()).float().mean().item()
    ax.hist(d_test.cpu().numpy(), bins=40, density=True, alpha=0.6, label="codes of test images")
    ax.hist(d_p.cpu().numpy(), bins=40, density=True, alpha=0.6, label="$z \\sim p(z)$")
    ax.axvline(d_test.median().item(), color="k", lw=1, label="median of test codes")
    ax.set_xlabel("distance to the nearest training code"); ax.set_ylabel("density")
    ax.set_title(name.replace("beta", "β =")); ax.legend()
    print(f"{name}: radius of the codes' shell {(v_q + m_q**2).sum().sqrt():.2f} (prior: {math.sqrt(D):.2f});  "
          f"median distance to the nearest training code: test codes {d_test.median():.2f}, prior draws {d_p.median():.2f};  "
          f"prior draws beyond the test codes' median: {far:.0%} (50 % if they were like test codes)")
    assert far > 0.75, "prior draws should lie farther from the training codes than codes of unseen images"
plt.show()

# %% [markdown]
# **What you should see:** for both models the prior draws' distances lie to the right of the test codes',
# and nearly all of them beyond the test codes' median: the prior proposes codes away from every training
# image's code, where the decoder was never trained. Even the standard $\beta = 1$ VAE has holes. The shell
# radii printed with them tell where the draws sit: inside the codes' shell when its radius is larger than
# $\sqrt D$, beside the codes when the two are alike.
#
# Does it matter for the images? Decode, with the $\beta = 1$ model (the last one in the loop), the first
# prior draws and the test codes, as many of each as there are test images, and score both with the classifier.

# %%
n_test = len(z_test)
from_prior, from_test = model_b1.sample(n_test, z=z_p[:n_test]), model_b1.sample(n_test, z=z_test)
fig, axes = plt.subplots(1, 2, figsize=(12, 2.6))
vl.plots.show_images(from_prior[:20], nrow=10, title="prior draws, far from the training codes", ax=axes[0])
vl.plots.show_images(from_test[:20], nrow=10, title="codes of test images, near the training codes", ax=axes[1])
plt.show()
conf_prior, conf_test = metrics.confidence(from_prior, classifier), metrics.confidence(from_test, classifier)
d_from_prior = metrics.frechet_distance(from_prior, test.images, classifier)
d_from_test = metrics.frechet_distance(from_test, test.images, classifier)
print(f"classifier confidence: prior draws {conf_prior:.3f}, test codes {conf_test:.3f}   "
      f"Fréchet distance: prior draws {d_from_prior:.1f}, test codes {d_from_test:.1f}")
assert conf_prior < conf_test
assert d_from_prior > 3 * d_from_test, "codes near the training codes should decode far closer to real digits"

# %% [markdown]
# **What you should see:** more smudged, ambiguous shapes on the left. The numbers agree: images decoded
# from prior draws are classified less confidently, and their Fréchet distance is several times that of the
# decoded test codes. The test codes were never trained on either; what makes them decode well is that they
# lie near codes the decoder was trained on.

# %% [markdown]
# ## Sweeping beta from 0.1 to 3
#
# Now vary $\beta$ from 0.1 (reconstruction weighted ten times) to 3 (KL weighted three times) and measure,
# for each model, the mismatch $\mathrm{KL}(q(z)\,\|\,p(z))$, and the Fréchet distance of samples decoded from
# $z \sim p(z)$ and from $z \sim q(z)$.

# %%
betas = [0.1, 0.3, 1, 3]
sweep_rows = []
for beta in betas:
    m_beta, _ = vl.trained(f"agg_beta{beta}", seed=SEED)
    q_beta = metrics.encode(m_beta, x)
    kl, se = metrics.kl_aggregate_prior(q_beta, m_beta.prior)
    d_prior = metrics.frechet_distance(m_beta.sample(n_gen), test.images, classifier)
    d_agg = metrics.frechet_distance(m_beta.sample(n_gen, z=metrics.sample_aggregate(q_beta, n_gen)), test.images, classifier)
    mi, _ = metrics.mutual_information(q_beta)
    sweep_rows.append((beta, kl, se, d_prior, d_agg, mi))
    print(f"beta {beta:>3}: KL(q(z)||p(z)) {kl:6.2f} ± {se:.2f}  I(x; z) {mi:.2f}  Fréchet prior {d_prior:7.1f}  "
          f"aggregate {d_agg:6.1f}  active units {int(metrics.active_units(q_beta).sum())}")

# %%
b, kls, ses, d_priors, d_aggs, mis = map(list, zip(*sweep_rows))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
axes[0].errorbar(b, kls, yerr=ses, marker="o"); axes[0].set_ylabel("KL(q(z) || p(z))  [nats]")
axes[0].set_title("mismatch between q(z) and p(z)"); axes[1].set_title("sample quality (lower is better)")
axes[1].plot(b, d_priors, "o-", label="$z \\sim p(z)$"); axes[1].plot(b, d_aggs, "s-", label="$z \\sim q(z)$")
axes[1].axhline(d_real, color="k", lw=1, ls=":", label="real images")
axes[1].set_yscale("log"); axes[1].set_ylabel("Fréchet distance to test images"); axes[1].legend()
for ax in axes:
    ax.set_xscale("log"); ax.set_xlabel("$\\beta$")
plt.tight_layout()
plt.show()
assert all(k1 > k2 for k1, k2 in zip(kls, kls[1:])), "the mismatch should shrink as beta grows"
assert d_priors[0] > d_priors[betas.index(1)], "prior samples should be worse at beta 0.1 than at beta 1"
assert all(dp > da for dp, da in zip(d_priors, d_aggs)), "q(z) samples should beat prior samples at every beta"
assert mis[betas.index(3)] < mis[betas.index(1)], "a heavier KL weight should leave the codes less information"
assert d_aggs[betas.index(3)] > d_aggs[betas.index(1)], "a heavier KL weight should blur even the q(z) samples"
i1, i3 = betas.index(1), betas.index(3)
assert d_priors[0] / d_aggs[0] > d_priors[i1] / d_aggs[i1], "the gain from sampling q(z) should shrink as beta grows"
assert d_priors[i1] - d_priors[i3] < d_priors[0] - d_priors[i1], "prior samples should gain most between beta 0.1 and 1"

# %% [markdown]
# **What you should see:** the mismatch falls steadily as $\beta$ grows, and the Fréchet distance of prior
# samples drops steeply from $\beta = 0.1$ to $\beta = 1$, and much less (or not at all) from $\beta = 1$ to $3$.
# The smaller $\beta$, the more it pays to sample from somewhere other than $p(z)$: the ratio of the two
# Fréchet distances is larger at $\beta = 0.1$ than at $\beta = 1$. At every $\beta$, codes drawn from $q(z)$
# decode better than prior draws.
# A large $\beta$ is no free fix, though: at $\beta = 3$ even the codes from $q(z)$ decode worse than at
# $\beta = 1$, because the stronger pull towards the prior leaves the codes less information about the image
# (a lower $I(x; z)$) and the decodes get blurrier.

# %% [markdown]
# ## Three fixes compared on one model
#
# Three ways to get codes the decoder knows, for the $\beta = 0.1$ model:
#
# 1. **sample the aggregate posterior**: pick a training image at random and draw $z \sim q(z\mid x_n)$
#    (the question's $z = \mu + \sigma\varepsilon$, with $\mu, \sigma$ of a random training image);
# 2. **an ex-post Gaussian mixture**: fit $p_\text{GMM}(z) = \sum_{k=1}^{10}\pi_k\mathcal N(z; \mu_k, \Sigma_k)$ to the
#    encoded training set after training (`vl.priors.fit_gaussian_mixture`), and sample it;
# 3. **a VampPrior** learned end to end, $p(z) = \frac1K\sum_k q(z\mid u_k)$ with $K$ learned pseudo-inputs
#    $u_k$: a different model (recipe `agg_vamp_beta0.1`) trained with the same $\beta$.

# %%
gmm = vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=10, seed=SEED)
model_vamp, _ = vl.trained("agg_vamp_beta0.1", seed=SEED)
samples = {
    "N(0, I)": model.sample(n_gen),
    "aggregate posterior": model.sample(n_gen, z=metrics.sample_aggregate(qz_x, n_gen)),
    "ex-post GMM": model.sample(n_gen, z=gmm.sample(n_gen)),
    "VampPrior (own model)": model_vamp.sample(n_gen),
}
fig, axes = plt.subplots(1, 4, figsize=(16, 3))
for ax, (name, images) in zip(axes, samples.items()):
    vl.plots.show_images(images[:30], nrow=6, title=name, ax=ax)
plt.show()
quality = {name: metrics.sample_quality(images, test.images, classifier) for name, images in samples.items()}
for name, images in samples.items():   # mean pixel distance to the nearest of the N training images
    quality[name]["nearest"] = metrics.distance_to_nearest(images, x).mean().item()
print(f"{'sampler':<24}{'Fréchet':>9}{'confidence':>12}{'classes':>9}{'entropy':>9}{'to train':>10}")
for name, q in quality.items():
    print(f"{name:<24}{q['frechet']:9.1f}{q['confidence']:12.3f}{q['classes']:9d}{q['class_entropy']:9.2f}{q['nearest']:10.2f}")
nearest_test = metrics.distance_to_nearest(test.images, x).mean().item()
print(f"{'(real images)':<24}{d_real:9.1f}{'':30}{nearest_test:10.2f}")

# %% [markdown]
# **What you should see:** blotchy, ambiguous digits from $\mathcal N(0, I)$; clean digits of all classes
# from the aggregate posterior and the ex-post mixture. The table puts numbers on it, the VampPrior's too:
# it is a different model, trained with the same $\beta = 0.1$, sampled from its own learned prior.
# The last column is the pixel distance from each image to its nearest training image: samples from the
# aggregate posterior are closer to a training image than unseen real digits are. They are
# reconstructions of training images, not new digits.

# %%
fd = {name: q["frechet"] for name, q in quality.items()}
assert fd["ex-post GMM"] < 0.5 * fd["N(0, I)"], "the ex-post mixture should beat N(0, I) by far at beta 0.1"
assert fd["aggregate posterior"] < 0.5 * fd["N(0, I)"]
assert fd["VampPrior (own model)"] < fd["N(0, I)"], "a learned prior should beat N(0, I) at the same beta"
n_classes = classifier.head.out_features
assert quality["aggregate posterior"]["classes"] == quality["ex-post GMM"]["classes"] == n_classes
assert quality["aggregate posterior"]["nearest"] < nearest_test, "q(z) samples should be near-copies of training images"
assert quality["aggregate posterior"]["nearest"] < quality["ex-post GMM"]["nearest"], "the mixture should stray further"

# %% [markdown]
# Which of the aggregate posterior and the mixture has the lower Fréchet distance varies with the seed;
# both are far ahead of $\mathcal N(0, I)$ for this model.
#
# ### Exercise 2: the empirical diagonal Gaussian
#
# A natural middle way: why not draw $z = m + \sqrt{v}\,\varepsilon$, with the *empirical* mean $m$
# and variance $v$ of the codes? Build that sampler,
# $p_\text{diag}(z) = \mathcal N(z; m, \operatorname{diag} v)$ with $m, v$ the moments of $q(z)$, draw `n_gen`
# codes from it, and compute the Fréchet distance of their decoded images (`d_diag`).

# %%
# --- solution (lecturers: delete before handing out) ---
m_emp, v_emp = metrics.aggregate_moments(qz_x)
p_diag = Independent(Normal(m_emp, v_emp.sqrt()), 1)
d_diag = metrics.frechet_distance(model.sample(n_gen, z=p_diag.sample((n_gen,))), test.images, classifier)

# %%
print(f"Fréchet distance: N(0, I) {fd['N(0, I)']:.1f}, diagonal Gaussian {d_diag:.1f}, ex-post GMM {fd['ex-post GMM']:.1f}")
ok = torch.allclose(p_diag.mean, m) and torch.allclose(p_diag.variance, v, rtol=1e-4)
print("correct" if ok else "not yet: hint: metrics.aggregate_moments(qz_x) gives m and v; "
      "Normal takes a standard deviation, so pass v.sqrt(), and wrap it in Independent(..., 1)")
assert ok
assert d_diag < fd["N(0, I)"], "the empirical moments should beat the standard normal"
assert d_diag > fd["ex-post GMM"], "right marginals are not enough: the holes are in the joint"

# %% [markdown]
# **What the numbers say:** matching each coordinate's mean and variance helps against $\mathcal N(0, I)$,
# but the distance stays far above the mixture's: the rest of the mismatch sits in the joint, in the clumps
# of $q(z)$, and the mixture puts its mass there.
#
# ### Exercise 3: how many components?
#
# Fit ex-post mixtures with 1, 3 and 30 components to `qz_x.mean` and compute the Fréchet distance of each
# (a dict `d_components` from the number of components to the distance). Does a single full-covariance
# Gaussian already help against $\mathcal N(0, I)$?

# %%
# --- solution (lecturers: delete before handing out) ---
d_components = {}
for k in [1, 3, 30]:
    gmm_k = vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=k, seed=SEED)
    d_components[k] = metrics.frechet_distance(model.sample(n_gen, z=gmm_k.sample(n_gen)), test.images, classifier)

# %%
print({k: round(d, 1) for k, d in d_components.items()}, f"  N(0, I): {fd['N(0, I)']:.1f}")
ok = sorted(d_components) == [1, 3, 30] and all(d > 0 for d in d_components.values())
print("correct" if ok else "not yet: hint: vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=k, seed=SEED), "
      "then gmm_k.sample(n_gen) and metrics.frechet_distance(...)")
assert ok
assert d_components[1] < fd["N(0, I)"], "a full-covariance Gaussian fitted to the codes should already beat N(0, I)"

# %% [markdown]
# ## What to use when
#
# | codes from | costs | measured above | use it when |
# |---|---|---|---|
# | $\mathcal N(0, I)$, the prior | nothing | poor at $\beta = 0.1$; worse than $q(z)$ even at $\beta = 1$ | $\mathrm{KL}(q(z)\,\|\,p(z))$ is small (measure it), or you need the model's own $p(z)$, e.g. for likelihoods |
# | the aggregate posterior $q(z)$ | storing $N$ posteriors | best Fréchet distance, but samples are near-copies of training images | you want more images like the training set, not new ones |
# | a diagonal Gaussian with the moments of $q(z)$ | two vectors | better than $\mathcal N(0, I)$, worse than the mixture | never on its own: the mismatch is in the joint, not the marginals |
# | an ex-post Gaussian mixture | a fit after training (seconds) | far better than $\mathcal N(0, I)$, and further from the training images than $q(z)$ | the model is trained already and $\beta < 1$: new images, with a $\log p(z)$ you can evaluate |
# | a VampPrior | retraining, slower epochs | better than $\mathcal N(0, I)$ at the same $\beta$ | you train anew and want the ELBO's KL term measured against the prior you sample from |
# | one image's or one class's posterior (notebook 05) | the images to condition on | near-copies of that image / that class in its variety | you want more of *this* image or class |
#
# **The answer to the question:** the prior is the right distribution to sample only to the degree that
# the aggregate posterior fills it, and that degree is measurable: $\mathrm{KL}(q(z)\,\|\,p(z))$. With a
# heavily weighted reconstruction term ($\beta = 0.1$) it is more than twice the mutual information,
# prior samples are poor, and sampling codes the decoder knows is far better: the aggregate posterior
# for look-alikes of the training set, a mixture fitted to it for new images.
