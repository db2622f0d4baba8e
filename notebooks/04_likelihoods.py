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
# # 04 · Likelihoods: what the reconstruction term measures
#
# *Time: about 70 minutes (core path 35) · Read first: 01, 03 · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/04_likelihoods.ipynb)
#
# The ELBO's first term, $\mathbb E_{q(z \mid x)}[\log p(x \mid z)]$, is a log-likelihood: notebook 01 showed that
# binary cross-entropy is a Bernoulli one and summed squared error a Gaussian one (Kingma & Welling, 2014). This notebook asks what follows
# from taking that literally, and answers a question students ask about it: the term compares $x$ with the decoding of
# a *random* $z \sim q(z \mid x)$; could that draw decode to someone else?
#
# **What you will learn**
# - that for a Gaussian decoder a weight on the squared error *is* a choice of the decoder's $\sigma$, and what a
#   learned $\sigma$ does; that a weight on binary cross-entropy is not a choice of any decoder but a tempered
#   objective, the same as a KL weight $\beta$;
# - when a Bernoulli "likelihood" is a probability (black-and-white images) and when it is not (grey levels);
# - to measure, with a yardstick that does not depend on how many images you compare against, how often a draw
#   $z \sim q(z \mid x)$ decodes to a different digit, why it is uncommon, and what the reconstruction term charges
#   when it happens;
# - that what overlapping posteriors cost is blur, and that the KL's weight trades sharpness for KL.
#
# Before: notebook 01 (the ELBO and its two readings) and notebook 03 §5 (the likelihood's scale and collapse).

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
import torch.nn.functional as F
from torch.distributions import Independent, Normal, kl_divergence

import vae_lesson as vl
from vae_lesson.linear_gaussian import LinearGaussian, as_mvn

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown] tags=["core"]
# ## 1. What $\sigma$ does
#
# For a Gaussian decoder $p(x \mid z) = \mathcal N(x;\ \mu_\theta(z),\ \sigma^2 I_D)$ the reconstruction term is
#
# $$\log p(x \mid z) = -\frac{\|x - \mu_\theta(z)\|^2}{2\sigma^2} - \frac D2 \log(2\pi\sigma^2).$$
#
# The KL term does not depend on $\sigma$; the squared error is divided by $2\sigma^2$. A small $\sigma$ makes every
# pixel of error expensive, so the best $q$ moves far from the prior to describe $x$ precisely (a large KL); a large
# $\sigma$ makes errors cheap, so the best $q$ stays near the prior. In notebook 01's linear-Gaussian model the best
# $q$ is the exact posterior, so we can watch this without training (a check of the algebra, one data point): as
# $\sigma \to \infty$ the posterior covariance $S = (I + W^\top W / \sigma^2)^{-1}$ tends to $I$ and its mean to 0, the prior.

# %%
W = torch.tensor([[1.0], [0.5]], dtype=torch.float64)  # notebook 01's model: D = 2, d = 1
b = torch.tensor([0.2, -0.3], dtype=torch.float64)
x = torch.tensor([[1.5, 0.4]], dtype=torch.float64)
print(f"{'sigma':>6} {'KL(p(z|x) || p(z))':>19} {'||x - (W m + b)||':>18}")
kls, errs = [], []
for s in [0.1, 0.3, 1.0, 3.0, 10.0]:
    lg_s = LinearGaussian(W, b, sigma=s)
    pz_x = lg_s.posterior(x)                                     # the best q for this sigma
    kls.append(kl_divergence(pz_x, as_mvn(lg_s.prior())).item())
    errs.append((x - lg_s.decoder(pz_x.mean).mean).norm().item())
    print(f"{s:6.1f} {kls[-1]:19.4f} {errs[-1]:18.4f}")
assert all(a > b for a, b in zip(kls, kls[1:]))    # larger sigma: the best q carries less information ...
assert all(a < b for a, b in zip(errs, errs[1:]))  # ... and reconstructs x less well

# %% [markdown]
# Notebook 03 §5 showed the same on images: the same network collapses (KL near 0) at $\sigma = \sqrt{D/2}$.

