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
# *Time: about 100 minutes (core path 85) · Read first: 04, 06 · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/07_aggregate_posterior.ipynb)
#
# A student trained a VAE and asks how to generate new images: draw $z \sim \mathcal N(0, I)$, the prior, or use
# what the encoder learned, the $\mu$ and `log_var` of training images? (`z = mu + eps * log_var` is not a draw
# from $q(z\mid x)$, see notebook 02, section 6; the right one is $z = \mu + \sigma\varepsilon$,
# $\sigma = \exp(\tfrac12\,\texttt{log\_var})$.) "The prior" (notebook 06) is right to the degree that the codes the
# decoder was trained on fill the prior; with a loss `alpha * rec + beta * kl` and the question's `alpha = 300`
# they do not. We measure the gap, what it does to samples, and which fix to use, judged by held-out likelihood.
#
# **What you will learn**
#
# - define the aggregate posterior $q(z) = \frac1N\sum_n q(z\mid x_n)$ and compute $\log q(z)$;
# - split the KL term into the mutual information $I(x; z) \le \log N$ and $\mathrm{KL}(q(z)\,\|\,p(z))$, both
#   depending on the number $N$ of images;
# - see prior draws fall inside the codes' wider shell, test that as a cause of poor prior samples, and tell it
#   from blur (a large $\beta$);
# - choose a sampler by estimating $q(z)$, judged by the ELBO of held-out images, at $\beta = 1/300$ (the
#   question's), $0.1$ and $1$.

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

# %% [markdown] tags=["core"]
# ## 1. A digit classifier as a measuring instrument
#
# A small CNN trained on the training split scores sets of generated images:
#
# - the **Fréchet distance** between Gaussians fitted to the classifier's 64 penultimate features of generated
#   ($\mu_g, \Sigma_g$) and real images ($\mu_r, \Sigma_r$):
#   $d_F = \|\mu_g - \mu_r\|^2 + \operatorname{tr}\big(\Sigma_g + \Sigma_r - 2(\Sigma_g^{1/2}\Sigma_r\Sigma_g^{1/2})^{1/2}\big)$.
#   Lower is better. The reference must be independent of what made the samples;
# - the **confidence** (mean largest class probability) and the **classes** seen.
#
# For scale, `d_real` is the distance of 1,000 real training images to the test images.

# %%
classifier = metrics.digit_classifier()
accuracy = metrics.accuracy(classifier, test)
d_real = metrics.frechet_distance(train.images[:n_gen], test.images, classifier)
print(f"classifier test accuracy: {accuracy:.3f}   Fréchet distance real train vs test images: {d_real:.1f}")
assert accuracy > 0.85, "the classifier is too weak to be a measuring instrument"

# %% [markdown] tags=["core"]
# ## 2. Heavy reconstruction weight: a small beta or a small sigma
#
# `alpha * rec + beta * kl` has the same minimiser as `rec + (beta / alpha) * kl`: only the ratio counts. Its $\beta$
# depends on `rec`. With binary cross-entropy summed over pixels (our Bernoulli decoder), `alpha = 300` is a β-VAE
# with $\beta = 1/300$. With a squared error summed over the 784 pixels, `alpha * rec` is a Gaussian decoder's
# negative log-likelihood with $\sigma^2 = 1/(2\alpha)$ up to a constant: a $\beta = 1$ VAE with $\sigma \approx 0.04$
# (a per-pixel *mean* divides `alpha` by 784). Here, the Bernoulli reading: $\beta = 0.1$, $1$, and $1/300$ in
# section 8.

# %%
model, history = vl.trained("agg_beta0.1", seed=SEED)      # a heavily weighted reconstruction term
model_b1, history_b1 = vl.trained("agg_beta1", seed=SEED)  # a standard VAE
for name, h in [("beta 0.1", history), ("beta 1", history_b1)]:
    print(f"{name}: test ELBO {h['test_elbo'][-1]:.1f} nats, test KL term {h['test_kl'][-1]:.1f} nats, "
          f"trained in {sum(h['seconds']):.0f} s ({len(h['epoch'])} epochs) when it was not in the cache")

# %% [markdown] tags=["core"]
# ## 3. The aggregate posterior
#
# Each training step draws an image $x_n$, then $z \sim q(z\mid x_n)$: the decoder only sees codes from the
# **aggregate posterior**
#
# $$q(z) = \frac1N \sum_{n=1}^N q(z\mid x_n),$$
#
# a mixture of the $N$ training posteriors (the first $N$ training images, at most 10,000). Decoding prior draws
# works where $p(z)$ puts its mass on regions $q(z)$ covers. `metrics.aggregate_log_prob` computes
# $\log q(z) = \operatorname{logsumexp}_n \log q(z\mid x_n) - \log N$ in chunks; the cell checks it against torch's
# `MixtureSameFamily`.

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


# %% [markdown] tags=["core"]
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
# We estimate both with one pair $(x_n, z_n \sim q(z\mid x_n))$ per image. In their sum $\log q(z_n)$ cancels: **the
# two add up to the average KL whatever we use for $\log q(z)$**, so the sum checks nothing. The cell splits once
# with the true $\log q(z)$ and once with a wrong one, the Gaussian with the per-dimension moments of $q(z)$.

# %%
sem = lambda t: (t.std() / math.sqrt(len(t))).item()        # the standard error of a mean

def decomposition(qz_x, log_q_z, pz):   # I, KL(q(z)||p(z)), their sum and std. errors, one z_n ~ q(z|x_n) per image
    z = qz_x.sample()                                        # (N, D): together, draws from q(z)
    log_q = log_q_z(z)
    mi_terms, kl_terms = qz_x.log_prob(z) - log_q, log_q - pz.log_prob(z)
    total = mi_terms + kl_terms                              # = log q(z_n|x_n) - log p(z_n): log q(z) cancels
    return {"I": mi_terms.mean().item(), "KL": kl_terms.mean().item(), "sum": total.mean().item(),
            "se_I": sem(mi_terms), "se_KL": sem(kl_terms), "se_sum": sem(total)}

