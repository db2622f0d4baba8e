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
# A student trained a VAE and asks how to generate new images with it. Draw $z \sim \mathcal N(0, I)$, the
# prior? Or use what the encoder learned, with the $\mu$ and `log_var` of training images? The question
# writes that second sampler as `z = mu + eps * log_var`: that is not a draw from $q(z\mid x)$ at all, the
# bug taken apart in notebook 02 (section 5); the right one is $z = \mu + \sigma\varepsilon$ with
# $\sigma = \exp(\tfrac12\,\texttt{log\_var})$, and that is what we use below. The standard answer is "the
# prior" (notebook 06), and it is right to the degree that the codes the decoder was trained on fill the
# prior. When the loss is `alpha * rec + beta * kl` with a large `alpha` (the question's `alpha = 300`),
# they do not. This notebook measures how far apart they are, what that does to the samples ("fuzzy" ones,
# the question says: we will tell two kinds apart), and which fix to use.
#
# **What you will learn**
#
# - define the aggregate posterior $q(z) = \frac1N\sum_n q(z\mid x_n)$ and compute $\log q(z)$ for any $z$;
# - split the KL term of the ELBO into the mutual information $I(x; z)$ and the mismatch
#   $\mathrm{KL}(q(z)\,\|\,p(z))$, and know which checks test an estimate of $\log q(z)$ (the split itself does not);
# - know that $I(x; z) \le \log N$ and $\mathrm{KL}(q(z)\,\|\,p(z))$ depend on the number $N$ of images you
#   average over, and compare them only at the same $N$;
# - find *holes*, prior draws far from every code the decoder was trained on, with a yardstick that is fair
#   to the prior;
# - measure sample quality with a classifier (Fréchet distance against images that did not make the samples,
#   confidence, class coverage) and tell blotchy samples (holes) from blurry ones (averaging);
# - choose between sampling from $\mathcal N(0, I)$, from $q(z)$, from one Gaussian or a Gaussian mixture fitted
#   after training, and from a VampPrior learned with the model.

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
# ## A digit classifier as a measuring instrument
#
# Sample quality is measured, not eyeballed, by a small CNN classifier trained on the training split
# (a few seconds; cached). Three scores of a set of generated images:
#
# - the **Fréchet distance** between Gaussians fitted to the classifier's 64 penultimate-layer features of
#   the generated images ($\mu_g, \Sigma_g$) and of a reference set of real images ($\mu_r, \Sigma_r$):
#   $d_F = \|\mu_g - \mu_r\|^2 + \operatorname{tr}\big(\Sigma_g + \Sigma_r - 2(\Sigma_g^{1/2}\Sigma_r\Sigma_g^{1/2})^{1/2}\big)$.
#   Lower is better; it grows both for images that look like no digit and for a lack of variety. The
#   reference must be independent of whatever made the samples: samplers fitted to training codes are scored
#   against the test images, and decoded test codes (below) against training images;
# - the **confidence**: the mean of the classifier's largest class probability;
# - the **class coverage**: how many classes the classifier sees, and the entropy of that histogram
#   ($\log 10 = 2.30$ nats when all ten appear equally often).
#
# For scale, `d_real` is the distance between 1,000 real training images and the test images: a sampler
# whose distance is near it makes images about as close to the reference as real ones are.

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
# counts, so `alpha = 10, beta = 1` is a β-VAE with $\beta = 0.1$, and the question's `alpha = 300` is
# $\beta = 1/300 \approx 0.003$. The objective per image is
# $\mathbb E_{q(z\mid x)}[\log p(x\mid z)] - \beta\,\mathrm{KL}(q(z\mid x)\,\|\,p(z))$. We load (or train) the
# $\beta = 0.1$ model, and a standard $\beta = 1$ VAE beside it; the extreme $\beta = 1/300$ joins them in
# the sweep further down.

