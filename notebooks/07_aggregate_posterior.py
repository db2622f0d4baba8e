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
# # 07 · q(z) is not p(z): the aggregate posterior, measured and fixed
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/07_aggregate_posterior.ipynb)
#
# A student trained a VAE and asks how to generate new images: draw $z \sim \mathcal N(0, I)$, the prior, or use
# what the encoder learned, the $\mu$ and `log_var` of training images? (Written as `z = mu + eps * log_var`,
# the second is not a draw from $q(z\mid x)$: that bug is notebook 02, section 6; the right draw is
# $z = \mu + \sigma\varepsilon$ with $\sigma = \exp(\tfrac12\,\texttt{log\_var})$.) The standard answer, "the prior"
# (notebook 06), is right to the degree that the codes the decoder was trained on fill the prior; with a loss
# `alpha * rec + beta * kl` and a large `alpha` (the question's 300) they do not. We measure the gap, what it does
# to samples, and which fix to use, judged by held-out likelihood.
#
# **What you will learn**
#
# - define the aggregate posterior $q(z) = \frac1N\sum_n q(z\mid x_n)$ and compute $\log q(z)$;
# - split the KL term into the mutual information $I(x; z) \le \log N$ and $\mathrm{KL}(q(z)\,\|\,p(z))$, and know
#   that both depend on the number $N$ of images;
# - find *holes*, prior draws far from every training code, and tell blotchy samples (holes) from blurry ones;
# - show that, for a fixed encoder and decoder, the best prior is $q(z)$ itself, so choosing a sampler is
#   estimating $q(z)$, judged by the ELBO of held-out images; compare $\mathcal N(0, I)$, $q_N$, fitted Gaussians,
#   a Gaussian mixture and a VampPrior that way, and by a classifier's Fréchet distance.

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
from torch.distributions import Independent, Normal

import vae_lesson as vl
from vae_lesson import metrics

SEED = vl.config.seed()  # set VAE_LESSON_SEED=1 or 2 to check that no claim below hangs on one seed
device = vl.setup(seed=SEED)
train, test = vl.load(split="train"), vl.load(split="test")
n_gen = 1000  # images per sampler: Fréchet distances are compared between equal-sized sets

# %% [markdown]
# ## 1. A digit classifier as a measuring instrument
#
# A small CNN classifier trained on the training split (cached) scores sets of generated images:
#
# - the **Fréchet distance** between Gaussians fitted to the classifier's 64 penultimate features of generated
#   ($\mu_g, \Sigma_g$) and real images ($\mu_r, \Sigma_r$):
#   $d_F = \|\mu_g - \mu_r\|^2 + \operatorname{tr}\big(\Sigma_g + \Sigma_r - 2(\Sigma_g^{1/2}\Sigma_r\Sigma_g^{1/2})^{1/2}\big)$.
#   Lower is better. The reference must be independent of what made the samples: samplers fitted to training
#   codes are scored against test images, decoded test codes against training images;
# - the **confidence** (mean largest class probability) and the **class coverage** (classes seen, and the
#   entropy of their histogram: $\log 10 = 2.30$ nats if all ten are equally frequent).
#
# For scale, `d_real` is the distance of 1,000 real training images to the test images.

# %%
classifier = metrics.digit_classifier()
accuracy = metrics.accuracy(classifier, test)
d_real = metrics.frechet_distance(train.images[:n_gen], test.images, classifier)
print(f"classifier test accuracy: {accuracy:.3f}   Fréchet distance real train vs test images: {d_real:.1f}")
assert accuracy > 0.85, "the classifier is too weak to be a measuring instrument"

# %% [markdown]
# ## 2. Heavy reconstruction weight means beta below 1
#
# `alpha * rec + beta * kl` has the same minimiser as `rec + (beta / alpha) * kl`: only the ratio counts, so the
# question's `alpha = 300` is a β-VAE with $\beta = 1/300$, maximising
# $\mathbb E_{q(z\mid x)}[\log p(x\mid z)] - \beta\,\mathrm{KL}(q(z\mid x)\,\|\,p(z))$. We load (or train) a $\beta = 0.1$
# model and a standard $\beta = 1$ VAE; $\beta = 1/300$ joins them in section 8.

# %%
model, history = vl.trained("agg_beta0.1", seed=SEED)      # a heavily weighted reconstruction term
model_b1, history_b1 = vl.trained("agg_beta1", seed=SEED)  # a standard VAE
for name, h in [("beta 0.1", history), ("beta 1", history_b1)]:
    print(f"{name}: test ELBO {h['test_elbo'][-1]:.1f} nats, test KL term {h['test_kl'][-1]:.1f} nats, "
          f"trained in {sum(h['seconds']):.0f} s ({len(h['epoch'])} epochs) when it was not in the cache")

# %% [markdown]
# ## 3. The aggregate posterior
#
# Every training step draws an image $x_n$, then a code $z \sim q(z\mid x_n)$: the decoder only sees codes from the
# **aggregate posterior**
#
# $$q(z) = \frac1N \sum_{n=1}^N q(z\mid x_n),$$
#
# a mixture of the $N$ training posteriors (the first $N$ training images, at most 10,000). Decoding prior draws
# works where $p(z)$ puts its mass on regions $q(z)$ covers. `metrics.aggregate_log_prob` computes
# $\log q(z) = \operatorname{logsumexp}_n \log q(z\mid x_n) - \log N$ a chunk of $z$ at a time; the cell checks it
# against torch's `MixtureSameFamily`, the real test that $\log q(z)$ is right.

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
    ### BEGIN SOLUTION
    log_q_z_x = qz_x.log_prob(z.unsqueeze(1))              # (M, N): log q(z_m | x_n)
    return torch.logsumexp(log_q_z_x, dim=1) - math.log(N)
    ### END SOLUTION


# %%
def test_log_q():
    z_check = torch.cat([pz.sample((20,)), qz.sample((20,))])
    mine, reference = log_q(z_check), metrics.aggregate_log_prob(qz_x, z_check)
    return mine.shape == reference.shape and torch.allclose(mine, reference, rtol=1e-4, atol=1e-3)

