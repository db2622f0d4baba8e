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
# # 06 · Prior or posterior: which $z$ goes into the decoder?
#
# *Time: about 105 minutes (core path 55) · Read first: 01, 03 · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/06_prior_vs_posterior.ipynb)
#
# Two questions students ask about a trained VAE:
#
# 1. *During training the decoder gets $z = \mu(x) + \sigma(x)\,\varepsilon$. To generate, we feed it
#    $z = \varepsilon$ alone. Why is $\mu = 0,\ \sigma = 1$ right at generation time?*
# 2. *The encoder learned where the data live in latent space. Shouldn't I sample from what it learned
#    instead of from $\mathcal N(0, I)$, for instance when I only want ones?*
#
# **What you will learn.** Afterwards you can
# - say which distribution $z$ is drawn from in training ($q(z \mid x)$) and in generation ($p(z)$), and
#   show with a number why each job needs its own;
# - explain why a prior draw decodes to a digit (the codes of all images together approximate the
#   prior), test $\mu = 0, \sigma = 1$ by held-out likelihood, and say why the 2-D picture misleads in 16-D;
# - read a 2-D latent space: posteriors as ellipses over the prior, the aggregate posterior as a map;
# - generate one chosen class from a posterior or a class's aggregate posterior, checked by a classifier.

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
import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Patch
from sklearn.neighbors import KNeighborsClassifier

import vae_lesson as vl

SEED = vl.config.seed()   # VAE_LESSON_SEED, default 0
device = vl.setup(seed=SEED)

# %% [markdown]
# Two trained VAEs with the same MLP encoder and Bernoulli decoder (notebook 00): the standard model with
# a 16-D latent space, and one with a 2-D latent space, worse at its job but drawable. Both come from the
# cache if trained before (`vae-lesson prepare`), else they train now.

# %%
train, test = vl.load(split="train"), vl.load(split="test")
model, history = vl.trained("tour", seed=SEED)          # latent size 16
model2, history2 = vl.trained("latent_2d", seed=SEED)   # latent size 2
print(f"{len(train)} training and {len(test)} test images of {train.name}")
for name, h in [("16-D", history), ("2-D", history2)]:
    print(f"{name}: test ELBO {h['test_elbo'][-1]:.1f} nats per image "
          f"(reconstruction {h['test_rec'][-1]:.1f}, KL {h['test_kl'][-1]:.1f})")

# %% [markdown] tags=["core"]
# ## 1. Two jobs, two distributions
#
# **Training** maximises the ELBO of each training image $x$,
#
# $$\mathrm{ELBO}(x) = \mathbb E_{q(z \mid x)}\big[\log p(x \mid z)\big] - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big).$$
#
# The first term asks: *for a $z$ the encoder proposes for this $x$, how well does the decoder explain
# this $x$?* So $z$ must carry information about the image: it is drawn from $q(z \mid x)$, and
# $z = \mu(x) + \sigma(x)\,\varepsilon$ is how that draw is written so that gradients flow (notebook 02).
#
# **Generation** has no $x$. The model *is* the joint $p(x, z) = p(z)\,p(x \mid z)$, so a new image is
# drawn the way the model says images arise:
#
# $$z \sim p(z) = \mathcal N(0, I), \qquad x \sim p(x \mid z).$$
#
# The encoder is not part of this model.
#
# Why training cannot use $p(z)$: the ELBO holds for any $q$, also for $q(z \mid x) = p(z)$. Then its KL
# term is 0 and it is just $\mathbb E_{p(z)}[\log p(x \mid z)]$. We compare it with the trained encoder's ELBO
# on each test image (one draw each).

# %%
x = test.images
with torch.no_grad():
    qz = model.encoder(x)                                   # q(z|x), one per test image
    pz = model.prior()                                      # p(z) = N(0, I)
    rec_q = model.decoder(qz.sample()).log_prob(x)          # log p(x|z), z ~ q(z|x)
    rec_p = model.decoder(pz.sample((len(x),))).log_prob(x) # log p(x|z), z ~ p(z)
elbo_q = rec_q - vl.objectives.kl_to_standard_normal(qz)     # ELBO with the trained encoder
elbo_p = rec_p                                              # ELBO with q(z|x) = p(z): its KL term is 0
gap = elbo_q - elbo_p
print(f"ELBO with q(z|x): {elbo_q.mean():.1f} nats, with q = p: {elbo_p.mean():.1f} nats")
print(f"gap: {gap.mean():.1f} nats per image on average; the encoder wins for {(gap > 0).float().mean():.0%} of the images")
vl.claim("posterior-z-explains", "the trained encoder's ELBO beats the ELBO with q = p, z drawn from the prior, "
         "by over 50 nats", gap.mean().item(), ">", 50, null=0.0, null_is="prior draws as good as the posterior's",
         unit="nats");

# %% [markdown]
# Yet both bounds aim at the same target, the model's likelihood of $x$:
#
# $$p(x) = \mathbb E_{p(z)}\big[p(x \mid z)\big] = \mathbb E_{q(z \mid x)}\Big[\frac{p(z)\,p(x \mid z)}{q(z \mid x)}\Big].$$
#
# So training also fits the prior's model; $q$ is only a *proposal* that finds the $z$ that fit this $x$.
# With many draws both averages estimate $\log p(x)$ (the importance-weighted bound of notebook 01); the
# better proposal gets closer with fewer draws. On 100 test images:

# %%
ll_prior = vl.objectives.prior_log_likelihood(model.decoder, model.prior, x[:100], k=1000)  # z ~ p(z)
ll_q = vl.log_likelihood(model, x[:100], k=100)                                            # z ~ q(z|x)
print(f"log p(x) estimate, prior as proposal, 1000 draws: {ll_prior:.1f} nats; q(z|x), 100 draws: {ll_q:.1f} nats")
vl.claim("q-better-proposal", "q as proposal beats the prior as proposal with 10 times fewer draws, by over 5 nats",
         ll_q - ll_prior, ">", 5.0, null=0.0, null_is="equally good proposals", unit="nats");

