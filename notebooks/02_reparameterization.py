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
# # 02 · The reparameterization trick, measured
#
# *Time: about 95 minutes (core path 55) · Read first: 01 · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/02_reparameterization.ipynb)
#
# A VAE's objective contains an expectation over the encoder's distribution,
# $\mathbb E_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]$, and training needs its gradient with respect to the encoder's
# parameters $\phi$. This notebook derives the two estimators that work and **measures** how noisy each one is.
#
# **What you will learn**
#
# After this notebook you can
# - explain why `q.sample()` carries no gradient and `q.rsample()` does;
# - derive the **score-function** (REINFORCE) and **reparameterized** (pathwise) gradient estimators, and measure their
#   variance on $f(z) = (z-k)^2$ and on the encoder of a real VAE;
# - explain with numbers why **one** sample of $z$ per image is enough for training;
# - show that training with $z = \mu$ optimises no bound on $\log p(x)$, and that its best encoder is as wide as the
#   prior, whatever $x$;
# - spot the bug `z = mu + eps * log_var` by the variance of the $z$ it produces.

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
from torch.distributions import Independent, Normal, kl_divergence

import vae_lesson as vl

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown] tags=["core"]
# ## 1. Sampling cuts the gradient
#
# Take $q_\phi(z) = \mathcal N(\mu, \sigma^2)$ with $\phi = (\mu, \sigma)$. `qz.sample()` draws a number from a random
# number generator: torch records no path from $\mu, \sigma$ to $z$, so $z$ has no gradient. `qz.rsample()` computes the
# same draw as
#
# $$z = \mu + \sigma\,\varepsilon, \qquad \varepsilon \sim \mathcal N(0, 1),$$
#
# a differentiable function with $\partial z/\partial\mu = 1$ and $\partial z / \partial \sigma = \varepsilon$.

# %%
mu, sigma = torch.tensor(0.5, requires_grad=True), torch.tensor(2.0, requires_grad=True)
qz = Normal(mu, sigma)
z = qz.sample()
print(f"sample():  z = {z.item():+.3f}, requires_grad = {z.requires_grad}, grad_fn = {z.grad_fn}")
try:
    z.backward()
    raise AssertionError("z.backward() should fail: sample() carries no gradient")
except RuntimeError as err:
    print("z.backward() fails:", str(err).split(" and ")[0])
assert not z.requires_grad and z.grad_fn is None

# %%
z = qz.rsample()
z.backward()
eps = (z - mu) / sigma
print(f"rsample(): z = {z.item():+.3f}, grad_fn = {type(z.grad_fn).__name__}")
print(f"dz/dmu = {mu.grad.item():.3f} (expected 1), dz/dsigma = {sigma.grad.item():+.4f} (expected eps = {eps.item():+.4f})")
assert z.requires_grad and torch.isclose(mu.grad, torch.tensor(1.0)) and torch.isclose(sigma.grad, eps.detach(), atol=1e-6)


# %% [markdown]
# ### Two ways to differentiate an expectation
#
# In $\mathbb E_{q_\phi}[f(z)] = \int f(z)\, q_\phi(z)\, dz$ the parameters sit in the **density**, not in $f$:
# differentiating $f$ at a drawn $z$ misses how $\phi$ moves the probability mass.
#
# **Score function (REINFORCE).** Differentiate the density, using $\nabla q = q\, \nabla \log q$:
#
# $$\nabla_\phi \int f(z)\, q_\phi(z)\, dz = \int f(z)\, q_\phi(z)\, \nabla_\phi \log q_\phi(z)\, dz
# = \mathbb E_{q_\phi}\!\left[f(z)\, \nabla_\phi \log q_\phi(z)\right].$$
#
# One draw gives $\hat g_{\text{score}} = f(z)\, \nabla_\phi \log q_\phi(z)$. It needs only $f(z)$, not its derivative,
# so it works for any $f$ and $q$. For the Gaussian, $\nabla_\mu \log q = (z-\mu)/\sigma^2 = \varepsilon/\sigma$.
#
# **Pathwise (reparameterization).** With $z = \mu + \sigma\varepsilon$ the expectation is over the fixed
# $\varepsilon \sim \mathcal N(0,1)$, and the gradient moves inside:
#
# $$\nabla_\phi\, \mathbb E_{\varepsilon}[f(\mu + \sigma\varepsilon)] = \mathbb E_\varepsilon[\nabla_\phi f(\mu + \sigma\varepsilon)],
# \qquad \hat g_{\text{path}, \mu} = f'(z), \quad \hat g_{\text{path}, \sigma} = f'(z)\,\varepsilon.$$
#
# It uses $f'$, so it knows which way $f$ changes; the score function must find that out from the random sign of
# $\varepsilon$. Both are unbiased; they differ in variance. In torch the score-function estimate is the gradient of
# the surrogate `f(z).detach() * qz.log_prob(z)` with `z = qz.sample()`.

# %% [markdown] tags=["core"]
# ## 2. Both estimators on $f(z) = (z-k)^2$
#
# With $z \sim \mathcal N(\mu, \sigma^2)$ and $m = \mu - k$ (the distance from the optimum $\mu = k$):
# $\mathbb E[f] = m^2 + \sigma^2$, so the exact gradient is $\nabla_\mu \mathbb E[f] = 2m$.
#
# **Pathwise:** $\hat g = 2(z-k) = 2(m + \sigma\varepsilon)$. Mean $2m$, variance $\;4\sigma^2$.
#
# **Score function:** $\hat g = (m+\sigma\varepsilon)^2\,\varepsilon/\sigma = \big(m^2\varepsilon + 2m\sigma\varepsilon^2 + \sigma^2\varepsilon^3\big)/\sigma$.
# With $\mathbb E[\varepsilon^2]=1$, $\mathbb E[\varepsilon^4]=3$, $\mathbb E[\varepsilon^6]=15$ and all odd moments $0$:
# the mean is $2m\sigma/\sigma = 2m$, and
#
# $$\mathbb E[\hat g^2] = \frac{1}{\sigma^2}\Big(m^4 \cdot 1 + 4m^2\sigma^2\cdot 3 + \sigma^4 \cdot 15 + 2 m^2\sigma^2 \cdot 3\Big)
# = \frac{m^4}{\sigma^2} + 18m^2 + 15\sigma^2,$$
#
# so
#
# $$\operatorname{Var}\hat g_{\text{score}} = \frac{m^4}{\sigma^2} + 14 m^2 + 15\sigma^2 \quad\text{against}\quad \operatorname{Var}\hat g_{\text{path}} = 4\sigma^2 .$$
#
# **In $D$ dimensions** ($f(z) = \lVert z - k\rVert^2$, gradient with respect to $\mu_1$), take the optimum $m = 0$:
# $\hat g_{\text{score}} = \sigma\, S\, \varepsilon_1$ with $S = \sum_{j=1}^D \varepsilon_j^2 \sim \chi^2_D$. By symmetry
# $\mathbb E[S^2\varepsilon_1^2] = \mathbb E[S^3]/D = (D+2)(D+4)$, so $\operatorname{Var}\hat g_{\text{score}} = \sigma^2 (D+2)(D+4)$,
# while the pathwise $2(z_1-k_1)$ does not see the other coordinates: still $4\sigma^2$.