# %%
model, history = vl.trained("agg_beta0.1", seed=SEED)      # a heavily weighted reconstruction term
model_b1, history_b1 = vl.trained("agg_beta1", seed=SEED)  # a standard VAE
for name, h in [("beta 0.1", history), ("beta 1", history_b1)]:
    print(f"{name}: test ELBO {h['test_elbo'][-1]:.1f} nats, test KL term {h['test_kl'][-1]:.1f} nats, "
          f"trained in {sum(h['seconds']):.0f} s ({len(h['epoch'])} epochs) when it was not in the cache")

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
# for MNIST). We use the first $N$ training images, at most 10,000. The cell checks the chunked formula
# against torch's own mixture, `MixtureSameFamily`: this comparison, not anything later, is what tests that
# $\log q(z)$ is computed right.

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
# ## Mutual information and the KL decomposition
#
# Average the KL term of the ELBO over the training images, add and subtract $\log q(z)$ inside it:
#
# $$\underbrace{\frac1N\sum_n \mathrm{KL}(q(z\mid x_n)\,\|\,p(z))}_{\text{average KL term}}
# = \underbrace{\frac1N\sum_n \mathbb E_{q(z\mid x_n)}\Big[\log \frac{q(z\mid x_n)}{q(z)}\Big]}_{I(x;\,z)}
# + \underbrace{\mathbb E_{q(z)}\Big[\log \frac{q(z)}{p(z)}\Big]}_{\mathrm{KL}(q(z)\,\|\,p(z))}$$
#
# (Hoffman & Johnson, 2016). The KL term of the ELBO thus pays for two things: the information the codes
# carry about *which* image they came from, $I(x; z)$, and the mismatch between the codes and the prior.
# Since $q(z) \ge q(z\mid x_n)/N$, each term of $I$ is at most $\log N$: **$I(x; z) \le \log N$**.
#
# We estimate both with the same pairs $(x_n, z_n \sim q(z\mid x_n))$, one per image: together the $z_n$ are
# draws from $q(z)$. $\hat I$ averages $\log q(z_n\mid x_n) - \log q(z_n)$ and $\widehat{\mathrm{KL}}$ averages
# $\log q(z_n) - \log p(z_n)$. Now look at their sum: $\log q(z_n)$ cancels, and what is left,
# $\log q(z_n\mid x_n) - \log p(z_n)$, is a Monte Carlo estimate of the average KL term. **The two add up to
# the average KL whatever we put in for $\log q(z)$**, right or wrong. (With independent draws for the two
# terms they add up in expectation; the point is the same.) So the sum is no check of $\log q(z)$. Watch it:
# the cell splits the KL term once with the true $\log q(z)$ and once with a wrong density, the Gaussian
# with the mean and variance of $q(z)$ in each dimension.

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
# Both splits add up to the exact average KL within their Monte Carlo error: that is the algebra above, not
# evidence (the first two asserts below cannot fail but by chance). What exposes the wrong density is the
# ceiling: its $\hat I$ is far above $\log N$, which no true mutual information over $N$ images can be. With the
# true $\log q(z)$ the estimate stays under $\log N$ by construction (each pair's term is at most $\log N$),
# so the ceiling catches gross errors only; the comparison with torch's mixture above is the real test.

# %%
for d, exact in split.values():     # the algebra, demonstrated: true or wrong, the sum is the average KL
    assert abs(d["sum"] - exact) < 4 * d["se_sum"]
assert mi <= math.log(N) + 1e-4     # by construction with the true log q(z)
assert wrong["I"] > math.log(N) + 1, "the wrong density should give an impossible I(x; z) > log N"  # 37.5-40.0 vs 7.3-8.3

# %% [markdown]
# ## I(x; z) and KL(q(z) || p(z)) depend on N
#
# $I(x; z) \le \log N$ is a property of the $N$ images we average over, not of the model, and so is
# $\mathrm{KL}(q_N(z)\,\|\,p(z))$, the mismatch of the aggregate posterior $q_N$ of those $N$ images. No training
# is needed to see it: $q_N$ of the first $N$ training images is just the first $N$ posteriors we already
# have. The average KL term barely depends on $N$ (it is an average over images); what moves is the split.

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
              f"  KL(q_N(z)||p(z)) {avg_kl_n - mi_n:6.2f} ± {se_n:.2f}")

