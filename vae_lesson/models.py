r"""Encoders $q(z \mid x)$ and decoders $p(x \mid z)$ whose forward() returns a distribution,
and the VAE that joins them to a prior $p(z)$."""
import math

import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal

from .data import IMAGE_SHAPE
from .priors import make_prior

LIKELIHOODS = ("bernoulli", "gaussian")
ARCHS = ("mlp", "conv")
N_PIXELS = math.prod(IMAGE_SHAPE)


def diagonal_gaussian(mu, log_var):
    r"""$\mathcal N(\mu, \operatorname{diag}\sigma^2)$ with $\sigma = e^{\frac12 \log\sigma^2}$, one event over the last axis."""
    return Independent(Normal(mu, torch.exp(0.5 * log_var)), 1)


class GaussianEncoder(nn.Module):
    r"""Turns a network's $2D$ outputs into $q(z \mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))$:
    the first $D$ are $\mu$, the last $D$ are $\log\sigma^2$ (any real number is a valid log-variance)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        mu, log_var = self.net(x).chunk(2, dim=-1)
        return diagonal_gaussian(mu, log_var)


def mlp_encoder_net(latent_dim, hidden=512):
    return nn.Sequential(nn.Flatten(), nn.Linear(N_PIXELS, hidden), nn.ReLU(),
                         nn.Linear(hidden, 2 * latent_dim))


def conv_encoder_net(latent_dim, hidden=512):
    return nn.Sequential(
        nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.ReLU(),   # 28 -> 14
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(),  # 14 -> 7
        nn.Flatten(), nn.Linear(64 * 7 * 7, hidden), nn.ReLU(),
        nn.Linear(hidden, 2 * latent_dim))


class Decoder(nn.Module):
    r"""Turns a network's per-pixel output into $p(x \mid z)$.

    bernoulli: $p(x \mid z) = \prod_i \mathrm{Bern}(x_i; \sigma(\text{logit}_i))$
    gaussian:  $p(x \mid z) = \prod_i \mathcal N(x_i; \mu_i, \sigma^2)$ with $\mu = \mathrm{sigmoid}(\text{out})$
               and $\sigma$ fixed (a number) or learned (sigma="learned", one scalar for all pixels).
    """

    def __init__(self, net, likelihood="bernoulli", sigma=0.1):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}")
        self.net, self.likelihood = net, likelihood
        if likelihood == "gaussian":
            learned = sigma == "learned"
            if not learned and not float(sigma) > 0:
                raise ValueError(f"sigma must be positive or 'learned', got {sigma}")
            log_sigma = torch.tensor(math.log(0.1 if learned else float(sigma)))
            if learned:
                self.log_sigma = nn.Parameter(log_sigma)
            else:
                self.register_buffer("log_sigma", log_sigma)

    def forward(self, z):
        out = self.net(z).view(-1, *IMAGE_SHAPE)
        if self.likelihood == "bernoulli":
            # validate_args=False: grey-level images in [0, 1] are allowed as "soft" targets;
            # the range itself is checked by data.check_images.
            return Independent(Bernoulli(logits=out, validate_args=False), 3)
        return Independent(Normal(torch.sigmoid(out), self.log_sigma.exp()), 3)


def mlp_decoder_net(latent_dim, hidden=512):
    return nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, N_PIXELS))


def conv_decoder_net(latent_dim, hidden=512):
    return nn.Sequential(
        nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 64 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),  # 7 -> 14
        nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1))               # 14 -> 28


class VAE(nn.Module):
    """Encoder q(z|x), decoder p(x|z) and prior p(z), each returning a distribution."""

    def __init__(self, encoder, decoder, prior):
        super().__init__()
        self.encoder, self.decoder, self.prior = encoder, decoder, prior

    @property
    def likelihood(self):
        return self.decoder.likelihood

    def forward(self, x):
        """One reparameterized pass: returns qz, z ~ qz (differentiable), px_z."""
        qz = self.encoder(x)
        z = qz.rsample()
        return qz, z, self.decoder(z)

    @torch.no_grad()
    def sample(self, n, z=None):
        """Images decoded from z (default: z ~ p(z)); the decoder's mean, not a noisy draw."""
        z = self.prior.sample(n) if z is None else z
        return self.decoder(z).mean

    @torch.no_grad()
    def reconstruct(self, x):
        """Decode one z ~ q(z|x) per image."""
        return self.decoder(self.encoder(x).sample()).mean


def make_vae(arch="mlp", latent_dim=16, hidden=512, likelihood="bernoulli", sigma=0.1,
             prior="normal", n_pseudo=100):
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHS}")
    if int(latent_dim) < 1:
        raise ValueError(f"latent size must be at least 1, got {latent_dim}")
    if int(hidden) < 1:
        raise ValueError(f"hidden size must be at least 1, got {hidden}")
    encoder_net, decoder_net = {"mlp": (mlp_encoder_net, mlp_decoder_net),
                                "conv": (conv_encoder_net, conv_decoder_net)}[arch]
    encoder = GaussianEncoder(encoder_net(latent_dim, hidden))
    decoder = Decoder(decoder_net(latent_dim, hidden), likelihood, sigma)
    extra = {"n_pseudo": n_pseudo} if prior == "vamp" else {}
    return VAE(encoder, decoder, make_prior(prior, latent_dim, encoder, **extra))