vl.exercises.check(test_log_q, "qz_x.log_prob(z.unsqueeze(1)) has shape (M, N); logsumexp over the N "
                   "posteriors, then subtract log N (the mixture weights are 1/N)",
                   "log q(z) agrees with metrics.aggregate_log_prob at prior draws and at draws from q(z)")


# %% [markdown]
# ## 4. Mutual information and the KL decomposition
#
# Average the KL term over the training images and add and subtract $\log q(z)$ inside it:
#
# $$\underbrace{\frac1N\sum_n \mathrm{KL}(q(z\mid x_n)\,\|\,p(z))}_{\text{average KL term}}
# = \underbrace{\frac1N\sum_n \mathbb E_{q(z\mid x_n)}\Big[\log \frac{q(z\mid x_n)}{q(z)}\Big]}_{I(x;\,z)}
# + \underbrace{\mathbb E_{q(z)}\Big[\log \frac{q(z)}{p(z)}\Big]}_{\mathrm{KL}(q(z)\,\|\,p(z))}$$
#
# (Hoffman & Johnson, 2016): the KL term pays for the information the codes carry about *which* image they came
# from, and for the mismatch between codes and prior. Since $q(z) \ge q(z\mid x_n)/N$, **$I(x; z) \le \log N$**.
#
# We estimate both with one pair $(x_n, z_n \sim q(z\mid x_n))$ per image. In the sum of the two estimates
# $\log q(z_n)$ cancels, leaving $\log q(z_n\mid x_n) - \log p(z_n)$, an estimate of the average KL: **the two add up
# to the average KL whatever we use for $\log q(z)$**, so the sum checks nothing. The cell splits once with the true
# $\log q(z)$ and once with a wrong one, the Gaussian with the per-dimension mean and variance of $q(z)$.

# %%
def decomposition(qz_x, log_q_z, pz):
    """I, KL(q(z)||p(z)) and their sum (with std. errors) from one pair (x_n, z_n ~ q(z|x_n)) per image."""
    z = qz_x.sample()                                        # (N, D): together, draws from q(z)
    mi_terms = qz_x.log_prob(z) - log_q_z(z)
    kl_terms = log_q_z(z) - pz.log_prob(z)
    total = mi_terms + kl_terms                              # = log q(z_n|x_n) - log p(z_n): log q(z) cancels
    se = lambda t: (t.std() / math.sqrt(len(t))).item()
    return {"I": mi_terms.mean().item(), "KL": kl_terms.mean().item(), "sum": total.mean().item(),
            "se_I": se(mi_terms), "se_KL": se(kl_terms), "se_sum": se(total)}

m, v = metrics.aggregate_moments(qz_x)                       # per-dimension mean and variance of q(z) (see below)
wrong_q = Independent(Normal(m, v.sqrt()), 1)                # right marginal moments, but not q(z)
qz_x_b1 = metrics.encode(model_b1, x)
print(f"log N = {math.log(N):.3f}   (N = {N} training images)")
split = {
    "beta 0.1, true log q(z)": (decomposition(qz_x, lambda z: metrics.aggregate_log_prob(qz_x, z), pz),
                                metrics.average_kl(qz_x, model.prior)),
    "beta 0.1, wrong log q(z)": (decomposition(qz_x, wrong_q.log_prob, pz), metrics.average_kl(qz_x, model.prior)),
    "beta 1, true log q(z)": (decomposition(qz_x_b1, lambda z: metrics.aggregate_log_prob(qz_x_b1, z), pz),
                              metrics.average_kl(qz_x_b1, model_b1.prior)),
}
for name, (d, avg_kl) in split.items():   # the average KL is exact: closed form, averaged over all N
    print(f"{name:<25}: I {d['I']:6.2f} + KL(q(z)||p(z)) {d['KL']:6.2f} = {d['sum']:6.2f} ± {d['se_sum']:.2f}"
          f"   exact average KL {avg_kl:6.2f}")
true, avg_kl = split["beta 0.1, true log q(z)"]
wrong, _ = split["beta 0.1, wrong log q(z)"]
mi, kl_qp, kl_se = true["I"], true["KL"], true["se_KL"]

# %% [markdown]
# Both splits add up to the exact average KL: the algebra, not evidence. What exposes the wrong density is the
# ceiling: its $\hat I$ is far above $\log N$, impossible for a true mutual information. (With the true $\log q(z)$
# the estimate stays under $\log N$ by construction, so the comparison with torch's mixture above is the real test.)

# %%
for d, exact in split.values():     # the algebra, demonstrated: true or wrong, the sum is the average KL
    assert abs(d["sum"] - exact) < 4 * d["se_sum"]
assert mi <= math.log(N) + 1e-4     # by construction with the true log q(z)
assert wrong["I"] > math.log(N) + 1, "the wrong density should give an impossible I(x; z) > log N"

# %% [markdown]
# ## 5. I(x; z) and KL(q(z) || p(z)) depend on N
#
# The ceiling $\log N$ belongs to the $N$ images averaged over, and so does $\mathrm{KL}(q_N(z)\,\|\,p(z))$ of their
# aggregate posterior $q_N$. The first $n$ posteriors give $q_n$ without training; the average KL barely moves with
# $n$, the split does.

# %%
def first(qz_x, n):
    """The posteriors of the first n images (their aggregate is q_n(z))."""
    return Independent(Normal(qz_x.base_dist.loc[:n], qz_x.base_dist.scale[:n]), 1)

Ns = sorted({n for n in (150, 500, 1500) if n < N} | {N})
n_sweep = {}
for name, mdl, q in [("beta 0.1", model, qz_x), ("beta 1", model_b1, qz_x_b1)]:
    for n in Ns:
        if n == N:   # all N images: measured above already
            d, avg_kl_n = split[f"{name}, true log q(z)"]
            mi_n, se_n = d["I"], d["se_I"]
        else:
            q_n = first(q, n)
            avg_kl_n = metrics.average_kl(q_n, mdl.prior)
            mi_n, se_n = metrics.mutual_information(q_n)
        n_sweep[name, n] = (avg_kl_n, mi_n, avg_kl_n - mi_n, se_n)   # KL(q_n||p) = average KL - I
        print(f"{name}: N = {n:5d}  log N {math.log(n):5.2f}  average KL {avg_kl_n:6.2f}  I(x; z) {mi_n:5.2f}"
              f" (I / log N {mi_n / math.log(n):.3f})"
              f"  KL(q_N(z)||p(z)) {avg_kl_n - mi_n:6.2f} ± {se_n:.2f}")

