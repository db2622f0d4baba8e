"""The trained models the notebooks use, by name, so that `vae-lesson prepare` can train and
cache all of them before class. Settings not given take trained_vae's defaults (and the data
set chosen by VAE_LESSON_DATASET)."""
from .train import trained_vae

RECIPES = {
    # 00 tour
    "tour": dict(arch="mlp", latent_dim=16),
    # 01 ELBO
    # (binarised digits, so that p(x|z) is a probability of the image; the same model as "training_binary")
    "elbo_binary": dict(arch="mlp", latent_dim=16, likelihood="bernoulli", binarize="dynamic"),
    # 02 reparameterization
    # 03 training (the same settings as "tour" / "elbo_binary" share their cached model)
    "training_grey": dict(arch="mlp", latent_dim=16, likelihood="bernoulli", binarize="none"),
    "training_binary": dict(arch="mlp", latent_dim=16, likelihood="bernoulli", binarize="dynamic"),
    "training_gaussian": dict(arch="mlp", latent_dim=16, likelihood="gaussian", sigma=0.1),
    # 04 likelihoods uses "tour" and "agg_beta3" (below)
    # 05 no encoder (a beta-1 VAE to set beside the decoder trained alone; same model as "tour")
    "no_encoder_vae": dict(arch="mlp", latent_dim=16),
    "no_encoder_vae_beta0": dict(arch="mlp", latent_dim=16, beta=0.0),  # the same without the KL (exercise 2)
    # 06 prior vs posterior (also uses "tour" as its 16-D model)
    "latent_2d": dict(arch="mlp", latent_dim=2),  # a latent plane we can draw
    # 07 aggregate posterior: a beta sweep (beta < 1 = a heavily weighted reconstruction term;
    # "agg_alpha300" is the loss 300 * rec + kl, i.e. beta = 1/300; "agg_beta1" is the same model
    # as "tour") and a VampPrior trained at beta 0.1
    "agg_alpha300": dict(arch="mlp", latent_dim=16, beta=1 / 300),
    "agg_beta0.1": dict(arch="mlp", latent_dim=16, beta=0.1),
    "agg_beta1": dict(arch="mlp", latent_dim=16, beta=1.0),
    "agg_beta3": dict(arch="mlp", latent_dim=16, beta=3.0),
    "agg_vamp_beta0.1": dict(arch="mlp", latent_dim=16, beta=0.1, prior="vamp"),
}


def trained(name, **overrides):
    """(model, history) of the recipe `name`: loaded from the cache, or trained and cached."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    return trained_vae(**{**RECIPES[name], **overrides})