# %% [markdown]
# **What the numbers say:** at $\beta = 0.1$ the mutual information sits at $\log N$ (within a few hundredths
# of a nat) for every $N$ tried: the posteriors are so narrow that each code says which of the $N$ images it
# came from. So there the "mismatch" is simply the average KL minus $\log N$: each doubling of $N$ moves
# $\log 2 = 0.69$ nats of the same average KL from the mismatch to $I$. (The average KL itself moves a little
# from one subset to the next: it averages over different images.) At $\beta = 1$ the mismatch shrinks with $N$
# too. More images fill the prior better, and a value of $\mathrm{KL}(q(z)\,\|\,p(z))$ means something only next
# to others measured at the same $N$. The ceiling is bookkeeping, not a cause: what makes prior samples poor at
# small $\beta$ is *where* the codes lie, measured further down.

# %%
for n in Ns:   # at beta 0.1, I sits at its ceiling log N for every N
    assert n_sweep["beta 0.1", n][1] > math.log(n) - 0.05, f"I(x; z) below log N at N = {n}"
kl_b1 = [n_sweep["beta 1", n][2] for n in Ns]
se_b1 = [n_sweep["beta 1", n][3] for n in Ns]
assert all(k1 - k2 > 4 * math.hypot(s1, s2) for k1, k2, s1, s2 in zip(kl_b1, kl_b1[1:], se_b1, se_b1[1:])), \
    "KL(q_N||p) at beta 1 should fall with N beyond Monte Carlo error"

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
assert d_p < 0.5 * d_all, "one coordinate from the prior should cost far less than all of them"  # 51-220 vs 435-1308

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
# training code $\mu(x_n)$ (posterior mean).
#
# The yardstick must be a set of codes the decoder handles well, drawn the way the prior's codes are drawn.
# The posterior *means* of test images are not: they are noise-free, while a prior draw carries noise in all
# 16 dimensions, and noise alone moves a point away from its nearest neighbour. So we use draws
# $z \sim q(z\mid x_\text{test})$ of held-out test images: codes of images the model never trained on, noisy
# like the codes the decoder saw in training, which decode to good digits (measured below). If prior draws
# were like them, half would lie beyond the test draws' median distance and a tenth beyond their 90th
# percentile.

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
# **What you should see:** at $\beta = 1$ the test draws lie well to the right of the test means: noise alone
# does that (most of them beyond the means' median, printed), which is why means are the wrong yardstick. At
# $\beta = 0.1$ the posteriors are so narrow that draws and means nearly coincide. The prior draws lie further
# right still, for **both** models: nearly all of them beyond the test draws' median, where half would be if
# they were like codes of unseen images, and far more than a tenth beyond their 90th percentile. So the standard
# $\beta = 1$ VAE has holes too, by this measure: its prior proposes codes farther from every training code
# than codes of unseen images are. Which model has more of them depends on the data set (on the digits data
# nearly all of the $\beta = 0.1$ model's prior draws lie beyond the 90th percentile, under half of the
# $\beta = 1$ model's; on other data, where the $\beta = 0.1$ codes' shell is twice the prior's radius and the prior's
# draws fall inside it, the order can reverse). A distance to the nearest code says only
# *that* a draw lies away from the codes; what that costs depends on how the decoder behaves there, which we
# measure next.

# %%
h01, h1 = hole["beta 0.1"], hole["beta 1"]
assert h1["draws beyond means median"] > 0.75, "noise alone should push test draws beyond the means' median"  # 86-100 %
for name, h in hole.items():
    assert h["beyond median"] > 0.75, f"{name}: prior draws should lie farther out than codes of unseen images"
    # beyond the 90th percentile: 58-99 % (beta 0.1), 37-72 % (beta 1)
    assert h["beyond p90"] > 0.3, f"{name}: far more than a tenth of the prior draws should lie beyond the 90th percentile"