# %% [markdown] tags=["core"]
# ## 2. A weight on the squared error is a choice of $\sigma$
#
# Many VAE codes with a Gaussian decoder train with `loss = alpha * recon_loss + kl_loss`, `recon_loss` the summed
# squared error, and raise `alpha` (say to 300) for sharper reconstructions. Compare with the negative ELBO:
#
# $$\alpha\,\|x - \mu\|^2 + \mathrm{KL}
# \qquad\text{vs.}\qquad
# -\mathrm{ELBO}_\sigma = \frac{1}{2\sigma^2}\|x - \mu\|^2 + \mathrm{KL} + \frac D2 \log(2\pi\sigma^2).$$
#
# With $\sigma^2 = 1/(2\alpha)$ they differ by the constant $\frac D2 \log(2\pi\sigma^2)$, which no parameter touches:
# same gradients, same training. The weight does not bend the ELBO; it *is* the ELBO of a decoder with
# $\sigma = 1/\sqrt{2\alpha}$, one that claims pixels are very precise. Check it on two untrained VAEs, with the same
# draw of $z$ for both objectives:

# %%
alpha = 300.0
sigma_alpha = math.sqrt(1 / (2 * alpha))
x_img = vl.load(split="test").images[:32]
D = x_img[0].numel()


def weighted_loss_and_neg_elbo(model, seed):
    """alpha * summed squared error + KL, and -ELBO of the Gaussian decoder, with the same z (batch means)."""
    torch.manual_seed(seed)
    qz, z, px_z = model(x_img)
    kl = kl_divergence(qz, model.prior())
    weighted = (alpha * ((x_img - px_z.mean) ** 2).sum((1, 2, 3)) + kl).mean()
    return weighted, -(px_z.log_prob(x_img) - kl).mean()


constant = D / 2 * math.log(2 * math.pi * sigma_alpha**2)
print(f"alpha = {alpha:g}  <->  sigma = {sigma_alpha:.4f};  D/2 log(2 pi sigma^2) = {constant:.2f}")
for init in (1, 2):
    torch.manual_seed(init)
    model_g = vl.make_vae(latent_dim=16, likelihood="gaussian", sigma=sigma_alpha).to(device)
    grads = []
    for pick in (0, 1):
        loss = weighted_loss_and_neg_elbo(model_g, seed=10)[pick]
        grads.append(torch.autograd.grad(loss, list(model_g.parameters())))
    weighted, neg_elbo = weighted_loss_and_neg_elbo(model_g, seed=10)
    max_grad_diff = max((a - b).abs().max().item() for a, b in zip(*grads))
    largest_grad = max(a.abs().max().item() for a in grads[0])
    print(f"model {init}: -ELBO minus alpha-loss {(neg_elbo - weighted).item():.2f}; largest gradient difference "
          f"{max_grad_diff:.1e} (largest gradient {largest_grad:.1e})")
    assert abs((neg_elbo - weighted).item() - constant) < 1e-5 * abs(weighted.item()) + 1e-3   # a constant ...
    assert max_grad_diff < 1e-4 * largest_grad                                                 # ... same gradients

# %% [markdown] tags=["deep-dive"]
# ## 3. A learned $\sigma$
#
# Instead of guessing $\sigma$, let the model learn it: it is one more parameter of $p(x \mid z)$. With
# $\mathrm{MSE} = \|x - \mu\|^2 / D$, setting the derivative of $\log p(x \mid z)$ with respect to $\sigma^2$ to zero,
#
# $$\frac{\partial}{\partial \sigma^2}\Big[-\frac{D\,\mathrm{MSE}}{2\sigma^2} - \frac D2 \log(2\pi\sigma^2)\Big]
# = \frac{D\,\mathrm{MSE}}{2\sigma^4} - \frac{D}{2\sigma^2} = 0
# \quad\Longrightarrow\quad \sigma^2 = \mathrm{MSE},$$
#
# and putting it back, $\log p(x \mid z) = -\frac D2 \log \mathrm{MSE} - \frac D2 (1 + \log 2\pi)$ (with one $\sigma$ shared
# by $N$ images, $\sigma^2$ is their average MSE and the term is $-\frac{ND}2 \log$ of it): the *logarithm* of
# the error. Halving the MSE is worth $\frac D2 \log 2 = 272$ nats for $D = 784$ at any error level, so the weight
# against the KL is set by the error the model reaches on its training images, not by hand (Rybkin et al., 2021).
# That error is a training error: like every parameter, a learned $\sigma$ is fitted to the training set. The
# package's decoder learns one $\sigma$ for all pixels with `sigma="learned"`. Check the closed form against a search
# over $\sigma$, for 32 test images and a crude "reconstruction", the mean image:

