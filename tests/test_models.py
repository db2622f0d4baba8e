"""Encoders and decoders return distributions of the right shapes; priors swap by one argument."""
import math

import pytest
import torch
from torch import nn

import vae_lesson as vl
from vae_lesson.priors import GaussianMixture, StandardNormal, VampPrior, fit_gaussian_mixture

B, D = 5, 3


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_encoder_and_decoder_shapes(digits, arch, likelihood):
    x = digits[0].images[:B]
    torch.manual_seed(0)
    model = vl.make_vae(arch=arch, latent_dim=D, hidden=16, likelihood=likelihood)
    qz = model.encoder(x)
    assert qz.batch_shape == (B,) and qz.event_shape == (D,)
    z = qz.rsample()
    px_z = model.decoder(z)
    assert px_z.batch_shape == (B,) and px_z.event_shape == (1, 28, 28)
    assert px_z.log_prob(x).shape == (B,)
    qz2, z2, px_z2 = model(x)
    assert z2.shape == (B, D) and z2.requires_grad
    assert model.sample(7).shape == (7, 1, 28, 28)
    assert model.reconstruct(x).shape == x.shape
    mean = model.sample(7)
    assert 0 <= mean.min() and mean.max() <= 1  # decoder means are images in [0, 1]
    assert model.likelihood == likelihood


def test_gaussian_decoder_fixed_and_learned_sigma(digits):
    x = digits[0].images[:B]
    fixed = vl.make_vae(latent_dim=D, hidden=16, likelihood="gaussian", sigma=0.3)
    names = [n for n, _ in fixed.named_parameters()]
    assert "decoder.log_sigma" not in names and "decoder.log_sigma" in fixed.state_dict()
    px_z = fixed.decoder(torch.zeros(B, D))
    torch.testing.assert_close(px_z.stddev, torch.full((B, 1, 28, 28), 0.3))
    learned = vl.make_vae(latent_dim=D, hidden=16, likelihood="gaussian", sigma="learned")
    assert "decoder.log_sigma" in [n for n, _ in learned.named_parameters()]
    loss = vl.elbo(learned, x)["loss"]
    loss.backward()
    assert learned.decoder.log_sigma.grad is not None and learned.decoder.log_sigma.grad != 0


def test_bernoulli_decoder_is_cross_entropy(digits):
    x = digits[0].images[:B]
    model = vl.make_vae(latent_dim=D, hidden=16)
    z = torch.randn(B, D)
    logits = model.decoder.net(z).view(B, 1, 28, 28)
    expected = -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum((1, 2, 3))
    torch.testing.assert_close(model.decoder(z).log_prob(x), expected)


def _check_prior(prior, dim):
    z = prior.sample(7)
    assert z.shape == (7, dim)
    assert prior.log_prob(z).shape == (7,)
    assert prior.log_prob(z.expand(4, 7, dim)).shape == (4, 7)  # as iw_bound uses it: (k, B, D)
    assert torch.isfinite(prior.log_prob(z)).all()


def test_standard_normal_prior():
    prior = StandardNormal(D)
    _check_prior(prior, D)
    torch.testing.assert_close(prior.log_prob(torch.zeros(1, D)), torch.tensor([-D / 2 * math.log(2 * math.pi)]))


def test_gaussian_mixture_prior():
    g = torch.Generator().manual_seed(0)
    z = torch.cat([torch.randn(200, D, generator=g) - 4, torch.randn(200, D, generator=g) + 4])
    prior = fit_gaussian_mixture(z, n_components=2, seed=0)
    assert isinstance(prior, GaussianMixture)
    _check_prior(prior, D)
    assert sorted(prior.means[:, 0].round().tolist()) == [-4.0, 4.0]
    torch.testing.assert_close(prior.weights, torch.tensor([0.5, 0.5]))
    assert not list(prior.parameters())  # buffers: training a VAE does not move them


def test_vamp_prior(digits):
    model = vl.make_vae(latent_dim=D, hidden=16, prior="vamp", n_pseudo=6)
    assert isinstance(model.prior, VampPrior)
    _check_prior(model.prior, D)
    assert model.prior().batch_shape == () and model.prior().event_shape == (D,)
    # the encoder is trained once: its weights are not a second time in the prior
    assert not any(k.startswith("prior._encoder") for k in model.state_dict())
    assert "prior.pseudo_logits" in dict(model.named_parameters())


def test_swapping_the_prior_is_one_argument(digits):
    train, test = digits
    torch.manual_seed(0)
    model = vl.make_vae(hidden=32, latent_dim=4, prior="vamp", n_pseudo=10)
    pseudo = model.prior.pseudo_logits.detach().clone()
    history = vl.fit(model, train, test, epochs=1, progress=False)
    assert all(math.isfinite(history[k][0]) for k in ("loss", "kl", "test_elbo"))
    assert not torch.equal(pseudo, model.prior.pseudo_logits)  # trained end to end
    iw = vl.iw_bound(model, test.images[:10], k=4)
    assert iw.shape == (10,) and torch.isfinite(iw).all()


def test_gaussian_encoder_splits_its_network_output_into_mu_and_log_var():
    net = nn.Linear(4, 2 * D)
    encoder = vl.models.GaussianEncoder(net)
    x = torch.randn(B, 4)
    qz = encoder(x)
    mu, log_var = net(x).chunk(2, dim=-1)
    torch.testing.assert_close(qz.mean, mu)
    torch.testing.assert_close(qz.variance, log_var.exp())
    assert qz.batch_shape == (B,) and qz.event_shape == (D,)