# %% [markdown]
# Does it matter for the images? For each model, decode as many prior draws as there are test images, and
# the test draws, and score both. The reference here cannot be the test images: decoded test draws are
# reconstructions of them, and scoring reconstructions against the very images they reconstruct flatters them
# (they come out closer than real images are, as the last column shows). So the reference is 1,000 training
# images, independent of both sets of codes (`d_real` is the same distance for real test images).

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
# **What you should see:** more smudged, ambiguous shapes on the left. In the table, decoded test draws beat
# decoded prior draws for both models, by a factor of several at $\beta = 1$ and a far larger one at
# $\beta = 0.1$ (the ratios are printed below): at $\beta = 0.1$ the decoder copes far worse with codes away from
# the training codes. The test images were never trained on either; what makes their codes decode well is that
# they lie near codes the decoder was trained on. The last column shows what the test images as the reference
# would have said: lower distances for the decoded test draws, on the digits data even below real images'
# `d_real`. That is the score of reconstructions against the very images they reconstruct, not of new images.

# %%
ratio = {name: decoded[name, "prior draws"][0] / decoded[name, "test draws"][0] for name in ("beta 0.1", "beta 1")}
print({name: round(r, 1) for name, r in ratio.items()})
assert ratio["beta 1"] > 1.5, "at beta 1 test draws should decode closer to real digits than prior draws"  # 4.5-7.3
assert ratio["beta 0.1"] > 2 * ratio["beta 1"], "the gap should be far larger at beta 0.1"  # 17.7-43.3: 3.0-7.1 times as large
assert decoded["beta 1", "prior draws"][1] < decoded["beta 1", "test draws"][1]   # less confident on prior draws

# %% [markdown]
# ## Sweeping beta from 1/300 to 3: blotchy and blurry
#
# Now vary $\beta$ from $1/300$ (the question's `alpha = 300`) through 0.1 to 3 (KL weighted three times), and
# measure for each model the mismatch $\mathrm{KL}(q(z)\,\|\,p(z))$ (all at the same $N$), the mutual information,
# and samples decoded from $z \sim p(z)$ and from $z \sim q(z)$. "Fuzzy" samples come in two kinds, with two
# different causes, and comparing the two samplers of one model tells them apart:
#
# - **blotchy**: patchy, speckled ink in no digit's shape, decoded from codes in holes. The model itself is fine:
#   its $q(z)$ samples are good. The sign is a large gap between the two samplers, the ratio of their Fréchet
#   distances, and a classifier less sure of the prior samples. Sampling elsewhere fixes it;
# - **blurry**: soft, averaged strokes. A strong pull towards the prior (large $\beta$) makes the posteriors of
#   different images overlap, and the decoder's best answer for a code shared by several images is their
#   average. The sign: even the $q(z)$ samples lose sharpness, measured by `metrics.sharpness` (edge energy per
#   unit of ink, $\sum(\text{neighbouring-pixel differences})^2 / \sum_i x_i^2$, which blur lowers). No sampler
#   fixes it.
#
# (Decoded images are the means of $p(x\mid z)$, so all of them are softer than real pen strokes: compare the
# models' sharpness with each other, not with real images.)
#
# Training time: the sweep loads four models; the $\beta = 0.1$ and $\beta = 1$ ones are those above, and each
# of the other two that is not in the cache trains about as long as the $\beta = 1$ model did (printed at
# the top: seconds in quick mode on the digits; on full MNIST, 5 epochs of 60,000 images, about half a
# minute per model on a 2-core CPU).

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
# **What you should see:** the mismatch falls steadily as $\beta$ grows. The Fréchet distance of prior
# samples drops steeply from $\beta = 1/300$ to $\beta = 1$; at every $\beta$ codes drawn from $q(z)$ decode
# better than prior draws, and the gap between the two curves narrows as $\beta$ grows. The sharpness of the
# $q(z)$ samples falls towards $\beta = 3$. In the image rows: at $\beta = 1/300$ speckled patches of ink, at $0.1$
# patchy strokes that often make no digit (blotchy); at $\beta = 3$ soft, thickened digits (blurry).
# Each claim is checked in its own cell below.

