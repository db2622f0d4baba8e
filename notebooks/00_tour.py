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
# # 00 · A tour of the series and its helper package
#
# *Time: about 45 minutes (core path 45) · Read first: nothing · GPU: not needed*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/00_tour.ipynb)
#
# Every notebook in this series imports one small helper package, `vae_lesson`. This tour shows what it does
# for you, in five steps, so the later notebooks can spend their time on ideas instead of plumbing.
#
# **What you will learn**
# - how to see which device (GPU or CPU), torch version and random seed a notebook runs with;
# - how the data arrive: one tensor of images in $[0, 1]$, with labels;
# - how to get a trained VAE in one line (trained once, then loaded from a cache);
# - how to look at reconstructions (an image encoded to a code and decoded back) and samples (a random code
#   decoded to a new image), and how the series turns what a figure shows into a number it can check.
#
# Nothing here is explained in depth: each step is the subject of a later notebook.

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
import torch
import matplotlib.pyplot as plt
import vae_lesson as vl

SEED = vl.config.seed()
device = vl.setup(seed=SEED)

# %% [markdown] tags=["core"]
# ## 1. Device and settings
#
# `vl.setup` picks CUDA, then Apple's MPS, then the CPU, and prints what it chose. Environment variables change
# the whole series at once, without touching a notebook. Set them before starting Jupyter, or, in Colab, in a cell
# such as `%env VAE_LESSON_SEED=1` run before `import vae_lesson`:
#
# | variable | effect |
# |---|---|
# | `VAE_LESSON_DATASET` | `mnist` (default, downloaded); `mnist-5k`, 5,000 real MNIST digits that need no download (a subset: 4,000 training, 1,000 test images); `fashion-mnist`; or `digits` (scikit-learn's 8x8 digits upsampled: offline, but mostly grey pixels) |
# | `VAE_LESSON_QUICK=1` | fewer epochs and smaller sizes: a fast first run, with rougher results |
# | `VAE_LESSON_SEED` | the random seed of the notebook and its models (default 0) |
# | `VAE_LESSON_DEVICE` | force a device, e.g. `cpu` |
# | `VAE_LESSON_DATA_DIR` | where MNIST and Fashion-MNIST are downloaded to, or looked for |
# | `VAE_LESSON_CACHE_DIR` | where trained models are kept |
# | `VAE_LESSON_CLAIMS=raise` | stop at a claim this run does not support (section 3), instead of showing it in a box |

# %%
print("data set:  ", vl.config.dataset_name())
print("cache:     ", vl.config.cache_dir())

# %% [markdown] tags=["core"]
# ## 2. The data
#
# `vl.load` returns the whole split as one tensor on the training device: images of shape $(N, 1, 28, 28)$ with
# pixel values in $[0, 1]$, and their class labels. Training then draws each mini-batch by indexing this tensor with
# a seeded random permutation, instead of decoding images one by one (`vae-lesson bench` measures the difference
# on your machine).

# %%
train = vl.load(split="train")
test = vl.load(split="test")
print(f"{train.name}: {len(train)} training and {len(test)} test images,",
      f"shape {tuple(train.images.shape[1:])}, values in [{train.images.min():.1f}, {train.images.max():.1f}],",
      f"on {train.images.device}")
assert train.images.shape[1:] == (1, 28, 28) and test.images.shape[1:] == (1, 28, 28)
assert 0 <= train.images.min() and train.images.max() <= 1
assert set(train.labels.unique().tolist()) == set(range(10))  # all ten classes are present

per_class = torch.stack([(train.labels == c).nonzero()[:3, 0] for c in range(10)], 1).flatten()  # 3 of each class
vl.plots.show_images(train.images[per_class], nrow=10, title="three training images of each class, one column each");

# %% [markdown]
# **What you should see:** handwritten digits (or clothes, with `fashion-mnist`), dark on white, one class per
# column, 0 to 9.

# %% [markdown] tags=["core"]
# ## 3. A trained VAE in one line
#
# A VAE has three parts, each a small module that returns a `torch.distributions` object:
#
# - the **encoder** $q(z \mid x)$: a diagonal Gaussian over the latent code $z$, given an image $x$;
# - the **decoder** $p(x \mid z)$: a distribution over images, given a code $z$;
# - the **prior** $p(z) = \mathcal N(0, I)$.
#
# `vl.trained("tour")` trains the settings named `"tour"` the first time (with a progress bar) and loads them from the
# cache every time after that. The settings are printed so you can see what was trained.