# %%
x_rec = x_img.mean(0, keepdim=True).expand_as(x_img)        # the same average image for all
mse = ((x_img - x_rec) ** 2).mean().item()
log_sigmas = torch.linspace(-4, 0, 4001, device=device)
rec_of_sigma = torch.stack([Independent(Normal(x_rec, s.exp()), 3).log_prob(x_img).mean() for s in log_sigmas])
best_sigma = log_sigmas[rec_of_sigma.argmax()].exp().item()
closed_best = -D / 2 * math.log(mse) - D / 2 * (1 + math.log(2 * math.pi))
print(f"MSE = {mse:.4f}: best sigma by search {best_sigma:.4f}, sqrt(MSE) = {math.sqrt(mse):.4f}; "
      f"log p(x|z) there: by search {rec_of_sigma.max():.2f}, closed form {closed_best:.2f} nats per image")
assert abs(best_sigma - math.sqrt(mse)) < 0.002 * math.sqrt(mse) + 1e-3
assert abs(rec_of_sigma.max().item() - closed_best) < 1e-3 * abs(closed_best)

# %% [markdown] tags=["deep-dive"]
# ## 4. A weight on binary cross-entropy is not a choice of any decoder
#
# `loss = alpha * BCE + KL` is $-\alpha \log p(x \mid z) + \mathrm{KL}$: the likelihood raised to the power $\alpha$.
# For a Gaussian, $\mathcal N(x; \mu, \sigma^2)^\alpha$ is again a Gaussian in $x$ (with $\sigma/\sqrt\alpha$) times a
# constant that does not depend on $\mu$: a decoder with another $\sigma$. For a Bernoulli pixel,
# $\mathrm{Bern}(x; p)^\alpha$ summed over $x \in \{0, 1\}$ is $Z(p) = p^\alpha + (1 - p)^\alpha$, which depends on the
# decoder's output $p$: no Bernoulli decoder has this log-likelihood. Divided by $\alpha$, the loss is the
# **β-weighted ELBO** (Higgins et al., 2017) with $\beta = 1/\alpha$, $\mathbb E_q[\log p(x \mid z)] - \beta\,\mathrm{KL}(q(z \mid x) \,\|\, p(z))$.
# For $\beta < 1$ (that is, $\alpha > 1$) Hoffman, Riquelme & Johnson (2017) read it as approximate variational EM for
# the same decoder under an *implicit prior* $r(z) \propto p(z)^\beta\, q(z)^{1-\beta}$, where
# $q(z) = \frac1N \sum_n q(z \mid x_n)$ is the **aggregate posterior** (the average of all the training images'
# posteriors), with $r$'s normalising constant ignored: so it is neither the ELBO of the model you sample from, with
# prior $p(z)$, nor exactly a bound on another model's likelihood (notebook 07 studies what β does to samples). The check: the normaliser of $p(x \mid z)^2$ for a
# Bernoulli pixel moves with $p$, for a Gaussian it does not.

# %%
alpha_t = 2.0
p_pixel = torch.tensor([0.01, 0.2, 0.5, 0.8, 0.99], dtype=torch.float64)
Z_bern = p_pixel**alpha_t + (1 - p_pixel) ** alpha_t                       # sum over x in {0, 1}
x_grid = torch.linspace(-10, 10, 200_001, dtype=torch.float64)
Z_gauss = torch.stack([(Normal(m, 0.5).log_prob(x_grid) * alpha_t).exp().sum() * (x_grid[1] - x_grid[0])
                       for m in (0.1, 0.5, 0.9)])                           # integral over x, three means
print("Bernoulli: normaliser of p(x|z)^2 for p =", p_pixel.numpy(), ":", Z_bern.numpy().round(3))
print("Gaussian:  normaliser of p(x|z)^2 for mu = 0.1, 0.5, 0.9:", Z_gauss.numpy().round(6))
assert Z_bern.max() - Z_bern.min() > 0.4 and Z_gauss.max() - Z_gauss.min() < 1e-9

# %% [markdown] tags=["deep-dive"]
# ## 5. A Bernoulli decoder on grey levels is not a density
#
# The series' default decoder is a Bernoulli one trained on grey levels $x_i \in [0, 1]$ (`binarize="none"`): the
# loss is the binary cross-entropy of grey pixels, $-[x_i \log p_i + (1 - x_i)\log(1 - p_i)]$, minimised at
# $p_i = x_i$. A fine loss, but not a likelihood: a density over $x_i \in [0, 1]$ must integrate to 1, and
# $C(p) = \int_0^1 p^x (1 - p)^{1 - x}\, dx = \frac{2p - 1}{\log p - \log(1 - p)}$ is at most $\frac12$ and depends on $p$
# (the *continuous Bernoulli* of Loaiza-Ganem & Cunningham, 2019, divides by it). So for grey-level images the series
# calls $-\mathrm{BCE}$ "the reconstruction term", not a log-likelihood: the ELBO built on it is a lower bound on the
# log-density of the continuous-Bernoulli model with the same decoder, loose by at least $D \log 2 = 543$ nats, and no
# bound for the Bernoulli model whose means the series shows. Binarise
# the images (notebook 03 §7) and $p(x \mid z)$ is a probability again; notebooks 01 and 03 do that wherever a
# number is read as $\log p(x)$.

