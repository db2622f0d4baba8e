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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/06_prior_vs_posterior.ipynb)
#
# Two questions students ask about a trained VAE:
#
# 1. *During training the decoder gets $z = \mu(x) + \sigma(x)\,\varepsilon$. To generate, we feed it
#    $z = \varepsilon$ alone. Why is $\mu = 0,\ \sigma = 1$ right at generation time?*
# 2. *The encoder learned where the data live in latent space. Shouldn't I sample from what it learned
#    instead of from an uninformed $\mathcal N(0, I)$, for instance when I only want ones?*
#
# Both have short answers, and this notebook checks each answer with an experiment.
#
# **What you will learn.** Afterwards you can
# - say which distribution $z$ is drawn from in training ($q(z \mid x)$) and in generation ($p(z)$), and
#   show with a number why each job needs its own;
# - explain in one line why decoding a prior draw gives a digit (the codes of all images together
#   approximate the prior), measure how good that approximation is, and say why the 2-D picture of it
#   misleads in 16 dimensions;
# - draw the posteriors of a 2-D latent space as ellipses over the prior, and read the aggregate
#   posterior (the codes of all training images) as a map of the data;
# - generate images of one chosen class from a posterior or from a class's aggregate posterior,
#   and check with a classifier that it worked;
# - explore a 2-D latent plane with sliders and see what the decoder makes of each point.

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
# We use two trained VAEs with the same MLP encoder and decoder and a Bernoulli decoder
# (see notebook 00): the course's standard model with a 16-dimensional latent space, and one with
# a 2-dimensional latent space, which is worse at its job but can be drawn on paper.
# Both come from the cache if they were trained before (`vae-lesson prepare`), else they train now.

# %%
train, test = vl.load(split="train"), vl.load(split="test")
model, history = vl.trained("tour", seed=SEED)          # latent size 16
model2, history2 = vl.trained("latent_2d", seed=SEED)   # latent size 2
print(f"{len(train)} training and {len(test)} test images of {train.name}")
for name, h in [("16-D", history), ("2-D", history2)]:
    print(f"{name}: test ELBO {h['test_elbo'][-1]:.1f} nats per image "
          f"(reconstruction {h['test_rec'][-1]:.1f}, KL {h['test_kl'][-1]:.1f})")

# %% [markdown]
# ## 1. Two jobs, two distributions
#
# **Training** maximises the ELBO of each training image $x$,
#
# $$\mathrm{ELBO}(x) = \mathbb E_{q(z \mid x)}\big[\log p(x \mid z)\big] - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big).$$
#
# The first term asks: *for a $z$ that the encoder proposes for this particular $x$, how well does the
# decoder explain this $x$?* The task is to reconstruct a given image, so $z$ must carry information
# about that image: it is drawn from $q(z \mid x)$, and $z = \mu(x) + \sigma(x)\,\varepsilon$ is just
# how that draw is written so that gradients flow (notebook 02).
#
# **Generation** has no $x$ to start from. The model *is* the joint distribution
# $p(x, z) = p(z)\,p(x \mid z)$, so a new image is drawn the way the model says images arise:
#
# $$z \sim p(z) = \mathcal N(0, I), \qquad x \sim p(x \mid z).$$
#
# The encoder is not part of this generative model; it is a tool that made training possible.
#
# A first measurement shows why training cannot use $p(z)$. For each test image we compare the
# reconstruction term with $z$ from its posterior and with $z$ from the prior:
# $\mathbb E_{q(z \mid x)}[\log p(x \mid z)]$ against $\mathbb E_{p(z)}[\log p(x \mid z)]$
# (one draw each, averaged over the test images).

# %%
x = test.images
with torch.no_grad():
    qz = model.encoder(x)                                   # q(z|x), one per test image
    pz = model.prior()                                      # p(z) = N(0, I)
    rec_q = model.decoder(qz.sample()).log_prob(x)          # log p(x|z), z ~ q(z|x)
    rec_p = model.decoder(pz.sample((len(x),))).log_prob(x) # log p(x|z), z ~ p(z)
