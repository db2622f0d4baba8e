"""Priors p(z). Each is a module whose forward() returns a torch.distributions object over z,
with sample(n) and log_prob(z), so a VAE swaps its prior by one argument."""
import torch
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, MultivariateNormal, Normal


class Prior(nn.Module):
    def sample(self, n):
        return self().sample((n,))

    def log_prob(self, z):
        return self().log_prob(z)


class StandardNormal(Prior):
    r"""$p(z) = \mathcal N(0, I)$."""

    def __init__(self, latent_dim):
        super().__init__()
        self.register_buffer("loc", torch.zeros(latent_dim))
        self.register_buffer("scale", torch.ones(latent_dim))

    def forward(self):
        return Independent(Normal(self.loc, self.scale), 1)


class GaussianMixture(Prior):
    r"""$p(z) = \sum_k \pi_k \mathcal N(z; \mu_k, \Sigma_k)$ with full covariances.

    Fitted after training to encoded data (`fit_gaussian_mixture`), it is the "ex-post" prior;
    its parameters are buffers, so training the VAE does not move them."""

    def __init__(self, weights, means, covariances):
        super().__init__()
        self.register_buffer("weights", torch.as_tensor(weights, dtype=torch.float32))
        self.register_buffer("means", torch.as_tensor(means, dtype=torch.float32))
        self.register_buffer("covariances", torch.as_tensor(covariances, dtype=torch.float32))

    def forward(self):
        return MixtureSameFamily(Categorical(probs=self.weights),
                                 MultivariateNormal(self.means, covariance_matrix=self.covariances))


class Gaussian(Prior):
    r"""$p(z) = \mathcal N(z; m, \Sigma)$ with a full covariance: one Gaussian that keeps the
    correlations between latent dimensions (a diagonal one drops them)."""

    def __init__(self, loc, covariance):
        super().__init__()
        self.register_buffer("loc", torch.as_tensor(loc, dtype=torch.float32))
        self.register_buffer("covariance", torch.as_tensor(covariance, dtype=torch.float32))

    def forward(self):
        return MultivariateNormal(self.loc, covariance_matrix=self.covariance)


@torch.no_grad()
def moment_matched_gaussian(qz_x):
    r"""The full-covariance Gaussian with the mean and covariance of the aggregate posterior
    $q(z) = \frac1N\sum_n q(z\mid x_n)$ of diagonal posteriors `qz_x` (batch (N,), event (D,)).
    Law of total covariance: $\operatorname{Cov}_{q(z)}[z] = \operatorname{Cov}_n(\mu(x_n))
    + \frac1N\sum_n \operatorname{diag}\sigma^2(x_n)$."""
    loc, scale = qz_x.base_dist.loc.double(), qz_x.base_dist.scale.double()
    mean = loc.mean(0)
    centred = loc - mean
    covariance = centred.T @ centred / len(loc) + torch.diag(scale.pow(2).mean(0))
    return Gaussian(mean.float(), covariance.float()).to(qz_x.base_dist.loc.device)


def fit_gaussian_mixture(z, n_components=10, seed=0):
    """Fit a full-covariance Gaussian mixture (scikit-learn) to codes z of shape (N, D)."""
    from sklearn.mixture import GaussianMixture as SkGMM

    gmm = SkGMM(n_components=n_components, covariance_type="full", random_state=seed, reg_covar=1e-5)
    gmm.fit(z.detach().cpu().double().numpy())
    return GaussianMixture(gmm.weights_, gmm.means_, gmm.covariances_).to(z.device)


class VampPrior(Prior):
    r"""$p(z) = \frac1K \sum_k q(z \mid u_k)$: a mixture of the encoder's posteriors at K learned
    pseudo-inputs $u_k$ (Tomczak & Welling, 2018). Trained end to end with the VAE."""

    def __init__(self, encoder, n_pseudo=100, image_shape=(1, 28, 28)):
        super().__init__()
        self._encoder = [encoder]  # a reference, not a submodule: the VAE owns the encoder
        # Pseudo-inputs live in [0, 1] through a sigmoid; start near mid-grey with a little noise.
        self.pseudo_logits = nn.Parameter(0.1 * torch.randn(n_pseudo, *image_shape))

    def forward(self):
        qz_u = self._encoder[0](torch.sigmoid(self.pseudo_logits))  # batch (K,), event (D,)
        K = self.pseudo_logits.shape[0]
        mix = Categorical(logits=torch.zeros(K, device=self.pseudo_logits.device))
        return MixtureSameFamily(mix, qz_u)


def make_prior(kind, latent_dim, encoder=None, **kwargs):
    if kind == "normal":
        return StandardNormal(latent_dim)
    if kind == "vamp":
        return VampPrior(encoder, **kwargs)
    raise ValueError(f"unknown prior {kind!r}; choose 'normal' or 'vamp' "
                     f"(a Gaussian mixture is fitted after training with fit_gaussian_mixture)")

