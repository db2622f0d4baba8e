r"""Measuring samples and latent spaces, so that notebooks assert numbers instead of eyeballing.

Sample quality: a small CNN digit classifier, trained here (no downloaded weights) and cached,
gives the Fréchet distance in its feature space, its confidence and the classes it sees.

Aggregate posterior $q(z) = \frac1N \sum_n q(z \mid x_n)$: its KL from the prior, the mutual
information $I(x; z)$, its per-dimension moments, the active units and samples from it.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal
from tqdm.auto import trange

from . import config
from .data import batches, load
from .cache import load_or_build

# --- a digit classifier as a measuring instrument -----------------------------------------------


class DigitClassifier(nn.Module):
    """Two convolutions and a 64-unit feature layer: small enough to train in seconds, good
    enough (~98 % on digits) that its features tell a digit from a smudge."""

    def __init__(self, n_classes=10, n_features=64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),   # 28 -> 14
            nn.Conv2d(16, 32, 5, stride=2, padding=2), nn.ReLU(),  # 14 -> 7
            nn.Flatten(), nn.Linear(32 * 7 * 7, n_features), nn.ReLU())
        self.head = nn.Linear(n_features, n_classes)

    def features(self, x):
        """The penultimate layer: the space in which the Fréchet distance is measured."""
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def _classifier_steps(n_train):
    """Epochs for ~250 updates (~98 % on digits), and at least two passes over large data sets."""
    return max(2, math.ceil(250 / math.ceil(n_train / 128)))


def digit_classifier(dataset=None, device=None, progress=True):
    """The classifier used to score generated images, trained on the training split (seeded)
    and cached on disk, so every notebook scores samples with the same instrument."""
    dataset = dataset or config.dataset_name()
    device = torch.device(device or config.get_device())
    train = load(dataset, "train", device)
    epochs = _classifier_steps(len(train))
    settings = {"dataset": dataset, "n_train": len(train), "epochs": epochs, "seed": 0}

    def restore(state):
        model = DigitClassifier(n_classes=state["n_classes"])
        model.load_state_dict(state["state_dict"])
        return model.to(device).eval()

    def build():
        torch.manual_seed(0)  # its own seed: the same instrument whatever the notebook's seed
        model = _train_classifier(train, epochs, progress)
        state_dict = {k: v.cpu() for k, v in model.state_dict().items()}
        return model, {"state_dict": state_dict, "n_classes": model.head.out_features}

    return load_or_build(f"classifier-{dataset}", settings, build, restore, device).value


def _train_classifier(train, epochs, progress):
    model = DigitClassifier(n_classes=int(train.labels.max()) + 1).to(train.images.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    order_rng = torch.Generator().manual_seed(0)
    for _ in trange(epochs, desc="classifier", disable=not progress):
        for idx in batches(len(train), 128, order_rng, train.images.device):
            loss = F.cross_entropy(model(train.images[idx]), train.labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def accuracy(classifier, data):
    """Fraction of `data` (an ImageData) classified correctly."""
    return (classifier(data.images).argmax(-1) == data.labels).float().mean().item()


def _gaussian_fit(f):
    f = f.cpu().double()  # float64 for the matrix square root (on the CPU: MPS has no float64)
    return f.mean(0), torch.cov(f.T)


def _sqrtm_psd(a):
    values, vectors = torch.linalg.eigh(a)
    return vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T


def _frechet(fx, fy):
    mu_x, cov_x = _gaussian_fit(fx)
    mu_y, cov_y = _gaussian_fit(fy)
    root_x = _sqrtm_psd(cov_x)
    cross = torch.linalg.eigvalsh(root_x @ cov_y @ root_x).clamp(min=0).sqrt().sum()
    return ((mu_x - mu_y).pow(2).sum() + cov_x.trace() + cov_y.trace() - 2 * cross).item()


@torch.no_grad()
def frechet_distance(x, y, classifier):
    r"""Fréchet distance between Gaussians fitted to the classifier features of images x and y:
    $\|\mu_x - \mu_y\|^2 + \operatorname{tr}(\Sigma_x + \Sigma_y - 2(\Sigma_x^{1/2}\Sigma_y\Sigma_x^{1/2})^{1/2})$.
    Zero for identical feature statistics; it grows when samples are off (wrong means) and when
    they lack variety or have too much (wrong covariances). Compare values from equal-sized sets."""
    return _frechet(classifier.features(x), classifier.features(y))


@torch.no_grad()
def frechet_bootstrap(x, y, classifier, n=50, seed=0):
    """The Fréchet distance of x and y, and its bootstrap standard error: the spread of the distance
    over `n` resamplings (with replacement) of both sets. Uses its own random generator, so the
    notebook's random stream is left as it was."""
    fx, fy = classifier.features(x).cpu(), classifier.features(y).cpu()
    g = torch.Generator().manual_seed(seed)
    draws = [_frechet(fx[torch.randint(len(fx), (len(fx),), generator=g)],
                      fy[torch.randint(len(fy), (len(fy),), generator=g)]) for _ in range(n)]
    return _frechet(fx, fy), torch.tensor(draws).std().item()