gap = rec_q - rec_p
print(f"E_q[log p(x|z)] = {rec_q.mean():.1f} nats, E_p[log p(x|z)] = {rec_p.mean():.1f} nats")
print(f"gap: {gap.mean():.1f} nats per image on average; z from q wins for {(gap > 0).float().mean():.0%} of the images")
assert gap.mean() > 50, "a z from the posterior should explain its image far better than a z from the prior"
assert (gap > 0).float().mean() > 0.9

# %% [markdown]
# A $z$ from the prior explains a *given* image worse by a factor of about $e^{\text{gap}}$ in probability:
# training on prior draws would give the decoder almost no signal about which image to produce.
# That is the job of the encoder: it finds the few $z$ that fit this $x$.
#
# Now the same model doing both jobs, side by side: test images, their reconstructions
# ($z \sim q(z \mid x)$, then the decoder's mean), and new images ($z \sim p(z)$, then the decoder's mean).

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
# **What you should see:** each reconstruction is a (slightly blurred) copy of the image above it;
# the generated row shows other digits, unrelated to the row above.
#
# Are the generated images copies of training images? A yardstick for "close to a training image":
# a real test image is a new image by definition, so its Euclidean distance (over the 784 pixels) to the
# *nearest* training image tells how close a genuinely new digit gets. We compare with it
#
# - the distance from each generated image to its nearest training image (a copy would score near 0);
# - the distance from each reconstruction to its own input (the job of a reconstruction is to be this
#   image again, so it should beat even the nearest training image).
#
# Each is measured for the first 2,000 test images (all of them for a smaller test set).

# %%
x_near = x[:2000]
with torch.no_grad():
    recon = model.reconstruct(x_near)
    new = model.sample(len(x_near))
d_rec = (recon - x_near).flatten(1).norm(dim=1)              # reconstruction to its own input
d_new = vl.metrics.distance_to_nearest(new, train.images)    # generated image to the nearest training image
d_test = vl.metrics.distance_to_nearest(x_near, train.images)  # the yardstick: a real new image, same question
close = d_test.quantile(0.1)                                 # 10 % of real test images are this close
print(f"median distances over {len(x_near)} images each:")
print(f"  real test image to its nearest training image: {d_test.median():.2f}  (10th percentile {close:.2f})")
print(f"  generated image to its nearest training image: {d_new.median():.2f}")
print(f"  reconstruction to its own input:               {d_rec.median():.2f}")
print(f"generated images closer to a training image than the closest 10 % of test images: {(d_new < close).float().mean():.1%}")
assert d_new.median() > 0.9 * d_test.median(), "generated images should be no closer to training images than new real images are"
assert (d_new < close).float().mean() < 0.05, "few generated images should be near-copies of a training image"
assert d_rec.median() < d_test.median(), "a reconstruction should be closer to its input than the nearest training image is"

# %% [markdown]
# So the two rows do different jobs: a reconstruction is *this* image again (closer to it than any
# training image is), a generated image is a new one (at least as far from the training images as a new
# real digit is).
# Training needs the first, generation the second.
#
# ### Why a prior draw decodes to a digit at all
#
# The decoder was only ever trained on $z$ from posteriors. **The one-line answer: over the whole data
# set, the posteriors add up to (approximately) the prior, so a draw from $p(z)$ is the code of a random
# image.** The codes the decoder saw in training come from the *aggregate posterior*
#
# $$q(z) = \int q(z \mid x)\, p_{\text{data}}(x)\, dx \;\approx\; \frac1N \sum_{n=1}^N q(z \mid x_n),$$
#
# and the ELBO's KL term, averaged over the data, pulls this aggregate towards the prior: it splits
# into $I(x; z) + \mathrm{KL}\big(q(z)\,\|\,p(z)\big)$ (Hoffman & Johnson, 2016; notebook 07 measures both
# parts). When the model fits, $q(z) \approx p(z)$, and decoding $z \sim p(z)$ is like decoding the
# code of a training image picked at random.
#
# How good is "$\approx$"? First the centre and spread. By the law of total variance (exercise 1), $q(z)$ has
# mean $m = \frac1N\sum_n \mu(x_n)$ and covariance $S = \operatorname{Cov}_n[\mu(x_n)] + \frac1N\sum_n \operatorname{diag}\sigma^2(x_n)$.
# The Gaussian with these moments is this far from the prior (in $D = 16$ dimensions):
#
# $$\mathrm{KL}\big(\mathcal N(m, S)\,\|\,\mathcal N(0, I)\big) = \tfrac12\big(\operatorname{tr} S + m^\top m - D - \log\det S\big).$$
#
# The yardstick, in the same units: how far one image's posterior is from the prior, the average
# $\mathrm{KL}(q(z \mid x_n)\,\|\,p(z))$ (the ELBO's KL term). If $q(z)$ were shifted, squeezed or stretched
# against the prior, the first number would grow towards the second or beyond it.