m, v = metrics.aggregate_moments(qz_x)                       # per-dimension mean and variance of q(z) (see below)
wrong_q = Independent(Normal(m, v.sqrt()), 1)                # right marginal moments, but not q(z)
qz_x_b1 = metrics.encode(model_b1, x)
print(f"log N = {math.log(N):.3f}   (N = {N} training images)")
true_log_q = lambda q: (lambda z: metrics.aggregate_log_prob(q, z))     # log q(z) of the posteriors q
split = {"beta 0.1, true log q(z)": (decomposition(qz_x, true_log_q(qz_x), pz), metrics.average_kl(qz_x, model.prior)),
         "beta 0.1, wrong log q(z)": (decomposition(qz_x, wrong_q.log_prob, pz), metrics.average_kl(qz_x, model.prior)),
         "beta 1, true log q(z)": (decomposition(qz_x_b1, true_log_q(qz_x_b1), pz), metrics.average_kl(qz_x_b1, model_b1.prior))}
for name, (d, avg_kl) in split.items():   # the average KL is exact: closed form, averaged over all N
    print(f"{name:<25}: I {d['I']:6.2f} + KL(q(z)||p(z)) {d['KL']:6.2f} = {d['sum']:6.2f} ± {d['se_sum']:.2f}"
          f"   exact average KL {avg_kl:6.2f}")
(true, _), (wrong, _) = split["beta 0.1, true log q(z)"], split["beta 0.1, wrong log q(z)"]
mi, kl_qp = true["I"], true["KL"]

# %% [markdown]
# Both splits add up to the exact average KL: the algebra, not evidence. What exposes the wrong density is the
# ceiling: its $\hat I$ is far above $\log N$, impossible for a true mutual information.

# %%
for d, exact in split.values():     # the algebra, demonstrated: true or wrong, the sum is the average KL
    assert abs(d["sum"] - exact) < 4 * d["se_sum"]
assert mi <= math.log(N) + 1e-4     # by construction with the true log q(z)
assert wrong["I"] > math.log(N) + 1, "the wrong density should give an impossible I(x; z) > log N"

# %% [markdown] tags=["deep-dive"]
# ## 5. I(x; z) and KL(q(z) || p(z)) depend on N
#
# The ceiling $\log N$ belongs to the $N$ images averaged over, and so does $\mathrm{KL}(q_N(z)\,\|\,p(z))$. The first
# $n$ posteriors give $q_n$ without training.

# %%
Ns = sorted({n for n in (150, 500, 1500) if n < N} | {N})
n_sweep = {}
for name, mdl, q in [("beta 0.1", model, qz_x), ("beta 1", model_b1, qz_x_b1)]:
    for n in Ns:
        if n == N:   # all N images: measured above already
            d, avg_kl_n = split[f"{name}, true log q(z)"]
            mi_n, se_n = d["I"], d["se_I"]
        else:
            q_n = Independent(Normal(q.base_dist.loc[:n], q.base_dist.scale[:n]), 1)   # the first n posteriors
            avg_kl_n = metrics.average_kl(q_n, mdl.prior)
            mi_n, se_n = metrics.mutual_information(q_n)
        n_sweep[name, n] = (avg_kl_n, mi_n, avg_kl_n - mi_n, se_n)   # KL(q_n||p) = average KL - I
        print(f"{name}: N = {n:5d}  log N {math.log(n):5.2f}  average KL {avg_kl_n:6.2f}  I(x; z) {mi_n:5.2f}"
              f" (I / log N {mi_n / math.log(n):.3f})  KL(q_N(z)||p(z)) {avg_kl_n - mi_n:6.2f} ± {se_n:.2f}")

# %% [markdown]
# **What the numbers say:** at $\beta = 0.1$, $I(x; z)$ sits at its ceiling $\log N$ for every $N$ (ratio printed): the
# estimate reports $N$, not the codes, and each doubling of $N$ moves $\log 2$ nats from the mismatch to $I$. So
# compare $\mathrm{KL}(q_N(z)\,\|\,p(z))$, and anything built from $q_N$, only at the same $N$.

# %%
below = {name: [math.log(n) - n_sweep[name, n][1] for n in Ns] for name in ("beta 0.1", "beta 1")}   # log N - I
vl.claim("mi-at-ceiling", "at beta 0.1, I(x; z) sits at its ceiling log N for every N (the largest log N - I)", max(below["beta 0.1"]),
         "<", 0.05, null=below["beta 1"][-1], null_is="the beta = 1 model's at the largest N: overlapping codes", unit="nats");

# %% [markdown] tags=["deep-dive"]
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
print(f"mean of q(z):     {m.cpu().numpy().round(2)}\nvariance of q(z): {v.cpu().numpy().round(2)}")
assert torch.allclose(z_q.var(0), v, rtol=0.1), "the law of total variance disagrees with samples of q(z)"

# %% [markdown] tags=["core"]
# ## 7. Prior draws inside the codes' shell
#
# The decoder was trained only on codes of training images: do prior draws land where those codes are? The
# tempting test, "is $\log q(z)$ at prior draws as high as at held-out codes?", can mislead in 16
# dimensions, and the prior shows why: $\mathcal N(0, I)$ is densest at $z = 0$, yet $\|z\|^2$ is a sum of 16
# squares, so its draws stay near $\|z\| = 4$, in a thin shell (the *typical set*), not where the density peaks.

# %%
D = pz.event_shape[0]
z_p = pz.sample((4000,))
r_p = z_p.norm(dim=1)
print(f"log p(z) at z = 0: {pz.log_prob(pz.mean):.1f}   highest log p(z) among 4000 draws: {pz.log_prob(z_p).max():.1f}")
print(f"||z|| of prior draws: median {r_p.median():.2f}, 5 % to 95 %: {r_p.quantile(0.05):.2f} to {r_p.quantile(0.95):.2f}; "
      f"share with ||z|| < 2: {(r_p < 2).float().mean():.2%}")
assert pz.log_prob(pz.mean) > pz.log_prob(z_p).max() and (r_p < 2).float().mean() < 0.01   # no draw near the peak