@torch.no_grad()
def confidences(x, classifier):
    """Each image's confidence: the classifier's largest class probability (a tensor, one per image)."""
    return classifier(x).softmax(-1).max(-1).values


def confidence(x, classifier):
    """Mean of the classifier's largest class probability: low on images that look like no digit."""
    return confidences(x, classifier).mean().item()


@torch.no_grad()
def class_coverage(x, classifier):
    """(number of classes predicted at least once, entropy in nats of the predicted-class histogram).
    A generator that draws one class only scores 1 and 0 (log 10 = 2.30 is all ten, equally often):
    collapse shows here, not in the confidence."""
    predicted = classifier(x).argmax(-1)
    counts = torch.bincount(predicted, minlength=classifier.head.out_features).float()
    return int((counts > 0).sum()), Categorical(probs=counts / counts.sum()).entropy().item()


@torch.no_grad()
def distance_to_nearest(x, reference, chunk=256):
    """Euclidean distance from each item of x (images or codes) to its nearest item of `reference`,
    one value per item. Small for copies of reference items: it tells a generator that makes new
    images from one that reproduces its training set. Works `chunk` items at a time, so memory
    stays at chunk x len(reference)."""
    ref = reference.flatten(1)
    return torch.cat([torch.cdist(xc.flatten(1), ref).min(dim=1).values for xc in x.split(chunk)])


@torch.no_grad()
def mean_pairwise_distance(images):
    """Mean |a - b| per pixel over all pairs of distinct images: the variety of a set of samples.
    Near 0 for a generator that draws the same image every time (a collapse the eye can miss
    when the one image looks plausible)."""
    flat = images.flatten(1)
    d = torch.cdist(flat, flat, p=1) / flat.shape[1]
    return (d.sum() / (len(flat) * (len(flat) - 1))).item()  # the zero diagonal left out


@torch.no_grad()
def sharpness(images):
    r"""Edge energy per unit of ink energy, averaged over images:
    $\sum (\text{differences of neighbouring pixels, across and down})^2 / \sum_i x_i^2$.
    A blurred edge spreads one step of height h over w pixels, so its energy falls from h^2 to
    about h^2 / w: blur lowers the score. A fainter copy of an image scores the same (numerator and
    denominator scale alike), so faint ink is not mistaken for blur. Images of shape (n, ..., H, W)."""
    x = images.flatten(0, -3)
    edges = (x[:, :, 1:] - x[:, :, :-1]).pow(2).sum((1, 2)) + (x[:, 1:, :] - x[:, :-1, :]).pow(2).sum((1, 2))
    return (edges / x.pow(2).sum((1, 2)).clamp(min=1e-12)).mean().item()


def sample_quality(x, reference, classifier):
    """All three scores of generated images x against held-out images `reference`, in one dict, with the
    Fréchet distance's bootstrap standard error (frechet_bootstrap)."""
    classes, entropy = class_coverage(x, classifier)
    frechet, frechet_se = frechet_bootstrap(x, reference, classifier)
    return {"frechet": frechet, "frechet_se": frechet_se,
            "confidence": confidence(x, classifier), "classes": classes, "class_entropy": entropy}


# --- the aggregate posterior q(z) = (1/N) sum_n q(z|x_n) -----------------------------------------


@torch.no_grad()
def encode(model, images, batch_size=1000):
    r"""The N posteriors $q(z \mid x_n)$ as one diagonal Normal with batch shape (N,)."""
    parts = [model.encoder(xb) for xb in images.split(batch_size)]
    loc = torch.cat([p.mean for p in parts])
    scale = torch.cat([p.stddev for p in parts])
    return Independent(Normal(loc, scale), 1)


def aggregate_posterior(qz_x):
    r"""$q(z) = \frac1N \sum_n q(z \mid x_n)$ as a torch mixture (fine for sampling; for
    log q(z) of many z use `aggregate_log_prob`, which works in chunks)."""
    n = qz_x.batch_shape[0]
    return MixtureSameFamily(Categorical(logits=torch.zeros(n, device=qz_x.mean.device)), qz_x)