# %% [markdown]
# Notebook 05 trains a decoder on prior draws: with one draw per image it learns only the mean image; with
# 32 it learns, but its bound stays below the VAE's. Finding the $z$ that fit this $x$ is the encoder's job.
#
# Both jobs side by side: test images, their reconstructions ($z \sim q(z \mid x)$) and new images
# ($z \sim p(z)$), each decoded to the decoder's mean.

# %%
n_show = 10
with torch.no_grad():
    recon = model.reconstruct(x[:n_show])   # z ~ q(z|x)
    new = model.sample(n_show)              # z ~ p(z)
fig, axes = plt.subplots(3, 1, figsize=(7, 2.8))
vl.plots.show_images(x[:n_show], nrow=n_show, title="test images x", ax=axes[0])
vl.plots.show_images(recon, nrow=n_show, title="reconstructions: z ~ q(z|x)", ax=axes[1])
vl.plots.show_images(new, nrow=n_show, title="generated: z ~ p(z)", ax=axes[2])
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** each reconstruction is a blurred copy of the image above it; the generated
# row shows other digits.
#
# Are the generated images copies? A decoder mean is blurry, so compare like with like: the yardstick is
# the reconstruction of a held-out test image (new by definition), and its Euclidean distance to the
# *nearest* training image. A model that memorised would output what it outputs for training images: the
# null is the reconstruction of a training image, same question. Up to 2,000 images each.

# %%
x_near = x[:2000]
with torch.no_grad():
    recon = model.reconstruct(x_near)                        # held-out images' reconstructions
    recon_train = model.reconstruct(train.images[:len(x_near)])  # what a memoriser would output
    new = model.sample(len(x_near))
d_rec = (recon - x_near).flatten(1).norm(dim=1)              # reconstruction to its own input
d_test = vl.metrics.distance_to_nearest(x_near, train.images)  # a real test image to the nearest training image
d = {name: vl.metrics.distance_to_nearest(images, train.images)  # ... and each decoded set, same question
     for name, images in [("generated", new), ("held-out recon", recon), ("memoriser", recon_train)]}
close = d["held-out recon"].quantile(0.1)                    # 10 % of held-out reconstructions are this close
print(f"median distance to the nearest training image over {len(x_near)} images: real test images {d_test.median():.2f} "
      f"(a reconstruction to its own input: {d_rec.median():.2f})")
for name, dist in d.items():
    print(f"  {name:>14}: median {dist.median():.2f}, {(dist < close).float().mean():5.1%} closer than {close:.2f}")
ratio = {name: (dist.median() / d["held-out recon"].median()).item() for name, dist in d.items()}
vl.claim("generated-not-copies", "generated images are no closer to training images than held-out digits' "
         "reconstructions are (median distance ratio over 1)", ratio["generated"], ">", 1.0, null=ratio["memoriser"],
         null_is="a memoriser: reconstructions of training images");
vl.claim("few-near-copies", "few generated images are as close to a training image as the closest 10 % of held-out "
         "reconstructions (under 5 %)", (d["generated"] < close).float().mean().item(), "<", 0.05,
         null=(d["memoriser"] < close).float().mean().item(), null_is="a memoriser: reconstructions of training images");
assert d_rec.median() < d_test.median(), "a reconstruction should be closer to its input than the nearest training image is"

# %% [markdown]
# So the two rows do different jobs: a reconstruction is *this* image again, a generated image is a new
# one, no closer to the training images than a held-out digit's reconstruction is.
#
# ### Why a prior draw decodes to a digit at all
#
# The decoder was only trained on $z$ from posteriors. **The one-line answer: over the whole data set,
# the posteriors add up to (approximately) the prior, so a draw from $p(z)$ is the code of a random
# image.** The codes the decoder saw come from the *aggregate posterior*
#
# $$q(z) = \int q(z \mid x)\, p_{\text{data}}(x)\, dx \;\approx\; \frac1N \sum_{n=1}^N q(z \mid x_n),$$
#
# and the ELBO's KL term, averaged over the data, pulls it towards the prior: it splits into
# $I(x; z) + \mathrm{KL}\big(q(z)\,\|\,p(z)\big)$ (Hoffman & Johnson, 2016; notebook 07 measures both).
#
# How good is "$\approx$"? If the decoder's model of images were the data's, $p_\theta(x) = p_{\text{data}}(x)$,
# and the encoder exact, $q(z \mid x) = p_\theta(z \mid x)$, then
#
# $$q(z) = \int p_\theta(z \mid x)\, p_\theta(x)\, dx = \int p_\theta(x, z)\, dx = p(z)$$
#
# exactly. A trained VAE has neither. We measure first the centre and spread. By the law of total variance (exercise 1), $q(z)$ has
# mean $m = \frac1N\sum_n \mu(x_n)$ and covariance $S = \operatorname{Cov}_n[\mu(x_n)] + \frac1N\sum_n \operatorname{diag}\sigma^2(x_n)$.
# The Gaussian with these moments is this far from the prior (in $D = 16$ dimensions):
#
# $$\mathrm{KL}\big(\mathcal N(m, S)\,\|\,\mathcal N(0, I)\big) = \tfrac12\big(\operatorname{tr} S + m^\top m - D - \log\det S\big).$$
#
# This is a floor for $\mathrm{KL}(q(z)\,\|\,p)$ ($q(z)$ the mixture of the $N$ training posteriors): a Gaussian has
# the most entropy for its moments. The average $\mathrm{KL}(q(z \mid x_n)\,\|\,p)$ (the ELBO's KL term) is
# $I(x; z) + \mathrm{KL}(q(z)\,\|\,p)$ with $0 \le I(x; z) \le \log N$: a ceiling, and minus $\log N$ a second
# floor. We also estimate $\mathrm{KL}(q(z)\,\|\,p)$ by Monte Carlo (`vl.metrics.kl_aggregate_prior`).