# %% [markdown]
# The codes have a shell of their own, of radius about $\sqrt{\sum_j (v_j + m_j^2)}$; when it is wider than the
# prior's, prior draws fall *inside* it. Measure the distance from each $z$ to the nearest training code $\mu(x_n)$,
# against draws $z \sim q(z\mid x_\text{test})$ of held-out images (noise-free test *means* would sit closer).

# %%
def holes(model, qz_x, n=4000):   # distances to the nearest training code of prior draws, test draws, test means
    qz_x_test = metrics.encode(model, test.images)           # posteriors of held-out images
    z = {"prior draws": model.prior.sample(n), "test draws": qz_x_test.sample(), "test means": qz_x_test.mean}
    return z, {name: metrics.distance_to_nearest(zs, qz_x.mean) for name, zs in z.items()}

hole = {}
fig, axes = plt.subplots(1, 2, figsize=(12, 3))
for ax, (name, mdl, q) in zip(axes, [("beta 0.1", model, qz_x), ("beta 1", model_b1, qz_x_b1)]):
    z_h, d_h = holes(mdl, q)
    median, p90 = d_h["test draws"].median(), d_h["test draws"].quantile(0.9)
    hole[name] = h = {"z": z_h, "beyond median": (d_h["prior draws"] > median).float().mean().item(),
                  "beyond p90": (d_h["prior draws"] > p90).float().mean().item(),
                  "draws beyond means median": (d_h["test draws"] > d_h["test means"].median()).float().mean().item()}
    for key, label in [("test means", "means $\\mu(x_{test})$"), ("test draws", "$z \\sim q(z|x_{test})$"),
                       ("prior draws", "$z \\sim p(z)$")]:
        ax.hist(d_h[key].cpu().numpy(), bins=40, density=True, alpha=0.5, label=label)
    ax.axvline(median.item(), color="k", lw=1, label="median of test draws"); ax.axvline(p90.item(), color="k", lw=1, ls="--", label="90th percentile")
    ax.set_xlabel("distance to the nearest training code"); ax.set_title(name.replace("beta", "β =")); ax.legend(fontsize=8)
    m_q, v_q = metrics.aggregate_moments(q)
    print(f"{name}: shell radius of the codes {(v_q + m_q**2).sum().sqrt():.2f} (prior: {math.sqrt(D):.2f});  "
          f"test draws beyond the test means' median: {h['draws beyond means median']:.0%};  prior draws beyond the "
          f"test draws' median {h['beyond median']:.0%} (50 % if alike), beyond their 90th percentile {h['beyond p90']:.0%} (10 %)")
plt.show()

# %% [markdown]
# **What you should see:** at $\beta = 1$ test draws lie right of test means (noise alone does that); at $\beta = 0.1$ the two nearly coincide. Prior draws lie further right for **both**
# models: nearly all beyond the test draws' median, far more than a tenth beyond their 90th percentile. The
# tempting test's medians (printed) need not agree: $q_N$'s narrow bumps give unseen codes a low density (section 9).

# %%
vl.claim("noise-moves-test-draws", "at beta 1 most test draws lie beyond the test means' median distance",
         hole["beta 1"]["draws beyond means median"], ">", 0.75, null=0.5, null_is="draws placed like the means: half");
vl.claim("prior-draws-beyond-median", "for both models nearly all prior draws lie beyond the test draws' median",
         min(h["beyond median"] for h in hole.values()), ">", 0.75, null=0.5, null_is="placed like test draws: half");
vl.claim("prior-draws-beyond-p90", "for both models far more than a tenth of the prior draws lie beyond the test "
         "draws' 90th percentile", min(h["beyond p90"] for h in hole.values()), ">", 0.3, null=0.1, null_is="a tenth");
log_q_p, log_q_t = (metrics.aggregate_log_prob(qz_x, hole["beta 0.1"]["z"][k]) for k in ("prior draws", "test draws"))
print(f"the tempting test, beta 0.1: median log q(z) at prior draws {log_q_p.median():.1f}, at test draws {log_q_t.median():.1f}")

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

# %% [markdown]
# Decoded test draws beat decoded prior draws for both models, by a far larger factor at $\beta = 0.1$ (ratios
# below), although test images were never trained on either.

# %%
ratio = {name: decoded[name, "prior draws"][0] / decoded[name, "test draws"][0] for name in ("beta 0.1", "beta 1")}
print({name: round(r, 1) for name, r in ratio.items()})
vl.claim("test-draws-decode-better", "decoded test draws beat decoded prior draws by Fréchet distance, for both "
         "models", min(ratio.values()), ">", 1.5, null=1.0, null_is="equal distances: a ratio of 1");
vl.claim("gap-larger-small-beta", "the ratio is far larger at beta 0.1 than at beta 1", ratio["beta 0.1"] / ratio["beta 1"],
         ">", 2.0, null=1.0, null_is="the same ratio at both beta");

# %% [markdown]
# Why? The suspect is scale: at $\beta = 0.1$ the codes' shell is far wider than the prior's (radii printed above).
# Test it by changing only that: move the same prior draws to the codes' per-dimension mean and std,
# $z' = m + \sqrt{v} \odot z$, and decode again.

# %%
m_q, v_q = metrics.aggregate_moments(qz_x)
z_raw = hole["beta 0.1"]["z"]["prior draws"][:n_test]
z_resc = m_q + v_q.sqrt() * z_raw                          # the same draws, rescaled to the codes' moments
rescaled = decoded["beta 0.1", "prior draws"][0] / metrics.frechet_distance(model.sample(n_test, z=z_resc), reference, classifier)
fig, axes = plt.subplots(1, 3, figsize=(18, 2.6))
for ax, (title, z_show) in zip(axes, [("prior draws", z_raw), ("the same, rescaled", z_resc), ("test draws", hole["beta 0.1"]["z"]["test draws"])]):
    vl.plots.show_images(model.sample(20, z=z_show[:20]), nrow=10, title=f"β = 0.1: {title}", ax=ax)
plt.show()
vl.claim("rescale-fixes-prior-draws", "at beta 0.1, moving prior draws to the codes' per-dimension mean and std lowers "
         "their Fréchet distance (raw over rescaled)", rescaled, ">", 2.0, null=1.0, null_is="the raw draws: a ratio of 1");