# %%
print(vl.RECIPES["tour"])
model, history = vl.trained("tour", seed=SEED)
print(model)

# %%
x = test.images[:8]
qz = model.encoder(x)
px_z = model.decoder(qz.sample())
pz = model.prior()
print("q(z|x):", qz)
print("p(x|z):", px_z)
print("p(z):  ", pz)
assert qz.batch_shape == (8,) and qz.event_shape == pz.event_shape
assert px_z.event_shape == (1, 28, 28)

# %% [markdown]
# The history holds one row per epoch of the **ELBO**, the *evidence lower bound*: the objective a VAE maximises, a
# lower bound on $\log p(x)$ (notebook 01 derives it). It is counted in **nats** per image, units of natural
# logarithms (1 nat = $1/\ln 2 \approx 1.44$ bits); higher is better. It has two parts: the reconstruction term
# $\mathbb E_q[\log p(x \mid z)]$, and the **KL divergence** $\mathrm{KL}(q(z \mid x) \,\|\, p(z)) \ge 0$, which is
# zero only when $q(z \mid x) = p(z)$. (This tour's decoder gives each pixel a Bernoulli distribution, a coin that
# shows ink with probability $p$, and scores a grey level $x \in [0, 1]$ by $x \log p + (1 - x) \log(1 - p)$. For grey
# images the ELBO then bounds no probability of the image; notebook 01 binarises the images to get one. Its numbers
# still compare epochs and models.)
#
# Each sentence below that claims something is checked by `vl.claim`: it prints the measured number, the threshold
# the claim needs, and the *null*, what the number would read if the claim were false. If a run does not support a
# claim (another seed or data set can do that), a box says so and the notebook goes on.

# %%
torch.manual_seed(SEED)
untrained = vl.make_vae(**vl.RECIPES["tour"]).to(device)      # the same network, before training
start = vl.train.evaluate(untrained, test.images)["elbo"]
end = vl.train.evaluate(model, test.images)                   # test images, one z each
end_train = vl.train.evaluate(model, train.images[:len(test)])  # as many training images
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
vl.plots.plot_history(history, keys=("elbo",), ax=axes[0])
from_start = {"epoch": [0, *history["epoch"]], "test_elbo": [start, *history["test_elbo"]]}  # epoch 0: untrained
vl.plots.plot_history(from_start, keys=("test_elbo",), ax=axes[0])
vl.plots.plot_history(history, keys=("kl",), ax=axes[1])
axes[0].set_title("ELBO (higher is better)")
axes[1].set_title(r"KL$(q(z|x)\,\|\,p(z))$, training images")
plt.tight_layout()
print(f"test ELBO: {start:.1f} nats untrained, {end['elbo']:.1f} trained; on training images {end_train['elbo']:.1f} "
      f"(gap {end_train['elbo'] - end['elbo']:.1f} nats)")
gain = end["elbo"] - start
vl.claim("training-helps", "training raises the test ELBO far above the untrained network's", gain, ">", 100,
         null=0, null_is="no gain over the untrained network", unit="nats");
