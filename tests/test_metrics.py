"""vae_lesson.metrics: each measuring tool against a closed form or a case whose answer is known."""
import math

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

import vae_lesson as vl
from vae_lesson import metrics

Z = 5  # |Monte Carlo mean - exact| / standard error stays below this except with probability ~6e-7


class IdentityFeatures(nn.Module):
    """A stand-in classifier whose features are the input itself: Fréchet distances between
    sets of points we control, which have closed forms."""

    def features(self, x):
        return x.flatten(1)


class LabelReader(nn.Module):
    """A stand-in classifier that 'sees' the class written in the first number of each input."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.head = nn.Linear(1, n_classes)  # class_coverage reads the number of classes here

    def forward(self, x):
        return 20.0 * F.one_hot(x.flatten(1)[:, 0].long(), self.head.out_features).float()


def _gaussian_sample(n, mean, cov, seed):
    g = torch.Generator().manual_seed(seed)
    mean, cov = torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(cov, dtype=torch.float64)
    return mean + torch.randn(n, len(mean), generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T


def _frechet_closed_form(mu1, cov1, mu2, cov2):
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), with scipy's matrix square root."""
    mu1, cov1, mu2, cov2 = (np.asarray(a, dtype=np.float64) for a in (mu1, cov1, mu2, cov2))
    root1 = scipy.linalg.sqrtm(cov1).real
    cross = scipy.linalg.sqrtm(root1 @ cov2 @ root1).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1 + cov2 - 2 * cross))


# --- Fréchet distance -----------------------------------------------------------------------------


def test_frechet_distance_zero_for_identical_sets():
    x = _gaussian_sample(500, [0.0, 1.0, -1.0], [[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 0.5]], seed=0)
    assert abs(metrics.frechet_distance(x, x, IdentityFeatures())) < 1e-8


def test_frechet_distance_of_a_shifted_set_is_the_squared_shift():
    """Shifting a set leaves its covariance unchanged, so the distance is exactly ||shift||^2,
    and it grows with the shift."""
    x = _gaussian_sample(400, [0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]], seed=1)
    distances = []
    for a in [0.5, 1.0, 2.0, 4.0]:
        shift = torch.tensor([a, -a], dtype=torch.float64)
        distances.append(metrics.frechet_distance(x, x + shift, IdentityFeatures()))
        assert distances[-1] == pytest.approx(2 * a**2, rel=1e-6)
    assert distances == sorted(distances)


def test_frechet_distance_matches_closed_form_on_sample_statistics():
    """With non-commuting covariances: equal to the closed form at the samples' own means and
    covariances (computed independently with scipy.linalg.sqrtm)."""
    cov1 = [[2.0, 0.9, 0.0], [0.9, 1.0, 0.2], [0.0, 0.2, 0.5]]
    cov2 = [[0.5, -0.3, 0.1], [-0.3, 1.5, 0.0], [0.1, 0.0, 3.0]]
    x = _gaussian_sample(2000, [0.0, 0.0, 0.0], cov1, seed=2)
    y = _gaussian_sample(3000, [1.0, -0.5, 2.0], cov2, seed=3)
    expected = _frechet_closed_form(x.mean(0), torch.cov(x.T), y.mean(0), torch.cov(y.T))
    assert metrics.frechet_distance(x, y, IdentityFeatures()) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_approaches_that_of_the_true_gaussians():
    """Diagonal covariances commute, so the closed form is ||mu1 - mu2||^2 + sum_j (s1_j - s2_j)^2
    with s the standard deviations: large samples must land close to it."""
    mu1, var1 = torch.tensor([0.0, 1.0, 0.0, 0.0]), torch.tensor([1.0, 4.0, 0.25, 1.0])
    mu2, var2 = torch.tensor([2.0, 1.0, -1.0, 0.0]), torch.tensor([1.0, 1.0, 1.0, 9.0])
    x = _gaussian_sample(50_000, mu1, torch.diag(var1), seed=4)
    y = _gaussian_sample(50_000, mu2, torch.diag(var2), seed=5)
    expected = ((mu1 - mu2) ** 2).sum() + ((var1.sqrt() - var2.sqrt()) ** 2).sum()  # 5 + 1 + 0.25 + 4 = 10.25
    assert metrics.frechet_distance(x, y, IdentityFeatures()) == pytest.approx(expected.item(), rel=0.03)


# --- classifier-based scores ----------------------------------------------------------------------


def _written_labels(labels):
    """Fake 'images' whose first number is the class LabelReader will see."""
    x = torch.zeros(len(labels), 1, 2, 2)
    x[:, 0, 0, 0] = torch.as_tensor(labels, dtype=torch.float32)
    return x