# %%
def var_score(m, sigma, D=1):  # the score function's variance, d/dmu_1 E||z - k||^2 (formulas above)
    assert D == 1 or m == 0, "the D-dimensional formula above is for m = 0"
    return m**4 / sigma**2 + 14 * m**2 + 15 * sigma**2 if D == 1 else sigma**2 * (D + 2) * (D + 4)


var_path = lambda m, sigma, D=1: 4 * sigma**2


def mu_gradients(m, sigma, D=1, n=100_000, k=1.0):  # n one-sample estimates by both estimators, one mu per row
    f = lambda z: (z - k).pow(2).sum(-1)
    out = {}
    for name in ("score", "path"):
        mu = torch.full((n, D), k + m, requires_grad=True)
        qz = Normal(mu, sigma)
        z = qz.rsample() if name == "path" else qz.sample()
        (f(z) if name == "path" else f(z).detach() * qz.log_prob(z).sum(-1)).sum().backward()
        out[name] = mu.grad[:, 0]
    return out


def summarize(g):  # sample mean and variance, with their standard errors (from the 2nd and 4th moments)
    g = g.double()
    mean, var, m4 = g.mean().item(), g.var().item(), (g - g.mean()).pow(4).mean().item()
    return mean, math.sqrt(var / len(g)), var, math.sqrt(max(m4 - var**2, 0) / len(g))


# %% [markdown]
# Three sweeps from $D=1,\ \sigma=1,\ m=1$ ($m=0$ in the dimension sweep, where the $D$-dimensional formula holds); a
# measured mean or variance matches its formula when within 5 standard errors.

# %%
n = vl.by_mode(400_000, 100_000)
rows = ([dict(sweep="D", D=D, sigma=1.0, m=0.0) for D in (1, 2, 4, 8, 16, 32, 64)]
        + [dict(sweep="sigma", D=1, sigma=s, m=1.0) for s in (2.0, 1.0, 0.5, 0.25, 0.1)]
        + [dict(sweep="m", D=1, sigma=1.0, m=m) for m in (0.0, 0.5, 1.0, 2.0, 4.0)])
print("  D  sigma    m | mean score  mean path    2m |  var score     theory | var path  theory |   ratio  theory")
for r in rows:
    g = mu_gradients(r["m"], r["sigma"], r["D"], n)
    for name, theory in (("score", var_score), ("path", var_path)):
        r[f"mean_{name}"], r[f"se_mean_{name}"], r[f"var_{name}"], r[f"se_var_{name}"] = summarize(g[name])
        r[f"theory_{name}"] = theory(r["m"], r["sigma"], r["D"])
        assert abs(r[f"mean_{name}"] - 2 * r["m"]) < 5 * r[f"se_mean_{name}"], (name, r)  # unbiased: mean 2m
        assert abs(r[f"var_{name}"] - r[f"theory_{name}"]) < 5 * r[f"se_var_{name}"], (name, r)  # as derived
    assert r["var_path"] < r["var_score"]
    print(f"{r['D']:>3} {r['sigma']:>6.2f} {r['m']:>4.1f} | {r['mean_score']:>10.3f} {r['mean_path']:>10.3f} "
          f"{2 * r['m']:>5.1f} | {r['var_score']:>10.2f} {r['theory_score']:>10.2f} | {r['var_path']:>8.3f} "
          f"{r['theory_path']:>7.3f} | {r['var_score'] / r['var_path']:>7.1f} {r['theory_score'] / r['theory_path']:>7.1f}")

# %%
big_D, small_sigma, far = (next(r for r in rows if r["sweep"] == sweep and r[sweep] == value)
                           for sweep, value in (("D", 64), ("sigma", 0.1), ("m", 4.0)))
for label, r in (("D = 64", big_D), ("sigma = 0.1", small_sigma), ("m = 4", far)):
    print(f"{label:12s}: the score function's variance is {r['var_score'] / r['var_path']:,.0f} times the pathwise one")
assert (big_D["var_score"] > 1000 * big_D["var_path"] and small_sigma["var_score"] > 2000 * small_sigma["var_path"]
        and far["var_score"] > 100 * far["var_path"])  # theory: 66 * 68 / 4 = 1122, 2854, (256 + 224 + 15) / 4 = 124

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="tight")
for ax, (sweep, xs, xlabel) in zip(axes, (("D", range(1, 65), r"dimension $D$ ($m=0$, $\sigma=1$)"),
                                          ("sigma", torch.linspace(0.08, 2.2, 100).tolist(), r"$\sigma$ ($m=1$, $D=1$)"),
                                          ("m", torch.linspace(0, 4.2, 100).tolist(), r"$m = \mu - k$ ($\sigma=1$, $D=1$)"))):
    rs = [r for r in rows if r["sweep"] == sweep]
    base = {k: rs[0][k] for k in ("D", "sigma", "m")}
    for name, theory, color in (("score", var_score, "C3"), ("path", var_path, "C0")):
        ax.plot(xs, [theory(**{**base, sweep: x}) for x in xs], color=color, label=f"{name}: theory")
        ax.plot([r[sweep] for r in rs], [r[f"var_{name}"] for r in rs], "o", color=color, label=f"{name}: measured")
    ax.set(yscale="log", xscale="linear" if sweep == "m" else "log", xlabel=xlabel,
           ylabel="variance of the one-sample $\\mu$-gradient" if sweep == "D" else "")
axes[0].legend(fontsize=8)
fig.suptitle("Score function vs pathwise: variance of $\\nabla_\\mu\\, \\mathbb{E}[(z-k)^2]$");

# %% [markdown]
# **What you should see:** the dots on the lines. The pathwise variance (blue) is $4\sigma^2$ whatever the dimension or
# the distance to the optimum; the score function's (red) grows like $D^2$, like $1/\sigma^2$ as $\sigma$ shrinks and
# like $m^4$ away from the optimum. Both means equal the exact gradient $2m$ (the table). A VAE's encoder meets the first
# two bad cases at once: 16 latent dimensions, and posterior $\sigma$ well below 1 (section 6).