# %%
qz_train16 = vl.metrics.encode(model, train.images)                 # q(z|x_n) for all training images
mu16, var16 = qz_train16.mean, qz_train16.variance
m = mu16.mean(dim=0)                                                # mean of q(z)
S = torch.cov(mu16.T, correction=0) + torch.diag(var16.mean(dim=0))  # covariance of q(z)
D = len(m)
kl_moments = 0.5 * (S.trace() + m @ m - D - torch.logdet(S))
kl_one = vl.metrics.average_kl(qz_train16, model.prior)
print(f"q(z) per dimension: |mean| at most {m.abs().max():.2f}, variance {S.diag().min():.2f} to {S.diag().max():.2f} (prior: 0 and 1)")
print(f"KL(N(m, S) || N(0, I)) = {kl_moments:.2f} nats; one image's posterior: KL(q(z|x) || p(z)) = {kl_one:.1f} nats on average")
assert kl_moments < 0.25 * kl_one, "q(z) should have about the prior's centre and spread, far closer to it than one posterior"

# %% [markdown]
# Matching moments is not matching the distribution: $q(z)$ is a mixture of $N$ narrow bumps and can have
# gaps the moments do not see. The test that matters is the decoded image. We decode draws from $q(z)$
# (a random training image, then $z \sim q(z \mid x_n)$) and from $p(z)$, three times as many as there are
# test images, and score each
# set against the held-out test images with the Fréchet distance in the features of a digit classifier
# (`vl.metrics.frechet_distance`, as in notebook 06; 0 for identical feature statistics, sets of equal
# size, averaged over 3 disjoint sets to steady the number). A yardstick: real training images scored
# the same way (not 0: two finite sets of real digits differ too). If $q(z) = p(z)$ exactly, the two
# decoded sets would score the same.

# %%
classifier = vl.metrics.digit_classifier()   # trained once on the training images, then cached
n_ref = len(test)
n_draws = 3 * n_ref                                     # three sets as large as the test set
with torch.no_grad():
    z_q = vl.metrics.sample_aggregate(qz_train16, n_draws, generator=torch.Generator().manual_seed(SEED))
    x_q = model.sample(n_draws, z=z_q)                  # decoded draws from q(z)
    x_p = model.sample(n_draws)                         # decoded draws from p(z)
real = train.images[torch.randperm(len(train), generator=torch.Generator().manual_seed(SEED))]

def frechet_to_test(images, n_sets=3):
    """Mean Fréchet distance to the test images over n_sets disjoint sets of len(test) images."""
    return sum(vl.metrics.frechet_distance(images[k * n_ref:(k + 1) * n_ref], test.images, classifier)
               for k in range(n_sets)) / n_sets

fd = {name: frechet_to_test(images) for name, images in
      [("real training images", real), ("decoded z ~ q(z)", x_q), ("decoded z ~ p(z)", x_p)]}
for name, value in fd.items():
    print(f"Fréchet distance to the {n_ref} test images, {name:>20}: {value:6.1f}")

@torch.no_grad()
def class_shares(images):
    return classifier(images).argmax(dim=-1).bincount(minlength=10) / len(images)