def test_frechet_bootstrap_error_matches_the_spread_over_fresh_sets_and_leaves_the_random_stream_alone():
    """The bootstrap's standard error estimates how much the distance moves from one pair of sets to
    another of the same size: checked against 40 fresh pairs of sets."""
    def sets(g):
        return torch.randn(500, 4, generator=g), torch.randn(500, 4, generator=g) * 1.3 + 0.5

    g = torch.Generator().manual_seed(0)
    fresh = torch.tensor([metrics.frechet_distance(*sets(g), IdentityFeatures()) for _ in range(40)])
    x, y = sets(g)
    torch.manual_seed(7)
    before = torch.rand(1)
    torch.manual_seed(7)
    value, se = metrics.frechet_bootstrap(x, y, IdentityFeatures(), n=200)
    assert torch.rand(1) == before, "the bootstrap drew from the global random stream"
    assert value == metrics.frechet_distance(x, y, IdentityFeatures())
    assert 0.6 * fresh.std() < se < 1.6 * fresh.std()
    assert metrics.frechet_bootstrap(x, y, IdentityFeatures(), n=200) == (value, se)  # its own seed: reproducible


def test_class_coverage_of_a_single_class_is_one_and_zero():
    classes, entropy = metrics.class_coverage(_written_labels([7] * 50), LabelReader())
    assert classes == 1
    assert entropy == pytest.approx(0.0, abs=1e-6)  # float32 rounding


def test_class_coverage_of_all_classes_equally_is_ten_and_log_ten():
    classes, entropy = metrics.class_coverage(_written_labels(list(range(10)) * 5), LabelReader())
    assert classes == 10
    assert entropy == pytest.approx(math.log(10), rel=1e-6)
    classes, entropy = metrics.class_coverage(_written_labels([0] * 45 + [1] * 5), LabelReader())
    assert classes == 2 and 0 < entropy < math.log(2)


def test_confidence_is_the_mean_top_probability():
    reader = LabelReader()
    x = _written_labels([3, 1, 4])
    top = reader(x).softmax(-1).max(-1).values.mean().item()
    assert metrics.confidence(x, reader) == pytest.approx(top)
    per_image = metrics.confidences(x, reader)
    assert per_image.shape == (len(x),) and per_image.mean().item() == pytest.approx(top)
    assert top > 0.99


# --- the aggregate posterior ----------------------------------------------------------------------


def _posteriors(n=60, dim=3, loc_scale=1.0, scale_range=(0.2, 0.6), seed=0):
    g = torch.Generator().manual_seed(seed)
    loc = loc_scale * torch.randn(n, dim, generator=g)
    low, high = scale_range
    scale = low + (high - low) * torch.rand(n, dim, generator=g)
    return Independent(Normal(loc, scale), 1)