# %% [markdown]
# **What you should see:** smudged shapes on the left, cleaner digits in the middle. At $\beta = 0.1$ rescaling
# alone divides the Fréchet distance of prior samples by the printed factor: prior draws fail there partly because
# they sit inside the codes' shell; rescaling leaves part of the gap, and section 9 finds part of the
# mismatch in the joint.

# %% [markdown] tags=["deep-dive"]
# ## 8. Sweeping beta from 1/300 to 3: mismatch and blur
#
# For each $\beta$ from $1/300$ (the question's `alpha = 300`) to 3 we measure $\mathrm{KL}(q(z)\,\|\,p(z))$ (same
# $N$), $I(x; z)$, and samples decoded from $p(z)$ and from $q(z)$. "Fuzzy" samples have two measurable causes:
#
# - **a prior/codes mismatch**: $q(z)$ samples are sharp and score well, prior samples badly (section 7). The sign
#   is a large ratio between the two samplers' Fréchet distances;
# - **$\beta$ too large**: posteriors of different images overlap, and the decoder answers a shared code with their
#   average. The sign: even $q(z)$ samples lose sharpness (`metrics.sharpness`: $\sum(\text{neighbouring-pixel differences})^2 / \sum_i x_i^2$).
#
# (Decoded images are means, softer than pen strokes: compare models with each other.)

# %%
betas = [1 / 300, 0.1, 1, 3]
recipes = {1 / 300: "agg_alpha300", 3: "agg_beta3"}
loaded = {0.1: (model, qz_x, split["beta 0.1, true log q(z)"][0]), 1: (model_b1, qz_x_b1, split["beta 1, true log q(z)"][0])}
sweep_rows, prior_images = {}, {}
for beta in betas:
    if beta in loaded:   # the two models above, with their I(x; z) measured above
        m_beta, q_beta, d = loaded[beta]; mi_beta, se_beta = d["I"], d["se_I"]
    else:
        m_beta = vl.trained(recipes[beta], seed=SEED)[0]; q_beta = metrics.encode(m_beta, x)
        mi_beta, se_beta = metrics.mutual_information(q_beta)
    from_p = m_beta.sample(n_gen)
    from_q = m_beta.sample(n_gen, z=metrics.sample_aggregate(q_beta, n_gen))
    prior_images[beta] = from_p[:10]
    sweep_rows[beta] = {
        "kl": metrics.average_kl(q_beta, m_beta.prior) - mi_beta, "se": se_beta, "mi": mi_beta,
        "d_prior": metrics.frechet_distance(from_p, test.images, classifier),
        "d_agg": metrics.frechet_distance(from_q, test.images, classifier),
        "conf_prior": metrics.confidence(from_p, classifier), "conf_agg": metrics.confidence(from_q, classifier),
        "se_conf": sem(metrics.confidences(from_p, classifier)),
        "sharp_prior": metrics.sharpness(from_p), "sharp_agg": metrics.sharpness(from_q),
        "active": int(metrics.active_units(q_beta).sum())}
print(f"{'beta':>6}{'KL(q||p)':>10}{'I(x;z)':>8}{'active':>8} | {'Fréchet':>8}{'conf.':>7}{'sharp':>7} (p(z)) | "
      f"{'Fréchet':>8}{'conf.':>7}{'sharp':>7} (q(z)) | {'ratio':>6}")
for beta, r in sweep_rows.items():
    print(f"{beta:6.3f}{r['kl']:10.2f}{r['mi']:8.2f}{r['active']:8d} | {r['d_prior']:8.1f}{r['conf_prior']:7.3f}"
          f"{r['sharp_prior']:7.3f}        | {r['d_agg']:8.1f}{r['conf_agg']:7.3f}{r['sharp_agg']:7.3f}        |"
          f" {r['d_prior'] / r['d_agg']:6.1f}")
print(f"real test images: sharpness {metrics.sharpness(test.images):.3f}, confidence {metrics.confidence(test.images, classifier):.3f}, "
      f"Fréchet distance of 1,000 training images {d_real:.1f} (the floor)")

# %%
col = {key: [sweep_rows[b][key] for b in betas] for key in sweep_rows[betas[0]]}
fig, axes = plt.subplots(len(betas), 1, figsize=(10, 1.2 * len(betas)))
for ax, beta in zip(axes, betas):
    vl.plots.show_images(prior_images[beta], nrow=10, title=f"β = {beta:.3g}: decoded prior draws", ax=ax)
plt.tight_layout(); plt.show()

# %% [markdown]
# **What you should see:** faint, overlaid strokes at $\beta = 1/300$, patchy ones at $0.1$, soft thick digits at $3$.
# Do not diagnose by eye: the ratio and the $q(z)$ samples' sharpness separate the causes (checked below).

# %% [markdown]
# Prior samples get better from $\beta = 1/300$ to $0.1$ to $1$, and codes from $q(z)$ decode better than prior
# draws at every $\beta$.

# %%
i01, i1, i3 = betas.index(0.1), betas.index(1), betas.index(3)
d_p, d_q = col["d_prior"], col["d_agg"]; gap = [p / q for p, q in zip(d_p, d_q)]   # Fréchet distances, their ratio
vl.claim("prior-improves-q-beats-p", "prior samples improve at each step up to beta 1, and q(z) samples beat them at "
         "every beta (the smallest ratio)", min([d_p[0] / d_p[i01], d_p[i01] / d_p[i1]] + gap),
         ">", 1.2, null=1.0, null_is="no change: a ratio of 1");

# %% [markdown]
# **Mismatch at small $\beta$:** the gap between the two samplers shrinks at every step up in $\beta$ (the ratio
# column), and the classifier is less sure of small-$\beta$ prior samples than of the $\beta = 1$ model's.

# %%
vl.claim("gap-shrinks", "the ratio column falls at every step up in beta (the smallest factor)",
         min(g1 / g2 for g1, g2 in zip(gap, gap[1:])), ">", 1.2, null=1.0, null_is="the same ratio");