# %%
import math

qz_train16 = vl.metrics.encode(model, train.images)                 # q(z|x_n) for all training images
mu16, var16 = qz_train16.mean, qz_train16.variance
m = mu16.mean(dim=0)                                                # mean of q(z)
S = torch.cov(mu16.T, correction=0) + torch.diag(var16.mean(dim=0))  # covariance of q(z)
D = len(m)
kl_moments = 0.5 * (S.trace() + m @ m - D - torch.logdet(S))
kl_one = vl.metrics.average_kl(qz_train16, model.prior)
floor = kl_one - math.log(len(train))                               # I(x; z) <= log N
kl_agg, kl_se = vl.metrics.kl_aggregate_prior(qz_train16, model.prior, generator=torch.Generator().manual_seed(SEED))
print(f"q(z) per dimension: |mean| at most {m.abs().max():.2f}, variance {S.diag().min():.2f} to {S.diag().max():.2f} (prior: 0 and 1)")
print(f"N = {len(train)}; floors: KL(N(m, S) || p) = {kl_moments:.2f}, average KL - log N = {kl_one:.1f} - {math.log(len(train)):.1f} = {floor:.1f} nats")
print(f"KL(q(z) || p) = {kl_agg:.1f} ± {kl_se:.1f} nats (Monte Carlo); ceiling: average KL(q(z|x) || p) = {kl_one:.1f} nats")
assert kl_moments <= kl_one + 1e-4  # check: a floor lies below the ceiling, true by construction
vl.claim("moments-below-floor", "q(z)'s first two moments are close to the prior's, next to how far q(z) must be: the "
         "Gaussian with its moments is under half the floor (average KL - log N) from the prior", kl_moments.item(), "<", 0.5 * floor, null=floor,
         null_is="a Gaussian q(z): its moment KL would be KL(q(z) || p), at least the floor", unit="nats");

# %% [markdown]
# So $q(z)$ has a centre near 0 and per-dimension variances of the prior's order (printed), yet lies at least
# the floor's nats from it, mostly beyond its first two moments: $I(x; z)$ nearly reaches $\log N$, the posteriors barely overlap. It is a mixture
# of $N$ narrow bumps, not a Gaussian. The floor and estimate depend on $N$ (here the training set); the
# moment KL does not.
#
# **Why $\mu = 0$, $\sigma = 1$?** For priors the yardstick is held-out likelihood, with the trained encoder and
# decoder and a different prior, here $\mathcal N(0, s^2 I)$. In the test images' ELBO only the KL term changes,
#
# $$\mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal N(0, s^2 I)\big) = \tfrac12\sum_j\Big(\frac{\sigma_j^2 + \mu_j^2}{s^2} - 1 - \log\sigma_j^2 + \log s^2\Big),$$
#
# so the best $s^2$ for the ELBO is the mean of $\mu_j^2(x) + \sigma_j^2(x)$ over test images and dimensions. But
# the ELBO's gap to $\log p(x)$ depends on the prior ($q$ was trained for $s = 1$), so the verdict uses the tighter
# importance-weighted bound, $K = 100$ draws from $q(z \mid x)$ for 200 test images, the same draws for every $s$.
#
# **Predict, then run.** Against $s = 1$, which loses more held-out ELBO: a prior half as wide ($s = 0.5$)
# or twice as wide ($s = 2$)? Set `my_prediction` to `"0.5"` or `"2"`.

# %%
my_prediction = None  # "0.5" or "2"
### BEGIN SOLUTION
my_prediction = "0.5"
### END SOLUTION

# %%
vl.exercises.check(lambda: my_prediction in ("0.5", "2"), hint="set my_prediction to \"0.5\" or \"2\" in the cell above",
                   success="prediction recorded; now run the next cell and see");

# %%
mu_t, var_t = qz.mean, qz.variance                         # the test images' posteriors (start of section 1)

def heldout_elbo(s):
    """Test ELBO (nats per image) under the prior N(0, s^2 I); rec_q is the reconstruction term."""
    kl = 0.5 * ((var_t + mu_t**2) / s**2 - 1 - var_t.log() + 2 * math.log(s)).sum(dim=1)
    return (rec_q - kl).mean().item()

scales = [0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0, 3.0]
elbo_s = {s: heldout_elbo(s) for s in scales}
s_best = (var_t + mu_t**2).mean().sqrt().item()
print("held-out ELBO minus that at s = 1:", ", ".join(f"s = {s}: {e - elbo_s[1.0]:+.1f}" for s, e in elbo_s.items()))
print(f"best s for the ELBO = {s_best:.2f}: {heldout_elbo(s_best) - elbo_s[1.0]:+.1f} nats")
assert abs(elbo_s[1.0] - elbo_q.mean().item()) < 1e-3  # check of the formula
x_iw = test.images[:200]
with torch.no_grad():
    q_iw = model.encoder(x_iw)
    z_iw = q_iw.sample((100,))                                 # (K, images, D): the same draws for every s
    log_w = torch.stack([model.decoder(z_k).log_prob(x_iw) for z_k in z_iw]) - q_iw.log_prob(z_iw)