# %% [markdown]
# **What the numbers say:** at $\beta = 0.1$, $I(x; z)$ sits at its ceiling $\log N$ for every $N$ (the ratio is
# printed): the posteriors are so narrow that each code names its image. So the "mismatch" is just the average KL
# minus $\log N$, and each doubling of $N$ moves $\log 2 = 0.69$ nats from the mismatch to $I$. At $\beta = 1$ the
# mismatch falls with $N$ too, while the average KL stays put: $I$ rises with $N$. A value of
# $\mathrm{KL}(q_N(z)\,\|\,p(z))$ means something only next to others at the same $N$; what makes prior samples poor
# is *where* the codes lie (section 7), and what a better prior is worth is measured on held-out images (section 9).

# %%
for n in Ns:   # at beta 0.1, I sits at its ceiling log N for every N
    assert n_sweep["beta 0.1", n][1] > math.log(n) - 0.05, f"I(x; z) below log N at N = {n}"
kl_b1 = [n_sweep["beta 1", n][2] for n in Ns]
se_b1 = [n_sweep["beta 1", n][3] for n in Ns]
assert all(k1 - k2 > 4 * math.hypot(s1, s2) for k1, k2, s1, s2 in zip(kl_b1, kl_b1[1:], se_b1, se_b1[1:])), \
    "KL(q_N||p) at beta 1 should fall with N beyond Monte Carlo error"

# %% [markdown]
# ## 6. Per-dimension moments and active units
#
# By the law of total variance, $q(z)$ has per-dimension variance
# $\operatorname{Var}_{q(z)}[z_j] = \operatorname{Var}_n\big(\mu_j(x_n)\big) + \frac1N\sum_n \sigma_j^2(x_n)$, and its mean is the
# average posterior mean. Dimension $j$ is an **active unit** when $\operatorname{Var}_n(\mu_j(x_n)) > 0.01$: its code
# moves with the image (Burda et al., 2016).

# %%
m, v = metrics.aggregate_moments(qz_x)
active = metrics.active_units(qz_x)
z_q = metrics.sample_aggregate(qz_x, 50_000)
print(f"active units: {int(active.sum())} of {len(active)}")
print("mean of q(z):    ", m.cpu().numpy().round(2))
print("variance of q(z):", v.cpu().numpy().round(2))
assert torch.allclose(z_q.var(0), v, rtol=0.1), "the law of total variance disagrees with samples of q(z)"

# %% [markdown]
# How far is each marginal from $\mathcal N(0, 1)$? Its moment-matched Gaussian gives
# $\mathrm{KL}_j = \frac12(v_j + m_j^2 - 1 - \log v_j)$, and $\sum_j \mathrm{KL}_j \le \mathrm{KL}(q(z)\,\|\,p(z))$ always
# (a Gaussian with the same moments is closer to $p$, and dropping correlations only loses KL): a check, asserted.

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
assert kl_j.sum() <= kl_qp + 4 * kl_se   # check: the moment-matched bound

# %% [markdown]
# **What you should see:** per-dimension KLs adding up to part of $\mathrm{KL}(q(z)\,\|\,p(z))$ (share printed); means
# and variances away from 0 and 1 by amounts that depend on the data and $\beta$ (nothing at $\beta < 1$ holds them
# there). The rest of the KL is not "the joint": at small $\beta$ it is mostly average KL minus $\log N$ (section 5).
# What fixing the marginals is worth on held-out images is section 9's diagonal Gaussian. The moments also give
# the typical size of a code, $\mathbb E_{q(z)}\|z\|^2 = \sum_j (v_j + m_j^2)$, against $D$ for the prior.

# %% [markdown]
# ## 7. Holes: prior draws far from every training code
#
# The decoder was trained only on codes of training images; a *hole* is a region the prior proposes but no code
# visits. The tempting test, "is $\log q(z)$ at prior draws as high as at held-out codes?", misleads in 16
# dimensions, and the prior shows why: $\mathcal N(0, I)$ is densest at $z = 0$, yet $\|z\|^2$ is a sum of 16
# squares, so its draws stay near $\|z\| = 4$, in a thin shell (the *typical set*), not where the density peaks.

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
# The codes have a shell of their own, of radius about $\sqrt{\sum_j (v_j + m_j^2)}$; when it is wider than the
# prior's, prior draws fall *inside* it, where $q(z)$ may be dense although no code lies there. So measure the
# distance from each $z$ to the nearest training code $\mu(x_n)$, against a yardstick drawn the way prior codes are:
# draws $z \sim q(z\mid x_\text{test})$ of held-out images (noise-free test *means* would sit closer to their
# neighbours). If prior draws were like them, half would lie beyond the test draws' median distance and a tenth
# beyond their 90th percentile.

# %%
def holes(model, qz_x, n=4000):
    """Distances to the nearest training code of prior draws, of draws from q(z|x_test) and of test means."""
    qz_x_test = metrics.encode(model, test.images)           # posteriors of held-out images
    z = {"prior draws": model.prior.sample(n), "test draws": qz_x_test.sample(), "test means": qz_x_test.mean}
    return z, {name: metrics.distance_to_nearest(zs, qz_x.mean) for name, zs in z.items()}