# %%
p = torch.tensor([0.05, 0.3, 0.5, 0.7, 0.95], dtype=torch.float64)
grey = torch.linspace(0, 1, 100_001, dtype=torch.float64).unsqueeze(1)
integral = (grey * p.log() + (1 - grey) * (1 - p).log()).exp().mean(0)   # -BCE, integrated over [0, 1] on a grid
closed = torch.where(p == 0.5, 0.5, (2 * p - 1) / (p.log() - (1 - p).log()))
print("integral over grey levels of Bern(x; p), for p =", p.numpy(), ":", integral.numpy().round(4))
assert torch.allclose(integral, closed, atol=1e-6) and (integral <= 0.5 + 1e-9).all()

# %% [markdown] tags=["core"]
# ## 6. Could a draw $z \sim q(z \mid x)$ decode to someone else?
#
# The reconstruction term compares $x$ with the decoding of a random $z \sim q(z \mid x)$. If $q$ is wide, could that
# draw land on the code of another image, say a 3 where $x$ is an 8, and make the pixel-by-pixel comparison
# meaningless? First what the term is: the squared error (or BCE) of one draw is a one-sample Monte Carlo estimate of
# $\mathbb E_{q(z \mid x)}[\log p(x \mid z)]$. It is *meant* to be bad when $z$ decodes to someone else: that is the
# signal whose gradient moves $q$ off such codes. At the optimum $q(z \mid x) = p(z \mid x) \propto p(x \mid z)\,p(z)$,
# and codes that decode to someone else have a small $p(x \mid z)$, so they get little posterior mass. The question
# is how close a trained encoder comes to that, so measure it, on notebook 00's model (16-D latent, Bernoulli decoder
# on grey levels). For each test image, draw 8 codes from $q(z \mid x)$ and decode them (the decoder's mean image).
#
# The yardstick must not change with how many images you compare against (asking "which test image is each decoding
# nearest to?" does: with more candidates, some other image is always nearer). Use **the class**: does the small
# digit classifier of notebook 00 give the decoded draw the same class as decoder($\mu$), the decoding of $q$'s mean?
# The null, what the number would read if a draw from $q$ were no more tied to $x$ than any code: the same count for
# draws from the prior $p(z)$.

# %%
model, _ = vl.trained("tour", seed=SEED)
train, test = vl.load(split="train"), vl.load(split="test")
classifier = vl.metrics.digit_classifier()
n_x, n_draws = min(len(test), 1000), 8
x = test.images[:n_x]

@torch.no_grad()
def draw_and_decode(model, x, z_of):
    """Decode 8 draws per image from z_of(qz) (shape (8, n, d)): whether each keeps decoder(mu)'s class, and its
    reconstruction term."""
    qz = model.encoder(x)
    z = z_of(qz)
    px_z = model.decoder(z.flatten(0, 1))
    decoded = px_z.mean                                                            # (8 n, 1, 28, 28)
    decoded_mu = model.decoder(qz.mean).mean
    same_class = classifier(decoded).argmax(-1).view(n_draws, -1) == classifier(decoded_mu).argmax(-1)
    rec = px_z.log_prob(x.repeat(n_draws, 1, 1, 1)).view(n_draws, -1)
    return dict(same_class=same_class.float(), rec=rec, z=z, qz=qz,
                decoded=decoded.view(n_draws, len(x), *x.shape[1:]), decoded_mu=decoded_mu)


torch.manual_seed(SEED)
from_q = draw_and_decode(model, x, lambda qz: qz.sample((n_draws,)))
from_p = draw_and_decode(model, x, lambda qz: torch.randn(n_draws, *qz.mean.shape, device=device))
for name, r in (("q(z|x)", from_q), ("p(z)", from_p)):
    print(f"draws from {name:6}: same class as decoder(mu) {r['same_class'].mean():.1%}")
kept, kept_null = from_q["same_class"].mean().item(), from_p["same_class"].mean().item()
vl.claim("draw-keeps-class", "about 9 in 10 draws from q(z|x) decode to the class of decoder(mu)", kept, ">", 0.8,
         null=kept_null, null_is="draws from the prior, which know nothing of x");