iw = lambda s: (torch.logsumexp(log_w + torch.distributions.Normal(0.0, s).log_prob(z_iw).sum(-1), 0) - math.log(100)).mean().item()
iw_s = {s: iw(s) for s in (0.5, 1.0, round(s_best, 2), 2.0)}
print("importance-weighted bound minus that at s = 1:", ", ".join(f"s = {s}: {b - iw_s[1.0]:+.1f}" for s, b in iw_s.items()))
vl.claim("scale-one-near-best", "the prior the model was trained with, s = 1, is within 2 nats of the best s by "
         "held-out likelihood (K = 100)", max(iw_s.values()) - iw_s[1.0], "<", 2.0, null=max(iw_s.values()) - iw_s[0.5],
         null_is="a prior at half the scale, s = 0.5", unit="nats");

# %%
def prediction_is_right():
    if my_prediction not in ("0.5", "2"):
        raise ValueError(f'my_prediction is {my_prediction!r}, not "0.5" or "2"')
    loss = {"0.5": iw_s[1.0] - iw_s[0.5], "2": iw_s[1.0] - iw_s[2.0]}
    print(f"loss against s = 1: s = 0.5 {loss['0.5']:.1f} nats, s = 2 {loss['2']:.1f} nats; you predicted s = {my_prediction}")
    return loss[my_prediction] == max(loss.values())

vl.exercises.check(prediction_is_right, hint='my_prediction is "0.5" or "2"; look at the 1/s² term: which codes does a '
                   'narrow prior charge, and how much?', success="a narrow prior charges every code far from 0 "
                   "quadratically; a wide one costs only log s per dimension");

# %% [markdown]
# **What you should see:** $s = 1$ near the best; shrinking the prior costs far more than widening it.
# So the answer: $\mathcal N(0, I)$ is the prior the encoder and decoder were trained with; other scales
# fit them worse. Any fixed $\mathcal N(m, s^2 I)$ would serve if used in training too: with $z' = m + s z$,
# a first decoder layer $W z + b$ becomes $(W/s) z' + b - W m / s$, the same model. So $\mu = 0$, $\sigma = 1$
# is a convention; what matters is using at generation the prior used in training.
#
# Does a prior draw decode to a digit of every class? A digit classifier names the class of 2,000
# decoded prior draws; we compare each class's share with its share of the test set. Its confidence (top
# class probability) is compared with the test reconstructions'.

# %%
classifier = vl.metrics.digit_classifier()   # trained once on the training images, then cached
with torch.no_grad():
    drawn = model.sample(2000)
    shares_p = classifier(drawn).argmax(dim=-1).bincount(minlength=10) / 2000
data_shares = test.labels.bincount(minlength=10) / len(test)
print("class:        ", "  ".join(f"{c:4d}" for c in range(10)))
print("prior draws:  ", "  ".join(f"{v:4.0%}" for v in shares_p.tolist()))
print("test images:  ", "  ".join(f"{v:4.0%}" for v in data_shares.tolist()))
print(f"total variation {0.5 * (shares_p - data_shares.to(shares_p.device)).abs().sum():.2f}")
vl.claim("prior-classes-cover", "every class gets at least a fifth of its data share among decoded prior draws",
         (shares_p.cpu() / data_shares.cpu()).min().item(), ">", 0.2, null=0.0,
         null_is="a sampler stuck on some classes, missing one");
with torch.no_grad():
    conf = {"prior draws": vl.metrics.confidences(drawn, classifier),
            "test reconstructions": vl.metrics.confidences(recon, classifier),
            "real test images": vl.metrics.confidences(x_near, classifier)}
for name, c in conf.items():
    print(f"{name:>20}: mean confidence {c.mean():.3f}, {(c < 0.5).float().mean():5.1%} under 0.5")
mean_conf = {name: c.mean().item() for name, c in conf.items()}
vl.claim("prior-draws-unclear", "the classifier is less sure of prior draws than of test reconstructions (mean "
         "confidence over 0.03 lower)", mean_conf["prior draws"], "<", mean_conf["test reconstructions"] - 0.03,
         null=mean_conf["test reconstructions"], null_is="prior draws as clear as reconstructions");

# %% [markdown]
# So the one-line answer holds coarsely: most prior draws decode to a digit, of every class, but the classifier
# is less sure of them than of reconstructions. $q(z)$ has gaps where the prior puts mass and the decoder saw few
# codes. Should you then sample $q(z)$ itself? Notebook 07, section 9, judges that by held-out likelihood: a
# mixture fitted to draws from $q(z)$ beats $\mathcal N(0, I)$; the raw mixture of the training posteriors, at
# $\beta = 0.1$ and its $N$, is the worst prior on held-out images.
#
# **A warning before the pictures of section 2.** In 2-D you will see prior draws land among the codes
# of training images. In 16-D they do not. The yardstick is the code of a real test image,
# $z \sim q(z \mid x_{\text{test}})$, and its distance to the nearest training code (posterior mean): if
# prior draws were like real codes, half would lie beyond that distance's median, 10 % beyond its 90th percentile.

# %%
@torch.no_grad()
def beyond_real_codes(mdl, n_prior=2000):
    """Share of prior draws farther from every training code than the median (and the 90th
    percentile) of test images' codes z ~ q(z|x_test) are."""
    codes = vl.metrics.encode(mdl, train.images).mean                                    # training codes
    d_real = vl.metrics.distance_to_nearest(vl.metrics.encode(mdl, test.images).sample(), codes)
    d_prior = vl.metrics.distance_to_nearest(mdl.prior().sample((n_prior,)), codes)
    return [(d_prior > d_real.quantile(q)).float().mean().item() for q in (0.5, 0.9)]

beyond16 = beyond_real_codes(model)
print(f"16-D: {beyond16[0]:.0%} of prior draws lie beyond the test codes' median distance to the training codes "
      f"(50 % if they were like real codes), {beyond16[1]:.0%} beyond the 90th percentile (10 %)")
