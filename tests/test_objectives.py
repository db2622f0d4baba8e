"""The KL term: closed form against torch.distributions and against Monte Carlo."""
import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

import vae_lesson as vl
from vae_lesson import objectives
from vae_lesson.objectives import kl_term, kl_to_standard_normal
from vae_lesson.priors import GaussianMixture, StandardNormal

N_MC = 200_000
Z = 5  # |MC mean - exact| / standard error stays below this except with probability ~6e-7


def _posterior(batch=6, dim=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = 1.5 * torch.randn(batch, dim, generator=g, dtype=torch.float64)
    log_var = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    return mu, log_var, Independent(Normal(mu, torch.exp(0.5 * log_var)), 1)


def test_gaussian_kl_matches_torch():
    mu, log_var, qz = _posterior()
    pz = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    closed = vl.gaussian_kl(mu, log_var)
    assert closed.shape == (6,)
    torch.testing.assert_close(closed, kl_divergence(qz, pz))


def test_gaussian_kl_zero_only_at_prior():
    mu, log_var = torch.zeros(3, 2), torch.zeros(3, 2)
    assert torch.equal(vl.gaussian_kl(mu, log_var), torch.zeros(3))
    assert (vl.gaussian_kl(mu + 0.1, log_var) > 0).all()
    assert (vl.gaussian_kl(mu, log_var - 0.1) > 0).all()


def test_gaussian_kl_matches_monte_carlo():
    mu, log_var, qz = _posterior()
    pz = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    torch.manual_seed(1)
    z = qz.sample((N_MC,))                                    # (N_MC, 6, 4)
    log_ratio = qz.log_prob(z) - pz.log_prob(z)               # (N_MC, 6)
    mc, se = log_ratio.mean(0), log_ratio.std(0) / N_MC ** 0.5
    error = (mc - vl.gaussian_kl(mu, log_var)).abs()
    print("KL closed form - MC, in standard errors:", (error / se).tolist())
    assert (error < Z * se).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_kl_term_analytic_and_mc_agree_in_expectation(seed):
    _, _, qz = _posterior(seed=seed)
    qz = Independent(Normal(qz.base_dist.loc.float(), qz.base_dist.scale.float()), 1)
    prior = StandardNormal(4)
    analytic = kl_term(qz, None, prior, "analytic")
    torch.manual_seed(seed)
    mc = kl_term(qz, qz.sample((N_MC,)), prior, "mc")       # one estimate per draw: (N_MC, 6)
    se = mc.std(0) / N_MC ** 0.5
    assert ((mc.mean(0) - analytic).abs() < Z * se).all()


def test_kl_term_auto_takes_the_closed_form_where_torch_registers_one():
    _, _, qz = _posterior()
    qz = Independent(Normal(qz.base_dist.loc.float(), qz.base_dist.scale.float()), 1)
    z = qz.sample()
    # auto with N(0, I): the closed form, which does not depend on z
    torch.testing.assert_close(kl_term(qz, z, StandardNormal(4)), kl_term(qz, 0 * z, StandardNormal(4)))
    # auto with a mixture (no closed form): the one-sample estimate log q(z|x) - log p(z)
    gmm = GaussianMixture(torch.ones(1), torch.zeros(1, 4), torch.eye(4)[None])  # = N(0, I)
    torch.testing.assert_close(kl_term(qz, z, gmm), kl_term(qz, z, StandardNormal(4), "mc"))
    with pytest.raises(ValueError, match="unknown KL method 'exact'"):
        kl_term(qz, z, StandardNormal(4), "exact")
    with pytest.raises(ValueError, match="no closed-form KL"):
        kl_term(qz, z, gmm, "analytic")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kl_to_standard_normal_is_torchs_value(seed):
    _, _, qz = _posterior(batch=50, dim=16, seed=seed)
    pz = Independent(Normal(torch.zeros(16, dtype=torch.float64), torch.ones(16, dtype=torch.float64)), 1)
    torch.testing.assert_close(kl_to_standard_normal(qz), kl_divergence(qz, pz), rtol=1e-12, atol=1e-12)


def test_kl_term_takes_the_short_closed_form_for_a_standard_normal_prior(monkeypatch):
    _, _, qz = _posterior()
    qz = Independent(Normal(qz.base_dist.loc.float(), qz.base_dist.scale.float()), 1)
    expected = kl_divergence(qz, StandardNormal(4)())

    def registry(*args):
        raise AssertionError("kl_term used torch's registry for q Gaussian, p = N(0, I)")

    monkeypatch.setattr(objectives, "kl_divergence", registry)
    for method in ("auto", "analytic"):
        torch.testing.assert_close(kl_term(qz, None, StandardNormal(4), method), expected)
    # any other pair still goes to the registry
    with pytest.raises(AssertionError, match="registry"):
        kl_term(qz, None, GaussianMixture(torch.ones(1), torch.zeros(1, 4), torch.eye(4)[None]))
    with pytest.raises(AssertionError, match="registry"):
        kl_term(Normal(qz.base_dist.loc, qz.base_dist.scale), None, StandardNormal(4))  # no event dim


def test_elbo_parts_add_up(digits, small_vae):
    train, _ = digits
    out = vl.elbo(small_vae(), train.images[:10], beta=0.5)
    torch.testing.assert_close(out["elbo"], out["rec"] - out["kl"])
    torch.testing.assert_close(out["loss"], -(out["rec"] - 0.5 * out["kl"]).mean())
    assert (out["kl"] >= 0).all() and (out["rec"] <= 0).all()


def test_iw_bound_is_above_elbo_and_k1_is_elbo(digits, small_vae):
    train, test = digits
    model = small_vae()
    vl.fit(model, train, None, epochs=2, progress=False)
    x = test.images[:50]
    torch.manual_seed(0)
    elbo_1 = vl.iw_bound(model, x, k=1).mean()
    torch.manual_seed(0)
    elbo = vl.elbo(model, x)["elbo"].mean()
    iw_100 = vl.iw_bound(model, x, k=100, chunk=30).mean()
    print(f"ELBO {elbo:.2f}, IW k=1 {elbo_1:.2f}, IW k=100 {iw_100:.2f}")
    assert abs(elbo_1 - elbo) < 5  # same quantity, different draws
    assert iw_100 > elbo  # Burda et al.: the bound rises with k (here by several nats)
    ll = vl.log_likelihood(model, x, k=100, max_rows=1000)  # forces several batches and chunks
    assert abs(ll - iw_100) < 2
    torch.manual_seed(1)
    each = vl.log_likelihood(model, x, k=100, max_rows=1000, reduce=False)
    torch.manual_seed(1)
    assert each.shape == (len(x),) and abs(each.mean().item() - vl.log_likelihood(model, x, k=100, max_rows=1000)) < 1e-4


# --- the importance-weighted bound with the prior as proposal (no encoder) -------------------

from vae_lesson.objectives import prior_iw_bound, prior_log_likelihood  # noqa: E402


def test_prior_iw_bound_k1_is_log_px_z_of_one_prior_draw(digits, small_vae):
    train, _ = digits
    model, x = small_vae(), train.images[:8]
    torch.manual_seed(3)
    bound = prior_iw_bound(model.decoder, model.prior, x, k=1)
    torch.manual_seed(3)
    z = model.prior.sample(len(x))
    torch.testing.assert_close(bound, model.decoder(z).log_prob(x))
    assert bound.shape == (8,)


def test_prior_iw_bound_of_a_decoder_that_ignores_z_is_exact(digits, small_vae):
    """If p(x|z) does not depend on z, every weight is p(x), so the bound equals log p(x) for any k."""
    train, _ = digits
    model, x = small_vae(), train.images[:5]
    with torch.no_grad():
        model.decoder.net[0].weight.zero_()       # the first layer no longer sees z
    exact = model.decoder(torch.zeros(len(x), 4)).log_prob(x)
    for k, chunk in [(1, None), (7, None), (7, 3)]:
        torch.testing.assert_close(prior_iw_bound(model.decoder, model.prior, x, k, chunk), exact)


def test_prior_iw_bound_rises_with_k_and_trains_the_decoder(digits, small_vae):
    train, test = digits
    model = small_vae()
    vl.fit(model, train, None, epochs=2, progress=False)
    x = test.images[:40]
    torch.manual_seed(0)
    with torch.no_grad():
        b1 = prior_iw_bound(model.decoder, model.prior, x, k=1).mean()
        b100 = prior_iw_bound(model.decoder, model.prior, x, k=100, chunk=30).mean()
    ll = prior_log_likelihood(model.decoder, model.prior, x, k=100, max_rows=500)  # several batches, chunks
    print(f"prior as proposal: k=1 {b1:.2f}, k=100 {b100:.2f}, prior_log_likelihood {ll:.2f}")
    assert b100 > b1 + 1           # a tighter bound with more draws
    assert ll > b1 + 1             # prior_log_likelihood (draws shared by the images) is as tight
    torch.manual_seed(1)
    each = prior_log_likelihood(model.decoder, model.prior, x, k=100, max_rows=500, reduce=False)
    torch.manual_seed(1)
    assert each.shape == (len(x),) and abs(each.mean().item() - prior_log_likelihood(model.decoder, model.prior, x, k=100, max_rows=500)) < 1e-4
    model.zero_grad(set_to_none=True)
    prior_iw_bound(model.decoder, model.prior, x[:4], k=5).mean().backward()
    assert all(p.grad is not None for p in model.decoder.parameters())
    assert all(p.grad is None for p in model.encoder.parameters())   # no encoder involved


def test_prior_iw_bound_refuses_k_below_one(digits, small_vae):
    train, _ = digits
    model = small_vae()
    with pytest.raises(ValueError, match="k must be at least 1"):
        prior_iw_bound(model.decoder, model.prior, train.images[:2], k=0)


def test_prior_log_likelihood_with_shared_draws_matches_the_direct_sum(small_vae):
    """prior_log_likelihood decodes each prior draw once for all images (a matrix product for a
    Bernoulli decoder): with the same draws, each image's bound is the direct
    log (1/k) sum_j p(x_n | z_j), for a Bernoulli and for a Gaussian decoder."""
    for likelihood in ("bernoulli", "gaussian"):
        model = small_vae(likelihood=likelihood)
        x = torch.rand(6, 1, 28, 28)
        torch.manual_seed(3)
        each = prior_log_likelihood(model.decoder, model.prior, x, k=40, max_rows=70, reduce=False)  # chunks of 11 draws
        torch.manual_seed(3)
        z = torch.cat([model.prior.sample(m) for m in (11, 11, 11, 7)])
        with torch.no_grad():
            direct = torch.stack([model.decoder(z).log_prob(xn.expand(40, *xn.shape)) for xn in x], dim=1)
        expected = torch.logsumexp(direct, 0) - math.log(40)
        torch.testing.assert_close(each, expected, rtol=1e-5, atol=1e-3)