hole = {}
fig, axes = plt.subplots(1, 2, figsize=(12, 3))
for ax, (name, mdl, q) in zip(axes, [("beta 0.1", model, qz_x), ("beta 1", model_b1, qz_x_b1)]):
    z_h, d_h = holes(mdl, q)
    median, p90 = d_h["test draws"].median(), d_h["test draws"].quantile(0.9)
    hole[name] = {"z": z_h, "beyond median": (d_h["prior draws"] > median).float().mean().item(),
                  "beyond p90": (d_h["prior draws"] > p90).float().mean().item(),
                  "draws beyond means median": (d_h["test draws"] > d_h["test means"].median()).float().mean().item()}
    for key, label in [("test means", "means $\\mu(x_{test})$"), ("test draws", "$z \\sim q(z|x_{test})$"),
                       ("prior draws", "$z \\sim p(z)$")]:
        ax.hist(d_h[key].cpu().numpy(), bins=40, density=True, alpha=0.5, label=label)
    ax.axvline(median.item(), color="k", lw=1, label="median of test draws")
    ax.axvline(p90.item(), color="k", lw=1, ls="--", label="90th percentile")
    ax.set_xlabel("distance to the nearest training code"); ax.set_ylabel("density")
    ax.set_title(name.replace("beta", "β =")); ax.legend(fontsize=8)
    m_q, v_q = metrics.aggregate_moments(q)
    h = hole[name]
    print(f"{name}: shell radius of the codes {(v_q + m_q**2).sum().sqrt():.2f} (prior: {math.sqrt(D):.2f});  "
          f"test draws beyond the test means' median: {h['draws beyond means median']:.0%};  prior draws beyond the "
          f"test draws' median {h['beyond median']:.0%} (50 % if alike), beyond their 90th percentile {h['beyond p90']:.0%} (10 %)")
plt.show()

# %% [markdown]
# **What you should see:** at $\beta = 1$ test draws lie right of test means (noise alone does that), which is why
# means are the wrong yardstick; at $\beta = 0.1$ the two nearly coincide. Prior draws lie further right for **both**
# models: nearly all beyond the test draws' median, far more than a tenth beyond their 90th percentile. What that
# costs depends on the decoder, measured next.

# %%
h01, h1 = hole["beta 0.1"], hole["beta 1"]
assert h1["draws beyond means median"] > 0.75, "noise alone should push test draws beyond the means' median"
for name, h in hole.items():
    assert h["beyond median"] > 0.75, f"{name}: prior draws should lie farther out than codes of unseen images"
    assert h["beyond p90"] > 0.3, f"{name}: far more than a tenth of the prior draws should lie beyond the 90th percentile"

# %% [markdown]
# Does it matter for the images? Decode prior draws and test draws and score both against 1,000 *training*
# images: scored against the test images, the decoded test draws (their reconstructions) would be flattered (last
# column).

# %%
reference = train.images[:n_gen]
n_test = len(test.images)
decoded = {}
print(f"{'model':<9}{'codes':<13}{'Fréchet to training images':>28}{'confidence':>12}{'(to the test images)':>22}")
for name, mdl in [("beta 0.1", model), ("beta 1", model_b1)]:
    z_h = hole[name]["z"]
    for codes_name in ("prior draws", "test draws"):
        images = mdl.sample(n_test, z=z_h[codes_name][:n_test])
        decoded[name, codes_name] = (metrics.frechet_distance(images, reference, classifier),
                                     metrics.confidence(images, classifier),
                                     metrics.frechet_distance(images, test.images, classifier))
        d_ref, conf, d_self = decoded[name, codes_name]
        print(f"{name:<9}{codes_name:<13}{d_ref:28.1f}{conf:12.3f}{d_self:22.1f}")
print(f"{'real test images':<22}{d_real:28.1f}")
fig, axes = plt.subplots(1, 2, figsize=(12, 2.6))
vl.plots.show_images(model_b1.sample(20, z=hole["beta 1"]["z"]["prior draws"][:20]), nrow=10, title="β = 1: prior draws", ax=axes[0])
vl.plots.show_images(model_b1.sample(20, z=hole["beta 1"]["z"]["test draws"][:20]), nrow=10, title="β = 1: test draws", ax=axes[1])
plt.show()

# %% [markdown]
# **What you should see:** more smudged shapes on the left. Decoded test draws beat decoded prior draws for both
# models, by a far larger factor at $\beta = 0.1$ (ratios below): test images were never trained on either; their
# codes decode well because they lie near training codes.

# %%
ratio = {name: decoded[name, "prior draws"][0] / decoded[name, "test draws"][0] for name in ("beta 0.1", "beta 1")}
print({name: round(r, 1) for name, r in ratio.items()})
assert ratio["beta 1"] > 1.5, "at beta 1 test draws should decode closer to real digits than prior draws"
assert ratio["beta 0.1"] > 2 * ratio["beta 1"], "the gap should be far larger at beta 0.1"
assert decoded["beta 1", "prior draws"][1] < decoded["beta 1", "test draws"][1]   # less confident on prior draws

# %% [markdown]
# ## 8. Sweeping beta from 1/300 to 3: blotchy and blurry
#
# Now vary $\beta$ from $1/300$ (the question's `alpha = 300`) to 3, and measure for each model
# $\mathrm{KL}(q(z)\,\|\,p(z))$ (same $N$), $I(x; z)$, and samples decoded from $p(z)$ and from $q(z)$. "Fuzzy"
# samples come in two kinds, told apart by comparing the two samplers of one model:
#
# - **blotchy**: speckled ink in no digit's shape, decoded from codes in holes. The $q(z)$ samples are good; the
#   sign is a large ratio between the two samplers' Fréchet distances. Sampling elsewhere fixes it;
# - **blurry**: soft, averaged strokes. A strong pull towards the prior makes posteriors of different images
#   overlap, and the decoder answers a shared code with their average. The sign: even $q(z)$ samples lose
#   sharpness (`metrics.sharpness`: $\sum(\text{neighbouring-pixel differences})^2 / \sum_i x_i^2$); a sampler
#   cannot add information the codes do not carry.
#
# (Decoded images are means of $p(x\mid z)$, softer than pen strokes: compare models with each other, not with
# real images.) Two of the four models are those above; each of the others trains, when not cached, about as long
# as the $\beta = 1$ model did.