data_shares = test.labels.bincount(minlength=10) / len(test)
tv = {name: 0.5 * (class_shares(images) - data_shares).abs().sum().item() for name, images in [("q", x_q), ("p", x_p)]}
print(f"class shares vs the test set's (total variation; 0 = same, one class only would be about 0.9): "
      f"q(z) {tv['q']:.2f}, p(z) {tv['p']:.2f}")
assert fd["decoded z ~ p(z)"] > 2 * fd["decoded z ~ q(z)"], "the approximation q(z) ≈ p(z) should show its limits in the decoded images"
assert tv["p"] < 0.35, "prior draws should decode to the classes in about the data's proportions"

# %% [markdown]
# So the one-line answer holds in its coarse form: a prior draw decodes to a digit, and the classes
# come in about the data's proportions. It does not hold in detail: decoded prior draws score about
# 3 to 6 times worse than decoded codes of training images. The prior
# puts mass where $q(z)$ has little, where the decoder saw few codes in training (notebook 07 measures
# these holes and fixes them).
#
# **A warning before the pictures of section 2.** With two latent dimensions you will see prior draws
# land right among the codes of training images. That picture fails in 16 dimensions, and here is the
# number. The yardstick is the code of a real test image, $z \sim q(z \mid x_{\text{test}})$: its distance to
# the nearest training code (posterior mean). If prior draws were like codes of real images, half of them
# would lie beyond the median of that distance, and 10 % beyond its 90th percentile.

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
assert beyond16[0] > 0.85, "in 16-D, prior draws should lie farther from the training codes than real codes do"

# %% [markdown]
# ## 2. Posteriors in a 2-D latent space
#
# With two latent dimensions we can draw everything. Each test image $x$ gets a posterior
# $q(z \mid x) = \mathcal N\big(\mu(x), \operatorname{diag}\sigma^2(x)\big)$; we draw its 2-σ ellipse
# (axis-aligned, since the encoder outputs no correlations) over the contours of the prior
# $p(z) = \mathcal N(0, I)$, the dashed circles at radius 1, 2 and 3.

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
# **What you should see:** small ellipses, one per test image, much smaller than the prior's circles;
# images of the same class (colour) tend to lie close together, though not every class gets a patch of its own.
#
# Measured: the posterior standard deviations against the prior's, which is 1.

# %%
print(f"posterior σ: median {sigma.median():.3f}, 95th percentile {sigma.quantile(0.95):.3f}, largest {sigma.max():.3f}; prior σ = 1")
assert sigma.quantile(0.95) < 0.5, "posteriors should be much narrower than the prior"

# %% [markdown]
# Each posterior pins its image's code down to a small region: that is what makes reconstruction
# possible. What covers the prior is the *whole collection* of posteriors, the **aggregate posterior**
#
# $$q(z) = \frac1N \sum_{n=1}^N q(z \mid x_n).$$
#
# To sample from it, pick a training image at random and draw $z \sim q(z \mid x_n)$; below, one draw
# for every training image, coloured by its class.

# %%
qz_train = vl.metrics.encode(model2, train.images)  # q(z|x_n) for every training image, in batches
z_agg = qz_train.sample()                    # one z ~ q(z|x_n) per training image: draws from q(z)
ax = vl.plots.latent_scatter(z_agg, train.labels)
vl.plots.prior_contours(ax)
ax.set_title("aggregate posterior q(z), by class")
plt.show()

# %% [markdown]
# **What you should see:** a cloud about as wide as the prior's 2-3σ circles. Some classes fill a region
# of their own; others overlap in mixed zones. Two numbers cannot hold all the differences between
# digits, so a 2-D map is only a rough one: on the smooth 8x8 digits data set the classes separate more
# cleanly than on MNIST's digits.
#
# Measured, for these claims: the spread of the cloud per dimension (the prior's is 1), and how well the
# class of a test image can be told from its posterior mean alone, with a 5-nearest-neighbour
# classifier on the training images' means, overall and per class. Chance is the share of the most
# frequent class, about 10 %. We claim far above chance (at least three times), not close to 100 %:
# in quick-mode runs we measured about 55-60 % on a 5,000-image subset of MNIST and about 80 % on the 8x8
# digits.

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
assert knn_acc > 3 * chance, "classes should occupy different regions of the latent plane"
assert max(per_class) > 0.75 and max(per_class) - min(per_class) > 0.2,     "some classes should have a region of their own, others should share theirs"