vl.claim("small-beta-less-sure", "the classifier is less sure of small-beta prior samples than of the beta = 1 model's",
         col["conf_prior"][i1] - max(col["conf_prior"][:2]), ">", 0.02, null=0.0, null_is="as sure",
         se=math.hypot(col["se_conf"][i1], col["se_conf"][int(col["conf_prior"][1] > col["conf_prior"][0])]));

# %% [markdown]
# **Blurry at large $\beta$:** at $\beta = 3$ even the $q(z)$ samples are softer than at $\beta = 0.1$ and $1$, and
# score worse than at $\beta = 1$: the codes carry less information (lower $I(x; z)$), and the decoder averages.

# %%
vl.claim("blurry-at-beta3", "at beta 3 q(z) samples are softer than at 0.1 and 1, score worse than at 1, and I(x; z) is "
         "lower (the smallest of the three ratios)", min(min(col["sharp_agg"][i01], col["sharp_agg"][i1]) / col["sharp_agg"][i3],
         d_q[i3] / d_q[i1], col["mi"][i1] / col["mi"][i3]), ">", 1.05, null=1.0, null_is="no change: a ratio of 1");

# %% [markdown] tags=["core"]
# ## 9. Priors compared by held-out likelihood
#
# Fix the encoder and decoder and put any density $r(z)$ in place of the prior. Averaged over the training images,
#
# $$\frac1N\sum_n \Big(\mathbb E_{q(z\mid x_n)}[\log p(x_n\mid z)] - \mathrm{KL}(q(z\mid x_n)\,\|\,r)\Big)
# = \underbrace{\frac1N\sum_n \mathbb E_{q(z\mid x_n)}\big[\log p(x_n\mid z) - \log q(z\mid x_n)\big]}_{\text{does not depend on } r}
# + \underbrace{\mathbb E_{q(z)}[\log r(z)]}_{-H(q) - \mathrm{KL}(q(z)\,\|\,r)}.$$
#
# $r$ enters only through the cross-entropy $-\mathbb E_{q(z)}[\log r(z)]$: the best prior is $r = q(z)$, and its gain
# over $p(z)$ is exactly $\mathrm{KL}(q(z)\,\|\,p(z))$ (section 4). So "sample the learned latent distribution" means
# *estimate $q(z)$*: fit $r$ to training codes and score it on images it never saw, by the **test ELBO**, its KL
# term estimated at 4 draws $z \sim q(z\mid x)$, the same for every $r$. The candidates, for the $\beta = 0.1$ model, besides $\mathcal N(0, I)$:
#
# 1. **$q_N$ itself**: $z = \mu + \sigma\varepsilon$ of a random training image;
# 2. **a diagonal Gaussian** with the per-dimension moments of $q(z)$ (`wrong_q`);
# 3. **the product of $q(z)$'s marginals**, $\prod_j q(z_j)$: each coordinate of draws from $q(z)$ shuffled across
#    the draws keeps its own distribution and loses its partners;
# 4. **a full-covariance Gaussian** with the mean and covariance of $q(z)$,
#    $\operatorname{Cov}_n(\mu(x_n)) + \frac1N\sum_n\operatorname{diag}\sigma^2(x_n)$ (`vl.priors.moment_matched_gaussian`);
# 5. **an ex-post Gaussian mixture** (Ghosh et al., 2020), 10 components fitted after training to draws from $q(z)$;
# 6. **a VampPrior** (Tomczak & Welling, 2018), $p(z) = \frac1K\sum_k q(z\mid u_k)$ with learned pseudo-inputs
#    $u_k$: another model, with the same $\beta$ and this prior.
#
# Second column: the Fréchet distance of 1,000 samples to the test images ± a bootstrap standard error (floor: 1,000
# real training images, last rows), and the distance to the nearest training image.

# %%
@torch.no_grad()
def elbo_under(mdl, log_r, images, draws=4):   # per-image ELBO under each prior in log_r; encoder, decoder fixed
    q = metrics.encode(mdl, images)
    z = q.sample((draws,))                                   # (S, M, D): the same draws for every prior
    rec = torch.stack([mdl.decoder(zs).log_prob(images) for zs in z]).mean(0)
    return {name: rec - (q.log_prob(z) - lr(z.flatten(0, 1)).view(draws, -1)).mean(0) for name, lr in log_r.items()}

z_fit = metrics.sample_aggregate(qz_x, N)                    # N draws from q(z), to fit mixtures to
gmm = vl.priors.fit_gaussian_mixture(z_fit, n_components=10, seed=SEED)
p_full = vl.priors.moment_matched_gaussian(qz_x)
loc, scale = qz_x.base_dist.loc, qz_x.base_dist.scale
log_marginals = lambda z: sum(metrics.aggregate_log_prob(Independent(Normal(loc[:, [j]], scale[:, [j]]), 1), z[:, [j]])
                              for j in range(D))        # log prod_j q(z_j): each marginal a mixture of N normals
model_vamp, _ = vl.trained("agg_vamp_beta0.1", seed=SEED)
log_r = {"N(0, I)": pz.log_prob, "aggregate posterior": lambda z: metrics.aggregate_log_prob(qz_x, z),
         "diagonal Gaussian": wrong_q.log_prob, "product of marginals": log_marginals, "full-cov. Gaussian": p_full.log_prob,
         "ex-post GMM": gmm.log_prob}
elbo_test = elbo_under(model, log_r, test.images)
elbo_test["VampPrior (own model)"] = elbo_under(model_vamp, {"": model_vamp.prior.log_prob}, test.images)[""]
elbo_train = elbo_under(model, log_r, x[:n_gen], draws=1)  # 1,000 of the training images the priors were fitted to
codes = {"N(0, I)": pz.sample((n_gen,)), "aggregate posterior": metrics.sample_aggregate(qz_x, n_gen),
         "diagonal Gaussian": wrong_q.sample((n_gen,)),
         "product of marginals": torch.stack([c[torch.randperm(n_gen, device=device)] for c in z_fit[:n_gen].T], 1),
         "full-cov. Gaussian": p_full.sample(n_gen), "ex-post GMM": gmm.sample(n_gen)}