# %%
betas = [1 / 300, 0.1, 1, 3]
recipes = {1 / 300: "agg_alpha300", 3: "agg_beta3"}
loaded = {0.1: (model, qz_x, split["beta 0.1, true log q(z)"][0]), 1: (model_b1, qz_x_b1, split["beta 1, true log q(z)"][0])}
sharp_real = metrics.sharpness(test.images)
sweep_rows, prior_images = {}, {}
for beta in betas:
    if beta in loaded:   # the two models above, with their I(x; z) measured above
        m_beta, q_beta, d = loaded[beta]
        mi_beta, se_beta = d["I"], d["se_I"]
    else:
        m_beta = vl.trained(recipes[beta], seed=SEED)[0]
        q_beta = metrics.encode(m_beta, x)
        mi_beta, se_beta = metrics.mutual_information(q_beta)
    from_p = m_beta.sample(n_gen)
    from_q = m_beta.sample(n_gen, z=metrics.sample_aggregate(q_beta, n_gen))
    prior_images[beta] = from_p[:10]
    sweep_rows[beta] = {
        "kl": metrics.average_kl(q_beta, m_beta.prior) - mi_beta, "se": se_beta, "mi": mi_beta,
        "d_prior": metrics.frechet_distance(from_p, test.images, classifier),
        "d_agg": metrics.frechet_distance(from_q, test.images, classifier),
        "conf_prior": metrics.confidence(from_p, classifier), "conf_agg": metrics.confidence(from_q, classifier),
        "sharp_prior": metrics.sharpness(from_p), "sharp_agg": metrics.sharpness(from_q),
        "active": int(metrics.active_units(q_beta).sum())}
print(f"{'beta':>6}{'KL(q||p)':>10}{'I(x;z)':>8}{'active':>8} | {'Fréchet':>8}{'conf.':>7}{'sharp':>7} (p(z)) | "
      f"{'Fréchet':>8}{'conf.':>7}{'sharp':>7} (q(z)) | {'ratio':>6}")
for beta, r in sweep_rows.items():
    print(f"{beta:6.3f}{r['kl']:10.2f}{r['mi']:8.2f}{r['active']:8d} | {r['d_prior']:8.1f}{r['conf_prior']:7.3f}"
          f"{r['sharp_prior']:7.3f}        | {r['d_agg']:8.1f}{r['conf_agg']:7.3f}{r['sharp_agg']:7.3f}        |"
          f" {r['d_prior'] / r['d_agg']:6.1f}")
print(f"real test images: sharpness {sharp_real:.3f}, confidence {metrics.confidence(test.images, classifier):.3f}"
      f"   (log N = {math.log(N):.2f})")

# %%
col = {key: [sweep_rows[b][key] for b in betas] for key in sweep_rows[betas[0]]}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.5))
axes[0].errorbar(betas, col["kl"], yerr=col["se"], marker="o"); axes[0].set_ylabel("KL(q(z) || p(z))  [nats]")
axes[0].set_title(f"mismatch (N = {N})")
axes[1].plot(betas, col["d_prior"], "o-", label="$z \\sim p(z)$"); axes[1].plot(betas, col["d_agg"], "s-", label="$z \\sim q(z)$")
axes[1].axhline(d_real, color="k", lw=1, ls=":", label="real images")
axes[1].set_yscale("log"); axes[1].set_ylabel("Fréchet distance to test images"); axes[1].legend()
axes[1].set_title("sample quality (lower is better)")
axes[2].plot(betas, col["sharp_prior"], "o-", label="$z \\sim p(z)$"); axes[2].plot(betas, col["sharp_agg"], "s-", label="$z \\sim q(z)$")
axes[2].set_ylabel("sharpness"); axes[2].set_title("soft (blurry) when low"); axes[2].legend()
for ax in axes:
    ax.set_xscale("log"); ax.set_xlabel("$\\beta$")
plt.tight_layout()
plt.show()
fig, axes = plt.subplots(len(betas), 1, figsize=(10, 1.2 * len(betas)))
for ax, beta in zip(axes, betas):
    vl.plots.show_images(prior_images[beta], nrow=10, title=f"β = {beta:.3g}: decoded prior draws", ax=ax)
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** the Fréchet distance of prior samples drops from $\beta = 1/300$ to $1$; at every $\beta$
# codes from $q(z)$ decode better, and the gap narrows as $\beta$ grows; the $q(z)$ samples soften towards $\beta = 3$.
# Image rows: speckled patches at $1/300$, patchy strokes at $0.1$ (blotchy), soft thick digits at $3$ (blurry).

# %% [markdown]
# Checks: the mismatch shrinks as $\beta$ grows (a KL penalty shrinks the KL), and at $\beta \le 0.1$ $I(x; z)$ sits at
# $\log N$.

# %%
assert all(k1 > k2 for k1, k2 in zip(col["kl"], col["kl"][1:])), "the mismatch should shrink as beta grows"
assert min(col["mi"][:2]) > math.log(N) - 0.05, "at small beta I(x; z) should sit at log N"

# %% [markdown]
# Prior samples get better from $\beta = 1/300$ to $0.1$ to $1$, and codes from $q(z)$ decode better than prior
# draws at every $\beta$.

# %%
i01, i1, i3 = betas.index(0.1), betas.index(1), betas.index(3)
assert col["d_prior"][0] > col["d_prior"][i01] > col["d_prior"][i1], "prior samples should improve up to beta 1"
assert all(dp > da for dp, da in zip(col["d_prior"], col["d_agg"])), "q(z) samples should beat prior samples at every beta"

# %% [markdown]
# **Blotchy at small $\beta$:** the gap between the two samplers shrinks at every step up in $\beta$ (the ratio
# column), and the classifier is less sure of small-$\beta$ prior samples than of the $\beta = 1$ model's.

# %%
gap = [dp / da for dp, da in zip(col["d_prior"], col["d_agg"])]
assert all(g1 > g2 for g1, g2 in zip(gap, gap[1:])), "the gap between p(z) and q(z) samples should shrink as beta grows"
assert max(col["conf_prior"][:2]) < col["conf_prior"][i1], "small-beta prior samples should be less digit-like"

# %% [markdown]
# **Blurry at large $\beta$:** at $\beta = 3$ even the $q(z)$ samples are softer than at $\beta = 0.1$ and $1$, and
# score worse than at $\beta = 1$: the codes carry less information (lower $I(x; z)$), and the decoder averages.