# %% [markdown]
# This is the picture behind the answer to question 1. Each $q(z \mid x)$ is narrow; the KL term keeps
# them all near the prior, so together they fill roughly the region where $\mathcal N(0, I)$ puts its mass.
# In this plane a $z$ drawn from the prior lands near the codes of some training images, where the
# decoder has learned what to do. Measured with the yardstick of section 1 (the distance from a real test
# image's code $z \sim q(z \mid x_{\text{test}})$ to the nearest training code), next to the 16-D number from there.

# %%
beyond2 = beyond_real_codes(model2)
print(f" 2-D: {beyond2[0]:.0%} of prior draws beyond the test codes' median distance (50 % = like real codes), "
      f"{beyond2[1]:.0%} beyond the 90th percentile (10 %)")
print(f"16-D: {beyond16[0]:.0%} and {beyond16[1]:.0%}")
assert beyond2[0] < 0.8, "in 2-D, most prior draws should lie about as close to the training codes as real codes do"
assert beyond16[0] > beyond2[0] + 0.15, "the 2-D picture should not carry over to 16-D"

# %% [markdown]
# In 2-D, drawing from $p(z)$ is close to drawing "the code of some image, any image", without needing
# one: prior draws are only somewhat farther out than real codes (the prior's tails reach beyond the cloud).
# In 16-D nearly every prior draw is farther from all training codes than a typical real code is, yet
# it still decodes to a digit (section 1): the decoder has to make sense of points between and beyond
# the codes it was trained on, and it does so only in part. How well $q(z)$ matches $p(z)$, and what to
# do where it does not, is the subject of notebook 07.

# %% [markdown]
# ## 3. "I only want ones"
#
# The second question: the posterior *is* informative. If we want only one class, we should sample
# from a posterior instead of from the prior. We compare three ways to choose $z$, with the 16-D model:
#
# - **one image's posterior**: $z \sim q(z \mid x^\ast)$ for a single image $x^\ast$ of the class;
# - **the class's aggregate posterior**: $z \sim q_c(z) = \frac1{N_c}\sum_{n:\,y_n = c} q(z \mid x_n)$,
#   a random training image of class $c$, then a draw from its posterior;
# - **the prior**: $z \sim p(z)$.
#
# To judge the results objectively we need something that says which digit an image shows: the small
# CNN digit classifier of the course package loaded in section 1, `vl.metrics.digit_classifier()`, trained
# on the training images once and then loaded from the cache (notebook 07 measures sample quality with it too).

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
# **What you should see:** left, variations of $x^\ast$ so slight that they look like copies; middle,
# ones in different styles; right, all kinds of digits.
#
# Measured: the share of each set that the classifier calls a one, how many classes each set covers,
# and the variety within each set (the mean per-pixel distance $|a - b|$ between two of its images).

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
assert one["share"] > 0.8 and cls["share"] > 0.7, "posterior samples should be mostly of the wanted class"
assert prior["share"] < 0.3 and prior["classes"] >= 8 and prior["top"] < 0.35, "prior samples should spread over the classes"
assert one["variety"] < 0.5 * cls["variety"], "one image's posterior should give near-copies"

# %% [markdown]
# So yes: when you want a particular kind of image from a VAE that is already trained, the posterior is a
# tool that works. It is *conditioning* on data, and it works because similar images have nearby codes.
# But each way answers a different question:
#
# - $q(z \mid x^\ast)$ gives **"more of this image"**: near-copies, because the posterior is narrow (section 2);
# - $q_c(z)$ gives **"images like the ones of class $c$ in my training set"**, with their variety;
# - $p(z)$ gives **"any image the model can make"**, which is what "generating from the model" means
#   and what the ELBO trained the decoder for.
#
# Sampling from $q(z)$, the aggregate posterior of all classes, instead of $p(z)$ is a legitimate
# choice too: it is one way to fix a prior that does not match the codes (notebook 07). It needs the
# training set at generation time, though, and it only reproduces the neighbourhoods of training codes.
#
# If "only ones" is what you want from the start, build the wish into the model: a **conditional VAE**
# (Sohn et al., 2015) gives the class $y$ to the encoder and the decoder, $q(z \mid x, y)$ and
# $p(x \mid z, y)$, and trains the same ELBO with $y$ given. Then "a new one" is $z \sim p(z)$,
# $x \sim p(x \mid z, y = 1)$: a draw from the model for that class, with no training image needed at
# generation time, and $z$ free to carry the style (slant, thickness) instead of the class.

