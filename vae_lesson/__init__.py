"""vae_lesson: the helper package of the VAE lesson series.

Each notebook shows an idea in full first; once a second notebook needs it, it lives here."""
from . import claims, config, data, exercises, linear_gaussian, metrics, models, objectives, plots, priors, recipes, train, widgets
from .claims import claim
from .config import by_mode, get_device, seed_everything, setup
from .data import load
from .models import make_vae
from .objectives import elbo, gaussian_kl, iw_bound, log_likelihood
from .recipes import RECIPES, trained
from .train import fit, trained_vae

__version__ = "0.1.0"

config.flush_denormals()  # before torch starts its CPU threads, so that they inherit it