# %%
assert col["sharp_agg"][i3] < min(col["sharp_agg"][i01], col["sharp_agg"][i1]), "q(z) samples should soften at beta 3"
assert col["mi"][i3] < col["mi"][i1], "a heavier KL weight should leave the codes less information"
assert col["d_agg"][i3] > col["d_agg"][i1], "a heavier KL weight should blur even the q(z) samples"

# %% [markdown]
# ## 9. Six priors compared on one model, by held-out likelihood
#
# Which distribution should we sample? Ask the ELBO. Fix the encoder and decoder and put any density $r(z)$ in
# place of the prior. Averaged over the training images,
#
# $$\frac1N\sum_n \Big(\mathbb E_{q(z\mid x_n)}[\log p(x_n\mid z)] - \mathrm{KL}(q(z\mid x_n)\,\|\,r)\Big)
# = \underbrace{\frac1N\sum_n \mathbb E_{q(z\mid x_n)}\big[\log p(x_n\mid z) - \log q(z\mid x_n)\big]}_{\text{does not depend on } r}
# + \underbrace{\mathbb E_{q(z)}[\log r(z)]}_{-H(q) - \mathrm{KL}(q(z)\,\|\,r)}.$$
#
# $r$ enters only through the cross-entropy $-\mathbb E_{q(z)}[\log r(z)]$: the best prior is $r = q(z)$, and its gain
# over $p(z)$ is exactly $\mathrm{KL}(q(z)\,\|\,p(z))$ (section 4). So "sample the learned latent distribution", done
# right, means *estimate $q(z)$*: fit $r$ to training codes and score it on images it never saw, by the **test
# ELBO**, its KL term estimated as $\log q(z\mid x) - \log r(z)$ at 8 draws $z \sim q(z\mid x)$ (the same draws for
# every $r$). The candidates, for the $\beta = 0.1$ model, besides $\mathcal N(0, I)$:
#
# 1. **$q_N$ itself**: $z = \mu + \sigma\varepsilon$ of a random training image; $\log q_N(z)$ as in section 3;
# 2. **a diagonal Gaussian** with the per-dimension mean and variance of $q(z)$ (`wrong_q`);
# 3. **a full-covariance Gaussian** with the mean and covariance of $q(z)$,
#    $\operatorname{Cov}_n(\mu(x_n)) + \frac1N\sum_n\operatorname{diag}\sigma^2(x_n)$ (`vl.priors.moment_matched_gaussian`);
# 4. **an ex-post Gaussian mixture** (Ghosh et al., 2020), 10 components fitted to the codes after training;
# 5. **a VampPrior** (Tomczak & Welling, 2018), $p(z) = \frac1K\sum_k q(z\mid u_k)$ with learned pseudo-inputs
#    $u_k$: a different model trained with the same $\beta$ and its own prior.
#
# Fréchet distance of decoded samples is the second column.

# %%
@torch.no_grad()
def elbo_under(mdl, log_r, images, draws=8):
    """Per-image ELBO of `images` under each prior in the dict log_r; encoder and decoder fixed."""
    q = metrics.encode(mdl, images)
    z = q.sample((draws,))                                   # (S, M, D): the same draws for every prior
    rec = torch.stack([mdl.decoder(zs).log_prob(images) for zs in z]).mean(0)
    log_q = q.log_prob(z)
    return {name: rec - (log_q - lr(z.flatten(0, 1)).view(draws, -1)).mean(0) for name, lr in log_r.items()}

gmm = vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=10, seed=SEED)
p_full = vl.priors.moment_matched_gaussian(qz_x)
model_vamp, _ = vl.trained("agg_vamp_beta0.1", seed=SEED)
log_r = {"N(0, I)": pz.log_prob, "aggregate posterior": lambda z: metrics.aggregate_log_prob(qz_x, z),
         "diagonal Gaussian": wrong_q.log_prob, "full-cov. Gaussian": p_full.log_prob, "ex-post GMM": gmm.log_prob}
elbo_test = elbo_under(model, log_r, test.images)
elbo_test["VampPrior (own model)"] = elbo_under(model_vamp, {"": model_vamp.prior.log_prob}, test.images)[""]
elbo_train = elbo_under(model, log_r, x, draws=1)          # the training images the priors were fitted to
samples = {
    "N(0, I)": model.sample(n_gen),
    "aggregate posterior": model.sample(n_gen, z=metrics.sample_aggregate(qz_x, n_gen)),
    "diagonal Gaussian": model.sample(n_gen, z=wrong_q.sample((n_gen,))),
    "full-cov. Gaussian": model.sample(n_gen, z=p_full.sample(n_gen)),
    "ex-post GMM": model.sample(n_gen, z=gmm.sample(n_gen)),
    "VampPrior (own model)": model_vamp.sample(n_gen),
}
fig, axes = plt.subplots(2, 3, figsize=(15, 6))
for ax, (name, images) in zip(axes.flat, samples.items()):
    vl.plots.show_images(images[:30], nrow=10, title=name, ax=ax)
plt.show()
quality = {name: metrics.sample_quality(images, test.images, classifier) for name, images in samples.items()}
for name, images in samples.items():   # mean pixel distance to the nearest of the N training images
    quality[name]["nearest"] = metrics.distance_to_nearest(images, x).mean().item()
gain = lambda e, name: (e[name] - e["N(0, I)"]).mean().item()   # ELBO gain over N(0, I), nats per image
print(f"{'prior / sampler':<24}{'test ELBO':>10}{'gain':>8}{'train gain':>11} |{'Fréchet':>9}{'conf.':>7}"
      f"{'classes':>8}{'to train':>9}")
for name, q in quality.items():
    e = elbo_test[name]
    tr = f"{gain(elbo_train, name):11.1f}" if name in elbo_train else f"{'-':>11}"
    print(f"{name:<24}{e.mean():10.1f}{gain(elbo_test, name):8.1f}{tr} |{q['frechet']:9.1f}{q['confidence']:7.3f}"
          f"{q['classes']:8d}{q['nearest']:9.2f}")