# %% [markdown]
# ## 4. Explore the latent plane
#
# Move the point with the sliders $z_1$, $z_2$: the left panel marks it among the codes of the
# training images, the right panel shows the image decoded from it. Try a point in the middle of a class,
# a point between two classes, and a point far outside the cloud. (When this notebook runs as a test,
# the sliders are replaced by a static figure: the images decoded over a grid of the plane.)

# %%
vl.widgets.latent_explorer(model2, z_agg, train.labels, lim=3.0)

# %% [markdown]
# An evenly spaced grid over $[-3, 3]^2$ spends most of its images on the prior's tails: only the middle
# third of each axis, $|z_j| < 1$, holds 68 % of the prior's mass. Kingma & Welling (2014, fig. 4) decode
# the plane at the prior's *quantiles* instead: $z_j = \Phi^{-1}(u_j)$ for $u_j$ evenly spaced in $(0, 1)$,
# with $\Phi$ the standard normal CDF. Then each image stands for the same share of the prior's mass, so
# the figure shows the plane as generation sees it. On the left, the codes of the training images in the same
# coordinates, $u = \Phi(z)$: if $q(z)$ were exactly $p(z)$, they would cover the square evenly.

# %%
fig, (ax_u, ax_x) = plt.subplots(1, 2, figsize=(10, 4.8))
u_agg = torch.distributions.Normal(0.0, 1.0).cdf(z_agg.cpu())    # u = Φ(z): uniform if q(z) = p(z)
ax_u.scatter(u_agg[:, 0], u_agg[:, 1], c=train.labels.cpu(), cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
ax_u.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xlabel="$\\Phi(z_1)$", ylabel="$\\Phi(z_2)$",
         title="codes of the training images, u = Φ(z)")
vl.plots.decoded_grid(model2, n=15, spacing="quantile", ax=ax_x)
ax_x.set_title("decoded at the prior's quantiles")
plt.tight_layout()
plt.show()

# %% [markdown]
# **What you should see:** on the right, the digits of the map spread over the whole square, with no
# rows wasted on the far tails (the outermost images sit at $|z_j| = 1.83$, the 3.3 % and 96.7 % quantiles);
# the left panel (colours as in the map of section 2) is arranged like it. Compared with the evenly
# spaced grid above, the classes near the centre get many images instead of one or
# two. Where the left panel is empty, $q(z)$ has less mass than $p(z)$,
# and the decoded images there are the ones a prior draw gets although no training image has its code there.

# %% [markdown]
# **What you should see:** the grid of decoded images is arranged like the coloured map: where the
# map is one colour, the decoded images show that digit. (Look at the zones where two colours meet, and
# far outside the cloud: what does the decoder make of them?)
#
# Measured: at each point of a fine grid inside the prior's 2σ circle, we compare the class the classifier
# sees in the decoded image with the class of the nearest codes on the map (the 5-NN classifier from
# section 2). Two claims:
#
# - overall, they agree far more often than if the decoded images ignored the map. The reference,
#   "chance", is the agreement of two unrelated class labels with the same class frequencies,
#   $\sum_c P(\text{seen} = c)\,P(\text{map} = c)$; to see how far chance alone can reach, we also shuffle
#   the decoded classes over the grid points 200 times (same frequencies, no link to the map) and take
#   the best agreement any shuffle reaches;
# - the map is a reliable guide only where it is one colour: at points whose 5 nearest codes all have
#   the same class, the decoded image shows that class far more often than at points in mixed zones.
#
# Where the map is mixed, it cannot be right often, so overall agreement is far from 100 %: it is
# lower on MNIST's digits than on the 8x8 digits, like the 5-NN accuracy above.

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
assert agree.float().mean() > best_shuffle, "the decoded images should follow the class map beyond what chance can reach"
assert sure > mixed + 0.1, "the map should be a better guide where it is one colour"