mid = history["test_elbo"][len(history["epoch"]) // 2 - 1]    # after half the epochs
vl.claim("levels-off", "the ELBO levels off: the second half of training adds a small share of the gain",
         (history["test_elbo"][-1] - mid) / (history["test_elbo"][-1] - start), "<", 0.2, null=0.5,
         null_is="a straight line: half the gain in half the epochs");
vl.claim("no-overfit", "the model does about as well on new images as on its training images: the gap is a small "
         "share of what training gained", (end_train["elbo"] - end["elbo"]) / gain, "<", 0.2, null=1,
         null_is="a model whose whole gain is on its training images");
vl.claim("no-collapse", "the encoder does not collapse to the prior: the KL stays well above 0", end["kl"], ">", 5,
         null=0, null_is="q(z|x) = p(z) for every image: KL = 0", unit="nats");
kl = history["kl"]
low = min(range(5), key=kl.__getitem__)                       # the lowest KL of the first five epochs
batch_size = vl.RECIPES["tour"].get("batch_size", 128)  # 128: vl.fit's default
steps_per_epoch = -(-len(train) // batch_size)
print(f"training KL: {kl[0]:.1f} nats in epoch 1, {kl[low]:.1f} at its lowest (epoch {low + 1}), {kl[-1]:.1f} "
      f"at the end (epoch {len(kl)}; {steps_per_epoch} steps of {batch_size} images per epoch)")
if steps_per_epoch <= 100:  # the dip lasts some tens of steps (notebook 03, section 4): several short epochs
    vl.claim("kl-dips", "the KL falls over the first epochs", kl[low] / kl[0], "<", 0.8, null=1,
             null_is="no dip: the lowest is epoch 1's");
    assert low < len(kl) - 1  # the end comes after the lowest point
    vl.claim("kl-climbs", "then the KL climbs well above its lowest", kl[-1] / kl[low], ">", 2, null=1,
             null_is="no climb");
else:  # an epoch of 60,000 images is 469 steps: the dip is over inside epoch 1, and the averages only climb
    vl.claim("kl-climbs", "the epochs' KL only climbs", kl[-1] / kl[0], ">", 1.05, null=1, null_is="no climb");

# %% [markdown]
# **What you should see:** the test ELBO rising fast from the untrained network's (epoch 0), then levelling off;
# train and test curves close together after epoch 1. (At epoch 1 the training curve is lower: it is averaged over an
# epoch in which the network was still improving from its untrained start, while the test curve is measured at the
# epoch's end.) The KL falls over the first few epochs, then climbs and levels off at the value printed above. The KL is an upper bound on the information each code carries about its image (notebook 07 separates the
# two). Notebook 03 measures why it dips first. The dip lasts some tens of training steps, so it spans several
# epochs whenever an epoch has at most 100 steps (12 for the 1,500 digits, 32 for the 4,000 images of `mnist-5k`);
# with the 60,000 MNIST images an epoch is 469 steps, the dip is over inside the first one, and the epoch averages
# only climb.

# %% [markdown] tags=["core"]
# ## 4. Reconstructions and samples
#
# A **reconstruction** encodes a test image, draws one $z \sim q(z \mid x)$ and decodes it. A **sample** draws
# $z \sim p(z)$ and decodes it: a new image, not a copy of a training image (measured below). Both show the
# decoder's mean image: each pixel's probability of ink under $p(x \mid z)$, not a random draw of black and white
# pixels.

# %%
recon = model.reconstruct(x)
samples = model.sample(16)
fig, axes = plt.subplots(3, 1, figsize=(6, 5.2), height_ratios=(1, 1, 2))
vl.plots.show_images(x, nrow=8, title="test images $x$", ax=axes[0])
vl.plots.show_images(recon, nrow=8, title=r"their reconstructions, $z \sim q(z|x)$", ax=axes[1])
vl.plots.show_images(samples, nrow=8, title=r"new samples, $z \sim p(z)$", ax=axes[2])
plt.tight_layout()

x_many = test.images[:500]
recon_many = model.reconstruct(x_many)
err_own = (recon_many - x_many).pow(2).flatten(1).sum(1)               # squared distance to its own image
err_other = (recon_many - x_many.roll(1, 0)).pow(2).flatten(1).sum(1)  # ... and to another test image
ratio = err_own.mean() / err_other.mean()
print(f"squared distance of a reconstruction to its image: {err_own.mean():.1f}; to another test image: "
      f"{err_other.mean():.1f} (500 test images)")
vl.claim("recon-own-image", "a reconstruction is much closer to its own image than to another test image",
         ratio, "<", 0.5, null=1, null_is="as close to another image as to its own");
near = lambda images: vl.metrics.distance_to_nearest(images, train.images).mean().item()  # to the nearest one
d_samples = near(model.sample(500))
d_copies = near(model.reconstruct(train.images[:500]))  # what a VAE that copies its training images would draw
print(f"mean distance to the nearest training image: samples {d_samples:.2f}; reconstructions of training images "
      f"{d_copies:.2f}; test images {near(x_many):.2f}")
vl.claim("samples-not-copies", "samples are no copies of training images: they lie further from the nearest "
         "training image than reconstructions of training images do", d_samples / d_copies, ">", 1.1, null=1,
         null_is="a VAE that draws blurred copies: as far as its reconstructions of training images");

# %% [markdown]
# **What you should see:** reconstructions that keep each digit's shape, a little blurred (a classifier counts
# below how many keep its class); samples that look like digits, some of them badly formed (how many is not measured here; notebooks 06 and 07
# measure sample quality).
#
# "Badly formed" can be measured, with care. `vl.metrics.digit_classifier()` trains a small digit classifier once (a
# few seconds, then cached); the later notebooks use it to score generated images. Its confidence in an image is its
# largest class probability. Does a reconstruction keep its digit's class? And averaged over many images, is the
# confidence lower on samples than on reconstructions of real test digits?

# %%
classifier = vl.metrics.digit_classifier()
x_many, labels = test.images[:300], test.labels[:300]
recon_many = model.reconstruct(x_many)
sure = lambda images: vl.metrics.confidences(images, classifier)    # each image's confidence
with torch.no_grad():
    correct = lambda images: (classifier(images).argmax(-1) == labels).float().mean().item()  # share right
    acc_test, acc_recon = correct(x_many), correct(recon_many)
    confidence = {"test images": sure(x_many), "reconstructions": sure(recon_many), "samples": sure(model.sample(300))}
print(f"classifier's accuracy: {acc_test:.3f} on test images, {acc_recon:.3f} on their reconstructions")
vl.claim("recon-keeps-class", "most reconstructions keep their digit: the classifier names their image's class",
         acc_recon, ">", 0.7, null=0.1, null_is="reconstructions that lose the digit: chance, 1 in 10");
for name, c in confidence.items():
    print(f"classifier's mean confidence on {name:15s}: {c.mean():.3f}")
c_rec, c_smp = confidence["reconstructions"], confidence["samples"]
se = (c_rec.var() / len(c_rec) + c_smp.var() / len(c_smp)).sqrt()  # standard error of the difference
vl.claim("samples-less-sure", "the classifier is less sure of samples than of reconstructions",
         c_smp.mean(), "<", c_rec.mean() - 0.03, null=c_rec.mean(), null_is="the reconstructions' mean",
         se=se);

# %% [markdown]
# The classifier names the right class for most reconstructions (the accuracy printed above, beside its accuracy on
# the test images themselves), and it is less sure of the samples than of the reconstructions. Confidence is not a test of whether an
# image looks like a digit, though: the classifier must spread its probability over the ten classes whatever it is
# shown, and it can be very sure of an image that looks like no digit at all: uniform noise, for instance (below).
# The mean training image, a blur that notebook 05 meets again, gets a high confidence too. A lower average over
# many samples still tells us something; one high score tells us little.

# %%
noise = torch.rand(300, 1, 28, 28, device=device)          # uniform noise: no digit at all
blob = train.images.mean(0, keepdim=True)                 # the mean training image: a blur
with torch.no_grad():
    noise_confidence, blob_confidence = sure(noise).mean().item(), sure(blob).item()
print(f"classifier's mean confidence on noise: {noise_confidence:.2f}; on the mean training image: "
      f"{blob_confidence:.2f}")
vl.claim("sure-of-noise", "the classifier is sure of images that show no digit", noise_confidence, ">", 0.5,
         null=0.1, null_is="a classifier that cannot decide: 1 in 10");
vl.claim("sure-of-blur", "the classifier is sure of the mean training image too", blob_confidence, ">", 0.5,
         null=0.1, null_is="a classifier that cannot decide: 1 in 10");

# %% [markdown]
# Notebook 06 explains why samples are worse than reconstructions, and notebook 07 measures the difference in more
# detail and reduces it.

# %% [markdown] tags=["core"]
# ## 5. The series
#
# | notebook | question |
# |---|---|
# | 01 The ELBO | what does a VAE maximise, and how far is it from $\log p(x)$? |
# | 02 The reparameterization trick | how do gradients get through a random draw, and why is one draw enough? |
# | 03 Training a VAE | what do the numbers mean, and which bugs ruin training silently? |
# | 04 Likelihoods | what does the reconstruction term measure, and could a random draw decode to another image? |
# | 05 Without the encoder? | could we train the decoder on $z \sim \mathcal N(0, I)$ alone? |
# | 06 Prior vs posterior | why train on $q(z \mid x)$ but generate from $p(z)$? |
# | 07 $q(z)$ is not $p(z)$ | how far apart are they, what does it cost, and how do we fix it? |
#
# **Exercise.** Does the model reconstruct the images it was trained on better than new ones? Predict first: set
# `my_prediction` to `"training images better"`, `"test images better"` or `"about the same"` (the check calls one
# split better when its error is more than 3% below the other's). Then compute the mean absolute reconstruction error per pixel,
# `(reconstruction - image).abs().mean()`, over the first 200 *training* images (`train_err`) and over the first 200
# test images (`test_err`), each a float.

# %%
x_train, x_test = train.images[:200], test.images[:200]
my_prediction = None  # "training images better", "test images better" or "about the same"
### BEGIN SOLUTION
my_prediction = "training images better"
train_err = (model.reconstruct(x_train) - x_train).abs().mean().item()
test_err = (model.reconstruct(x_test) - x_test).abs().mean().item()
### END SOLUTION

# %%
# check: the same computation with fresh draws of z
reference = {name: (model.reconstruct(data.images[:200]) - data.images[:200]).abs().mean().item()
             for name, data in (("train", train), ("test", test))}
gap = (reference["test"] - reference["train"]) / max(reference.values())  # > 0: training images reconstructed better
outcome = "training images better" if gap > 0.03 else "test images better" if gap < -0.03 else "about the same"


def check_answer():
    options = ("training images better", "test images better", "about the same")
    assert my_prediction in options, f"my_prediction is {my_prediction!r}, not one of {options}"
    print(f"yours:     train {train_err:.4f}, test {test_err:.4f}")
    print(f"reference: train {reference['train']:.4f}, test {reference['test']:.4f} (test error {100 * gap:+.1f}% "
          f"of the larger): {outcome}; you predicted {my_prediction}")
    return my_prediction == outcome and all(abs(mine - reference[name]) < 0.05 * reference[name]
                                            for name, mine in (("train", train_err), ("test", test_err)))


vl.exercises.check(check_answer, hint="set my_prediction to one of the three phrases, then compare it with the "
                   "outcome printed above; for each split, (model.reconstruct(xs) - xs).abs().mean().item() with xs "
                   "the first 200 images of that split")

# %% [markdown]
# How small is the difference? Set it beside a model that only memorises: it would reproduce each training image
# exactly (error 0) and reconstruct a new image by its nearest training image. Measured on the same scale, the
# share of the way from "as good as on training images" to "as bad as against another test image":

# %%
other = (model.reconstruct(x_test) - x_test.roll(1, 0)).abs().mean().item()     # vs another test image
nearest = torch.cdist(x_test.flatten(1), train.images.flatten(1), p=1).argmin(1)  # each one's nearest training image
memoriser = (train.images[nearest] - x_test).abs().mean().item()
share = (reference["test"] - reference["train"]) / (other - reference["train"])
print(f"error against another test image {other:.4f}; a memoriser's test error {memoriser:.4f} (its training error: 0)")
vl.claim("new-images-as-well", "new images are reconstructed about as well as training images: the test error lies "
         "a small share of the way from the training error to the error against another image", share, "<", 0.15,
         null=memoriser / other, null_is="a memoriser: exact on training images, nearest training image on new ones");

# %% [markdown]
# The memoriser's error on new images is lower than the VAE's: its outputs are sharp real digits, the VAE's blurred
# means. The claim is about the gap between training and new images, not the level, and the memoriser's whole test
# error is gap. A small share says the model generalises to new images; it is not a test of memorisation on its own,
# which would compare, for instance, the likelihood of training images with that of test images (notebook 03).

# %% [markdown] tags=["core"]
# ## References
#
# - D. P. Kingma and M. Welling (2014). Auto-encoding variational Bayes. *International Conference on Learning
#   Representations (ICLR)*. The VAE this series builds.
# - D. J. Rezende, S. Mohamed and D. Wierstra (2014). Stochastic backpropagation and approximate inference in deep
#   generative models. *International Conference on Machine Learning (ICML)*. The same model, found independently.
# - D. P. Kingma and M. Welling (2019). An introduction to variational autoencoders. *Foundations and Trends in
#   Machine Learning* 12(4). A longer introduction to everything in this series.
# - Y. LeCun, L. Bottou, Y. Bengio and P. Haffner (1998). Gradient-based learning applied to document recognition.
#   *Proceedings of the IEEE* 86(11). The MNIST digits.