# %% [markdown] tags=["core"]
# ## 3. The same comparison on a real VAE encoder
#
# The VAE is notebook 01's (recipe `"elbo_binary"`: 16 latent dimensions, Bernoulli decoder, binarised digits; about
# 10 s to train in quick mode on a quiet 2-core CPU, then cached). Now $f$ is the ELBO's reconstruction term for 128
# binarised training images, $\frac1B\sum_i \log p_\theta(x_i \mid z_i)$ with one $z_i \sim q_\phi(z\mid x_i)$ each, and
# $\phi$ are the encoder's weights (about 400,000). We measure the total variance
# $\operatorname{tr}\operatorname{Cov}[\hat g] = \sum_j \operatorname{Var}[\hat g_j]$.
#
# To be fair, the score function gets a **baseline**: subtracting from $f$ a number $b$ that does not depend on the draw
# keeps it unbiased, since $\mathbb E_q[\nabla_\phi \log q_\phi(z)] = 0$ (exercise 3). With $S$ draws per image, the
# *leave-one-out* baseline of a draw is the mean $f$ of the image's other $S-1$ draws (Kool et al., 2019; Mnih &
# Rezende, 2016). $S$ draws cost $S$ decoder passes for either estimator, and averaging $S$ pathwise draws divides their
# variance by $S$, so we compare at equal $S$.

# %%
start = time.perf_counter()
model, history = vl.trained("elbo_binary", seed=SEED)
print(f"trained or loaded in {time.perf_counter() - start:.1f} s")
train = vl.load(split="train")
train_images = vl.data.binarize(train.images, torch.Generator().manual_seed(SEED))  # binary, drawn once
random_batch = lambda B: train_images[torch.randperm(len(train), device=train_images.device)[:B]]
x, encoder_params = random_batch(128), list(model.encoder.parameters())
print(f"encoder weights: {sum(p.numel() for p in encoder_params):,}; "
      f"test ELBO of the trained model: {history['test_elbo'][-1]:.1f} nats")


def encoder_gradient(x, estimator, S=1):  # d/d(encoder weights) of mean log p(x|z): "path", "score" or "score-loo"
    qz = model.encoder(x)
    z = qz.rsample((S,)) if estimator == "path" else qz.sample((S,))              # (S, B, D)
    log_px_z = model.decoder(z.flatten(0, 1)).log_prob(x.repeat(S, 1, 1, 1)).view(S, len(x))
    f = log_px_z.detach()
    b = (f.sum(0) - f) / (S - 1) if estimator == "score-loo" else 0.0             # the others' mean
    objective = log_px_z.mean() if estimator == "path" else ((f - b) * qz.log_prob(z)).mean()
    return torch.cat([g.flatten() for g in torch.autograd.grad(objective, encoder_params)])


total_variance = lambda draw: torch.stack([draw() for _ in range(R)]).var(0).sum().item()  # over all weights, R draws


R = vl.by_mode(200, 60)
G = {est: torch.stack([encoder_gradient(x, est) for _ in range(R)]) for est in ("score", "path")}
total_var = {est: G[est].var(0).sum().item() for est in G}
enc_ratio = total_var["score"] / total_var["path"]
print(f"one draw per image: total variance  score function {total_var['score']:,.0f}   pathwise "
      f"{total_var['path']:,.1f}   ratio {enc_ratio:,.0f}")
var_at = {(est, S): total_variance(lambda: encoder_gradient(x, est, S))           # at equal decoder passes
          for S in (2, 8) for est in ("path", "score-loo")}
for S in (2, 8):
    print(f"{S} draws per image: pathwise {var_at['path', S]:,.1f}, score function with the leave-one-out "
          f"baseline {var_at['score-loo', S]:,.1f}: ratio {var_at['score-loo', S] / var_at['path', S]:.1f}")
seconds, sync = {}, (torch.cuda.synchronize if device.type == "cuda" else (lambda: None))  # a GPU runs ahead of Python
for est in ("path", "score-loo"):                                # the time of one gradient at 8 draws per image
    sync()
    start = time.perf_counter()
    for _ in range(10):
        encoder_gradient(x, est, 8)
    sync()
    seconds[est] = (time.perf_counter() - start) / 10
print(f"seconds per gradient at 8 draws: pathwise {seconds['path']:.3f}, score function {seconds['score-loo']:.3f}; "
      f"ratio at equal time {var_at['score-loo', 8] / var_at['path', 8] * seconds['score-loo'] / seconds['path']:.1f}")

# %%
j = G["path"].mean(0).abs().argmax()  # the encoder weight with the largest gradient
g_j = {est: G[est][:, j].cpu() for est in G}
std_ratio = (g_j["score"].std() / g_j["path"].std()).item()
print(f"weight #{j.item()}: mean of the {R} draws: score function {g_j['score'].mean():.2f}, "
      f"pathwise {g_j['path'].mean():.2f}; the score-function draws are {std_ratio:,.0f} x wider (standard deviation)")
vl.claim("sf-no-baseline", "without a baseline the score function is thousands of times noisier than the pathwise "
         "gradient", enc_ratio, ">", 1000, null=1, null_is="as noisy as the pathwise gradient");
vl.claim("baseline-helps", "a leave-one-out baseline cuts the score function's variance by a factor of hundreds or "
         "more (8 draws per image)", total_var["score"] / 8 / var_at["score-loo", 8], ">", 100, null=1,
         null_is="no gain from the baseline: 8 draws without one");
vl.claim("path-beats-baselined-sf", "even with the baseline, at equal decoder passes (8 draws per image), the score "
         "function stays many times noisier than the pathwise gradient",
         var_at["score-loo", 8] / var_at["path", 8], ">", 5, null=1, null_is="equally noisy");

fig, ax = plt.subplots(figsize=(7, 2.4))
jitter = 0.15 * torch.randn(R, generator=torch.Generator().manual_seed(0))  # own generator: later draws unchanged
for row, (est, color) in enumerate((("path", "C0"), ("score", "C3"))):
    ax.plot(g_j[est], row + jitter, "o", ms=4, alpha=0.6, color=color)
ax.axvline(g_j["path"].mean().item(), color="k", lw=0.8, ls=":")
ax.set(yticks=[0, 1], yticklabels=["pathwise", "score function"], ylim=(-0.6, 1.6), title=f"{R} draws of each estimator "
       f"(dotted: the pathwise mean)", xlabel=f"one-sample gradient of encoder weight #{j.item()}");