vl.claim("prior-draws-far-16d", "in 16-D nearly all prior draws lie farther from the training codes than the median "
         "real code does (over 85 %)", beyond16[0], ">", 0.85, null=0.5, null_is="prior draws like real codes");

# %% [markdown] tags=["core"]
# ## 2. Posteriors in a 2-D latent space
#
# In 2-D we can draw everything. Each test image gets a posterior
# $q(z \mid x) = \mathcal N\big(\mu(x), \operatorname{diag}\sigma^2(x)\big)$, drawn as its 2σ ellipse over the
# prior's contours (dashed circles at radius 1, 2, 3).

# %%
with torch.no_grad():
    qz2 = model2.encoder(test.images)
mu, sigma = qz2.mean, qz2.stddev            # each (N, 2)
ax = vl.plots.posterior_ellipses(mu, sigma, test.labels, n_sigma=2)
ax.legend(handles=[Patch(color=plt.get_cmap("tab10")(c), label=str(c)) for c in range(10)],
          title="class", loc="upper left", bbox_to_anchor=(1.02, 1))
ax.set_title("2σ ellipses of q(z|x), test images, over the prior")
plt.show()

# %% [markdown]
# **What you should see:** small ellipses, far smaller than the prior's circles; images of the same class
# (colour) tend to lie close together. Measured: the posterior σ against the prior's 1.

# %%
print(f"posterior σ: median {sigma.median():.3f}, 95th percentile {sigma.quantile(0.95):.3f}, largest {sigma.max():.3f}; prior σ = 1")
vl.claim("posteriors-narrow", "posteriors are much narrower than the prior (95th percentile of σ under 0.5)",
         sigma.quantile(0.95).item(), "<", 0.5, null=1.0, null_is="the prior's σ");

# %% [markdown]
# Each posterior pins its image's code to a small region, which makes reconstruction possible. What
# covers the prior is the *whole collection*, the **aggregate posterior**
#
# $$q(z) = \frac1N \sum_{n=1}^N q(z \mid x_n).$$
#
# To sample it, pick a training image at random, then $z \sim q(z \mid x_n)$; below, one draw per
# training image, coloured by class.

# %%
qz_train = vl.metrics.encode(model2, train.images)  # q(z|x_n) for every training image, in batches
z_agg = qz_train.sample()                    # one z ~ q(z|x_n) per training image: draws from q(z)
ax = vl.plots.latent_scatter(z_agg, train.labels)
vl.plots.prior_contours(ax)
ax.set_title("aggregate posterior q(z), by class")
plt.show()

# %% [markdown]
# **What you should see:** a cloud about as wide as the prior's 2-3σ circles. Some classes fill a region
# of their own; others overlap in mixed zones.
#
# Measured: the cloud's spread per dimension (the prior's is 1), and how well a 5-nearest-neighbour
# classifier on the training images' posterior means tells a test image's class from its posterior mean,
# overall and per class. Chance is the share of the most frequent class, about 10 %.

# %%
spread = z_agg.std(dim=0)
print(f"standard deviation of the aggregate posterior per dimension: {spread.cpu().numpy().round(2)}; prior: [1. 1.]")
print(f"ratio median posterior σ / spread of the cloud: {sigma.median() / spread.mean():.3f}")
assert ((spread > 0.5) & (spread < 2.5)).all(), "the cloud should have the prior's scale"
assert sigma.median() / spread.mean() < 0.25, "each posterior should be small next to the whole cloud"

knn = KNeighborsClassifier(n_neighbors=5).fit(qz_train.mean.cpu().numpy(), train.labels.cpu().numpy())
y_test, y_map = test.labels.cpu().numpy(), knn.predict(mu.cpu().numpy())   # true class, class on the map
knn_acc = (y_map == y_test).mean()
chance = train.labels.bincount().max().item() / len(train)                  # always guess the most frequent class
per_class = [(y_map[y_test == c] == c).mean() for c in range(10)]
print(f"5-NN accuracy on 2-D posterior means: {knn_acc:.0%} (chance {chance:.0%}: {knn_acc / chance:.1f} times chance)")
print("per class:", "  ".join(f"{c}: {a:.0%}" for c, a in enumerate(per_class)))
vl.claim("classes-on-map", "classes occupy different regions of the latent plane: 5-NN accuracy over 3 times chance",
         knn_acc, ">", 3 * chance, null=chance, null_is="chance: always the most frequent class");
assert max(per_class) > 0.75 and max(per_class) - min(per_class) > 0.2,     "some classes should have a region of their own, others should share theirs"

# %% [markdown]
# This is the picture behind the answer to question 1: the narrow posteriors together fill roughly where
# $\mathcal N(0, I)$ puts its mass, so a prior draw lands near codes the decoder has learned. Measured with
# section 1's yardstick, next to the 16-D number:

# %%
beyond2 = beyond_real_codes(model2)
print(f" 2-D: {beyond2[0]:.0%} of prior draws beyond the test codes' median distance (50 % = like real codes), "
      f"{beyond2[1]:.0%} beyond the 90th percentile (10 %)")
print(f"16-D: {beyond16[0]:.0%} and {beyond16[1]:.0%}")
assert beyond2[0] < 0.8, "in 2-D, most prior draws should lie about as close to the training codes as real codes do"
vl.claim("2d-picture-misleads", "the 2-D picture does not carry over to 16-D: 15 points more of the prior draws lie "
         "beyond the median real code", beyond16[0] - beyond2[0], ">", 0.15, null=0.0, null_is="the same share in both");

# %% [markdown]
# In 2-D prior draws lie only somewhat farther from the training codes than real codes (printed), though
# more than 10 % lie beyond the 90th percentile. In 16-D nearly every prior draw is farther from all
# training codes than a typical real code, yet mostly decodes to a digit (section 1): the decoder must
# make sense of points between and beyond its training codes, and does so only in part (notebook 07).
# A rough count, not a test, says why the dimension matters: covering the prior with bumps of width $\sigma$
# takes about $(1/\sigma)^D$ of them: at $\sigma = 0.4$, about 6 in 2-D but $2.5^{16} \approx 2$ million in 16-D,
# far more than the $N$ training codes.