# %%
n_show = 6
rows = torch.cat([x[:n_show, None], from_q["decoded_mu"][:n_show, None], from_q["decoded"][:, :n_show].transpose(0, 1)], 1)
fig, ax = plt.subplots(figsize=(8, 5))
vl.plots.show_images(rows.flatten(0, 1), nrow=10, ax=ax,
                     title="each row: x, decoder(mu), then decoder(z) for 8 draws z ~ q(z|x)");

# %% [markdown]
# **What you should see:** each row is one test image, then its decoder($\mu$); the eight decoded draws vary in
# thickness and slant but show the same digit as $x$ and decoder($\mu$), except now and then.
#
# So: about one draw in ten switches, and most keep the digit. Why so few, when $q$ is not narrow (its standard
# deviations are printed below, next to the prior's 1)? Measure the decoder's **sensitivity** to each latent coordinate at $\mu$: the
# length of the column $\partial\,\mathrm{decoder}(z)/\partial z_j$ of its Jacobian, in pixel units per latent unit.
# One posterior standard deviation along $z_j$ moves the decoded image by about
# $\sigma_j \cdot \lVert \partial\,\mathrm{decoder}/\partial z_j \rVert$ (to first order).

# %%
n_jac = 200
mu_q, sd_q = from_q["qz"].mean[:n_jac], from_q["qz"].stddev[:n_jac]
decoder_mean = lambda z: model.decoder(z.unsqueeze(0)).mean.flatten()
sensitivity = torch.func.vmap(torch.func.jacrev(decoder_mean))(mu_q).norm(dim=1).detach()  # (n_jac, 16)


def rank_correlation(a, b):
    """Spearman's rank correlation of two flat tensors."""
    ra, rb = a.argsort().argsort().double(), b.argsort().argsort().double()
    return torch.corrcoef(torch.stack([ra, rb]))[0, 1].item()


rho = rank_correlation(sd_q.flatten().cpu(), sensitivity.flatten().cpu())
print(f"q's standard deviations sigma_j: median {sd_q.median():.2f} (the prior's: 1); rank correlation of sigma_j and "
      f"the decoder's sensitivity to z_j, over {n_jac} images x 16 dimensions: {rho:.2f}")
vl.claim("narrow-where-used", "q is narrow along the latent directions the decoder is sensitive to", rho, "<", -0.3,
         null=0.0, null_is="q's width unrelated to what the decoder reads");

fig, ax = plt.subplots(figsize=(5, 3.8))
ax.scatter(sensitivity.flatten().cpu(), sd_q.flatten().cpu(), s=3, alpha=0.3)
ax.set_xlabel("decoder sensitivity $\\|\\partial\\, \\mathrm{decoder} / \\partial z_j\\|$ at $\\mu$")
ax.set_ylabel("posterior std $\\sigma_j$"); ax.set_title("each dot: one image, one latent dimension");

# %% [markdown]
# **What you should see:** the dots fall from the top left (where the decoder is least sensitive and $\sigma_j$ is
# largest) to the bottom right (where it is most sensitive and $\sigma_j$ smallest).
#
# That is what the ELBO's optimum predicts. The ELBO is $\log p(x) - \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$, so
# training pulls $q$ towards the posterior $p(z \mid x) \propto p(x \mid z)\,p(z)$, and codes that decode to someone
# else have a small $p(x \mid z)$: they are exactly what the expected reconstruction term penalises. Where $q$ can be
# wide for free (the decoder ignores the direction) the KL makes it wide; where a step changes the image it is narrow.
#
# One consequence can be measured: draws that do switch class should score a worse reconstruction term than the same
# image's draws that keep it, because the term notices. A sceptic objects that switched draws may just be the ones that
# landed farther from $\mu$, and the term charges for distance, switch or not. So compare draws at the same distance.
# Each draw is $z = \mu + \sigma \odot \varepsilon$; its distance from $\mu$, in units of $q$'s widths, is
# $\lVert\varepsilon\rVert^2 = \sum_j ((z_j - \mu_j)/\sigma_j)^2$. Fit, by least squares over draw $k$ of image $i$
# (with $\mathrm{rec}_{ik} = \log p(x_i \mid z_{ik})$, the draw's reconstruction term),
#
# $$\mathrm{rec}_{ik} = a_i - b\,\lVert\varepsilon_{ik}\rVert^2 - c\,\mathrm{switched}_{ik} + \text{noise}.$$
#
# One constant $a_i$ per image means draws are compared only with draws of the same image (fitting it is the same as
# subtracting each image's mean from every column). $b$ is what a unit of distance costs, in nats; $c$ is what a
# switch costs on top, at equal distance. If the term charged only for distance, $c$ would be 0. The draws of one
# image share that image's quirks, so $c$'s standard error treats the images, not the draws, as independent (a
# cluster-robust or "sandwich" standard error).

