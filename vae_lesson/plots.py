"""Figures used by more than one notebook."""
import matplotlib.pyplot as plt
import torch


def sharp_figures():
    """Draw inline figures at twice the screen's density (IPython's "retina" format): sharp on a laptop's
    screen, on the website and on a projector (`vae-lesson slides`), the same size on the page. Does
    nothing outside a Jupyter kernel."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        set_matplotlib_formats("retina")


def tile(images, nrow, padding=2, pad_value=0.0):
    """(N, 1, H, W) images side by side in one (rows, columns) picture, `nrow` to a row, with gaps of
    `padding` pixels of value `pad_value` around each. (torchvision's make_grid does the same; importing
    it costs every notebook about 1.5 s.)"""
    images = images.detach().cpu()[:, 0]
    n, h, w = images.shape
    cols, rows = min(nrow, n), -(-n // nrow)
    grid = images.new_full((rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for i, image in enumerate(images):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def show_images(images, nrow=10, title=None, ax=None):
    """A grid of (N, 1, 28, 28) images in [0, 1]."""
    # Light grey gaps: they separate the images without drawing heavy lines between them.
    grid = tile(images.clamp(0, 1), nrow=nrow, padding=2, pad_value=0.25)
    ax = ax or plt.figure(figsize=(nrow * 0.6, (len(images) // nrow + 1) * 0.6)).gca()
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


HISTORY_NAMES = {"loss": "training loss", "elbo": "train ELBO", "test_elbo": "test ELBO",
                 "rec": "train reconstruction", "test_rec": "test reconstruction",
                 "kl": "train KL", "test_kl": "test KL"}


def plot_history(history, keys=("elbo", "test_elbo"), ax=None, label=""):
    """Per-epoch curves from fit's history."""
    ax = ax or plt.figure(figsize=(5, 3.5)).gca()
    for key in keys:
        ax.plot(history["epoch"], history[key], label=f"{label} {HISTORY_NAMES.get(key, key)}".strip())
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per image")
    ax.legend()
    return ax


def latent_scatter(z, labels, ax=None, s=4):
    """2-D codes coloured by class."""
    z, labels = torch.as_tensor(z).detach().cpu(), torch.as_tensor(labels).cpu()
    ax = ax or plt.figure(figsize=(5, 5)).gca()
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=s, vmin=-0.5, vmax=9.5)
    plt.colorbar(points, ax=ax, ticks=range(10), label="class")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_aspect("equal")
    return ax


def prior_contours(ax, radii=(1, 2, 3), color="0.5"):
    r"""Contours of the 2-D prior $\mathcal N(0, I)$: circles of radius 1, 2, 3 (its density is
    constant on circles), so posteriors and codes can be judged against the prior's scale."""
    from matplotlib.patches import Circle

    for r in radii:
        ax.add_patch(Circle((0, 0), r, fill=False, color=color, lw=1, ls="--", zorder=0))
        ax.annotate(f"{r}σ", (r * 0.707, r * 0.707), color=color, fontsize=8)
    return ax


def posterior_ellipses(mu, sigma, labels=None, ax=None, n_sigma=2, alpha=0.35, prior=True):
    r"""The n_sigma ellipses of diagonal-Gaussian posteriors $q(z \mid x) = \mathcal N(\mu, \operatorname{diag}\sigma^2)$
    in a 2-D latent space (axis-aligned: the encoder outputs no correlations), coloured by class,
    over the prior's contours. Shows at a glance how small each posterior is next to the prior."""
    from matplotlib.collections import EllipseCollection

    mu, sigma = torch.as_tensor(mu).detach().cpu(), torch.as_tensor(sigma).detach().cpu()
    ax = ax or plt.figure(figsize=(5, 5)).gca()
    colors = "C0" if labels is None else plt.get_cmap("tab10")(torch.as_tensor(labels).cpu().numpy() % 10)
    ellipses = EllipseCollection(2 * n_sigma * sigma[:, 0], 2 * n_sigma * sigma[:, 1], 0, units="xy",
                                 offsets=mu.numpy(), offset_transform=ax.transData,
                                 facecolors=colors, edgecolors=colors, alpha=alpha)
    ax.add_collection(ellipses)
    if prior:
        prior_contours(ax)
    lim = max(3.2, float(mu.abs().max()) + 0.5)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_aspect("equal")
    return ax


def gaussian_quantile_ticks(n):
    r"""n points $z_i = \Phi^{-1}\big((i - \tfrac12) / n\big)$, $i = 1 \dots n$: quantiles of the standard
    normal at equally spaced probabilities (Kingma & Welling, 2014, fig. 4). Each point stands for
    the same share 1/n of the prior's mass along its axis, so a grid of them is dense where
    $\mathcal N(0, 1)$ puts its mass and sparse in the tails."""
    if n < 1:
        raise ValueError(f"need at least one point, got n={n}")
    probabilities = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return torch.distributions.Normal(0.0, 1.0).icdf(probabilities).float()


@torch.no_grad()
def decoded_grid(model, lim=3.0, n=15, ax=None, spacing="linear"):
    """Decode an n x n grid of points z of a 2-D latent space and show the images where their z lie:
    what the decoder has made of each region of the plane.

    spacing="linear": equally spaced over [-lim, lim]^2, axes in units of z.
    spacing="quantile": at the prior's quantiles (`gaussian_quantile_ticks`), so each image stands
    for an equal share of the prior's mass; the axes then show probabilities Phi(z), with the z
    of a few images written on the ticks."""
    if spacing not in ("linear", "quantile"):
        raise ValueError(f'spacing must be "linear" or "quantile", got {spacing!r}')
    device = next(model.parameters()).device
    ticks = torch.linspace(-lim, lim, n) if spacing == "linear" else gaussian_quantile_ticks(n)
    z1, z2 = torch.meshgrid(ticks, ticks.flip(0), indexing="xy")  # rows from top (high z2) down
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1).to(device)
    images = model.sample(len(z), z=z).cpu().clamp(0, 1)
    grid = tile(images, nrow=n, padding=2, pad_value=0.0)  # white gaps between images
    ax = ax or plt.figure(figsize=(5, 5)).gca()
    if spacing == "linear":
        half = lim / (n - 1) if n > 1 else lim  # each image covers one grid cell around its z
        ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, extent=(-lim - half, lim + half, -lim - half, lim + half))
        ax.set_xlabel("$z_1$")
        ax.set_ylabel("$z_2$")
    else:
        ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, extent=(0, 1, 0, 1))
        centres = ((torch.arange(n) + 0.5) / n).tolist()
        shown = sorted({0, n // 2, n - 1})
        labels = [f"{ticks[i]:.1f}" for i in shown]
        ax.set_xticks([centres[i] for i in shown], labels)
        ax.set_yticks([centres[i] for i in shown], labels)
        ax.set_xlabel("$z_1$ (at prior quantiles)")
        ax.set_ylabel("$z_2$ (at prior quantiles)")
    ax.set_aspect("equal")
    return ax