samples = {**{name: model.sample(n_gen, z=z) for name, z in codes.items()}, "VampPrior (own model)": model_vamp.sample(n_gen)}
fig, axes = plt.subplots(2, 4, figsize=(20, 6)); axes[-1, -1].axis("off")
for ax, (name, images) in zip(axes.flat, samples.items()):
    vl.plots.show_images(images[:30], nrow=10, title=name, ax=ax)
plt.show()
quality = {name: metrics.sample_quality(images, test.images, classifier) for name, images in samples.items()}
for name, images in samples.items():   # mean pixel distance to the nearest of the N training images
    quality[name]["nearest"] = metrics.distance_to_nearest(images, x).mean().item()
gain = lambda e, name: (e[name] - e["N(0, I)"]).mean().item()   # ELBO gain over N(0, I), nats per image
print(f"{'prior / sampler':<24}{'test ELBO':>10}{'gain':>8}{'train gain':>11} |{'Fréchet ± se':>15}{'conf.':>7}"
      f"{'classes':>8}{'to train':>9}")
for name, q in quality.items():
    e = elbo_test[name]
    tr = f"{gain(elbo_train, name):11.1f}" if name in elbo_train else f"{'-':>11}"
    print(f"{name:<24}{e.mean():10.1f}{gain(elbo_test, name):8.1f}{tr} |{q['frechet']:9.1f} ± {q['frechet_se']:<3.0f}{q['confidence']:7.3f}"
          f"{q['classes']:8d}{q['nearest']:9.2f}")
nearest_test = metrics.distance_to_nearest(test.images, x).mean().item()
recon = model.sample(n_gen, z=hole["beta 0.1"]["z"]["test draws"][:n_gen])   # decoded codes of unseen images
nearest_recon = metrics.distance_to_nearest(recon, x).mean().item()
print(f"{'(real test images)':<24}{'':29} |{d_real:9.1f}{'':21}{nearest_test:9.2f}")
print(f"{'(decoded test draws)':<24}{'':29} |{'':30}{nearest_recon:9.2f}")
print(f"KL(q(z)||p(z)), section 4: {kl_qp:.1f} nats;  test ELBO over {len(test.images)} held-out images")
fd, fd_se = ({name: q[k] for name, q in quality.items()} for k in ("frechet", "frechet_se"))

# %% [markdown]
# **What you should see:** patchy digits from $\mathcal N(0, I)$, cleaner ones from the Gaussians and the marginals,
# clean digits of all classes from $q_N$, the mixture and the VampPrior.

# %% [markdown]
# **By Fréchet distance** $q_N$ and the mixture beat $\mathcal N(0, I)$ by far, and the full Gaussian beats the
# diagonal one by many standard errors. For "to train", compare decoder means with decoder means, not with sharp real
# digits: decoded draws of *unseen* images' codes. $q_N$'s samples lie closer to a training image than those:
# reconstructions, not new digits.

# %%
vl.claim("fd-fitted-beat-prior", "by Fréchet distance q_N and the mixture beat N(0, I) by far (N(0, I)'s over the worse of "
         "the two)", fd["N(0, I)"] / max(fd["ex-post GMM"], fd["aggregate posterior"]), ">", 2.0, null=1.0, null_is="a ratio of 1");
vl.claim("fd-full-beats-diag", "by Fréchet distance the full Gaussian beats the diagonal one",
         (fd["diagonal Gaussian"] - fd["full-cov. Gaussian"]) / math.hypot(fd_se["diagonal Gaussian"], fd_se["full-cov. Gaussian"]),
         ">", 3.0, null=0.0, null_is="no difference", unit="(bootstrap standard errors)");
vl.claim("qN-copies", "q_N's samples lie closer to a training image than decoded codes of unseen images do",
         quality["aggregate posterior"]["nearest"], "<", 0.95 * nearest_recon, null=nearest_recon,
         null_is="decoded draws of test images' codes: new images, decoded the same way", unit="(pixel distance)");

# %% [markdown]
# **By held-out likelihood**, the main column, the order differs. On the training images ("train gain") $q_N$
# gains the most, about $\mathrm{KL}(q(z)\,\|\,p(z))$, every other prior less: the derivation, checked, not evidence.

# %%
train_gain = {name: gain(elbo_train, name) for name in log_r}
assert max(train_gain, key=train_gain.get) == "aggregate posterior"   # check: r = q_N maximises the training ELBO

# %% [markdown]
# On held-out images the ex-post mixture beats $\mathcal N(0, I)$:

# %%
d_gmm = elbo_test["ex-post GMM"] - elbo_test["N(0, I)"]
vl.claim("gmm-beats-prior-heldout", "at beta 0.1 the ex-post mixture, used as the prior, gives held-out images "
         "a higher ELBO than N(0, I)", d_gmm.mean().item(), ">", 2.0, null=0.0, null_is="N(0, I)'s own test ELBO: no gain",
         se=sem(d_gmm), unit="nats");

# %% [markdown]
# and each step from the diagonal Gaussian, correlations (full covariance) then clumps (the mixture), raises the
# held-out ELBO (the smaller step is measured):

# %%
step = torch.stack([elbo_test["full-cov. Gaussian"] - elbo_test["diagonal Gaussian"],
                    elbo_test["ex-post GMM"] - elbo_test["full-cov. Gaussian"]])
k_min = int(step.mean(1).argmin())
vl.claim("steps-pay-heldout", "correlations, then clumps, each raise the held-out ELBO", step[k_min].mean().item(),
         ">", 0.5, null=0.0, null_is="no gain from the step", se=sem(step[k_min]), unit="nats");

# %% [markdown]
# Is $\mathcal N(0, I)$ wrong in the marginals or in the joint? The product of marginals gets only the marginals
# right. It earns part of the mixture's held-out gain (share printed): the marginals are part of what is
# wrong. Barely more than the diagonal Gaussian: the marginals' shapes beyond mean and variance add little next to
# the joint.