# %% [markdown] tags=["deep-dive"]
# ## 3. "I only want ones"
#
# The second question: if we want one class, why not sample from a posterior? Three ways to choose $z$,
# with the 16-D model:
#
# - **one image's posterior**: $z \sim q(z \mid x^\ast)$ for a single image $x^\ast$ of the class;
# - **the class's aggregate posterior**: $z \sim q_c(z) = \frac1{N_c}\sum_{n:\,y_n = c} q(z \mid x_n)$,
#   a random training image of class $c$, then a draw from its posterior;
# - **the prior**: $z \sim p(z)$.
#
# To judge which digit an image shows we use the digit classifier loaded in section 1.

# %%
@torch.no_grad()
def classify(images):
    """The class the classifier sees in each image."""
    return classifier(images).argmax(dim=-1)

clf_acc = vl.metrics.accuracy(classifier, test)
print(f"classifier test accuracy: {clf_acc:.1%}")
assert clf_acc > 0.8

# %%
CLASS, n = 1, 200
x_star = next(xi for xi, yi in zip(test.images, test.labels)    # first test image of CLASS
              if yi == CLASS and classify(xi[None])[0] == CLASS)  # that the classifier gets right
with torch.no_grad():
    z_one = model.encoder(x_star[None]).sample((n,)).squeeze(1)                   # z ~ q(z|x*)
    x_class = train.images[train.labels == CLASS]
    pick = torch.randint(len(x_class), (n,), generator=torch.Generator().manual_seed(SEED))
    z_class = model.encoder(x_class[pick]).sample()                               # z ~ q_c(z)
    z_prior = model.prior.sample(n)                                               # z ~ p(z)
    samples = {"one image's posterior": model.sample(n, z=z_one),
               f"aggregate posterior of class {CLASS}": model.sample(n, z=z_class),
               "prior": model.sample(n, z=z_prior)}