# %% [markdown]
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
# Check: compare with the variance of many draws from q(z)
empirical = qz_train.sample((20,)).flatten(0, 1).var(dim=0)

def answer_is_right():
    print(f"within {within.cpu().numpy().round(3)} + between {between.cpu().numpy().round(3)} = "
          f"{(within + between).cpu().numpy().round(3)}; empirical {empirical.cpu().numpy().round(3)}")
    return (tuple(within.shape) == (2,) and tuple(between.shape) == (2,)
            and torch.allclose(within + between, empirical, rtol=0.05) and bool((between > 5 * within).all()))

vl.exercises.check(answer_is_right, hint="within is the mean of σ² over the training images, between the variance of μ over them",
                   success="almost all of q(z)'s width is spread between the posteriors, not within them")

# %% [markdown]
# ### Exercise 2: new ones, not tied to any training image
#
# Samples from $q_c(z)$ stay close to the codes of the training ones. A simple *class-conditional prior*
# fits a single Gaussian to the class's codes instead: with $\hat m$ and $\hat S$ the mean and covariance
# of $\mu(x_n)$ over the training images of class `CLASS`, draw
# $z \sim \mathcal N(\hat m, \hat S)$ (use `MultivariateNormal`, imported below; add a little
# to the diagonal, e.g. the mean $\sigma^2$, to keep $\hat S$ invertible). Decode 200 such $z$ with
# the 16-D model into `x_gauss` (decoder means, shape `(200, 1, 28, 28)`). The posteriors of the training
# images of the class are ready in `qz_c`.

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
# The figure and the measurements below draw their own samples from the fitted Gaussian (with the
# solution's recipe), so they show the same thing whatever you wrote above.

# %%
S_fit = torch.cov(qz_c.mean.T) + torch.diag(qz_c.stddev.pow(2).mean(dim=0))
x_fitted = model.sample(200, z=MultivariateNormal(qz_c.mean.mean(dim=0), S_fit).sample((200,)))
vl.plots.show_images(x_fitted[:24], nrow=12, title=f"z ~ Gaussian fitted to the codes of class {CLASS}")
plt.show()

# %% [markdown]
# **What you should see:** ones, although no $z$ was taken from a particular training image; but not
# "ones in many styles": they are blurry, greyer strokes than real ones, and no more varied than the
# middle panel of section 3.
#
# Measured, against the samples from $q_c(z)$ of section 3 and the real test ones: the share classified
# as ones, the variety, the ink (sum of pixel values) and the blur: the binary entropy of the pixel
# values, summed over the image ($\sum_i -v_i \log v_i - (1 - v_i)\log(1 - v_i)$, 0 for a pure
# black-and-white image, highest for an image of mid-grey smudges). A Gaussian is a smooth blob over
# the codes of the ones: it keeps their spread but not the detail of where the real codes lie.

# %%
def blur(images):
    """Mean over images of the summed binary entropy of the pixel values (nats per image)."""
    v = images.flatten(1).clamp(1e-6, 1 - 1e-6)
    return (-(v * v.log() + (1 - v) * (1 - v).log())).sum(dim=1).mean().item()

ones = {"real test ones": test.images[test.labels == CLASS], f"z ~ q_{CLASS}(z)": samples[f"aggregate posterior of class {CLASS}"],
        "z ~ fitted Gaussian": x_fitted}
for name, images in ones.items():
    print(f"{name:>20}: {(classify(images) == CLASS).float().mean():4.0%} ones, variety {variety(images):.3f}, "
          f"blur {blur(images):5.1f} nats, ink {images.flatten(1).sum(dim=1).mean():5.1f}")