# %%
g_diag, g_marg, g_gmm = (gain(elbo_test, name) for name in ("diagonal Gaussian", "product of marginals", "ex-post GMM"))
print(f"share of the mixture's gain {g_marg / g_gmm:.2f}; shapes beyond mean and variance {g_marg - g_diag:.2f} nats; joint {g_gmm - g_marg:.2f}")
vl.claim("marginals-pay-part", "matching q(z)'s marginals alone earns part of the mixture's held-out gain", g_marg / g_gmm,
         ">", 0.1, null=0.0, null_is="all of the mismatch in the joint: no share");
vl.claim("marginal-shapes-little", "the marginals' shapes beyond mean and variance add little next to the joint (the first "
         "over the second)", (g_marg - g_diag) / (g_gmm - g_marg), "<", 0.2, null=1.0, null_is="shapes worth as much as the joint");

# %% [markdown]
# But at $\beta = 0.1$, $q_N$, best on the training images and far ahead of $\mathcal N(0, I)$ by Fréchet distance, is
# the *worst* prior on held-out images: $N$ narrow bumps on the training codes are a density estimate that memorised
# its data, so a test code between bumps gets a low $\log q_N(z)$. Fréchet distance rewards copies; likelihood
# does not. Its gain depends on $N$ (printed): verdicts on $q_N$ hold at this $N$.

# %%
d_qn = elbo_test["aggregate posterior"] - elbo_test["N(0, I)"]
vl.claim("qN-worst-heldout", "at beta 0.1, q_N used as the prior gives held-out images a lower ELBO than N(0, I), "
         "although on the training images it gains KL(q(z)||p(z)) (at this N)", d_qn.mean().item(), "<", 0.0, null=kl_qp,
         null_is="its gain on the training images, KL(q(z)||p(z)), if it generalised", se=sem(d_qn), unit="nats");