# %% [markdown]
# The mismatch shrinks as $\beta$ grows (same $N$ for every model), and at $\beta = 1/300$ and $0.1$ the
# mutual information sits at its ceiling $\log N$.

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
# **Blotchy at small $\beta$:** the gap between the two samplers of one model, the sign of blotchy samples,
# shrinks at every step up in $\beta$ (the ratio column), and the classifier is less sure of the small-$\beta$
# prior samples than of the $\beta = 1$ model's. The question's `alpha = 300` is the extreme: its $q(z)$ samples
# are as good as any, its prior samples the worst of all.

# %%
gap = [dp / da for dp, da in zip(col["d_prior"], col["d_agg"])]
assert all(g1 > g2 for g1, g2 in zip(gap, gap[1:])), "the gap between p(z) and q(z) samples should shrink as beta grows"
assert max(col["conf_prior"][:2]) < col["conf_prior"][i1], "small-beta prior samples should be less digit-like"

# %% [markdown]
# **Blurry at large $\beta$:** at $\beta = 3$ even the $q(z)$ samples are softer than at $\beta = 0.1$ and $1$, and they
# score worse than at $\beta = 1$: the stronger pull towards the prior leaves the codes less information about the
# image (a lower $I(x; z)$), and the decoder averages. No sampler fixes blur; a smaller $\beta$ (or a better model) does.

# %%
assert col["sharp_agg"][i3] < min(col["sharp_agg"][i01], col["sharp_agg"][i1]), "q(z) samples should soften at beta 3"
assert col["mi"][i3] < col["mi"][i1], "a heavier KL weight should leave the codes less information"  # 5.4-5.8 vs 7.1-8.0
assert col["d_agg"][i3] > col["d_agg"][i1], "a heavier KL weight should blur even the q(z) samples"  # 87-158 vs 41-60

# %% [markdown]
# ## Five fixes compared on one model
#
# Ways to get codes the decoder knows, for the $\beta = 0.1$ model:
#
# 1. **sample the aggregate posterior**: pick a training image at random and draw $z \sim q(z\mid x_n)$
#    (the question's first sampler, done right: $z = \mu + \sigma\varepsilon$ with $\mu, \sigma$ of a random
#    training image);
# 2. **a diagonal Gaussian** with the mean and variance of $q(z)$ in each dimension (`wrong_q` above);
# 3. **one full-covariance Gaussian** with the mean and covariance of $q(z)$,
#    $\operatorname{Cov}_{q(z)}[z] = \operatorname{Cov}_n(\mu(x_n)) + \frac1N\sum_n\operatorname{diag}\sigma^2(x_n)$
#    (`vl.priors.moment_matched_gaussian`): the same marginals as 2, plus the correlations between dimensions;
# 4. **an ex-post Gaussian mixture** (Ghosh et al., 2020): fit $p_\text{GMM}(z) = \sum_{k=1}^{10}\pi_k\mathcal N(z; \mu_k, \Sigma_k)$
#    to the encoded training set after training (`vl.priors.fit_gaussian_mixture`), and sample it;
# 5. **a VampPrior** learned end to end (Tomczak & Welling, 2018), $p(z) = \frac1K\sum_k q(z\mid u_k)$ with $K$
#    learned pseudo-inputs $u_k$: a different model (recipe `agg_vamp_beta0.1`) trained with the same $\beta$.

# %%
gmm = vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=10, seed=SEED)
p_full = vl.priors.moment_matched_gaussian(qz_x)
model_vamp, _ = vl.trained("agg_vamp_beta0.1", seed=SEED)
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
print(f"{'sampler':<24}{'Fréchet':>9}{'confidence':>12}{'classes':>9}{'entropy':>9}{'to train':>10}")
for name, q in quality.items():
    print(f"{name:<24}{q['frechet']:9.1f}{q['confidence']:12.3f}{q['classes']:9d}{q['class_entropy']:9.2f}{q['nearest']:10.2f}")