real_ones, from_qc, from_gauss = ones.values()
assert blur(from_gauss) > blur(real_ones), "ones from the fitted Gaussian should be blurrier than real ones"
assert variety(from_gauss) < variety(from_qc), "the fitted Gaussian should not add variety over q_c(z)"
#
# ### Exercise 3: find a zero on the map
#
# In the explorer, find by hand a point that decodes to a 0. Then compute such a point: the
# coordinate-wise *median* of the 2-D posterior means of the training zeros (a median, because a
# class's region need not be convex and a mean can fall between its parts). Store it in `z_zero`, shape `(2,)`.

# %%
### BEGIN SOLUTION
z_zero = qz_train.mean[train.labels == 0].median(dim=0).values
### END SOLUTION

# %%
def answer_is_right():
    seen = classify(model2.sample(1, z=z_zero.reshape(1, 2)))[0].item()
    print(f"z_zero = {z_zero.cpu().numpy().round(2)} decodes to an image the classifier calls a {seen}")
    return tuple(z_zero.shape) == (2,) and seen == 0

vl.exercises.check(answer_is_right, hint="take the coordinate-wise median of qz_train.mean over the training images whose label is 0")

# %% [markdown]
# ## Summary
#
# - Training decodes $z \sim q(z \mid x)$ because its job is to explain a given $x$; a $z$ from the prior
#   explains it worse by many nats.
# - Generation decodes $z \sim p(z)$ because the model defines images that way, and the posteriors of all
#   training images together, the aggregate posterior $q(z)$, approximate the prior: a prior draw is
#   roughly the code of a random image. Roughly: $q(z)$ has about the prior's mean and covariance, but
#   decoded prior draws score several times worse than decoded codes of real images (notebook 07).
# - The 2-D picture (prior draws land among the codes) does not carry over to 16-D, where nearly all
#   prior draws lie farther from the training codes than real codes do.
# - Generated images are no closer to training images than new real digits are: they are not copies.
# - Posteriors are narrow (σ far below the prior's 1) and grouped by class (cleanly for some classes,
#   overlapping for others), so sampling from one image's posterior gives near-copies, from one class's
#   aggregate posterior gives that class, and from the prior gives everything. To generate one class
#   from the start, train a conditional VAE.

# %% [markdown]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-Encoding Variational Bayes. *International Conference on
#   Learning Representations (ICLR)*. (The VAE; the latent plane decoded at Gaussian quantiles, fig. 4.)
# - D. J. Rezende, S. Mohamed and D. Wierstra (2014). Stochastic Backpropagation and Approximate Inference
#   in Deep Generative Models. *International Conference on Machine Learning (ICML)*.
# - M. D. Hoffman and M. J. Johnson (2016). ELBO surgery: yet another way to carve up the variational
#   evidence lower bound. *NIPS Workshop on Advances in Approximate Bayesian Inference*. (The average KL
#   term as $I(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$.)
# - K. Sohn, H. Lee and X. Yan (2015). Learning Structured Output Representation using Deep Conditional
#   Generative Models. *Advances in Neural Information Processing Systems (NeurIPS)*. (The conditional VAE.)
# - J. M. Tomczak and M. Welling (2018). VAE with a VampPrior. *International Conference on Artificial
#   Intelligence and Statistics (AISTATS)*. (A prior built from learned pseudo-inputs' posteriors.)
# - M. Rosca, B. Lakshminarayanan and S. Mohamed (2018). Distribution Matching in Variational Inference.
#   *arXiv:1802.06847*. (How far the aggregate posterior is from the prior in practice.)
# - P. Ghosh, M. S. M. Sajjadi, A. Vergari, M. Black and B. Schölkopf (2020). From Variational to
#   Deterministic Autoencoders. *International Conference on Learning Representations (ICLR)*. (Sampling
#   from a density fitted to the codes after training.)
# - M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler and S. Hochreiter (2017). GANs Trained by a Two
#   Time-Scale Update Rule Converge to a Local Nash Equilibrium. *Advances in Neural Information Processing
#   Systems (NeurIPS)*. (The Fréchet distance between feature statistics, here with a small digit classifier.)
