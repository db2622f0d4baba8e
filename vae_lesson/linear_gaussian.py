r"""A linear-Gaussian latent-variable model: the one case where everything a VAE can only bound is exact.

$p(z) = \mathcal N(0, I_d)$ and $p(x \mid z) = \mathcal N(Wz + b, \sigma^2 I_D)$ give, in closed form,

- the marginal $p(x) = \mathcal N(b,\ WW^\top + \sigma^2 I_D)$, so $\log p(x)$ is exact;
- the posterior $p(z \mid x) = \mathcal N\big(S W^\top (x - b) / \sigma^2,\ S\big)$ with
  $S = (I_d + W^\top W / \sigma^2)^{-1}$.

The model has the VAE's interface (`encoder(x)`, `decoder(z)` and `prior` returning distributions),
so the VAE's objectives, e.g. `iw_bound(model, x, k, check=False)`, run on it unchanged and can be
checked against the exact $\log p(x)$. Its encoder is the exact posterior unless another is given.
"""
import torch
from torch import nn
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

from .priors import StandardNormal


def as_mvn(q):
    """A Gaussian given as MultivariateNormal or as a diagonal Independent(Normal), as a MultivariateNormal."""
    if isinstance(q, MultivariateNormal):
        return q
    return MultivariateNormal(q.mean, covariance_matrix=torch.diag_embed(q.variance))


class LinearGaussian(nn.Module):
    """p(z) = N(0, I), p(x|z) = N(Wz + b, sigma^2 I), with W of shape (D, d)."""

    def __init__(self, W, b, sigma, encoder=None):
        super().__init__()
        W = torch.as_tensor(W)
        self.register_buffer("W", W)
        self.register_buffer("b", torch.as_tensor(b, dtype=W.dtype))
        self.sigma = float(sigma)
        self.prior = StandardNormal(W.shape[1]).to(W.dtype)
        self.encoder = encoder if encoder is not None else self.posterior

    def with_encoder(self, encoder):
        """The same model with another q(z|x): `encoder(x)` must return a distribution over z per row of x."""
        return LinearGaussian(self.W, self.b, self.sigma, encoder)

    def decoder(self, z):
        """p(x|z) = N(Wz + b, sigma^2 I), one event of size D per row of z."""
        return Independent(Normal(z @ self.W.T + self.b, self.sigma), 1)

    def marginal(self):
        """p(x) = N(b, W W^T + sigma^2 I): the integral over z that a neural decoder does not allow."""
        D = self.W.shape[0]
        cov = self.W @ self.W.T + self.sigma**2 * torch.eye(D, dtype=self.W.dtype, device=self.W.device)
        return MultivariateNormal(self.b, covariance_matrix=cov)

    def log_marginal(self, x):
        """Exact log p(x) per row of x, in nats."""
        return self.marginal().log_prob(x)

    def posterior(self, x):
        """Exact p(z|x) = N(S W^T (x - b) / sigma^2, S) with S = (I + W^T W / sigma^2)^-1 (Bayes' rule)."""
        d = self.W.shape[1]
        precision = torch.eye(d, dtype=self.W.dtype, device=self.W.device) + self.W.T @ self.W / self.sigma**2
        S = torch.linalg.inv(precision)
        mean = (x - self.b) @ self.W @ S / self.sigma**2  # S is symmetric: (S W^T (x-b))^T = (x-b)^T W S
        return MultivariateNormal(mean, covariance_matrix=S.expand(*mean.shape[:-1], d, d))

    def reconstruction(self, q, x):
        r"""$\mathbb E_{q}[\log p(x \mid z)]$ in closed form for a Gaussian $q = \mathcal N(m, C)$:
        $\log \mathcal N(x; Wm + b, \sigma^2 I) - \operatorname{tr}(W C W^\top) / (2\sigma^2)$,
        because $\mathbb E\|x - Wz - b\|^2 = \|x - Wm - b\|^2 + \operatorname{tr}(WCW^\top)$."""
        q = as_mvn(q)
        trace = ((self.W @ q.covariance_matrix) * self.W).sum((-2, -1))
        return self.decoder(q.mean).log_prob(x) - trace / (2 * self.sigma**2)

    def elbo(self, q, x):
        r"""Exact ELBO of a Gaussian $q(z)$ for the data point(s) x:
        $\mathbb E_q[\log p(x \mid z)] - \mathrm{KL}(q \,\|\, p(z))$, both in closed form."""
        q = as_mvn(q)
        return self.reconstruction(q, x) - kl_divergence(q, as_mvn(self.prior()))

    @torch.no_grad()
    def sample(self, n):
        """n data points x ~ p(x), by ancestral sampling z ~ p(z), x ~ p(x|z)."""
        return self.decoder(self.prior.sample(n)).sample()


def random_linear_gaussian(D=2, d=1, sigma=0.5, seed=0, dtype=torch.float64):
    """A LinearGaussian with W and b drawn from N(0, 1) by a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(D, d, generator=g, dtype=dtype)
    b = torch.randn(D, generator=g, dtype=dtype)
    return LinearGaussian(W, b, sigma)