nearest_test = metrics.distance_to_nearest(test.images, x).mean().item()
print(f"{'(real images)':<24}{d_real:9.1f}{'':30}{nearest_test:10.2f}")
fd = {name: q["frechet"] for name, q in quality.items()}
corr_share = (fd["diagonal Gaussian"] - fd["full-cov. Gaussian"]) / (fd["diagonal Gaussian"] - fd["ex-post GMM"])
print(f"share of the diagonal Gaussian's gap to the mixture that the correlations close: {corr_share:.0%}")

# %% [markdown]
# **What you should see:** blotchy, ambiguous digits from $\mathcal N(0, I)$ and from the diagonal Gaussian;
# mostly clean digits from the full-covariance Gaussian; clean digits of all classes from the aggregate
# posterior and the ex-post mixture. The table puts numbers on it, the VampPrior's too (a different model,
# trained with the same $\beta = 0.1$, sampled from its own learned prior). The last column is the pixel
# distance from each image to its nearest training image: samples from the aggregate posterior are closer to a
# training image than unseen real digits are. They are reconstructions of training images, not new digits.
#
# The ex-post mixture, the aggregate posterior and the VampPrior all beat $\mathcal N(0, I)$ by far:

# %%
assert fd["ex-post GMM"] < 0.5 * fd["N(0, I)"], "the ex-post mixture should beat N(0, I) by far at beta 0.1"
assert fd["aggregate posterior"] < 0.5 * fd["N(0, I)"]
assert fd["VampPrior (own model)"] < fd["N(0, I)"], "a learned prior should beat N(0, I) at the same beta"

# %% [markdown]
# Right marginals are not enough (the diagonal Gaussian stays far behind the mixture), but most of what they
# miss is linear correlation between the dimensions, not clumps: one full-covariance Gaussian closes most of
# the diagonal Gaussian's gap to the 10-component mixture (the share printed above), and the mixture's clumps
# close the rest.

# %%
assert fd["full-cov. Gaussian"] < fd["diagonal Gaussian"], "the correlations should matter"
assert corr_share > 0.5, "one full-covariance Gaussian should close most of the gap to the mixture"
assert fd["ex-post GMM"] < fd["full-cov. Gaussian"], "... and the clumps the rest"

# %% [markdown]
# Both sample all classes, and only the aggregate posterior copies its training images:

# %%
n_classes = classifier.head.out_features
assert quality["aggregate posterior"]["classes"] == quality["ex-post GMM"]["classes"] == n_classes
assert quality["aggregate posterior"]["nearest"] < nearest_test, "q(z) samples should be near-copies of training images"
assert quality["aggregate posterior"]["nearest"] < quality["ex-post GMM"]["nearest"], "the mixture should stray further"

# %% [markdown]
# The aggregate posterior usually has the lower Fréchet distance of the two (near-copies of training images
# score well against real digits; it is not guaranteed, so it is not asserted); both are far ahead of
# $\mathcal N(0, I)$ for this model.
#
# ### Exercise 2: sampling a full-covariance Gaussian by hand
#
# `p_full.sample` hides one line of linear algebra. Write `sample_gaussian(mean, cov, n)` that returns `n`
# draws from $\mathcal N(\text{mean}, \text{cov})$, shape `(n, D)`, using only `torch.randn` and
# `torch.linalg.cholesky`: with $\Sigma = LL^\top$ and $\varepsilon \sim \mathcal N(0, I)$, $z = m + L\varepsilon$
# has covariance $L\,I\,L^\top = \Sigma$. (Mind the shapes: with one draw per row, $z = m + \varepsilon L^\top$.)

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
    for mean, cov in [(torch.tensor([1.0, -2.0]), torch.tensor([[1.0, 0.9], [0.9, 1.0]])),
                      (torch.tensor([0.0, 0.0, 3.0]), torch.tensor([[2.0, -1.0, 0.5], [-1.0, 1.0, 0.0], [0.5, 0.0, 0.5]])),
                      (m, cov_full)]:
        mean, cov = mean.to(device), cov.to(device)   # where the model's codes are
        z = sample_gaussian(mean, cov, 100_000)
        scale = cov.diagonal().max().item()
        mean_err, cov_err = (z.mean(0) - mean).abs().max().item(), (torch.cov(z.T) - cov).abs().max().item()
        print(f"D = {len(mean)}: largest error of the mean {mean_err:.3f}, of the covariance {cov_err:.3f}")
        ok = ok and z.shape == (100_000, len(mean)) and mean_err < 0.05 * math.sqrt(scale) and cov_err < 0.05 * scale
    return ok