q_n = lambda n: true_log_q(Independent(Normal(loc[:n], scale[:n]), 1))   # log q(z) of the first n training posteriors
print("q_n's held-out gain over N(0, I), by n:", {n: round(gain(elbo_under(model, {"N(0, I)": pz.log_prob, n: q_n(n)}, test.images), n), 1) for n in (N // 8, N // 2)},
      f"(n = N: {gain(elbo_test, 'aggregate posterior'):.1f})")

# %% [markdown]
# **At $\beta = 1$ the verdict changes.** Its posteriors are wider (section 7): $q_N$ is smoother. The same
# yardstick for the standard VAE, with the mixture fitted to draws from $q(z)$ or, as Ghosh et al. do, to the
# posterior means:

# %%
fits = {"ex-post GMM": metrics.sample_aggregate(qz_x_b1, N), "GMM on means": qz_x_b1.mean}
log_r_b1 = {"N(0, I)": model_b1.prior().log_prob, "aggregate posterior": lambda z: metrics.aggregate_log_prob(qz_x_b1, z),
            **{name: vl.priors.fit_gaussian_mixture(z, n_components=10, seed=SEED).log_prob for name, z in fits.items()}}
elbo_b1 = elbo_under(model_b1, log_r_b1, test.images)
for name in log_r_b1:
    print(f"beta 1, {name:<20}: test ELBO {elbo_b1[name].mean():7.1f}, gain over N(0, I) {gain(elbo_b1, name):6.1f}")
print(f"beta 0.1 with its mixture: {elbo_test['ex-post GMM'].mean():.1f};  beta 1 with N(0, I): {elbo_b1['N(0, I)'].mean():.1f}")

# %% [markdown]
# At this $N$, $q_N$'s held-out gain is far above that at $\beta = 0.1$: about zero or positive. The mixture fitted to draws still
# beats $\mathcal N(0, I)$; one fitted to the means falls below it: the means lack each posterior's own variance
# (section 6), too narrow a density for the codes the decoder saw. The last line pits the $\beta = 0.1$ model with
# its mixture against the standard VAE with $\mathcal N(0, I)$; the winner varies with the data set.

# %%
d_qn1, d_gmm1, d_fit = (elbo_b1["aggregate posterior"] - elbo_b1["N(0, I)"], elbo_b1["ex-post GMM"] - elbo_b1["N(0, I)"],
                        elbo_b1["ex-post GMM"] - elbo_b1["GMM on means"])
vl.claim("qN-better-at-beta1", "q_N's held-out gain over N(0, I) is far higher at beta 1 than at beta 0.1 (at this N)",
         (d_qn1.mean() - d_qn.mean()).item(), ">", 10.0, null=0.0, null_is="the same gain at both beta", unit="nats");
vl.claim("gmm-beats-prior-beta1", "at beta 1 the mixture fitted to draws from q(z) also beats N(0, I) on held-out "
         "images", d_gmm1.mean().item(), ">", 1.0, null=0.0, null_is="no gain", se=sem(d_gmm1), unit="nats");
vl.claim("fit-draws-not-means", "at beta 1 a mixture fitted to draws from q(z) beats one fitted to the posterior "
         "means on held-out images", d_fit.mean().item(), ">", 2.0, null=0.0, null_is="no difference", se=sem(d_fit), unit="nats");

# %% [markdown]
# **The question's own setting, $\beta = 1/300$** (`alpha = 300`, section 8's model), on the same yardstick:

# %%
model_300 = vl.trained("agg_alpha300", seed=SEED)[0]
qz_x_300 = metrics.encode(model_300, x)
gmm_300 = vl.priors.fit_gaussian_mixture(metrics.sample_aggregate(qz_x_300, N), n_components=10, seed=SEED)
elbo_300 = elbo_under(model_300, {"N(0, I)": pz.log_prob, "ex-post GMM": gmm_300.log_prob,
                                  "aggregate posterior": lambda z: metrics.aggregate_log_prob(qz_x_300, z)}, test.images)
d_gmm300, d_qn300 = (elbo_300[name] - elbo_300["N(0, I)"] for name in ("ex-post GMM", "aggregate posterior"))
vl.claim("gmm-beats-prior-300", "at beta 1/300 the ex-post mixture beats N(0, I) on held-out images", d_gmm300.mean().item(),
         ">", 2.0, null=0.0, null_is="N(0, I)'s own test ELBO: no gain", se=sem(d_gmm300), unit="nats");
vl.claim("qN-worst-300", "at beta 1/300 q_N is the worst of the three on held-out images, below N(0, I)", d_qn300.mean().item(),
         "<", -2.0, null=0.0, null_is="N(0, I)'s own test ELBO: no loss", se=sem(d_qn300), unit="nats");

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
    for mean, cov in [(on([1.0, -2.0]), on([[1.0, 0.9], [0.9, 1.0]])), (m, cov_full)]:
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
# Fit ex-post mixtures with 1, 3 and 30 components to the draws `z_fit` (`vl.priors.fit_gaussian_mixture(...,
# n_components=k, seed=SEED)`) into a dict `mixtures`, and store each one's mean test ELBO as the prior of `model`
# (`elbo_under`) in a dict `elbo_components`. First predict: from the table's 10 to 30 components, is the held-out
# ELBO "still paying" (a gain of 1 nat or more) or has it "stopped paying" (less, or a loss)?

# %%
my_prediction = None  # "still paying" or "stopped paying"
### BEGIN SOLUTION
my_prediction = "stopped paying"
mixtures, elbo_components = {}, {}
for k in [1, 3, 30]:
    mixtures[k] = vl.priors.fit_gaussian_mixture(z_fit, n_components=k, seed=SEED)
    elbo_components[k] = elbo_under(model, {k: mixtures[k].log_prob}, test.images)[k].mean().item()
### END SOLUTION

# %%
def test_components():
    assert my_prediction in ("still paying", "stopped paying"), 'set my_prediction to "still paying" or "stopped paying"'
    assert sorted(mixtures) == sorted(elbo_components) == [1, 3, 30], "both dicts need the keys 1, 3 and 30"
    for k, mix in mixtures.items():
        assert mix.weights.numel() == k, f"mixtures[{k}] has {mix.weights.numel()} components"
        assert torch.allclose((mix.weights[:, None] * mix.means).sum(0), z_fit.mean(0), atol=1e-3), \
            f"mixtures[{k}] was not fitted to z_fit (its mean is not the draws' mean)"
    curve = {**{k: elbo_under(model, {0: mix.log_prob}, test.images)[0].mean().item() for k, mix in mixtures.items()},
             10: elbo_test["ex-post GMM"].mean().item()}
    print("test ELBO by number of components:", {k: round(curve[k], 1) for k in sorted(curve)},
          f"  N(0, I): {elbo_test['N(0, I)'].mean():.1f}")
    assert all(abs(elbo_components[k] - curve[k]) < 1.0 for k in mixtures), "use elbo_under(...)[k].mean().item()"
    return my_prediction == ("still paying" if curve[30] - curve[10] >= 1.0 else "stopped paying")

vl.exercises.check(test_components, "compute the curve, then compare the held-out ELBO at 30 and at 10 components; "
                   "elbo_under(model, {k: mixtures[k].log_prob}, test.images)[k].mean().item() for each mixture",
                   "20 more components than 10 add under 1 nat on held-out images, or lose: choose K by held-out likelihood")

# %% [markdown] tags=["core"]
# ## 10. What to use when
#
# | codes from | measured in section 9 | use it when |
# |---|---|---|
# | $\mathcal N(0, I)$ | poor samples at $\beta \le 0.1$ (draws inside the codes' shell); the baseline test ELBO | its samples score close to $q(z)$ samples |
# | $q_N$ (training posteriors) | closer to training images than unseen images' reconstructions; worst test ELBO at $\beta = 0.1$, $1/300$ (this $N$) | you want look-alikes |
# | diagonal Gaussian fitted to $q(z)$ | far behind the full one by Fréchet distance | rarely: it drops correlations |
# | product of $q(z)$'s marginals | barely above the diagonal Gaussian | rarely: the rest is in the joint |
# | full Gaussian fitted to $q(z)$ | above the diagonal one on both columns | a cheap fix, closed-form $\log r(z)$ |
# | Gaussian mixture fitted to draws | best test ELBO of the priors fitted to the $\beta = 0.1$ model; beats $\mathcal N(0, I)$ at all three $\beta$ | the model is trained: choose $K$ by test ELBO |
# | VampPrior | a model of its own: compare test ELBOs (printed) | you retrain anyway |
#
# **The answer to the question:** for a trained encoder and decoder the best prior is the aggregate posterior
# $q(z)$ on the images it was built from (there it beats $\mathcal N(0, I)$ by $\mathrm{KL}(q(z)\,\|\,p(z))$ at this $N$),
# so "use what the encoder learned" is right in principle. But $q(z)$ must be *estimated* from its draws $z = \mu + \sigma\varepsilon$, not from the means, and
# judged on held-out images: there the raw mixture of the $N$ training posteriors, which copies training images, is
# worst at $\beta = 0.1$ and $1/300$; a mixture fitted to draws beats $\mathcal N(0, I)$ at all three $\beta$. Sharp $q(z)$ samples with poor prior samples (small $\beta$, `alpha = 300`)
# mean prior draws inside the codes' shell; soft $q(z)$ samples too mean $\beta$ is too large.

# %% [markdown] tags=["core"]
# ## Summary
#
# - The decoder is trained on codes from $q(z) = \frac1N\sum_n q(z\mid x_n)$, not $p(z)$. The KL term splits into
#   $I(x; z) \le \log N$ and $\mathrm{KL}(q(z)\,\|\,p(z))$, both depending on $N$.
# - At small $\beta$ the codes' shell is wider than the prior's: prior draws decode far worse than codes of unseen
#   images, and rescaling them to the codes' moments fixes much of that; a large $\beta$ blurs even $q(z)$ samples.
# - With encoder and decoder fixed, the training ELBO is highest with $r = q(z)$ as prior: choosing a sampler is
#   estimating $q(z)$, judged by held-out likelihood.
# - A mixture fitted to draws from $q(z)$ beats $\mathcal N(0, I)$ on held-out images at $\beta = 1/300$, $0.1$ and $1$
#   (fitted to the means it loses at $\beta = 1$); $q_N$, far ahead of $\mathcal N(0, I)$ by Fréchet distance, has the worst
#   held-out ELBO there and at $1/300$. The marginals earn part of the gain, the joint the rest.

# %% [markdown] tags=["core"]
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