nearest_test = metrics.distance_to_nearest(test.images, x).mean().item()
print(f"{'(real images)':<24}{'':29} |{d_real:9.1f}{'':15}{nearest_test:9.2f}")
print(f"KL(q(z)||p(z)), section 4: {kl_qp:.1f} nats;  test ELBO over {len(test.images)} held-out images")
fd = {name: q["frechet"] for name, q in quality.items()}

# %% [markdown]
# **What you should see:** blotchy digits from $\mathcal N(0, I)$ and the diagonal Gaussian, mostly clean ones from
# the full Gaussian, clean digits of all classes from $q_N$, the mixture and the VampPrior.

# %% [markdown]
# **By Fréchet distance** $q_N$, the mixture and the VampPrior beat $\mathcal N(0, I)$ by far, the full Gaussian beats
# the diagonal one, and $q_N$'s samples lie closer to a training image than unseen real digits do ("to train"):
# reconstructions, not new digits.

# %%
assert fd["ex-post GMM"] < 0.5 * fd["N(0, I)"], "the ex-post mixture should beat N(0, I) by far at beta 0.1"
assert fd["aggregate posterior"] < 0.5 * fd["N(0, I)"]
assert fd["VampPrior (own model)"] < fd["N(0, I)"], "a learned prior should beat N(0, I) at the same beta"
assert fd["ex-post GMM"] < fd["full-cov. Gaussian"] < fd["diagonal Gaussian"]
assert quality["aggregate posterior"]["nearest"] < nearest_test, "q(z) samples should be near-copies of training images"
assert quality["aggregate posterior"]["nearest"] < quality["ex-post GMM"]["nearest"], "the mixture should stray further"

# %% [markdown]
# **By held-out likelihood**, the main column, the order differs. On the training images ("train gain") $q_N$
# gains the most, $\mathrm{KL}(q(z)\,\|\,p(z))$, every other prior less: the derivation, checked, not evidence.

# %%
train_gain = {name: gain(elbo_train, name) for name in log_r}
assert max(train_gain, key=train_gain.get) == "aggregate posterior"   # check: r = q_N maximises the training ELBO

# %% [markdown]
# On held-out images the ex-post mixture beats $\mathcal N(0, I)$:

# %%
d_gmm = elbo_test["ex-post GMM"] - elbo_test["N(0, I)"]
vl.claim("gmm-beats-prior-heldout", "the ex-post mixture, used as the prior, gives held-out images a higher ELBO "
         "than N(0, I)", d_gmm.mean().item(), ">", 2.0, null=0.0, null_is="N(0, I)'s own test ELBO: no gain",
         se=(d_gmm.std() / math.sqrt(len(d_gmm))).item(), unit="nats");

# %% [markdown]
# and each step from the diagonal Gaussian, correlations (full covariance) then clumps (the mixture), raises the
# held-out ELBO (the smaller step is measured):

# %%
step = torch.stack([elbo_test["full-cov. Gaussian"] - elbo_test["diagonal Gaussian"],
                    elbo_test["ex-post GMM"] - elbo_test["full-cov. Gaussian"]])
k_min = int(step.mean(1).argmin())
vl.claim("steps-pay-heldout", "correlations, then clumps, each raise the held-out ELBO", step[k_min].mean().item(),
         ">", 0.5, null=0.0, null_is="no gain from the step", se=(step[k_min].std() / math.sqrt(step.shape[1])).item(),
         unit="nats");

# %% [markdown]
# But $q_N$, best on the training images and by Fréchet distance, is the *worst* prior on held-out images: $N$
# narrow bumps on the training codes are a density estimate that memorised its data (a kernel density estimate
# with a tiny bandwidth), so a test code between bumps gets a very low $\log q_N(z)$. Fréchet distance rewards
# copies; likelihood does not.

# %%
d_qn = elbo_test["aggregate posterior"] - elbo_test["N(0, I)"]
vl.claim("qN-worst-heldout", "q_N used as the prior gives held-out images a lower ELBO than N(0, I), although on "
         "the training images it gains KL(q(z)||p(z))", d_qn.mean().item(), "<", 0.0, null=kl_qp,
         null_is="its gain on the training images, KL(q(z)||p(z)), if it generalised",
         se=(d_qn.std() / math.sqrt(len(d_qn))).item(), unit="nats");

# %% [markdown]
# ### Exercise 2: sampling a full-covariance Gaussian by hand
#
# Write `sample_gaussian(mean, cov, n)`: `n` draws from $\mathcal N(\text{mean}, \text{cov})$, shape `(n, D)`, with only
# `torch.randn` (on `mean.device`) and `torch.linalg.cholesky`. With $\Sigma = LL^\top$, $z = m + L\varepsilon$ has
# covariance $LL^\top = \Sigma$; with one draw per row, $z = m + \varepsilon L^\top$.

# %%
cov_full = p_full().covariance_matrix   # the covariance of q(z) for the beta = 0.1 model

# %%
### BEGIN SOLUTION
def sample_gaussian(mean, cov, n):
    L = torch.linalg.cholesky(cov)
    return mean + torch.randn(n, len(mean), device=mean.device) @ L.T
### END SOLUTION

# %%
def test_sample_gaussian():
    ok = True
    on = lambda rows: torch.tensor(rows, device=device)   # where the model's codes are
    for mean, cov in [(on([1.0, -2.0]), on([[1.0, 0.9], [0.9, 1.0]])),
                      (on([0.0, 0.0, 3.0]), on([[2.0, -1.0, 0.5], [-1.0, 1.0, 0.0], [0.5, 0.0, 0.5]])),
                      (m, cov_full)]:
        z = sample_gaussian(mean, cov, 100_000)
        scale = cov.diagonal().max().item()
        mean_err, cov_err = (z.mean(0) - mean).abs().max().item(), (torch.cov(z.T) - cov).abs().max().item()
        print(f"D = {len(mean)}: largest error of the mean {mean_err:.3f}, of the covariance {cov_err:.3f}")
        ok = ok and z.shape == (100_000, len(mean)) and mean_err < 0.05 * math.sqrt(scale) and cov_err < 0.05 * scale
    return ok