# %%
same, rec, qz = from_q["same_class"], from_q["rec"], from_q["qz"]
switched = 1 - same
distance = ((from_q["z"] - qz.mean) / qz.stddev).pow(2).sum(-1)   # ||eps||^2, shape (n_draws, n_x)
mixed = (same.sum(0) > 0) & (same.sum(0) < n_draws)              # images with some draws kept and some switched
gap = ((rec * same).sum(0) / same.sum(0).clamp(min=1) - (rec * switched).sum(0) / switched.sum(0).clamp(min=1))[mixed]

centre = lambda t: (t - t.mean(0)).double()                         # subtract each image's mean: fits a_i
X = -torch.stack([centre(distance), centre(switched)], -1)          # (n_draws, n_x, 2): columns for b and c
y = centre(rec)
XtX_inv = torch.linalg.inv(torch.einsum("kip,kiq->pq", X, X))
b, c = XtX_inv @ torch.einsum("kip,ki->p", X, y)
per_image = torch.einsum("kip,ki->ip", X, y - X @ torch.stack([b, c]))  # each image's sum of column x residual
se_c = (XtX_inv @ per_image.T @ per_image @ XtX_inv)[1, 1].sqrt().item()
print(f"mean ||eps||^2: kept draws {distance[same == 1].mean():.1f}, switched draws {distance[switched == 1].mean():.1f}")
print(f"raw gap, kept minus switched, over the {int(mixed.sum())} images with both: {gap.mean():.2f} +- "
      f"{gap.std() / math.sqrt(len(gap)):.2f} nats")
print(f"a unit of ||eps||^2 costs b = {b:.2f} nats; at equal distance a switch costs c = {c:.2f} +- {se_c:.2f} nats, "
      f"{c / gap.mean():.0%} of the raw gap")
vl.claim("switch-costs-at-equal-distance", "at the same distance from mu, a switched draw still scores a worse "
         "reconstruction term than the same image's kept draws", c.item(), ">", 0.5, null=0.0,
         null_is="the term blind to the switch once distance is accounted for", se=se_c, unit="nats");

# %% [markdown]
# The first line shows how much farther out the switched draws sit: that distance is part of the raw gap. $c$, printed
# as a share of the raw gap, is what the term charges a switched draw over a kept draw of the same image at the same
# distance. A decoded 3 is scored against the 8 it should have been, pixel by pixel: the comparison is not
# meaningless, it is the penalty whose gradient moves $q$ off other digits' codes.


# %% [markdown] tags=["core"]
# ## 7. The KL's weight trades sharpness for KL
#
# If posteriors of different images overlap, the decoder cannot tell the images apart from a code in the overlap, and
# the best it can do there is their *average*: for a Gaussian or a Bernoulli decoder the best mean at a code $z$ is
# $\mu^*(z) = \sum_n w_n(z)\, x_n$ with $w_n(z) \propto q(z \mid x_n)$, a blurry image where several $w_n$ are large.
# That is the failure to expect, not a wrong digit, and it is traded against the KL: a KL weight $\beta > 1$ makes
# overlap cheaper. Test it by changing $\beta$ alone: the same network trained with $\beta = 3$ (recipe `"agg_beta3"`, also used in notebook 07) against
# $\beta = 1$. The measure of sharpness: the mean absolute difference between neighbouring pixels (the image's total
# variation) of decoder($\mu$), as a share of the same for $x$: 1 for edges as crisp as the image's, lower for blur.

# %%
model_b3, _ = vl.trained("agg_beta3", seed=SEED)
torch.manual_seed(SEED)
from_q3 = draw_and_decode(model_b3, x, lambda qz: qz.sample((n_draws,)))
edges = lambda img: ((img[..., 1:, :] - img[..., :-1, :]).abs().mean((1, 2, 3))
                     + (img[..., :, 1:] - img[..., :, :-1]).abs().mean((1, 2, 3)))
sharpness = {}
for name, m, r in (("beta = 1", model, from_q), ("beta = 3", model_b3, from_q3)):
    with torch.no_grad():
        kl = kl_divergence(r["qz"], m.prior()).mean().item()
    sharpness[name] = edges(r["decoded_mu"]) / edges(x)                         # per image
    print(f"{name}: KL {kl:5.1f} nats; draws keeping the class {r['same_class'].mean():.1%}; sharpness of "
          f"decoder(mu) {sharpness[name].mean():.3f} of x's")