vl.exercises.check(test_sample_gaussian, "L = torch.linalg.cholesky(cov); eps = torch.randn(n, D); z = mean + eps @ L.T "
                   "(eps * cov.diagonal().sqrt() would lose the correlations, eps @ L the wrong way round too)",
                   "your draws have the mean and the covariance asked for: decode them and you get the "
                   "full-covariance Gaussian's samples")

# %% [markdown]
# ### Exercise 3: how many components?
#
# Fit ex-post mixtures with 1, 3 and 30 components to the codes `qz_x.mean`
# (`vl.priors.fit_gaussian_mixture(..., n_components=k, seed=SEED)`), keep them in a dict `mixtures` from the
# number of components to the fitted prior, decode `n_gen` draws of each with `model`, and store their Fréchet
# distances to the test images in a dict `d_components`. Then compare with the table: where does adding
# components stop paying?

# %%
### BEGIN SOLUTION
mixtures, d_components = {}, {}
for k in [1, 3, 30]:
    mixtures[k] = vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=k, seed=SEED)
    d_components[k] = metrics.frechet_distance(model.sample(n_gen, z=mixtures[k].sample(n_gen)), test.images, classifier)
### END SOLUTION

# %%
def test_components():
    assert sorted(mixtures) == sorted(d_components) == [1, 3, 30], "both dicts need the keys 1, 3 and 30"
    codes_mean = qz_x.mean.mean(0)
    for k, mix in mixtures.items():
        assert mix.weights.numel() == k, f"mixtures[{k}] has {mix.weights.numel()} components"
        assert torch.allclose((mix.weights[:, None] * mix.means).sum(0), codes_mean, atol=1e-3), \
            f"mixtures[{k}] was not fitted to qz_x.mean (its mean is not the codes' mean)"
    again = metrics.frechet_distance(model.sample(n_gen, z=mixtures[30].sample(n_gen)), test.images, classifier)
    print({k: round(d, 1) for k, d in d_components.items()}, f"  30 components, measured again: {again:.1f}"
          f"   table: N(0, I) {fd['N(0, I)']:.1f}, full-cov. Gaussian {fd['full-cov. Gaussian']:.1f}, "
          f"10 components {fd['ex-post GMM']:.1f}")
    return abs(d_components[30] - again) < 0.3 * again + 10

vl.exercises.check(test_components, "vl.priors.fit_gaussian_mixture(qz_x.mean, n_components=k, seed=SEED), then "
                   "model.sample(n_gen, z=mixtures[k].sample(n_gen)) and metrics.frechet_distance(..., test.images, classifier)",
                   "compare one component with the full-covariance Gaussian and 10 components with the table")