vl.exercises.check(test_sample_gaussian, "L = torch.linalg.cholesky(cov); eps = torch.randn(n, D, device=mean.device); z = mean + eps @ L.T "
                   "(eps * cov.diagonal().sqrt() would lose the correlations, eps @ L the wrong way round too)",
                   "your draws have the mean and the covariance asked for: decode them and you get the "
                   "full-covariance Gaussian's samples")

# %% [markdown]
# ### Exercise 3: how many components?
#
# Fit ex-post mixtures with 1, 3 and 30 components to `qz_x.mean` (`vl.priors.fit_gaussian_mixture(...,
# n_components=k, seed=SEED)`) into a dict `mixtures`, and store each one's mean test ELBO as the prior of `model`
# (`elbo_under`) in a dict `elbo_components`. With the table's 10: where do components stop paying?

# %%
### BEGIN SOLUTION
mixtures, elbo_components = {}, {}
for k in [1, 3, 30]:
    mixtures[k] = vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=k, seed=SEED)
    elbo_components[k] = elbo_under(model, {k: mixtures[k].log_prob}, test.images)[k].mean().item()
### END SOLUTION

# %%
def test_components():
    assert sorted(mixtures) == sorted(elbo_components) == [1, 3, 30], "both dicts need the keys 1, 3 and 30"
    codes_mean = qz_x.mean.mean(0)
    for k, mix in mixtures.items():
        assert mix.weights.numel() == k, f"mixtures[{k}] has {mix.weights.numel()} components"
        assert torch.allclose((mix.weights[:, None] * mix.means).sum(0), codes_mean, atol=1e-3), \
            f"mixtures[{k}] was not fitted to qz_x.mean (its mean is not the codes' mean)"
    again = {k: elbo_under(model, {0: mix.log_prob}, test.images)[0].mean().item() for k, mix in mixtures.items()}
    curve = {**elbo_components, 10: elbo_test["ex-post GMM"].mean().item()}
    print("test ELBO by number of components:", {k: round(curve[k], 1) for k in sorted(curve)},
          f"  N(0, I): {elbo_test['N(0, I)'].mean():.1f}")
    return all(abs(elbo_components[k] - again[k]) < 1.0 for k in mixtures)

vl.exercises.check(test_components, "elbo_under(model, {k: mixtures[k].log_prob}, test.images)[k].mean().item() "
                   "for each fitted mixture",
                   "read the curve: where does the next component stop raising the held-out ELBO?")

# %% [markdown]
# ## 10. What to use when
#
# | codes from | measured in section 9 ($\beta = 0.1$) | use it when |
# |---|---|---|
# | $\mathcal N(0, I)$ | blotchy samples at $\beta \le 0.1$; the baseline test ELBO | its samples score close to $q(z)$ samples |
# | $q_N$ (training posteriors) | near-copies of training images; the worst test ELBO | you want look-alikes, not new images |
# | diagonal Gaussian fitted to $q(z)$ | far behind the full one by Fréchet distance | rarely: it drops the correlations |
# | full Gaussian fitted to $q(z)$ | above the diagonal one on both columns | a cheap fix, closed-form $\log r(z)$ |
# | ex-post Gaussian mixture | the best fitted prior by test ELBO; new images | the model is trained: choose $K$ by test ELBO |
# | VampPrior | above $\mathcal N(0, I)$ at the same $\beta$ | you retrain anyway |
#
# **The answer to the question:** for a trained encoder and decoder the best prior is the aggregate posterior
# $q(z)$ (section 9: it beats $\mathcal N(0, I)$ by $\mathrm{KL}(q(z)\,\|\,p(z))$), so "use what the encoder learned" is
# right in principle. But $q(z)$ must be *estimated*, and estimates are judged on held-out images: the raw mixture
# of training posteriors ($z = \mu + \sigma\varepsilon$ of a random training image) memorises and copies, while a
# Gaussian or a mixture fitted to the codes beats $\mathcal N(0, I)$ on held-out likelihood and makes new images.
# Blotchy prior samples (small $\beta$, `alpha = 300`) mean holes; blurry ones mean a large $\beta$.

# %% [markdown]
# ## Summary
#
# - The decoder is trained on codes from $q(z) = \frac1N\sum_n q(z\mid x_n)$, not $p(z)$. The KL term splits into
#   $I(x; z) \le \log N$ and $\mathrm{KL}(q(z)\,\|\,p(z))$, both depending on $N$.
# - Prior draws lie farther from the training codes than codes of unseen images, and decode worse, far worse at
#   small $\beta$ (blotchy); a large $\beta$ makes even $q(z)$ samples blurry.
# - With encoder and decoder fixed, the ELBO is highest with $r = q(z)$ as prior, by $\mathrm{KL}(q(z)\,\|\,p(z))$:
#   choosing a sampler is estimating $q(z)$, judged by held-out likelihood.
# - On held-out images a mixture fitted to the codes beats $\mathcal N(0, I)$; $q_N$, best by Fréchet distance, is
#   worst: Fréchet distance rewards copies.

# %% [markdown]
# ## References
#
# - Kingma, D. P., & Welling, M. (2014). Auto-encoding variational Bayes. *International Conference on Learning
#   Representations (ICLR)*.
# - Higgins, I., et al. (2017).
#   β-VAE: Learning basic visual concepts with a constrained variational framework. *ICLR*.
# - Hoffman, M. D., & Johnson, M. J. (2016). ELBO surgery: yet another way to carve up the variational evidence
#   lower bound. *NIPS Workshop on Advances in Approximate Bayesian Inference*. 
# - Rosca, M., Lakshminarayanan, B., & Mohamed, S. (2018). Distribution matching in variational inference.
#   *arXiv:1802.06847*.
# - Tomczak, J. M., & Welling, M. (2018). VAE with a VampPrior. *International Conference on Artificial
#   Intelligence and Statistics (AISTATS)*.
# - Ghosh, P., et al. (2020). From variational to
#   deterministic autoencoders. *ICLR*.
# - Burda, Y., Grosse, R., & Salakhutdinov, R. (2016). Importance weighted autoencoders. *ICLR*.
# - Heusel, M., et al. (2017). GANs trained by a two
#   time-scale update rule converge to a local Nash equilibrium. *Advances in Neural Information Processing
#   Systems (NeurIPS)*.