def test_aggregate_log_prob_equals_torch_mixture():
    qz_x = _posteriors(n=50, dim=4)
    z = 2.0 * torch.randn(37, 4, generator=torch.Generator().manual_seed(1))
    mixture = MixtureSameFamily(Categorical(probs=torch.full((50,), 1 / 50)), qz_x)
    expected = mixture.log_prob(z)
    torch.testing.assert_close(metrics.aggregate_log_prob(qz_x, z), expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(metrics.aggregate_log_prob(qz_x, z, chunk=7), expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(metrics.aggregate_posterior(qz_x).log_prob(z), expected, rtol=1e-5, atol=1e-4)


def test_aggregate_log_prob_of_narrow_posteriors_keeps_its_digits():
    """The fast route expands the square (in float64): at narrow posteriors far from 0, as a trained
    encoder gives, it still agrees with the direct float64 sum to 1e-5 nats (in float32 the
    expanded square is off by about 1e-3)."""
    qz_x = _posteriors(n=300, dim=16, loc_scale=3.0, scale_range=(0.01, 0.1))
    z = qz_x.sample()[:64] + 0.01 * torch.randn(64, 16, generator=torch.Generator().manual_seed(2))
    q64 = Independent(Normal(qz_x.base_dist.loc.double(), qz_x.base_dist.scale.double()), 1)
    expected = (torch.logsumexp(q64.log_prob(z.double().unsqueeze(1)), dim=1) - math.log(300)).float()
    torch.testing.assert_close(metrics.aggregate_log_prob(qz_x, z), expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(metrics.aggregate_log_prob(qz_x, z, chunk=5), expected, rtol=0, atol=1e-5)


def test_encode_batches_agree_with_one_pass(small_vae):
    model = small_vae().eval()
    x = torch.rand(25, 1, 28, 28)
    qz_x = metrics.encode(model, x, batch_size=7)
    with torch.no_grad():
        qz = model.encoder(x)
    assert qz_x.batch_shape == (25,) and qz_x.event_shape == (4,)
    torch.testing.assert_close(qz_x.mean, qz.mean)
    torch.testing.assert_close(qz_x.stddev, qz.stddev)


def test_sample_aggregate_and_moments_follow_the_law_of_total_variance():
    qz_x = _posteriors(n=40, dim=3, seed=2)
    m, v = metrics.aggregate_moments(qz_x)
    loc, scale = qz_x.base_dist.loc, qz_x.base_dist.scale
    torch.testing.assert_close(v, loc.var(0, unbiased=False) + scale.pow(2).mean(0))
    z = metrics.sample_aggregate(qz_x, 200_000, generator=torch.Generator().manual_seed(3))
    assert z.shape == (200_000, 3)
    torch.testing.assert_close(z.mean(0), m, atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), v, rtol=0.03, atol=0)


def test_mutual_information_never_exceeds_log_n():
    torch.manual_seed(0)
    for loc_scale, scale_range in [(1.0, (0.2, 0.6)), (50.0, (0.01, 0.02))]:
        qz_x = _posteriors(n=80, loc_scale=loc_scale, scale_range=scale_range)
        mi, se = metrics.mutual_information(qz_x, samples_per_x=20)
        assert mi <= math.log(80) + 1e-5
    # far-apart, narrow posteriors: each code names its x, so I(x; z) sits at the ceiling log N
    assert mi == pytest.approx(math.log(80), abs=1e-3)


def test_mutual_information_is_zero_for_identical_posteriors():
    torch.manual_seed(0)
    qz_x = Independent(Normal(torch.full((30, 2), 0.7), torch.full((30, 2), 0.4)), 1)
    mi, se = metrics.mutual_information(qz_x, samples_per_x=10)
    assert abs(mi) < 1e-4


def test_kl_aggregate_prior_zero_when_q_equals_the_prior():
    prior = vl.priors.StandardNormal(3)
    qz_x = Independent(Normal(torch.zeros(20, 3), torch.ones(20, 3)), 1)
    kl, se = metrics.kl_aggregate_prior(qz_x, prior, n_samples=500, generator=torch.Generator().manual_seed(0))
    assert abs(kl) < 1e-4


def test_kl_aggregate_prior_matches_closed_form_for_one_gaussian():
    """All posteriors N(m, s^2): then q(z) = N(m, s^2) and KL(q(z) || N(0, I)) has a closed form."""
    prior = vl.priors.StandardNormal(2)
    m, s = torch.tensor([1.0, -0.5]), torch.tensor([0.5, 2.0])
    qz_x = Independent(Normal(m.expand(25, 2), s.expand(25, 2)), 1)
    exact = vl.gaussian_kl(m, 2 * s.log()).item()  # 0.5 * sum(m^2 + s^2 - 1 - log s^2)
    kl, se = metrics.kl_aggregate_prior(qz_x, prior, n_samples=20_000, generator=torch.Generator().manual_seed(1))
    assert se > 0
    assert abs(kl - exact) < Z * se


def test_average_kl_is_mutual_information_plus_kl_aggregate_prior():
    """E_x KL(q(z|x) || p(z)) = I(x; z) + KL(q(z) || p(z)), up to Monte Carlo error."""
    torch.manual_seed(0)
    prior = vl.priors.StandardNormal(3)
    qz_x = _posteriors(n=200, dim=3, loc_scale=0.8, seed=5)
    avg_kl = metrics.average_kl(qz_x, prior)
    exact = torch.distributions.kl_divergence(qz_x, prior()).mean().item()
    assert avg_kl == pytest.approx(exact, rel=1e-6)        # closed form for a standard normal prior
    mi, mi_se = metrics.mutual_information(qz_x, samples_per_x=50)
    kl_qp, kl_se = metrics.kl_aggregate_prior(qz_x, prior, n_samples=20_000,
                                              generator=torch.Generator().manual_seed(6))
    assert 0 < mi < math.log(200) and kl_qp > 0
    assert abs(avg_kl - (mi + kl_qp)) < Z * math.hypot(mi_se, kl_se)


def test_active_units_flags_the_dimensions_that_move_with_x():
    g = torch.Generator().manual_seed(0)
    loc = torch.randn(500, 4, generator=g)
    loc[:, [1, 3]] = 0.3 + 0.01 * torch.randn(500, 2, generator=g)  # variance 1e-4: inactive
    qz_x = Independent(Normal(loc, torch.full_like(loc, 0.5)), 1)
    assert metrics.active_units(qz_x).tolist() == [True, False, True, False]
    assert metrics.active_units(qz_x, threshold=1e-5).all()


# --- the digit classifier -------------------------------------------------------------------------


def test_digit_classifier_is_accurate_cached_and_leaves_the_random_stream_alone(tmp_path, monkeypatch):
    cache = tmp_path / "classifier-cache"
    monkeypatch.setenv("VAE_LESSON_CACHE_DIR", str(cache))
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    classifier = metrics.digit_classifier("digits", device=torch.device("cpu"), progress=False)
    assert torch.equal(torch.rand(3), expected_draw), "training the classifier moved the caller's random numbers"
    test = vl.load("digits", "test", device="cpu")
    assert metrics.accuracy(classifier, test) > 0.9
    assert len(list(cache.glob("classifier-digits-*.pt"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("the second call should load the cached classifier, not train")

    monkeypatch.setattr(metrics, "_train_classifier", no_training)
    torch.manual_seed(123)
    again = metrics.digit_classifier("digits", device=torch.device("cpu"), progress=False)
    assert torch.equal(torch.rand(3), expected_draw), "loading the classifier moved the caller's random numbers"
    for a, b in zip(classifier.state_dict().values(), again.state_dict().values()):
        torch.testing.assert_close(a, b)
    with torch.no_grad():
        torch.testing.assert_close(again(test.images[:20]), classifier(test.images[:20]))


def test_distance_to_nearest_finds_the_closest_item():
    g = torch.Generator().manual_seed(0)
    reference = torch.rand(300, 1, 4, 4, generator=g)
    copies = reference[[5, 17, 250]] + 1e-3
    assert (metrics.distance_to_nearest(copies, reference) < 0.01).all()
    x = torch.rand(40, 1, 4, 4, generator=g)
    expected = torch.cdist(x.flatten(1), reference.flatten(1)).min(dim=1).values
    torch.testing.assert_close(metrics.distance_to_nearest(x, reference, chunk=7), expected)


def test_mean_pairwise_distance_is_zero_for_copies_and_the_pixel_gap_for_two_images():
    a = torch.zeros(1, 1, 4, 4)
    b = torch.full((1, 1, 4, 4), 0.25)
    assert metrics.mean_pairwise_distance(torch.cat([a, a, a])) == 0
    assert abs(metrics.mean_pairwise_distance(torch.cat([a, b])) - 0.25) < 1e-6
    # one outlier among three copies: 2 of the 3 pairs differ by 0.25
    assert abs(metrics.mean_pairwise_distance(torch.cat([a, a, b])) - 0.25 * 2 / 3) < 1e-6


# --- sharpness and the moment-matched Gaussian -----------------------------------------------------


def test_sharpness_drops_under_blur_and_ignores_faintness():
    x = torch.zeros(2, 1, 28, 28)
    x[:, :, 8:20, 12:16] = 1.0                                   # a sharp bar
    blurred = F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
    assert metrics.sharpness(blurred) < 0.6 * metrics.sharpness(x)
    assert metrics.sharpness(0.3 * x) == pytest.approx(metrics.sharpness(x), rel=1e-5)
    expected = (2 * 12 + 2 * 4) / 48   # unit steps: 2 edges x 12 rows across, 2 x 4 columns down; 48 ink pixels
    assert metrics.sharpness(x) == pytest.approx(expected, rel=1e-5)


def test_moment_matched_gaussian_has_the_moments_of_the_aggregate_posterior():
    g = torch.Generator().manual_seed(0)
    loc = torch.randn(400, 3, generator=g) @ torch.tensor([[1.0, 0.8, 0.0], [0.0, 0.6, 0.0], [0.0, 0.0, 0.3]])
    scale = 0.1 + torch.rand(400, 3, generator=g)
    qz_x = Independent(Normal(loc, scale), 1)
    p = vl.priors.moment_matched_gaussian(qz_x)
    m, v = metrics.aggregate_moments(qz_x)
    assert torch.allclose(p().mean, m, atol=1e-6)
    assert torch.allclose(p().covariance_matrix.diagonal(), v, rtol=1e-5)   # the diagonal: law of total variance
    z = metrics.sample_aggregate(qz_x, 200_000, generator=g)
    assert torch.allclose(p().covariance_matrix, torch.cov(z.T), atol=0.02)  # off-diagonals too
    assert p.sample(5).shape == (5, 3) and p.log_prob(z[:7]).shape == (7,)