# %% [markdown]
# ## What to use when
#
# | codes from | costs | measured above ($\beta = 0.1$) | use it when |
# |---|---|---|---|
# | $\mathcal N(0, I)$, the prior | nothing | poor at $\beta \le 0.1$ (blotchy); worse than $q(z)$ even at $\beta = 1$ | its samples score close to the $q(z)$ samples (measure the gap), or you need the model's own $p(z)$, e.g. for likelihoods |
# | the aggregate posterior $q(z)$ | storing $N$ posteriors | among the best Fréchet distances, but samples are near-copies of training images | you want more images like the training set, not new ones |
# | a diagonal Gaussian with the moments of $q(z)$ | two vectors | better than $\mathcal N(0, I)$, far behind the rest | never on its own: it drops the correlations |
# | one full-covariance Gaussian fitted to $q(z)$ | a mean and a $D\times D$ matrix | most of the way from the diagonal Gaussian to the mixture | you want a cheap fix with a $\log p(z)$ in closed form |
# | an ex-post Gaussian mixture | a fit after training (seconds) | far better than $\mathcal N(0, I)$, and further from the training images than $q(z)$ | the model is trained already and $\beta < 1$: new images, with a $\log p(z)$ you can evaluate |
# | a VampPrior | retraining, slower epochs | better than $\mathcal N(0, I)$ at the same $\beta$ | you train anew and want the ELBO's KL term measured against the prior you sample from |
# | one image's or one class's posterior (notebook 06) | the images to condition on | near-copies of that image / that class in its variety | you want more of *this* image or class |
#
# **The answer to the question:** the prior is the right distribution to sample only to the degree that the
# codes the decoder was trained on fill it, and that is measurable: decode draws from $p(z)$ and from $q(z)$ and
# score both against real images the samples were not made from; a large gap means holes. With `alpha = 300`
# ($\beta = 1/300$) or $\beta = 0.1$ the gap is large (the ratio column of the sweep) and the prior samples come out
# blotchy: there, sample codes the decoder knows: $z = \mu + \sigma\varepsilon$ of a random training image (not
# `mu + eps * log_var`) for look-alikes of the training set, one full-covariance Gaussian or, better, a mixture
# fitted to the codes for new images. Samples that are blurry rather than blotchy come from a large $\beta$, and
# no choice of sampler sharpens them. $\mathrm{KL}(q(z)\,\|\,p(z))$ grows as $\beta$ falls too, but its value depends
# on the number $N$ of images it is computed over, so compare it only at one $N$.

# %% [markdown]
# ## References
#
# - Kingma, D. P., & Welling, M. (2014). Auto-encoding variational Bayes. *International Conference on Learning
#   Representations (ICLR)*.
# - Higgins, I., Matthey, L., Pal, A., Burgess, C., Glorot, X., Botvinick, M., Mohamed, S., & Lerchner, A. (2017).
#   β-VAE: Learning basic visual concepts with a constrained variational framework. *ICLR*.
# - Hoffman, M. D., & Johnson, M. J. (2016). ELBO surgery: yet another way to carve up the variational evidence
#   lower bound. *NIPS Workshop on Advances in Approximate Bayesian Inference*. (The split of the KL term into
#   $I(x; z)$ and $\mathrm{KL}(q(z)\,\|\,p(z))$, and $I \le \log N$.)
# - Rosca, M., Lakshminarayanan, B., & Mohamed, S. (2018). Distribution matching in variational inference.
#   *arXiv:1802.06847*. (The aggregate posterior's mismatch with the prior, and holes.)
# - Tomczak, J. M., & Welling, M. (2018). VAE with a VampPrior. *International Conference on Artificial
#   Intelligence and Statistics (AISTATS)*.
# - Ghosh, P., Sajjadi, M. S. M., Vergari, A., Black, M., & Schölkopf, B. (2020). From variational to
#   deterministic autoencoders. *ICLR*. (Ex-post density estimation: a Gaussian or a mixture fitted to the codes.)
# - Burda, Y., Grosse, R., & Salakhutdinov, R. (2016). Importance weighted autoencoders. *ICLR*. (Active units.)
# - Heusel, M., Ramsauer, H., Unterthiner, T., Nessler, B., & Hochreiter, S. (2017). GANs trained by a two
#   time-scale update rule converge to a local Nash equilibrium. *Advances in Neural Information Processing
#   Systems (NeurIPS)*. (The Fréchet distance in a classifier's features.)