# %% [markdown]
# **What you should see:** the pathwise draws (blue) sit on top of each other; the score-function draws (red, one per
# image, no baseline) spread many times wider. Most of that gap is the missing baseline (without one, the variance changes
# with any constant added to $f$). The leave-one-out baseline over 8 draws per
# image cuts the score function's variance by a factor of hundreds or more, yet it stays many times above the pathwise
# gradient's at the same 8 decoder passes, so it needs that ratio times more passes per step to match. (Printed
# times include the pathwise backward pass.) Stronger rivals,
# untested here: baselines learned from $x$ (Mnih & Gregor, 2014) and control variates built from a relaxation (REBAR,
# Tucker et al., 2017; RELAX, Grathwohl et al., 2018). The score function is for what `rsample()` cannot do, such as
# discrete latent variables.
#
# ### 3b. Can $R$ draws test that the two agree in the mean?
#
# A test of "same mean" sees a difference only if it is several standard errors
# $\sqrt{(s^2_{\text{score}} + s^2_{\text{path}})/R}$ wide. Compare that with the gradient itself:

# %%
se_diff = ((g_j["score"].var() + g_j["path"].var()) / R).sqrt().item()
detectable = 4 * se_diff / g_j["path"].mean().abs().item()   # a test at about 4 standard errors
draws_needed = (4 * g_j["score"].std().item() / (0.1 * g_j["path"].mean().abs().item())) ** 2
print(f"weight #{j.item()}: standard error of the difference of the means {se_diff:.2f}; "
      f"pathwise gradient {g_j['path'].mean():.2f}")
print(f"the test could only see a bias larger than {detectable:.1f} x the gradient itself; "
      f"to see a 10 % bias it would need about {draws_needed:,.0f} score-function draws")
assert detectable > 1  # no power

# %% [markdown]
# With $R$ draws the score function is too noisy to test anything: a pathwise estimator biased by more than the whole
# gradient would pass. A test with power needs a quantity whose exact value we know. The KL term has one: its closed
# form can be differentiated exactly, and the one-sample pathwise estimate $\log q_\phi(z\mid x) - \log p(z)$ with
# $z = \mu + \sigma\varepsilon$ must match it on average. On the 32 biases of the encoder's output layer (they move $\mu$
# and $\log\sigma^2$ directly), each $t = (\bar g_{\text{path}} - g_{\text{exact}}) / (s_{\text{path}}/\sqrt R)$ is
# roughly standard normal, so all 32 should stay below 4.5 in absolute value; and the test must be able to see a small
# bias.

# %%
out_bias = list(model.encoder.parameters())[-1]   # the output layer's 2 x 16 biases
assert out_bias.numel() == 32


def kl_bias_gradient(x, exact):  # d/d(output biases) of the batch-mean KL: closed form or one pathwise sample
    qz = model.encoder(x)
    if exact:
        kl = kl_divergence(qz, model.prior())
    else:
        z = qz.rsample()
        kl = qz.log_prob(z) - model.prior.log_prob(z)
    return torch.autograd.grad(kl.mean(), out_bias)[0]


R_kl, exact_grad = vl.by_mode(2000, 500), kl_bias_gradient(x, exact=True)  # a draw costs one encoder pass: take many
draws = torch.stack([kl_bias_gradient(x, exact=False) for _ in range(R_kl)])
se = draws.std(0) / math.sqrt(R_kl)
t, power = (draws.mean(0) - exact_grad) / se, (4 * se).norm().item() / exact_grad.norm().item()
print(f"KL gradient, 32 output biases: largest |t| = {t.abs().max():.2f} (mean t^2 = {t.pow(2).mean():.2f}, about 1 "
      f"if unbiased); a bias of {power:.1%} of the gradient's length would be seen")
assert t.abs().max() < 4.5 and power < 0.25  # unbiased, and the test has power

# %% [markdown]
# **What you should see:** every $|t|$ small, and a detectable bias of a few per cent of the gradient: the test could
# fail, and it passes.


# %% [markdown] tags=["core"]
# ## 4. Why one sample of $z$ per image is enough
#
# Training uses one $z_i \sim q(z\mid x_i)$ per image. Three reasons, measured on the gradient of $-\text{ELBO}$ with
# respect to **all** weights:
#
# 1. The one-sample estimate is unbiased (section 3), so its noise averages out over many steps, like minibatch noise.
# 2. A minibatch averages 128 independent draws, one per image: the batch gradient's $z$-noise shrinks like $1/B$.
# 3. At a fixed budget of decoder passes, more images with one sample each beat fewer images with many. With $B$
#    images and $K$ samples each, by the law of total variance
#    $$\operatorname{Var}[\hat g_{B,K}] = \frac{V_{\text{data}}}{B} + \frac{V_z}{BK},$$
#    with $V_{\text{data}}$ the spread of the per-image gradients over the data and $V_z$ the $z$-noise of one image.
#    At equal cost $BK = 128$, $B = 128, K = 1$ gives $\frac{V_{\text{data}} + V_z}{128}$ and $B = 16, K = 8$ gives
#    $\frac{8 V_{\text{data}} + V_z}{128}$, never smaller.

# %%
def loss_gradient(x, K=1):  # gradient of the training loss (-ELBO, batch mean), K samples of z per image
    loss = vl.elbo(model, x.repeat(K, 1, 1, 1), check=False)["loss"]
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(model.parameters()))])


v_z = total_variance(lambda: loss_gradient(x))                   # fixed batch of 128: z-noise only
v_z32 = sum(total_variance(lambda: loss_gradient(xq)) for xq in x.split(32)) / 4  # its quarters
v_128x1 = total_variance(lambda: loss_gradient(random_batch(128)))       # what training uses
v_16x8 = total_variance(lambda: loss_gradient(random_batch(16), K=8))    # same cost, 8 z per image
print(f"z-noise, batch of 32 (mean of the 4 quarters): {v_z32:8,.1f}")
print(f"z-noise, batch of 128:           {v_z:10,.1f}   ({v_z32 / v_z:.1f} x smaller; theory 4)")
print(f"128 images x 1 sample (training): {v_128x1:9,.1f}   share of z-noise: {v_z / v_128x1:.0%}")
print(f" 16 images x 8 samples (same cost): {v_16x8:7,.1f}   ({v_16x8 / v_128x1:.1f} x noisier)")

# %%
vl.claim("z-noise-over-B", "four times more images divide the gradient's z-noise by more than 2.5 (theory: 4)",
         v_z32 / v_z, ">", 2.5, null=1, null_is="z-noise that does not average out over the batch");
vl.claim("one-draw-per-image", "at the same cost, 8 draws on 16 images give a noisier gradient than 1 draw on 128",
         v_16x8 / v_128x1, ">", 2, null=1, null_is="as noisy: how the draws are spread does not matter");

# %% [markdown]
# Four times more images divide the $z$-noise by about four, and at the same cost 8 samples per image on 8 times fewer
# images give a gradient several times noisier, as the formula says. The share of $z$-noise (printed) depends on the model and the
# data; the ordering does not.