lost = sharpness["beta = 1"] - sharpness["beta = 3"]
vl.claim("beta-blurs", "with beta = 3 the decodings are blurrier than with beta = 1", lost.mean().item(), ">", 0.02,
         null=0.0, null_is="the KL weight not changing blur", se=lost.std().item() / math.sqrt(len(lost)));
more_switches = from_q["same_class"].mean(0) - from_q3["same_class"].mean(0)   # per image
vl.claim("beta-overlaps", "with beta = 3 more draws switch class than with beta = 1", more_switches.mean().item(),
         ">", 0.02, null=0.0, null_is="the KL weight not changing overlap",
         se=more_switches.std().item() / math.sqrt(n_x));

fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, img, title in zip(axes, (x, from_q["decoded_mu"], from_q3["decoded_mu"]),
                          ("x", "decoder(mu), beta = 1", "decoder(mu), beta = 3")):
    vl.plots.show_images(img[:16], nrow=4, title=title, ax=ax)
fig.tight_layout()

# %% [markdown]
# **What you should see:** at $\beta = 3$ the digits are softer than at $\beta = 1$, and both are blurrier than the test
# images themselves.
#
# The full answer to the question, then: about 9 draws in 10 from $q(z \mid x)$ decode to the digit of decoder($\mu$)
# (1 in 10 for prior draws), because training makes $q$ narrow where the decoder would turn a step into a different
# image; when a draw does switch, the reconstruction term charges for it, and that charge is the gradient that keeps
# $q$ off such codes. What overlapping posteriors do cost is sharpness, and how much overlap a model accepts is set
# by the KL's weight.

# %% [markdown] tags=["deep-dive"]
# ## Exercises
#
# Each exercise has a cell for your answer (between the two solution markers; a student's copy has
# `# YOUR CODE HERE` there) and a check cell below it, which prints a hint until the answer is right.
#
# **Exercise 1 (a weight on a *mean* squared error).** Many codes use `F.mse_loss(x_hat, x)` with its default
# `reduction='mean'`, which divides the summed error by $D$, in `loss = alpha * mse + kl`. Which $\sigma$ does that
# Gaussian decoder assume for $\alpha = 1$, $D = 784$? Set `sigma_mean`. Before computing anything, predict: how many
# nats more does a completely wrong reconstruction (every pixel off by 1) cost than a perfect one under that decoder?
# Write your guess in `my_prediction`, then compute it as `wrong_costs`. (Notebook 03 §5 trains this MLP at smaller
# $\sigma$.)

# %%
alpha_ex, D_ex = 1.0, 784

# %%
### BEGIN SOLUTION
my_prediction = 1.0                                   # the guess comes first
sigma_mean = math.sqrt(D_ex / (2 * alpha_ex))           # alpha * ||x - mu||^2 / D = ||x - mu||^2 / (2 sigma^2)
wrong_costs = D_ex * 1.0**2 / (2 * sigma_mean**2)       # = 1 nat
### END SOLUTION


# %%
def test_sigma_mean():
    """The two objectives must have the same gradient with respect to the decoder's mean; the cost is then checked
    with torch.distributions, independently of the formula."""
    mu_ = torch.rand(D_ex, generator=torch.Generator().manual_seed(3), requires_grad=True)
    x_ = torch.rand(D_ex, generator=torch.Generator().manual_seed(4))
    g_mse = torch.autograd.grad(alpha_ex * F.mse_loss(mu_, x_), mu_)[0]
    g_nll = torch.autograd.grad(-Normal(mu_, sigma_mean).log_prob(x_).sum(), mu_)[0]
    decoder = Normal(torch.zeros(D_ex), float(sigma_mean))
    cost = (decoder.log_prob(torch.zeros(D_ex)) - decoder.log_prob(torch.ones(D_ex))).sum().item()
    print(f"your sigma = {float(sigma_mean):.3f}; you predicted {my_prediction} nats; your cost "
          f"{float(wrong_costs):.3f} nats, measured {cost:.3f}")
    return torch.allclose(g_mse, g_nll, rtol=1e-4) and abs(float(wrong_costs) - cost) < 1e-3


vl.exercises.check(test_sigma_mean,
                   hint="write alpha * ||x - mu||^2 / D = ||x - mu||^2 / (2 sigma^2) and solve for sigma; the cost of "
                        "an error of 1 in each pixel is D / (2 sigma^2)",
                   success="sigma = sqrt(D / 2) ~ 20 is far wider than the pixel range, and a completely wrong "
                           "reconstruction costs 1 nat: a code carrying more than a nat about x never pays for itself, "
                           "so the KL wins (notebook 03 §5 saw the same MLP's KL stay near 0 at a sigma of 3 to 4)");