@torch.no_grad()
def aggregate_log_prob(qz_x, z, chunk=None):
    r"""$\log q(z) = \operatorname{logsumexp}_n \log q(z \mid x_n) - \log N$ for z of shape (M, D).
    Evaluated `chunk` z at a time (default: ~4 million numbers per chunk), so memory stays at
    chunk x N x D whatever M and N. Diagonal Gaussians take a faster route (`_gaussians_log_prob`)."""
    n = qz_x.batch_shape[0]
    base = qz_x.base_dist if isinstance(qz_x, Independent) else None
    if isinstance(base, Normal) and z.device.type != "mps":  # MPS has no float64
        return _gaussians_log_prob(base.loc, base.scale, z, chunk) - math.log(n)
    chunk = chunk or max(1, 2**22 // (n * z.shape[-1]))
    out = [torch.logsumexp(qz_x.log_prob(zc.unsqueeze(1)), dim=1) for zc in z.split(chunk)]
    return torch.cat(out) - math.log(n)


def _gaussians_log_prob(loc, scale, z, chunk=None):
    r"""$\operatorname{logsumexp}_n \log \mathcal N(z; \mu_n, \operatorname{diag}\sigma_n^2)$ for each row of z.
    The exponent is $-\frac12 z^2 \cdot \sigma_n^{-2} + z \cdot \mu_n \sigma_n^{-2} + c_n$: all M x N of them
    from two matrix products, in float64 (the expanded square loses digits in float32)."""
    loc, scale = loc.double(), scale.double()
    precision = scale.pow(-2)                                                       # (N, D)
    c = -0.5 * (loc.pow(2) * precision).sum(1) - scale.log().sum(1) - 0.5 * loc.shape[1] * math.log(2 * math.pi)
    chunk = chunk or max(1, 2**22 // len(loc))
    out = [torch.logsumexp(-0.5 * zc.pow(2) @ precision.T + zc @ (loc * precision).T + c, dim=1)
           for zc in z.double().split(chunk)]
    return torch.cat(out).to(z.dtype)


def sample_aggregate(qz_x, n, generator=None):
    r"""n draws from q(z): pick a training posterior at random, then draw from it."""
    idx = torch.randint(qz_x.batch_shape[0], (n,), generator=generator).to(qz_x.mean.device)
    loc, scale = qz_x.mean[idx], qz_x.stddev[idx]
    eps = torch.randn(loc.shape, generator=generator).to(loc.device)
    return loc + scale * eps


def _mean_and_error(values):
    return values.mean().item(), (values.std() / math.sqrt(len(values))).item()


@torch.no_grad()
def average_kl(qz_x, prior):
    r"""$\mathbb E_x \mathrm{KL}(q(z\mid x)\,\|\,p(z))$: the KL term of the ELBO averaged over the N
    posteriors. Exact (closed form, averaged over all N) for a standard-normal prior; for other
    priors a one-draw Monte Carlo estimate per x."""
    from .objectives import kl_term

    return kl_term(qz_x, qz_x.sample(), prior).mean().item()


@torch.no_grad()
def mutual_information(qz_x, samples_per_x=1, chunk=None):
    r"""$I(x; z) = \mathbb E_{x}\mathbb E_{q(z\mid x)}[\log q(z\mid x) - \log q(z)]$, estimated with
    pairs (x_n, z ~ q(z|x_n)). Because q(z) contains the term q(z|x_n)/N, each summand is at most
    log N, so the estimate can never exceed log N (as the true value cannot). Returns (mean, std. error)."""
    z = qz_x.sample((samples_per_x,))                      # (S, N, D)
    log_q_z_x = qz_x.log_prob(z)                           # (S, N)
    log_q_z = aggregate_log_prob(qz_x, z.flatten(0, 1), chunk).view_as(log_q_z_x)
    return _mean_and_error((log_q_z_x - log_q_z).flatten())


@torch.no_grad()
def kl_aggregate_prior(qz_x, prior, n_samples=2000, chunk=None, generator=None):
    r"""$\mathrm{KL}(q(z)\,\|\,p(z)) = \mathbb E_{q(z)}[\log q(z) - \log p(z)]$ by Monte Carlo with
    draws from q(z): the prior-vs-data mismatch that sampling from p(z) suffers from.
    Returns (mean, std. error)."""
    z = sample_aggregate(qz_x, n_samples, generator)
    return _mean_and_error(aggregate_log_prob(qz_x, z, chunk) - prior.log_prob(z))


@torch.no_grad()
def aggregate_moments(qz_x):
    r"""Per-dimension mean and variance of q(z). By the law of total variance,
    $\operatorname{Var}_{q(z)}[z_j] = \operatorname{Var}_x(\mu_j(x)) + \mathbb E_x[\sigma_j^2(x)]$."""
    loc, scale = qz_x.mean, qz_x.stddev
    return loc.mean(0), loc.var(0, unbiased=False) + scale.pow(2).mean(0)


@torch.no_grad()
def active_units(qz_x, threshold=0.01):
    r"""Boolean mask of the latent dimensions the encoder uses: $\operatorname{Var}_x(\mathbb E_q[z_j\mid x])$
    above `threshold` (Burda et al., 2016). An inactive one carries no information about x."""
    return qz_x.mean.var(0, unbiased=False) > threshold
