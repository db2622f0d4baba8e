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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/05_prior_vs_posterior.ipynb)

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
# # 05 · Prior or posterior: which $z$ goes into the decoder?
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
# - draw the posteriors of a 2-D latent space as ellipses over the prior, and read the aggregate
#   posterior (the codes of all training images) as a map of the data;
# - generate images of one chosen class from a posterior or from a class's aggregate posterior,
#   and check with a classifier that it worked;
# - explore a 2-D latent plane with sliders and see what the decoder makes of each point.

# %%
import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Patch
from sklearn.neighbors import KNeighborsClassifier

import vae_lesson as vl

SEED = 0
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
# the generated row shows other digits, unrelated to the row above, that were not copied from anywhere.
#
# Measured: the Euclidean distance (over the 784 pixels) from each reconstruction to its input,
# against the distance from each generated image to its *nearest* training image, the most
# favourable comparison a generated image can get.

# %%
with torch.no_grad():
    recon = model.reconstruct(x)
    new = model.sample(len(x))
d_rec = (recon - x).flatten(1).norm(dim=1)                                      # to its own input
d_new = vl.metrics.distance_to_nearest(new, train.images)                       # to the nearest training image
print(f"reconstruction to its input:           {d_rec.mean():.2f} (mean over {len(x)} images)")
print(f"generated image to nearest train image: {d_new.mean():.2f}")
assert d_rec.mean() < d_new.mean(), "reconstructions should be closer to their inputs than new images to any training image"

# %% [markdown]
# So the two rows do different jobs: a reconstruction is *this* image again, a generated image is a new
# one. Training needs the first, generation the second.
#
# But why does decoding a draw from $\mathcal N(0, I)$ give a digit at all, when the decoder was only
# ever trained on $z$ from posteriors? Because of the second term of the ELBO: the KL term pulls every
# $q(z \mid x)$ towards $p(z)$, so the codes of all training images together are pushed to fill the
# region where the prior puts its mass. A picture makes this concrete.

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
# cleanly than on MNIST.
#
# Measured, for these claims: the spread of the cloud per dimension (the prior's is 1), and how well the
# class of a test image can be told from its posterior mean alone, with a 5-nearest-neighbour
# classifier on the training images' means, overall and per class. Chance is the share of the most
# frequent class, about 10 %. We claim far above chance (at least three times), not close to 100 %:
# in quick-mode runs we measured about 55-60 % on MNIST and about 80 % on the 8x8 digits.

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
# This is the answer to question 1. Each $q(z \mid x)$ is narrow; the KL term keeps them all near the
# prior, so together they fill roughly the region where $\mathcal N(0, I)$ puts its mass. A $z$ drawn from
# the prior therefore lands, most of the time, near the codes of some training images, where the decoder
# has learned what to do. Measured: the distance from each of 2,000 prior draws to the nearest
# posterior mean of a training image.

# %%
z_new = model2.prior.sample(2000)                                # z ~ p(z)
nearest = vl.metrics.distance_to_nearest(z_new, qz_train.mean)  # to the closest training code
near = (nearest < 0.5).float().mean()
print(f"median distance to the closest training code: {nearest.median():.3f}; "
      f"within 0.5 (half the prior's σ): {near:.0%} of the prior draws")
assert near > 0.8, "most prior draws should land among the codes of training images"

# %% [markdown]
# Drawing from $p(z)$ is drawing "the code of some image, any image", without needing one. (How well
# $q(z)$ matches $p(z)$, and what to do where it does not, is the subject of notebook 06.)

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
# CNN digit classifier of the course package, `vl.metrics.digit_classifier()`, trained on the training
# images once and then loaded from the cache (notebook 06 measures sample quality with it too).

# %%
classifier = vl.metrics.digit_classifier()

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
          f"{stats[name]['classes']:2d} classes seen, variety {stats[name]['variety']:.2f}")
one, cls, prior = stats.values()
assert one["share"] > 0.8 and cls["share"] > 0.7, "posterior samples should be mostly of the wanted class"
assert prior["share"] < 0.3 and prior["classes"] >= 8 and prior["top"] < 0.35, "prior samples should spread over the classes"
assert one["variety"] < 0.5 * cls["variety"], "one image's posterior should give near-copies"

# %% [markdown]
# So yes: when you want a particular kind of image, the posterior is the right tool. It is
# *conditioning* on data, and it works because similar images have nearby codes. But each way answers a
# different question:
#
# - $q(z \mid x^\ast)$ gives **"more of this image"**: near-copies, because the posterior is narrow (section 2);
# - $q_c(z)$ gives **"images like the ones of class $c$ in my training set"**, with their variety;
# - $p(z)$ gives **"any image the model can make"**, which is what "generating from the model" means
#   and what the ELBO trained the decoder for.
#
# Sampling from $q(z)$, the aggregate posterior of all classes, instead of $p(z)$ is a legitimate
# choice too: it is one way to fix a prior that does not match the codes (notebook 06). It needs the
# training set at generation time, though, and it only reproduces the neighbourhoods of training codes.

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
# **What you should see:** the grid of decoded images is arranged like the coloured map: where the
# map is one colour, the decoded images show that digit. (Look at the zones where two colours meet, and
# far outside the cloud: what does the decoder make of them?)
#
# Measured: at each point of a fine grid inside the prior's 2σ circle, we compare the class the classifier
# sees in the decoded image with the class of the nearest codes on the map (the 5-NN classifier from
# section 2). Two claims:
#
# - overall, they agree far more often than if the decoded images ignored the map (at least three times
#   as often). The reference, "chance", is the agreement of two unrelated class labels with the same
#   class frequencies, $\sum_c P(\text{seen} = c)\,P(\text{map} = c)$;
# - the map is a reliable guide only where it is one colour: at points whose 5 nearest codes all have
#   the same class, the decoded image shows that class far more often than at points in mixed zones.
#
# Where the map is mixed, it cannot be right often, so overall agreement is far from 100 %: it is
# lower on MNIST (about 45-50 % in quick-mode runs) than on the 8x8 digits (about 70-75 %), like the
# 5-NN accuracy above.

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
assert agree.float().mean() > 3 * chance_map, "the decoded images should follow the class map"
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
# --- solution (lecturers: delete before handing out) ---
within = qz_train.stddev.pow(2).mean(dim=0)
between = qz_train.mean.var(dim=0, unbiased=False)
# --- end of solution ---