# %% [markdown] tags=["core"]
# ## 5. What goes wrong if you train with $z = \mu$
#
# Why sample at all? Decoding the encoder's mean $z = \mu$ would remove the noise, but it changes the objective:
#
# $$J(q, x) = \log p(x \mid z = \mu) - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)
# \qquad\text{instead of}\qquad
# \mathrm{ELBO}(q, x) = \mathbb E_{q(z \mid x)}[\log p(x \mid z)] - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big).$$
#
# They differ because $\mathbb E[f(z)] \neq f(\mathbb E[z])$ unless $f$ is linear: for $f(z) = z^2$ and
# $z \sim \mathcal N(1, 0.5^2)$, $\mathbb E[f(z)] = 1 + 0.25$ but $f(\mathbb E z) = 1$.

# %% [markdown]
# ### 5a. Where $\log p(x)$ is exact: $J$ is no longer a bound
#
# In notebook 01's linear-Gaussian model, $p(z) = \mathcal N(0, 1)$, $p(x \mid z) = \mathcal N(Wz + b, \sigma^2 I_2)$,
# $\log p(x)$ and the posterior are exact. For $q = \mathcal N(m, s^2)$,
# $\mathbb E_q\|x - Wz - b\|^2 = \|x - Wm - b\|^2 + s^2\|W\|^2$, so
#
# $$J(q, x) - \mathrm{ELBO}(q, x) = \frac{s^2 \|W\|^2}{2\sigma^2} \;\ge\; 0 .$$
#
# $J$'s reconstruction term ignores $s$: it forgets that a wide $q$ reconstructs badly. The ELBO is $\le \log p(x)$ for
# every $q$ (notebook 01); $J$ need not be:

# %%
t64 = lambda v: torch.tensor(v, dtype=torch.float64)
lg = vl.linear_gaussian.LinearGaussian(t64([[1.0], [0.5]]), t64([0.2, -0.3]), sigma=0.5)
x_lg = t64([[1.5, 0.4]])
log_px, post = lg.log_marginal(x_lg).item(), lg.posterior(x_lg)
m_post, s_post = post.mean.item(), post.stddev.item()


def q_lg(m, s):  # q(z) = N(m, s^2) over the 1-D latent
    return Independent(Normal(t64([[m]]), t64([[s]])), 1)


def J_lg(m, s):  # the 'decode the mean' objective: log p(x | z = m) - KL(q || p(z))
    return (lg.decoder(t64([[m]])).log_prob(x_lg) - kl_divergence(q_lg(m, s), lg.prior())).item()


elbo_post, J_post = lg.elbo(q_lg(m_post, s_post), x_lg).item(), J_lg(m_post, s_post)
print(f"exact log p(x) = {log_px:.3f};  at the exact posterior N({m_post:.2f}, {s_post:.3f}^2): "
      f"ELBO = {elbo_post:.3f}, J = {J_post:.3f}")
print(f"{'s':>5} {'ELBO':>7} {'J':>7}")
for s in (0.2, s_post, 0.6, 1.0, 1.5):
    print(f"{s:5.2f} {lg.elbo(q_lg(m_post, s), x_lg).item():7.3f} {J_lg(m_post, s):7.3f}")
s_best = max(torch.linspace(0.05, 2.0, 40).tolist(), key=lambda s: J_lg(m_post, s))
print(f"J is largest at s = {s_best:.2f}: J = {J_lg(m_post, 1.0):.3f} > log p(x) = {log_px:.3f}")
# checks of the exact numbers: the ELBO is tight at the posterior, J above log p(x) there and largest at s = 1
assert abs(elbo_post - log_px) < 1e-10 and J_post > log_px + 0.3 and abs(s_best - 1.0) < 0.03

# %% [markdown]
# **Read the table:** the ELBO peaks at the posterior's $s$ and never exceeds $\log p(x)$. $J$ grows up to $s = 1$:
# nothing punishes a wide $q$, and the KL is smallest at the prior's width. An encoder trained on $J$ learns nothing
# about how uncertain $z$ is (its $\sigma$ goes to 1, whatever $x$), and the $J$ it reports overstates $\log p(x)$.
#
# ### 5b. On the trained VAE: decoding the mean scores *higher*
#
# On section 3's VAE and 128 images, compare $\log p(x \mid z = \mu)$ with $\mathbb E_q[\log p(x \mid z)]$ (100 draws
# per image), hence $J$ with the ELBO (same KL):

# %%
with torch.no_grad():
    qz = model.encoder(x)
    kl_x, rec_at_mean = kl_divergence(qz, model.prior()), model.decoder(qz.mean).log_prob(x)  # log p(x | z = mu)
    rec_expected = torch.stack([model.decoder(qz.sample()).log_prob(x) for _ in range(100)]).mean(0)  # E_q, per image
gap = rec_at_mean - rec_expected                                              # = J - ELBO, per image
se_gap = gap.std().item() / math.sqrt(len(gap))
print(f"VAE, 128 images: J = {(rec_at_mean - kl_x).mean():.1f}, ELBO = {(rec_expected - kl_x).mean():.1f} nats per "
      f"image; J - ELBO = {gap.mean():.2f} +- {se_gap:.2f}; J above the ELBO for {(gap > 0).float().mean():.0%} of the images")
vl.claim("J-above-elbo", "on the trained VAE, J lies several nats above the ELBO", gap.mean().item(), ">", 2,
         null=0, null_is="decoding the mean scores as a draw does", se=se_gap, unit="nats");

# %% [markdown]
# **What you should see:** $J$ several nats above the ELBO: not because $z = \mu$ is "more accurate", but because $J$
# ignores the cost of $q$'s width, as in 5a. To *display* a reconstruction, decoding $\mu$ is fine: no objective is
# involved.
#
# ### 5c. Training on $J$
#
# So far $J$ only scored a model trained on the ELBO. Now train on it: the same networks, data, seed and epochs as the
# recipe `"elbo_binary"`, with one change. `vl.fit` takes $z$ from q's `rsample()`
# and computes the KL from q's mean and scale, so a `q` whose `rsample` returns its mean makes it maximise $J$ (its
# history then calls $J$ "elbo"):

# %%
class DrawIsMean(Independent):
    """q(z|x) whose reparameterized 'draw' is its mean: the decoder sees z = mu, the KL still sees sigma."""

    def rsample(self, sample_shape=torch.Size()):
        return self.mean.expand(sample_shape + self.mean.shape)


