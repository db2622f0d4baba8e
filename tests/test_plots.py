"""Figures: the latent grids decode at the points they claim to."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

import vae_lesson as vl


class RecordingModel(nn.Module):
    """Stands in for a 2-D VAE: remembers the z it was asked to decode, returns blank images."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.z = None

    def sample(self, n, z=None):
        self.z = z
        return torch.zeros(n, 1, 28, 28)


def test_quantile_ticks_split_the_prior_into_equal_shares():
    ticks = vl.plots.gaussian_quantile_ticks(10)
    shares = torch.distributions.Normal(0.0, 1.0).cdf(ticks)
    assert torch.allclose(shares, torch.arange(0.05, 1.0, 0.1), atol=1e-6)
    assert torch.allclose(ticks, -ticks.flip(0), atol=1e-6)      # symmetric about 0
    assert (ticks.diff() > 0).all()
    assert ticks.diff()[4] < ticks.diff()[0]                      # dense in the middle, sparse in the tails
    assert vl.plots.gaussian_quantile_ticks(1).item() == pytest.approx(0.0, abs=1e-6)


def test_quantile_ticks_refuse_an_empty_grid():
    with pytest.raises(ValueError, match="at least one"):
        vl.plots.gaussian_quantile_ticks(0)


@pytest.mark.parametrize("spacing", ["linear", "quantile"])
def test_decoded_grid_decodes_every_grid_point(spacing):
    model = RecordingModel()
    vl.plots.decoded_grid(model, lim=2.0, n=5, spacing=spacing)
    plt.close("all")
    ticks = torch.linspace(-2, 2, 5) if spacing == "linear" else vl.plots.gaussian_quantile_ticks(5)
    assert model.z.shape == (25, 2)
    assert torch.allclose(model.z[:, 0].unique(), ticks, atol=1e-6)
    assert torch.allclose(model.z[:, 1].unique(), ticks, atol=1e-6)
    assert model.z[0, 1] == ticks.max()                           # the top row is the largest z_2


def test_decoded_grid_refuses_an_unknown_spacing():
    with pytest.raises(ValueError, match="spacing"):
        vl.plots.decoded_grid(RecordingModel(), spacing="log")


@pytest.mark.parametrize("n, nrow", [(1, 10), (7, 3), (12, 4), (3, 10)])
def test_tile_matches_torchvisions_make_grid(n, nrow):
    from torchvision.utils import make_grid

    images = torch.rand(n, 1, 5, 4)
    ours = vl.plots.tile(images, nrow=nrow, padding=2, pad_value=0.25)
    theirs = make_grid(images, nrow=nrow, padding=2, pad_value=0.25)[0]
    if n == 1:  # make_grid returns a lone image without its frame
        theirs = torch.nn.functional.pad(theirs, (2, 2, 2, 2), value=0.25)
    assert torch.equal(ours, theirs)
