"""Interactive figures (ipywidgets) that fall back to a static figure under tests.

With VAE_LESSON_STATIC=1 (set by the test suite) a widget is replaced by `static()`, a plain
figure that shows a few settings at once, so executed notebooks hold no widget state."""
from . import config


def interact_or_static(draw, static, **sliders):
    """ipywidgets.interact(draw, **sliders) in a live notebook; static() under tests."""
    if config.static():
        return static()
    import ipywidgets

    return ipywidgets.interact(draw, **sliders)


def latent_explorer(model, z, labels, lim=3.0, n_static=11):
    """Move a point through a 2-D latent space and see what the decoder makes of it.

    Live: two sliders set z = (z_1, z_2); the figure shows the codes `z` of a data set coloured
    by class with the point marked, next to the decoded image p(x | z)'s mean. Under tests: a
    static figure with the codes next to a grid of images decoded over the whole plane."""
    import matplotlib.pyplot as plt
    import torch

    from .plots import decoded_grid, latent_scatter, prior_contours

    if z.shape[1] != 2:
        raise ValueError(f"the latent explorer needs a 2-D latent space, got codes of size {z.shape[1]}")
    device = next(model.parameters()).device

    def draw(z1=0.0, z2=0.0):
        fig, (ax_z, ax_x) = plt.subplots(1, 2, figsize=(8, 3.6), width_ratios=(1.5, 1))
        latent_scatter(z, labels, ax=ax_z)
        prior_contours(ax_z)
        ax_z.plot([z1], [z2], marker="X", ms=14, color="k", mec="w")
        ax_z.set_xlim(-lim, lim)
        ax_z.set_ylim(-lim, lim)
        with torch.no_grad():
            x = model.sample(1, z=torch.tensor([[z1, z2]], dtype=torch.float32, device=device))
        ax_x.imshow(x[0, 0].cpu(), cmap="gray_r", vmin=0, vmax=1)
        ax_x.set_title(f"decoded from z = ({z1:.2f}, {z2:.2f})")
        ax_x.set_axis_off()
        plt.show()

    def static():
        fig, (ax_z, ax_x) = plt.subplots(1, 2, figsize=(10, 4.6))
        latent_scatter(z, labels, ax=ax_z)
        prior_contours(ax_z)
        ax_z.set_xlim(-lim, lim)
        ax_z.set_ylim(-lim, lim)
        ax_z.set_title("codes of the data")
        decoded_grid(model, lim=lim, n=n_static, ax=ax_x)
        ax_x.set_title("decoded over the same plane")
        plt.show()

    slider = (-lim, lim, lim / 30)  # (min, max, step): ipywidgets makes a FloatSlider of it
    return interact_or_static(draw, static, z1=slider, z2=slider)