class MeanEncoder(torch.nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return DrawIsMean(self.encoder(x).base_dist, 1)


settings = {k: v for k, v in vl.RECIPES["elbo_binary"].items() if k != "binarize"}
torch.manual_seed(SEED)                                                  # the recipe's initial weights
on_J = vl.make_vae(**settings).to(device)
test = vl.load(split="test")
start = time.perf_counter()
vl.fit(vl.models.VAE(MeanEncoder(on_J.encoder), on_J.decoder, on_J.prior), train, test,
       epochs=len(history["epoch"]), binarize="dynamic", seed=SEED)
print(f"trained on J for {len(history['epoch'])} epochs in {time.perf_counter() - start:.0f} s")

# %% [markdown]
# Compare the two models on held-out binarised test images, each with its ordinary $q$: the encoder's $\sigma$, the
# spread of the codes $\mu$ across images, the KL, $J$, the ELBO, and the importance-weighted bound with $k = 100$
# (notebook 01 §7), the closest of the three to $\log p(x)$.

# %%
x_held = vl.data.binarize(test.images[:300], torch.Generator().manual_seed(SEED + 1))
scores = {}
torch.manual_seed(SEED)
for name, m in (("trained on the ELBO", model), ("trained on J", on_J)):
    with torch.no_grad():
        q_m = m.encoder(x_held)
        kl_m = kl_divergence(q_m, m.prior()).mean().item()
        rec_mu = m.decoder(q_m.mean).log_prob(x_held).mean().item()
        elbo_m = vl.elbo(m, x_held)["elbo"].mean().item()
    scores[name] = dict(sigma=q_m.stddev, kl=kl_m, elbo=elbo_m)
    print(f"{name:20s}: sigma {q_m.stddev.mean():.2f}; KL {kl_m:5.1f}; log p(x|z = mu) {rec_mu:7.1f}; "
          f"J {rec_mu - kl_m:7.1f}; ELBO {elbo_m:7.1f} nats")
elbo_run, J_run = scores["trained on the ELBO"], scores["trained on J"]
assert (J_run["sigma"].mean(0) - 1).abs().max() < 0.05  # a check: with z = mu only the KL moves sigma, to 1
vl.claim("J-pays-less-KL", "trained on J, the model pays a fraction of the KL", J_run["kl"] / elbo_run["kl"], "<",
         0.5, null=1.0, null_is="the KL of the same networks trained on the ELBO", unit="x");
vl.claim("J-useless-q", "trained on J, its own q makes a far worse ELBO", elbo_run["elbo"] - J_run["elbo"], ">", 20,
         null=0.0, null_is="training on J leaving the ELBO as it was", unit="nats");

# %% [markdown]
# **What you should see:** trained on $J$: $\sigma \approx 1$ per dimension, a fraction of the KL, and a far lower
# ELBO.
#
# Why: with $z = \mu$ nothing charges a wide $q$, so the KL alone sets $\sigma$, to the prior's 1, and $\sigma$ says
# nothing about $x$. The KL is then $\frac12 \lVert\mu\rVert^2$, and the decoder can undo any shrinking of the codes by
# scaling up its first weights: the KL falls without the decoder losing anything it reads, so it no longer prices the
# information in the code (5d is the limit). Drawing $z \sim q$ ties the two together: the decoder sees $x$'s code
# only to within $\sigma$, and the KL charges for each bit of precision. Whether the decoder trained on $J$ is worse
# these numbers cannot say: its $q$ is too poor a proposal.
#
# ### 5d. Dropping $\sigma$ altogether
#
# The other way to "decode the mean" is to shrink $q$ to a point mass at $\mu$, the limit $s \to 0$, where the KL
# diverges, by $\log 10 \approx 2.303$ nats for every factor of ten that $s$ shrinks:
#
# $$\mathrm{KL}(\mathcal N(\mu, s^2)\,\|\,\mathcal N(0,1)) = \tfrac12\left(\mu^2 + s^2 - 1 - \log s^2\right) \xrightarrow[s\to 0]{} \infty.$$

# %%
mu0 = torch.tensor(0.7, dtype=torch.float64)
print(f"{'s':>8} {'KL (formula)':>13} {'KL (torch)':>11}")
for s in torch.tensor([1.0, 1e-1, 1e-2, 1e-4, 1e-8, 1e-16], dtype=torch.float64):
    kl_formula, kl_torch = 0.5 * (mu0**2 + s**2 - 1 - torch.log(s**2)), kl_divergence(Normal(mu0, s), Normal(0.0, 1.0))
    print(f"{s.item():>8.0e} {kl_formula.item():>13.3f} {kl_torch.item():>11.3f}")
    assert torch.isclose(kl_formula, kl_torch)

# %% [markdown]
# A VAE whose encoder drops $\sigma$ is a **deterministic autoencoder**, and this is its limit: as $\sigma$ shrinks, the
# reconstruction term tends to the autoencoder's $\log p(x \mid z=\mu)$, while the KL grows without bound, by $\log 10$
# nats per latent dimension per factor of ten. No finite ELBO is left to optimise. (To sample from such an autoencoder,
# Ghosh et al., 2020, regularise it and fit a density to its codes after training.)

# %% [markdown] tags=["core"]
# ## 6. A bug seen in the wild: `z = mu + eps * log_var`
#
# A Q&A-site question about generating data from a VAE writes the sample as `z = mu + (eps * log_var)`. The
# encoder outputs $\log\sigma^2$, so the correct sample is $z = \mu + \varepsilon\, e^{\frac12 \log\sigma^2}$, with
# variance $\sigma^2$. The buggy one (also of mean $\mu$) has variance $(\log\sigma^2)^2$: **no** noise at $\sigma = 1$,
# and standard deviation 4 for a confident encoder ($\log\sigma^2 = -4$, $\sigma \approx 0.14$).

# %%
n_z, mu_b = 1_000_000, torch.tensor(0.3)
print("log_var | correct: mean      var exp(log_var) | buggy: mean      var log_var^2")
for log_var in (-4.0, -1.0, 0.0, 1.0, 2.0):
    log_var, eps = torch.tensor(log_var), torch.randn(n_z)
    var_q, z_ok, z_bug = log_var.exp(), mu_b + eps * torch.exp(0.5 * log_var), mu_b + eps * log_var
    print(f"{log_var.item():>7.1f} | {z_ok.mean():>13.4f} {z_ok.var():>8.4f} {log_var.exp():>12.4f} | "
          f"{z_bug.mean():>11.4f} {z_bug.var():>8.4f} {log_var**2:>9.4f}")
    tol_mean, tol_var = 5 * math.sqrt(var_q / n_z), 5 * var_q * math.sqrt(2 / n_z)  # standard errors
    assert abs(z_ok.mean() - mu_b) < tol_mean and abs(z_ok.var() - var_q) < tol_var
    assert abs(z_bug.var() - log_var**2) < 5 * log_var**2 * math.sqrt(2 / n_z) + 1e-6
    assert log_var != 0 or z_bug.var() == 0, "with log_var = 0 the buggy sample is always mu"

# %% [markdown]
# The trained encoder's $\log\sigma^2$ values are mostly well below zero, so the bug replaces a small noise with a large
# one. One $z$ per image, decoded both ways:

# %%
with torch.no_grad():
    mu_x, log_var_x = qz.mean, torch.log(qz.stddev**2)        # qz: the encoder on the 128 images x (section 5b)
    eps = torch.randn_like(mu_x)
    z_ok, z_bug = mu_x + eps * torch.exp(0.5 * log_var_x), mu_x + eps * log_var_x
    rec_ok, rec_bug = (model.decoder(z_).log_prob(x).mean().item() for z_ in (z_ok, z_bug))
print(f"encoder log_var: median {log_var_x.median():.2f} -> sigma {torch.exp(0.5 * log_var_x).median():.2f}, "
      f"buggy std |log_var| {log_var_x.abs().median():.2f}")
print(f"log p(x|z): correct {rec_ok:.1f} nats, buggy {rec_bug:.1f} nats")
assert log_var_x.median() < 0  # the premise: sigma < 1, so |log_var| is the larger noise
vl.claim("log-var-bug-costs", "the log_var bug lowers the reconstruction log-likelihood by many nats",
         rec_ok - rec_bug, ">", 50, null=0, null_is="a harmless bug: the same reconstruction term", unit="nats");
fig, axes = plt.subplots(3, 1, figsize=(8, 3.2), layout="tight")
vl.plots.show_images(x[:12], nrow=12, title="images x", ax=axes[0])
vl.plots.show_images(model.decoder(z_ok[:12]).mean, nrow=12, title="decoded z = mu + eps * exp(0.5 * log_var)", ax=axes[1])
vl.plots.show_images(model.decoder(z_bug[:12]).mean, nrow=12, title="decoded z = mu + eps * log_var (bug)", ax=axes[2])


# %% [markdown]
# **What you should see:** the correct samples decode to the input digits, the buggy ones less so ($z$ lands far from
# where $q(z\mid x)$ puts it), and the reconstruction log-likelihood drops by many nats. (Whether to generate from
# $q(z\mid x)$ or from the prior is taken up in notebook 06.)

# %% [markdown] tags=["deep-dive"]
# ## Exercises
#
# Answer between the two solution markers (a student's copy has `# YOUR CODE HERE` there); the check cell below prints
# a hint until the answer is right.
#
# ### Exercise 1: write the reparameterized sample
# Write `reparameterize(mu, log_var)` that returns one draw $z \sim \mathcal N(\mu, e^{\log\sigma^2})$
# per element, differentiable with respect to both `mu` and `log_var`. Use `torch.randn_like`.

# %%
def reparameterize(mu, log_var):
    """One draw z ~ N(mu, exp(log_var)) per element, as a differentiable function of mu and log_var."""
    ### BEGIN SOLUTION
    return mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
    ### END SOLUTION


# %%
def test_reparameterize():
    n_t, var_t = 200_000, math.exp(-2.0)
    mu_t, log_var_t = (torch.full((n_t,), v, requires_grad=True) for v in (-0.5, -2.0))
    z_t = reparameterize(mu_t, log_var_t)
    z_t.sum().backward()
    checks = {"shape": z_t.shape == mu_t.shape, "mean mu": abs(z_t.mean().item() + 0.5) < 5 * math.sqrt(var_t / n_t),
              "variance exp(log_var)": abs(z_t.var().item() - var_t) < 5 * var_t * math.sqrt(2 / n_t),
              "gradient reaches mu": mu_t.grad is not None and torch.allclose(mu_t.grad, torch.ones(1)),
              "gradient reaches log_var": log_var_t.grad is not None and log_var_t.grad.abs().sum() > 0}
    print(f"mean {z_t.mean():.4f} (want -0.5), variance {z_t.var():.4f} (want {var_t:.4f}); failed:",
          ", ".join(k for k, ok in checks.items() if not ok) or "nothing")
    return all(checks.values())


vl.exercises.check(test_reparameterize, hint="sigma = exp(0.5 * log_var), not log_var; build z from mu and log_var "
                   "with torch operations (no .detach(), no .item()) so that gradients reach both",
                   success="z = mu + eps * exp(0.5 * log_var) has mean mu, variance exp(log_var), and gradients");


# %% [markdown]
# ### Exercise 2: the gradient with respect to $\sigma$
# For $f(z) = (z-k)^2$ the exact gradient with respect to $\sigma$ is $\nabla_\sigma(m^2+\sigma^2) = 2\sigma$.
# 1. Write `sigma_gradients_path(m, sigma, n)`: $n$ pathwise one-sample estimates of this gradient, using
#    `rsample()` and autograd (one copy of $\sigma$ per row, as `mu_gradients` does for $\mu$).
# 2. Derive the variance of the pathwise estimate $\hat g = 2(m+\sigma\varepsilon)\varepsilon$ and write it in
#    `var_path_sigma(m, sigma)`.

# %%
def sigma_gradients_path(m, sigma, n, k=1.0):
    """n pathwise one-sample estimates of d/dsigma E[(z - k)^2], z ~ N(k + m, sigma^2): a tensor of shape (n,)."""
    ### BEGIN SOLUTION
    s = torch.full((n,), sigma, requires_grad=True)
    z = Normal(k + m, s).rsample()
    (z - k).pow(2).sum().backward()
    return s.grad
    ### END SOLUTION


def var_path_sigma(m, sigma):
    """The variance of one pathwise estimate 2 (m + sigma eps) eps, as a formula in m and sigma."""
    ### BEGIN SOLUTION
    # E[g^2] = 4 E[(m + s e)^2 e^2] = 4 (m^2 + 3 s^2), minus (2 s)^2
    return 4 * m**2 + 8 * sigma**2
    ### END SOLUTION


# %%
def test_sigma_gradients():
    ok = True
    for m_, s_ in ((1.0, 0.5), (0.0, 1.0), (2.0, 0.2)):
        mean_, se_mean, var_, se_var = summarize(sigma_gradients_path(m_, s_, 200_000))
        exact, yours = 4 * (m_**2 + 3 * s_**2) - 4 * s_**2, var_path_sigma(m_, s_)  # E[g^2] - (2 sigma)^2
        print(f"m={m_}, sigma={s_}: mean {mean_:.3f} (exact 2 sigma = {2 * s_:.3f}), "
              f"variance {var_:.3f}, your formula {yours:.3f}")
        ok = ok and abs(mean_ - 2 * s_) < 5 * se_mean and abs(var_ - exact) < 5 * se_var and abs(yours - exact) < 1e-9
    return ok


vl.exercises.check(test_sigma_gradients, hint="the gradient should average to 2*sigma; for the variance expand "
                   "E[4 (m + sigma eps)^2 eps^2] with E[eps^2] = 1, E[eps^3] = 0, E[eps^4] = 3, then subtract the squared mean",
                   success="the pathwise sigma-gradient is unbiased with variance 4 m^2 + 8 sigma^2");


# %% [markdown]
# ### Exercise 3: a baseline for the score function
# Subtracting a constant $b$ from $f$ keeps the score-function estimator unbiased, because
# $\mathbb E_q[\nabla_\mu \log q] = 0$. Write `score_mu_grad_baseline(m, sigma, n)`: the score-function estimate of
# $\nabla_\mu \mathbb E[(z-k)^2]$ with $f(z) - b$ in place of $f(z)$, where $b = m^2 + \sigma^2$ (the mean of $f$).
# Then derive its variance as `baseline_variance(m, sigma)`: write $z = k + m + u$ with $u \sim \mathcal N(0, \sigma^2)$,
# so the score is $u/\sigma^2$, and use $\mathbb E u^4 = 3\sigma^4$, $\mathbb E u^6 = 15\sigma^6$ (odd moments vanish).
# Is it smaller than without a baseline, $m^4/\sigma^2 + 14m^2 + 15\sigma^2$? Than the pathwise $4\sigma^2$? The check
# measures it.

# %%
def score_mu_grad_baseline(m, sigma, n, k=1.0):
    """n score-function estimates of d/dmu E[(z - k)^2] with the baseline b = m^2 + sigma^2: shape (n,)."""
    ### BEGIN SOLUTION
    mu = torch.full((n,), k + m, requires_grad=True)
    qz = Normal(mu, sigma)
    z = qz.sample()
    b = m**2 + sigma**2
    (((z - k).pow(2) - b).detach() * qz.log_prob(z)).sum().backward()
    return mu.grad
    ### END SOLUTION


def baseline_variance(m, sigma):
    """Your formula for the variance of one estimate of score_mu_grad_baseline."""
    ### BEGIN SOLUTION
    # g = (2 m u + u^2 - sigma^2) u / sigma^2;  E g^2 = 12 m^2 + 10 sigma^2,  (E g)^2 = 4 m^2
    return 8 * m**2 + 10 * sigma**2
    ### END SOLUTION


# %%
def test_baseline():
    ok = True
    for m_, s_ in ((1.0, 0.1), (2.0, 0.5), (0.5, 1.0)):
        mean_, se_mean, var_, se_var = summarize(score_mu_grad_baseline(m_, s_, 200_000))
        theory = float(baseline_variance(m_, s_))
        print(f"m={m_}, sigma={s_}: mean {mean_:.3f} (exact {2 * m_}), variance {var_:.2f} "
              f"(your formula {theory:.2f}; without baseline {var_score(m_, s_):.1f}; pathwise {var_path(m_, s_):.2f})")
        ok = ok and abs(mean_ - 2 * m_) < 5 * se_mean and abs(var_ - theory) < 5 * se_var \
            and abs(theory - (8 * m_**2 + 10 * s_**2)) < 1e-9
    return ok


vl.exercises.check(test_baseline, hint="use z = qz.sample(), and ((f(z) - b).detach() * qz.log_prob(z)) as the "
                   "surrogate whose gradient with respect to mu is the estimate; for the variance, expand E[g^2] with "
                   "g = (2 m u + u^2 - sigma^2) u / sigma^2 and subtract (2m)^2",
                   success="8 m^2 + 10 sigma^2: the baseline removes the m^4 / sigma^2 term, but the variance stays "
                           "above the pathwise 4 sigma^2");


# %% [markdown] tags=["core"]
# ## Summary
# - `sample()` has no path back to $\phi$; gradients flow through `rsample()`'s $z = \mu + \sigma\varepsilon$.
# - Score function $f(z)\nabla_\phi \log q_\phi(z)$: any $f$, but variance $m^4/\sigma^2 + 14m^2 + 15\sigma^2$ on
#   $(z-k)^2$, growing like $D^2$. Pathwise $f'(z)$: variance $4\sigma^2$. On a VAE encoder the pathwise gradient is
#   thousands of times less noisy than the score function without a baseline, and at equal decoder passes many times
#   less noisy than with a leave-one-out baseline.
# - One sample of $z$ per image suffices: unbiased, averaged over the batch; at equal cost more images beat more
#   samples.
# - Training with $z = \mu$ optimises $J = \log p(x \mid z = \mu) - \mathrm{KL}$, no bound: trained on it, $\sigma$ goes
#   to 1, the KL stops pricing the code, and its own $q$ gives a far worse ELBO. A point-mass $q$ has infinite KL.
# - `z = mu + eps * exp(0.5 * log_var)`, never `mu + eps * log_var`.

# %% [markdown] tags=["core"]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-Encoding Variational Bayes. *ICLR*. The reparameterization trick and the
#   one-sample estimator of the ELBO.
# - D. J. Rezende, S. Mohamed and D. Wierstra (2014). Stochastic Backpropagation and Approximate Inference in Deep
#   Generative Models. *ICML*. The same pathwise gradient, derived independently.
# - R. J. Williams (1992). Simple Statistical Gradient-Following Algorithms for Connectionist Reinforcement Learning.
#   *Machine Learning* 8, 229-256. The score-function (REINFORCE) estimator.
# - S. Mohamed, M. Rosca, M. Figurnov and A. Mnih (2020). Monte Carlo Gradient Estimation in Machine Learning.
#   *Journal of Machine Learning Research* 21(132), 1-62. A survey of both estimators and of baselines.
# - A. Mnih and K. Gregor (2014). Neural Variational Inference and Learning in Belief Networks. *ICML*. Baselines
#   learned from the input.
# - A. Mnih and D. J. Rezende (2016). Variational Inference for Monte Carlo Objectives. *ICML*. Baselines built from
#   the other samples of the same data point.
# - W. Kool, H. van Hoof and M. Welling (2019). Buy 4 REINFORCE Samples, Get a Baseline for Free! *ICLR Workshop on
#   Deep Reinforcement Learning Meets Structured Prediction*. The leave-one-out baseline used in section 3.
# - G. Tucker, A. Mnih, C. J. Maddison, D. Lawson and J. Sohl-Dickstein (2017). REBAR: Low-variance, unbiased gradient
#   estimates for discrete latent variable models. *NeurIPS*.
# - W. Grathwohl, D. Choi, Y. Wu, G. Roeder and D. Duvenaud (2018). Backpropagation through the Void: Optimizing
#   control variates for black-box gradient estimation (RELAX). *ICLR*.
# - P. Ghosh, M. S. M. Sajjadi, A. Vergari, M. Black and B. Schölkopf (2020). From Variational to Deterministic
#   Autoencoders. *ICLR*. Section 5d.