fig, axes = plt.subplots(1, 4, figsize=(12, 3.2), width_ratios=(1, 3, 3, 3))
vl.plots.show_images(x_star[None], nrow=1, title="x*", ax=axes[0])
for ax, (name, images) in zip(axes[1:], samples.items()):
    vl.plots.show_images(images[:24], nrow=6, title=name, ax=ax)
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** left, near-copies of $x^\ast$; middle, ones in different styles (decoded codes of
# training ones: reconstructions of them); right, all
# kinds of digits. Measured: the share called a one by the classifier, the classes covered, and the
# variety (mean per-pixel distance $|a - b|$ between two images of the set).

# %%
variety = vl.metrics.mean_pairwise_distance  # mean |a - b| per pixel between two images of the set

stats = {}
for name, images in samples.items():
    pred = classify(images)
    classes, _ = vl.metrics.class_coverage(images, classifier)   # how many classes it sees
    stats[name] = dict(share=(pred == CLASS).float().mean().item(), classes=classes,
                       top=pred.bincount().max().item() / len(pred), variety=variety(images))
    print(f"{name:>30}: {stats[name]['share']:4.0%} classified as {CLASS}, "
          f"{stats[name]['classes']:2d} classes seen, variety {stats[name]['variety']:.3f}")
one, cls, prior = stats.values()
for name, least in [("one image's posterior", 0.8), (f"aggregate posterior of class {CLASS}", 0.7)]:
    vl.claim(f"wanted-class-{name.split()[0]}", f"samples from the {name} are mostly of the wanted class (over {least:.0%})",
             stats[name]["share"], ">", least, null=prior["share"], null_is="prior samples");
assert prior["share"] < 0.3 and prior["classes"] >= 8 and prior["top"] < 0.35, "prior samples should spread over the classes"
assert one["variety"] < 0.5 * cls["variety"], "one image's posterior should give near-copies"

# %% [markdown]
# So yes, for one kind of image the posterior works: it *conditions* on data, and similar images have
# nearby codes. Each way answers its own question:
#
# - $q(z \mid x^\ast)$: **"more of this image"**, near-copies, because the posterior is narrow (section 2);
# - $q_c(z)$: **"images like the training ones of class $c$"**, with their variety;
# - $p(z)$: **"any image the model can make"**, which is what generating from the model means and what
#   the ELBO trained the decoder for.
#
# Sampling $q(z)$ instead of $p(z)$ is legitimate too (notebook 07), but needs the training set.
#
# If "only ones" is the goal from the start, build it into the model: a **conditional VAE** (Sohn et al.,
# 2015) gives the class $y$ to encoder and decoder, $q(z \mid x, y)$ and $p(x \mid z, y)$, and trains the
# same ELBO. Then a new one is $z \sim p(z)$, $x \sim p(x \mid z, y = 1)$, with $z$ free to carry the style.

# %% [markdown] tags=["deep-dive"]
# ## 4. Explore the latent plane
#
# Move the point with the sliders $z_1$, $z_2$: the left panel marks it among the training codes, the right
# shows the image decoded from it. Try the middle of a class, a point between two classes, and one far
# outside the cloud. (Run as a test, the sliders become a static grid of decoded images.)

# %%
vl.widgets.latent_explorer(model2, z_agg, train.labels, lim=3.0)

# %% [markdown]
# **What you should see:** the decoded images are arranged like the coloured map: where the map is one
# colour, they mostly show that digit.
#
# Measured: on a fine grid inside the prior's 2σ circle, the class the classifier sees in the decoded image
# against the map's colour there (section 2's 5-NN classifier). If the decoded images ignored the map,
# agreement would be chance, $\sum_c P(\text{seen} = c)\,P(\text{map} = c)$; to see how far chance can
# reach, we shuffle the decoded classes 200 times and keep the best agreement. One-colour zones (all 5
# nearest codes of one class) and mixed ones are reported apart.

# %%
ticks = torch.linspace(-2, 2, 33)
grid = torch.cartesian_prod(ticks, ticks)
grid = grid[grid.norm(dim=1) <= 2]                                  # inside the prior's 2σ circle
with torch.no_grad():
    seen = classify(model2.sample(len(grid), z=grid.to(device))).cpu()  # what the decoded image shows
votes = torch.as_tensor(knn.predict_proba(grid.numpy()))            # share of the 5 nearest codes per class
mapped = torch.as_tensor(knn.classes_)[votes.argmax(dim=1)]         # the colour of the map there
agree = seen == mapped
chance_map = (seen.bincount(minlength=10) / len(seen) * mapped.bincount(minlength=10) / len(mapped)).sum()
one_colour = votes.max(dim=1).values == 1                           # all 5 nearest codes of one class
sure, mixed = agree[one_colour].float().mean(), agree[~one_colour].float().mean()
print(f"{len(grid)} grid points: decoded image agrees with the map at {agree.float().mean():.0%} "
      f"(chance {chance_map:.0%}: {agree.float().mean() / chance_map:.1f} times chance)")
print(f"where the map is one colour ({one_colour.float().mean():.0%} of the points): {sure:.0%}; in mixed zones: {mixed:.0%}")
shuffle = torch.Generator().manual_seed(SEED)
best_shuffle = max((seen[torch.randperm(len(seen), generator=shuffle)] == mapped).float().mean().item() for _ in range(200))
print(f"best agreement of 200 shuffles of the decoded classes: {best_shuffle:.0%}")
vl.claim("decoded-follow-map", "the decoded images follow the class map beyond what chance can reach (above the best "
         "of 200 shuffles)", agree.float().mean().item(), ">", best_shuffle, null=chance_map.item(),
         null_is="chance: decoded classes unrelated to the map");

# %% [markdown]
# The decoded images follow the map, though far from always: the map shows training codes' labels, the
# decoded image what the decoder makes of a point.


# %% [markdown] tags=["deep-dive"]
# ## Exercises
#
# ### Exercise 1: where does the width of $q(z)$ come from?
#
# The aggregate posterior is a mixture, and for a mixture the law of total variance gives, per dimension $j$,
#
# $$\operatorname{Var}_{q(z)}[z_j] = \underbrace{\frac1N\sum_n \sigma_j^2(x_n)}_{\text{within posteriors}}
# + \underbrace{\frac1N\sum_n \big(\mu_j(x_n) - \bar\mu_j\big)^2}_{\text{between posteriors}}.$$
#
# Compute both parts for the 2-D model from `qz_train.mean` and `qz_train.stddev` alone (no sampling),
# as tensors `within` and `between` of shape `(2,)`.

# %%
### BEGIN SOLUTION
within = qz_train.stddev.pow(2).mean(dim=0)
between = qz_train.mean.var(dim=0, unbiased=False)
### END SOLUTION

# %%
# Check: compare each part with its estimate from 50 draws per posterior
draws = qz_train.sample((50,))                                   # (50, N, 2)
within_draws = draws.var(dim=0).mean(dim=0)                      # spread of the draws around their own image's mean
between_draws = draws.mean(dim=0).var(dim=0, unbiased=False)     # spread of the images' means

def answer_is_right():
    print(f"within {within.cpu().numpy().round(4)} (draws: {within_draws.cpu().numpy().round(4)}), "
          f"between {between.cpu().numpy().round(3)} (draws: {between_draws.cpu().numpy().round(3)})")
    return (tuple(within.shape) == (2,) and tuple(between.shape) == (2,)
            and torch.allclose(within, within_draws, rtol=0.05) and torch.allclose(between, between_draws, rtol=0.05))

vl.exercises.check(answer_is_right, hint="within is the mean of σ² over the training images, between the variance of μ over them",
                   success="the two parts add up to the width of q(z)")

# %% [markdown]
# Which part dominates? If the codes carried no information, every posterior would be the prior:
# all the width within, none between.

# %%
b_part, w_part = qz_train.mean.var(dim=0, unbiased=False), qz_train.stddev.pow(2).mean(dim=0)
share_between = (b_part / (b_part + w_part)).min().item()
vl.claim("width-between", "almost all of q(z)'s width lies between the posteriors (over 80 % in each dimension)",
         share_between, ">", 0.8, null=0.0, null_is="posteriors all equal to the prior: codes carry no information");

# %% [markdown]
# ### Exercise 2: new ones, not tied to any training image
#
# $q_c(z)$ needs the training ones at generation time. A simple *class-conditional prior* fits one
# Gaussian to the class's codes instead (a density fitted to codes, as in Ghosh et al., 2020): with
# $\hat m$, $\hat S$ the mean and covariance of $\mu(x_n)$ over the training images of class `CLASS`, draw
# $z \sim \mathcal N(\hat m, \hat S)$ (`MultivariateNormal`; add the mean $\sigma^2$ to the diagonal to keep
# $\hat S$ invertible). Decode 200 such $z$ with the 16-D model into `x_gauss` (decoder means, shape
# `(200, 1, 28, 28)`). The class's posteriors are ready in `qz_c`.

# %%
from torch.distributions import MultivariateNormal

qz_c = vl.metrics.encode(model, train.images[train.labels == CLASS])   # q(z|x_n) for the training images of CLASS

# %%
### BEGIN SOLUTION
m_hat = qz_c.mean.mean(dim=0)
S_hat = torch.cov(qz_c.mean.T) + torch.diag(qz_c.stddev.pow(2).mean(dim=0))
x_gauss = model.sample(200, z=MultivariateNormal(m_hat, S_hat).sample((200,)))
### END SOLUTION

# %%
# Check: mostly of the wanted class, and nearly as varied as q_c(z), far more than one image's posterior
def answer_is_right():
    if tuple(x_gauss.shape) != (200, 1, 28, 28):
        print(f"x_gauss has shape {tuple(x_gauss.shape)}, not (200, 1, 28, 28)")
        return False
    share = (classify(x_gauss) == CLASS).float().mean().item()
    print(f"{share:.0%} classified as {CLASS}; variety {variety(x_gauss):.3f} "
          f"(q_c(z): {cls['variety']:.3f}, one image's posterior: {one['variety']:.3f})")
    return share > 0.6 and variety(x_gauss) > max(0.75 * cls["variety"], 1.5 * one["variety"])

vl.exercises.check(answer_is_right, hint="fit m_hat and S_hat to the posterior MEANS of class CLASS, sample z, then model.sample(200, z=z)",
                   success="a Gaussian per class is a small conditional generator")

# %% [markdown]
# Below, fresh samples from the fitted Gaussian (the solution's recipe), whatever you wrote above.

# %%
S_fit = torch.cov(qz_c.mean.T) + torch.diag(qz_c.stddev.pow(2).mean(dim=0))
x_fitted = model.sample(200, z=MultivariateNormal(qz_c.mean.mean(dim=0), S_fit).sample((200,)))
vl.plots.show_images(x_fitted[:24], nrow=12, title=f"z ~ Gaussian fitted to the codes of class {CLASS}")
plt.show()

# %% [markdown]
# **What you should see:** ones, though no $z$ came from a training image, in several styles. Measured: the
# share classified as ones and the variety, against $q_c(z)$ and one image's posterior.

# %%
print(f"fitted Gaussian: {(classify(x_fitted) == CLASS).float().mean():.0%} classified as {CLASS}, variety "
      f"{variety(x_fitted):.3f} (q_c(z): {cls['variety']:.3f}, one image's posterior: {one['variety']:.3f})")
vl.claim("gauss-varied", "the fitted Gaussian's ones are far more varied than one image's posterior's (over 1.5 times)",
         variety(x_fitted), ">", 1.5 * one["variety"], null=one["variety"], null_is="one image's posterior");

# %% [markdown]
# The Gaussian's ones are far more varied than one image's posterior's, and it needs no training image at
# generation time.

# %% [markdown]
# ### Exercise 3: find a zero on the map
#
# In the explorer, find by hand a point that decodes to a 0. Then compute one: the coordinate-wise
# *median* of the 2-D posterior means of the training zeros (a class's region need not be convex, and a
# mean can fall between its parts). Store it in `z_zero`, shape `(2,)`. The check decodes it and 8 points
# 0.1 around it (about one posterior σ): most should be zeros, inside the zone, not on its edge.

# %%
### BEGIN SOLUTION
z_zero = qz_train.mean[train.labels == 0].median(dim=0).values
### END SOLUTION

# %%
def answer_is_right():
    if tuple(z_zero.shape) != (2,):
        print(f"z_zero has shape {tuple(z_zero.shape)}, not (2,)")
        return False
    angle = torch.arange(8) * torch.pi / 4
    around = torch.cat([torch.zeros(1, 2), 0.1 * torch.stack([angle.cos(), angle.sin()], dim=1)]).to(device)
    seen = classify(model2.sample(9, z=z_zero.to(device) + around)).cpu()
    print(f"z_zero = {z_zero.cpu().numpy().round(2)} decodes to a {seen[0].item()}; "
          f"the 9 points decode to {seen.tolist()}")
    return seen[0].item() == 0 and (seen == 0).sum().item() >= 7

vl.exercises.check(answer_is_right, hint="take the coordinate-wise median of qz_train.mean over the training images whose label is 0")

# %% [markdown] tags=["core"]
# ## Summary
#
# - Training decodes $z \sim q(z \mid x)$ because its job is to explain a given $x$; a prior draw explains
#   it worse by many nats.
# - Generation decodes $z \sim p(z)$ because the model defines images that way, and the aggregate
#   posterior $q(z)$ approximates the prior, so a prior draw is roughly the code of a random image.
#   $q(z)$ has about the prior's moments but is a mixture of narrow bumps, several nats from $p(z)$.
# - By held-out ELBO, $\sigma = 1$ is near the best prior scale: it is the one training used.
# - The 2-D picture (prior draws among the codes) does not carry over to 16-D.
# - Generated images are no closer to training images than held-out digits' reconstructions are.
# - Posteriors are narrow and grouped by class: one image's posterior gives near-copies, a class's
#   aggregate posterior gives that class, the prior gives everything. To generate one class by
#   design, train a conditional VAE.

# %% [markdown] tags=["core"]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-Encoding Variational Bayes. *ICLR*. (The VAE.)
# - D. J. Rezende, S. Mohamed and D. Wierstra (2014). Stochastic Backpropagation and Approximate Inference
#   in Deep Generative Models. *ICML*.
# - M. D. Hoffman and M. J. Johnson (2016). ELBO surgery: yet another way to carve up the variational
#   evidence lower bound. *NIPS Workshop on Advances in Approximate Bayesian Inference*. (The average KL
#   term as $I(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$.)
# - K. Sohn, H. Lee and X. Yan (2015). Learning Structured Output Representation using Deep Conditional
#   Generative Models. *NeurIPS*. (The conditional VAE.)
# - P. Ghosh, M. S. M. Sajjadi, A. Vergari, M. Black and B. Schölkopf (2020). From Variational to
#   Deterministic Autoencoders. *ICLR*. (Sampling
#   from a density fitted to the codes after training.)