# %%
# Check: compare with the variance of many draws from q(z)
z_many = qz_train.sample((20,)).flatten(0, 1)
empirical = z_many.var(dim=0)
print(f"within {within.cpu().numpy().round(3)} + between {between.cpu().numpy().round(3)} = "
      f"{(within + between).cpu().numpy().round(3)}; empirical {empirical.cpu().numpy().round(3)}")
ok = torch.allclose(within + between, empirical, rtol=0.05)
print("correct: almost all of q(z)'s width is spread between the posteriors, not within them"
      if ok and (between > 5 * within).all() else
      "not yet: hint: within is the mean of σ², between the variance of μ over the training images")
assert ok and (between > 5 * within).all()

# %% [markdown]
# ### Exercise 2: new ones, not tied to any training image
#
# Samples from $q_c(z)$ stay close to the codes of the training ones. A simple *class-conditional prior*
# fits a single Gaussian to the class's codes instead: with $\hat m$ and $\hat S$ the mean and covariance
# of $\mu(x_n)$ over the training images of class `CLASS`, draw
# $z \sim \mathcal N(\hat m, \hat S)$ (use `torch.distributions.MultivariateNormal`; add a little
# to the diagonal, e.g. the mean $\sigma^2$, to keep $\hat S$ invertible). Decode 200 such $z$ with
# the 16-D model into `x_gauss` (decoder means, shape `(200, 1, 28, 28)`).

# %%
# --- solution (lecturers: delete before handing out) ---
from torch.distributions import MultivariateNormal

qz_c = vl.metrics.encode(model, train.images[train.labels == CLASS])
with torch.no_grad():
    m_hat = qz_c.mean.mean(dim=0)
    S_hat = torch.cov(qz_c.mean.T) + torch.diag(qz_c.stddev.pow(2).mean(dim=0))
    x_gauss = model.sample(200, z=MultivariateNormal(m_hat, S_hat).sample((200,)))
# --- end of solution ---

# %%
# Check: mostly of the wanted class, and far more varied than one image's posterior
share = (classify(x_gauss) == CLASS).float().mean().item()
print(f"{share:.0%} classified as {CLASS}; variety {variety(x_gauss):.2f} (one image's posterior: {one['variety']:.2f})")
vl.plots.show_images(x_gauss[:24], nrow=12, title=f"z ~ Gaussian fitted to the codes of class {CLASS}")
plt.show()
ok = tuple(x_gauss.shape) == (200, 1, 28, 28) and share > 0.6 and variety(x_gauss) > 2 * one["variety"]
print("correct: a Gaussian per class is a small conditional generator" if ok else
      "not yet: hint: fit m_hat and S_hat to the posterior MEANS of class CLASS, sample z, then model.sample(200, z=z)")
assert ok

# %% [markdown]
# **What you should see:** ones in many styles, like the middle panel of section 3, although no $z$ was
# taken from a particular training image.
#
# ### Exercise 3: find a zero on the map
#
# In the explorer, find by hand a point that decodes to a 0. Then compute such a point: the
# coordinate-wise *median* of the 2-D posterior means of the training zeros (a median, because a
# class's region need not be convex and a mean can fall between its parts). Store it in `z_zero`, shape `(2,)`.

# %%
# --- solution (lecturers: delete before handing out) ---
z_zero = qz_train.mean[train.labels == 0].median(dim=0).values
# --- end of solution ---

# %%
with torch.no_grad():
    x_zero = model2.sample(1, z=z_zero.reshape(1, 2))
seen = classify(x_zero)[0].item()
print(f"z_zero = {z_zero.cpu().numpy().round(2)} decodes to an image the classifier calls a {seen}")
print("correct" if seen == 0 else "not yet: hint: take the median over the training images whose label is 0")
assert seen == 0

# %% [markdown]
# ## Summary
#
# - Training decodes $z \sim q(z \mid x)$ because its job is to explain a given $x$; a $z$ from the prior
#   explains it worse by many nats.
# - Generation decodes $z \sim p(z)$ because the model defines images that way, and the KL term keeps the
#   codes of all training images (the aggregate posterior) spread over the prior's region.
# - Posteriors are narrow (σ far below the prior's 1) and grouped by class (cleanly for some classes,
#   overlapping for others), so sampling from one image's
#   posterior gives near-copies, from one class's aggregate posterior gives that class, and from the
#   prior gives everything.