# %% [markdown]
# **Exercise 2 (predict, then run: wider draws).** Section 6 decoded draws $z = \mu + \sigma \odot \varepsilon$. Predict
# the share of draws that keep the class of decoder($\mu$) if every draw goes twice as far,
# $z = \mu + 2\sigma \odot \varepsilon$: nearer to section 6's value for $q$, or to its value for the prior? Write your
# guess in `my_guess` (a share between 0 and 1), then measure it with `draw_and_decode` and set `kept_2x`.

# %%
### BEGIN SOLUTION
my_guess = 0.5                # the guess comes first: a share between 0 and 1
torch.manual_seed(SEED)
wide = draw_and_decode(model, x, lambda qz: qz.mean + 2 * qz.stddev * torch.randn(n_draws, *qz.mean.shape,
                                                                                  device=device))
kept_2x = wide["same_class"].mean().item()
### END SOLUTION


# %%
def test_kept_2x():
    """Measured again with other draws; two runs of 8 draws per image agree within a few per cent."""
    torch.manual_seed(SEED + 1)
    eps = torch.randn(n_draws, n_x, 16, device=device)
    again = draw_and_decode(model, x, lambda qz: qz.mean + 2 * qz.stddev * eps)["same_class"].mean().item()
    middle = (kept + kept_null) / 2
    side = lambda v: "q's side" if v > middle else "the prior's side"
    print(f"your guess {float(my_guess):.0%} ({side(float(my_guess))}); your measurement {float(kept_2x):.1%}; measured "
          f"again {again:.1%} ({side(again)}); q: {kept:.1%}, prior: {kept_null:.1%}")
    return 0 <= float(my_guess) <= 1 and abs(float(kept_2x) - again) < 0.05


vl.exercises.check(test_kept_2x, hint="draw_and_decode(model, x, lambda qz: qz.mean + 2 * qz.stddev * eps) with eps "
                                      "of shape (n_draws, n_x, 16) on device; then ['same_class'].mean()",
                   success="compare the measurement with your guess: did doubling the width take the draws halfway "
                           "to the prior's count?");

# %% [markdown] tags=["core"]
# ## Summary
#
# - For a Gaussian decoder, a weight $\alpha$ on the summed squared error is the decoder's $\sigma = 1/\sqrt{2\alpha}$
#   (same gradients, checked); a learned $\sigma$ sets $\sigma^2$ to the training MSE and turns the term into
#   $-\frac D2 \log \mathrm{MSE}$.
# - For a Bernoulli decoder, a weight on BCE tempers the likelihood: it is the β-weighted ELBO with $\beta = 1/\alpha$,
#   an ELBO under an implicit, data-dependent prior (Hoffman et al., 2017), not the ELBO of the model you sample from.
# - BCE on grey levels is a loss, not a log-density; binarise the images when a number must be a $\log p(x)$.
# - About 9 in 10 draws $z \sim q(z \mid x)$ decode to the class of decoder($\mu$), against about 1 in 10 prior draws:
#   $q$ is narrow where the decoder is sensitive. When a draw does switch, the reconstruction term charges
#   for it, even against draws of the same image at the same distance from $\mu$.
# - What overlapping posteriors cost is blur, and a larger KL weight buys more of it (β = 3 against β = 1, measured).
#
# Next, notebook 05: could we train the decoder without an encoder at all?

# %% [markdown] tags=["core"]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-Encoding Variational Bayes. *ICLR*. The ELBO and its Gaussian and
#   Bernoulli decoders.
# - O. Rybkin, K. Daniilidis and S. Levine (2021). Simple and Effective VAE Training with Calibrated Decoders. *ICML*.
#   The learned (optimal) $\sigma$ of a Gaussian decoder.
# - M. D. Hoffman, C. Riquelme and M. J. Johnson (2017). The β-VAE's Implicit Prior. *NeurIPS Workshop on Bayesian
#   Deep Learning*. A β-weighted ELBO as an ELBO under a data-dependent prior.
# - G. Loaiza-Ganem and J. P. Cunningham (2019). The continuous Bernoulli: fixing a pervasive error in variational
#   autoencoders. *NeurIPS*. The normaliser of a Bernoulli "likelihood" of grey levels.
# - I. Higgins et al. (2017). β-VAE: Learning basic visual concepts with a constrained variational framework. *ICLR*.
#   The KL weight β.
